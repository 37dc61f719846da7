import Foundation

/// The registry's schema on PostgreSQL: the SQLite migrations (`RegistrySchema`) under the
/// same names, in PostgreSQL's words, recorded in `dkimctl_migrations`. The tables, columns
/// and their order, the constraints and what the triggers refuse are the same, so that the
/// registry's statements, the event hashes and the row snapshots are the same on both.
///
/// A migration that has shipped is never edited: a change is a new migration appended.
enum PostgresSchema {
    static let migrations: [(identifier: String, sql: String)] = [
        (
            "v1-slots-keys-events",
            """
            CREATE FUNCTION dkimctl_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation'; END $$;
            CREATE TABLE registry_meta (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
            CREATE TABLE slot (
                id BIGSERIAL PRIMARY KEY, domain TEXT NOT NULL, provider TEXT NOT NULL, usage TEXT NOT NULL, owner TEXT NOT NULL,
                created_at TEXT NOT NULL, UNIQUE (domain, provider, usage));
            CREATE TABLE key (
                id BIGSERIAL PRIMARY KEY, slot_id BIGINT NOT NULL REFERENCES slot(id) ON DELETE RESTRICT,
                domain TEXT NOT NULL, selector TEXT NOT NULL,
                algorithm TEXT NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')), bits BIGINT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'published', 'active', 'retired', 'revoked')),
                public_key TEXT NOT NULL, fingerprint TEXT NOT NULL, private_key_path TEXT, ttl BIGINT NOT NULL,
                hash_algorithms TEXT, service_types TEXT, flags TEXT, notes TEXT,
                created_at TEXT NOT NULL, published_at TEXT, activated_at TEXT, expires_at TEXT, retired_at TEXT, revoked_at TEXT,
                UNIQUE (domain, selector));
            CREATE INDEX key_state ON key(state);
            CREATE UNIQUE INDEX key_one_active_per_slot ON key(slot_id) WHERE state = 'active';
            CREATE TRIGGER key_never_deleted BEFORE DELETE ON key
                FOR EACH ROW EXECUTE FUNCTION dkimctl_refuse('keys are never deleted from the registry; revoke them');
            CREATE TABLE event (
                id BIGINT PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, key_id BIGINT REFERENCES key(id) ON DELETE RESTRICT,
                domain TEXT, selector TEXT, action TEXT NOT NULL, from_state TEXT, to_state TEXT, details TEXT NOT NULL,
                previous_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE);
            CREATE INDEX event_key ON event(key_id);
            CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
                FOR EACH ROW EXECUTE FUNCTION dkimctl_refuse('the event log is append-only');
            CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
                FOR EACH ROW EXECUTE FUNCTION dkimctl_refuse('the event log is append-only');
            CREATE TRIGGER event_append_only_truncate BEFORE TRUNCATE ON event
                FOR EACH STATEMENT EXECUTE FUNCTION dkimctl_refuse('the event log is append-only');
            """
        ),
        (
            "v2-dns-checks",
            """
            CREATE TABLE dns_check (
                id BIGSERIAL PRIMARY KEY, key_id BIGINT NOT NULL REFERENCES key(id) ON DELETE RESTRICT, checked_at TEXT NOT NULL,
                actor TEXT NOT NULL, verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'temperror')),
                record_ttl BIGINT, negative_ttl BIGINT, problems TEXT NOT NULL);
            CREATE INDEX dns_check_key ON dns_check(key_id, checked_at);
            CREATE TABLE dns_check_server (
                id BIGSERIAL PRIMARY KEY, check_id BIGINT NOT NULL REFERENCES dns_check(id) ON DELETE RESTRICT,
                zone TEXT NOT NULL, name TEXT NOT NULL, server TEXT NOT NULL, address TEXT NOT NULL, port BIGINT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'temperror')), serial BIGINT, ttl BIGINT, negative_ttl BIGINT,
                detail TEXT NOT NULL);
            CREATE INDEX dns_check_server_check ON dns_check_server(check_id);
            CREATE TRIGGER dns_check_append_only_update BEFORE UPDATE OR DELETE ON dns_check
                FOR EACH ROW EXECUTE FUNCTION dkimctl_refuse('DNS evidence is append-only');
            CREATE TRIGGER dns_check_server_append_only_update BEFORE UPDATE OR DELETE ON dns_check_server
                FOR EACH ROW EXECUTE FUNCTION dkimctl_refuse('DNS evidence is append-only');
            CREATE TRIGGER dns_check_append_only_truncate BEFORE TRUNCATE ON dns_check
                FOR EACH STATEMENT EXECUTE FUNCTION dkimctl_refuse('DNS evidence is append-only');
            CREATE TRIGGER dns_check_server_append_only_truncate BEFORE TRUNCATE ON dns_check_server
                FOR EACH STATEMENT EXECUTE FUNCTION dkimctl_refuse('DNS evidence is append-only');
            """
        ),
        (
            "v3-publication-deploy-disposal",
            """
            ALTER TABLE key
                ADD COLUMN dns_action TEXT CHECK (dns_action IN ('publish', 'revoke', 'delete')),
                ADD COLUMN dns_ttl BIGINT,
                ADD COLUMN dns_pushed_at TEXT,
                ADD COLUMN deploy_pending TEXT CHECK (deploy_pending IN ('activate', 'retire', 'revoke')),
                ADD COLUMN private_key_disposal TEXT CHECK (private_key_disposal IN ('destroyed', 'revealed')),
                ADD COLUMN private_key_disposed_at TEXT,
                ADD COLUMN revocation_reason TEXT;
            CREATE INDEX key_slot ON key(slot_id);
            """
        ),
        (
            "v4-external-selectors",
            """
            ALTER TABLE key
                ADD COLUMN kind TEXT NOT NULL DEFAULT 'local' CHECK (kind IN ('local', 'external')),
                ADD COLUMN cname_target TEXT,
                ADD COLUMN last_seen_at TEXT;
            DROP INDEX key_one_active_per_slot;
            CREATE UNIQUE INDEX key_one_active_per_slot ON key(slot_id) WHERE state = 'active' AND kind = 'local';
            """
        ),
        // Snapshots begin with the first row on PostgreSQL: there is nothing to anchor.
        ("v5-register-snapshots", "SELECT 1;"),
        (
            "v6-dmarc-reports",
            """
            CREATE TABLE dmarc_report (
                id BIGSERIAL PRIMARY KEY, reporter TEXT NOT NULL, report_id TEXT NOT NULL, begin_at TEXT NOT NULL, end_at TEXT NOT NULL,
                policy_domain TEXT NOT NULL, adkim TEXT, aspf TEXT, p TEXT, sp TEXT, np TEXT, testing TEXT, pct BIGINT,
                rows BIGINT NOT NULL, messages BIGINT NOT NULL, imported_at TEXT NOT NULL, UNIQUE (reporter, report_id));
            CREATE TRIGGER dmarc_report_append_only_update BEFORE UPDATE ON dmarc_report
                FOR EACH ROW EXECUTE FUNCTION dkimctl_refuse('imported reports are append-only');
            CREATE TABLE dmarc_aggregate (
                day TEXT NOT NULL, policy_domain TEXT NOT NULL, header_from TEXT NOT NULL, dkim_domain TEXT NOT NULL,
                selector TEXT NOT NULL, result TEXT NOT NULL, aligned BIGINT NOT NULL CHECK (aligned IN (0, 1)), reporter TEXT NOT NULL,
                messages BIGINT NOT NULL CHECK (messages >= 0), source_ips BIGINT NOT NULL CHECK (source_ips >= 0),
                last_report_end TEXT NOT NULL,
                PRIMARY KEY (day, policy_domain, header_from, dkim_domain, selector, result, aligned, reporter));
            CREATE INDEX dmarc_aggregate_selector ON dmarc_aggregate (dkim_domain, selector, day);
            """
        ),
        (
            "v7-slot-definitions",
            """
            CREATE TABLE slot_definition (
                id BIGSERIAL PRIMARY KEY, slot_id BIGINT NOT NULL UNIQUE REFERENCES slot(id) ON DELETE RESTRICT,
                algorithm TEXT, bits BIGINT, rotation TEXT, lead TEXT, grace TEXT, ttl BIGINT, stable_ttl BIGINT,
                selector_pattern TEXT, revocation TEXT, reveal BIGINT, propagation TEXT, attention_after TEXT,
                revoke_after_unused TEXT, from_domains TEXT, defined_at TEXT NOT NULL, changed_at TEXT NOT NULL, removed_at TEXT);
            """
        ),
        (
            "v8-private-key-envelopes",
            """
            CREATE TABLE private_key_envelope (
                key_id BIGINT PRIMARY KEY REFERENCES key(id) ON DELETE RESTRICT,
                cipher TEXT NOT NULL CHECK (cipher = 'AES-256-GCM'), kek_id TEXT NOT NULL CHECK (length(kek_id) = 16),
                wrapped_data_key BYTEA, ciphertext BYTEA, sealed_at TEXT NOT NULL, erased_at TEXT,
                CHECK ((erased_at IS NULL AND wrapped_data_key IS NOT NULL AND ciphertext IS NOT NULL)
                    OR (erased_at IS NOT NULL AND wrapped_data_key IS NULL AND ciphertext IS NULL)));
            CREATE TRIGGER private_key_envelope_never_deleted BEFORE DELETE ON private_key_envelope
                FOR EACH ROW EXECUTE FUNCTION dkimctl_refuse('sealed private keys are erased, never deleted');
            CREATE TRIGGER private_key_envelope_only_erased_or_rewrapped BEFORE UPDATE ON private_key_envelope
                FOR EACH ROW WHEN (OLD.erased_at IS NOT NULL OR NEW.key_id IS DISTINCT FROM OLD.key_id
                    OR NEW.sealed_at IS DISTINCT FROM OLD.sealed_at OR NEW.cipher IS DISTINCT FROM OLD.cipher
                    OR (NEW.erased_at IS NOT NULL AND NEW.kek_id IS DISTINCT FROM OLD.kek_id)
                    OR (NEW.erased_at IS NULL AND NEW.ciphertext IS DISTINCT FROM OLD.ciphertext))
                EXECUTE FUNCTION dkimctl_refuse('a sealed private key only changes by being erased, or its data key re-wrapped');
            CREATE TABLE private_key_copy (
                id BIGSERIAL PRIMARY KEY, key_id BIGINT NOT NULL REFERENCES key(id) ON DELETE RESTRICT,
                host TEXT NOT NULL, path TEXT NOT NULL, written_at TEXT NOT NULL, erased_at TEXT);
            CREATE UNIQUE INDEX private_key_copy_live ON private_key_copy(host, path) WHERE erased_at IS NULL;
            CREATE INDEX private_key_copy_key ON private_key_copy(key_id);
            """
        ),
        (
            "v9-scheduler-lease",
            """
            CREATE TABLE scheduler_lease (
                name TEXT PRIMARY KEY, term BIGINT NOT NULL CHECK (term > 0), holder TEXT NOT NULL, since TEXT NOT NULL,
                renewed_at TEXT NOT NULL, expires_at TEXT NOT NULL, released_at TEXT, ticked_at TEXT);
            """
        ),
    ]
}
