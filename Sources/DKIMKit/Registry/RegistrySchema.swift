import Foundation
import GRDB

/// The registry's schema, as named migrations.
///
/// A migration that has shipped is never edited: a change is a new migration
/// appended below it.
enum RegistrySchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("v1-slots-keys-events") { db in
            try db.create(table: "registry_meta") { table in
                table.primaryKey("name", .text)
                table.column("value", .text).notNull()
            }

            try db.create(table: "slot") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("domain", .text).notNull()
                table.column("provider", .text).notNull()
                table.column("usage", .text).notNull()
                table.column("owner", .text).notNull()
                table.column("created_at", .datetime).notNull()
                table.uniqueKey(["domain", "provider", "usage"])
            }

            try db.create(table: "key") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("slot_id", .integer).notNull().references("slot", onDelete: .restrict)
                table.column("domain", .text).notNull()
                table.column("selector", .text).notNull()
                table.column("algorithm", .text).notNull()
                    .check(sql: "algorithm IN ('rsa', 'ed25519')")
                table.column("bits", .integer).notNull()
                table.column("state", .text).notNull()
                    .check(sql: "state IN ('pending', 'published', 'active', 'retired', 'revoked')")
                table.column("public_key", .text).notNull()
                table.column("fingerprint", .text).notNull()
                table.column("private_key_path", .text)
                table.column("ttl", .integer).notNull()
                table.column("hash_algorithms", .text)
                table.column("service_types", .text)
                table.column("flags", .text)
                table.column("notes", .text)
                table.column("created_at", .datetime).notNull()
                table.column("published_at", .datetime)
                table.column("activated_at", .datetime)
                table.column("expires_at", .datetime)
                table.column("retired_at", .datetime)
                table.column("revoked_at", .datetime)
                table.uniqueKey(["domain", "selector"])
            }
            try db.create(index: "key_state", on: "key", columns: ["state"])
            // At most one active key per slot (README, "Concepts").
            try db.execute(sql: "CREATE UNIQUE INDEX key_one_active_per_slot ON key(slot_id) WHERE state = 'active'")
            try db.execute(sql: """
                CREATE TRIGGER key_never_deleted BEFORE DELETE ON key
                BEGIN SELECT RAISE(ABORT, 'keys are never deleted from the registry; revoke them'); END
                """)

            try db.create(table: "event") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("time", .text).notNull()
                table.column("actor", .text).notNull()
                table.column("key_id", .integer).references("key", onDelete: .restrict)
                table.column("domain", .text)
                table.column("selector", .text)
                table.column("action", .text).notNull()
                table.column("from_state", .text)
                table.column("to_state", .text)
                table.column("details", .text).notNull()
                table.column("previous_hash", .text).notNull()
                table.column("hash", .text).notNull().unique()
            }
            try db.create(index: "event_key", on: "event", columns: ["key_id"])
            // Append-only: the hash chain proves tampering, these triggers prevent accidents.
            try db.execute(sql: """
                CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
                BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
                BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                """)
        }
        migrator.registerMigration("v2-dns-checks") { db in
            // Evidence of every DNS check: one row per check, one per server asked.
            try db.create(table: "dns_check") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("key_id", .integer).notNull().references("key", onDelete: .restrict)
                table.column("checked_at", .datetime).notNull()
                table.column("actor", .text).notNull()
                table.column("verdict", .text).notNull().check(sql: "verdict IN ('pass', 'fail', 'temperror')")
                table.column("record_ttl", .integer)
                table.column("negative_ttl", .integer)
                table.column("problems", .text).notNull()
            }
            try db.create(index: "dns_check_key", on: "dns_check", columns: ["key_id", "checked_at"])
            try db.create(table: "dns_check_server") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("check_id", .integer).notNull().references("dns_check", onDelete: .restrict)
                table.column("zone", .text).notNull()
                table.column("name", .text).notNull()
                table.column("server", .text).notNull()
                table.column("address", .text).notNull()
                table.column("port", .integer).notNull()
                table.column("status", .text).notNull().check(sql: "status IN ('pass', 'fail', 'temperror')")
                table.column("serial", .integer)
                table.column("ttl", .integer)
                table.column("negative_ttl", .integer)
                table.column("detail", .text).notNull()
            }
            try db.create(index: "dns_check_server_check", on: "dns_check_server", columns: ["check_id"])
            try db.execute(sql: """
                CREATE TRIGGER dns_check_append_only_update BEFORE UPDATE ON dns_check
                BEGIN SELECT RAISE(ABORT, 'DNS evidence is append-only'); END;
                CREATE TRIGGER dns_check_append_only_delete BEFORE DELETE ON dns_check
                BEGIN SELECT RAISE(ABORT, 'DNS evidence is append-only'); END;
                CREATE TRIGGER dns_check_server_append_only_update BEFORE UPDATE ON dns_check_server
                BEGIN SELECT RAISE(ABORT, 'DNS evidence is append-only'); END;
                CREATE TRIGGER dns_check_server_append_only_delete BEFORE DELETE ON dns_check_server
                BEGIN SELECT RAISE(ABORT, 'DNS evidence is append-only'); END;
                """)
        }
        migrator.registerMigration("v3-publication-deploy-disposal") { db in
            // What was last pushed to DNS for each key, which deploy hook is still owed,
            // and what became of its private key file once revoked.
            try db.alter(table: "key") { table in
                table.add(column: "dns_action", .text).check(sql: "dns_action IN ('publish', 'revoke', 'delete')")
                table.add(column: "dns_ttl", .integer)
                table.add(column: "dns_pushed_at", .datetime)
                table.add(column: "deploy_pending", .text).check(sql: "deploy_pending IN ('activate', 'retire', 'revoke')")
                table.add(column: "private_key_disposal", .text).check(sql: "private_key_disposal IN ('destroyed', 'revealed')")
                table.add(column: "private_key_disposed_at", .datetime)
                table.add(column: "revocation_reason", .text)
            }
            try db.create(index: "key_slot", on: "key", columns: ["slot_id"])
        }
        migrator.registerMigration("v4-external-selectors") { db in
            // Provider-managed selectors (`dkimctl track`): keys whose private half we never hold.
            try db.alter(table: "key") { table in
                table.add(column: "kind", .text).notNull().defaults(to: "local").check(sql: "kind IN ('local', 'external')")
                table.add(column: "cname_target", .text)
                table.add(column: "last_seen_at", .datetime)
            }
            // Microsoft 365 and the like keep two live selectors per slot: only our own keys are one-active-per-slot.
            try db.execute(sql: "DROP INDEX key_one_active_per_slot")
            try db.execute(sql: "CREATE UNIQUE INDEX key_one_active_per_slot ON key(slot_id) WHERE state = 'active' AND kind = 'local'")
        }
        migrator.registerMigration("v5-register-snapshots") { db in
            // From now on every event about a row carries its snapshot and every batch of DNS
            // checks is digested into the chain. Rows and evidence written before are
            // anchored here, as they are at the upgrade: edits made before it cannot be told.
            let actor = Actor("dkimctl-upgrade")
            let time = Timestamp.truncatedToMilliseconds(Date())
            let session = GRDBSession(db)
            for id in try Int64.fetchAll(db, sql: "SELECT id FROM slot ORDER BY id") {
                try SQLRegistry.append(
                    EventDraft(action: "slot.baseline", slotID: id, details: ["reason": "register snapshots begin"]),
                    db: session, actor: actor, time: time)
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, domain, selector FROM key ORDER BY id") {
                try SQLRegistry.append(
                    EventDraft(
                        action: "key.baseline", keyID: row[0], domain: row[1], selector: row[2],
                        details: ["reason": "register snapshots begin"]),
                    db: session, actor: actor, time: time)
            }
            try RegisterEvidence.anchorChecks(after: 0, db: session, actor: actor, time: time)
        }

        migrator.registerMigration("v6-dmarc-reports") { db in
            // Receivers' evidence: each aggregate report once (reporter, report id), and what
            // its rows say of DKIM summed per day, never the rows themselves.
            try db.execute(
                sql: """
                    CREATE TABLE dmarc_report (
                        id INTEGER PRIMARY KEY,
                        reporter TEXT NOT NULL,
                        report_id TEXT NOT NULL,
                        begin_at TEXT NOT NULL,
                        end_at TEXT NOT NULL,
                        policy_domain TEXT NOT NULL,
                        adkim TEXT, aspf TEXT, p TEXT, sp TEXT, np TEXT, testing TEXT, pct INTEGER,
                        rows INTEGER NOT NULL,
                        messages INTEGER NOT NULL,
                        imported_at TEXT NOT NULL,
                        UNIQUE (reporter, report_id)
                    );
                    CREATE TRIGGER dmarc_report_append_only_update BEFORE UPDATE ON dmarc_report
                    BEGIN SELECT RAISE(ABORT, 'imported reports are append-only'); END;
                    CREATE TABLE dmarc_aggregate (
                        day TEXT NOT NULL,
                        policy_domain TEXT NOT NULL,
                        header_from TEXT NOT NULL,
                        dkim_domain TEXT NOT NULL,
                        selector TEXT NOT NULL,
                        result TEXT NOT NULL,
                        aligned INTEGER NOT NULL CHECK (aligned IN (0, 1)),
                        reporter TEXT NOT NULL,
                        messages INTEGER NOT NULL CHECK (messages >= 0),
                        source_ips INTEGER NOT NULL CHECK (source_ips >= 0),
                        last_report_end TEXT NOT NULL,
                        PRIMARY KEY (day, policy_domain, header_from, dkim_domain, selector, result, aligned, reporter)
                    ) WITHOUT ROWID;
                    CREATE INDEX dmarc_aggregate_selector ON dmarc_aggregate (dkim_domain, selector, day);
                    """)
        }

        migrator.registerMigration("v7-slot-definitions") { db in
            // Slots defined by command (`dkimctl slot add`), for fleets whose slots do not fit a
            // file: the options set, as written (NULL: the configuration's defaults apply). A
            // removed definition keeps its row (removed_at), so snapshots always have a row to match.
            try db.execute(
                sql: """
                    CREATE TABLE slot_definition (
                        id INTEGER PRIMARY KEY,
                        slot_id INTEGER NOT NULL UNIQUE REFERENCES slot(id) ON DELETE RESTRICT,
                        algorithm TEXT, bits INTEGER, rotation TEXT, lead TEXT, grace TEXT, ttl INTEGER, stable_ttl INTEGER,
                        selector_pattern TEXT, revocation TEXT, reveal INTEGER, propagation TEXT, attention_after TEXT,
                        revoke_after_unused TEXT, from_domains TEXT,
                        defined_at TEXT NOT NULL,
                        changed_at TEXT NOT NULL,
                        removed_at TEXT
                    );
                    """)
        }

        migrator.registerMigration("v8-private-key-envelopes") { db in
            // Private keys kept in the registry (`keyStore: registry`): each sealed under its own
            // data key, wrapped by the KEK (`KeyEnvelope`). Erasing clears both blobs (crypto-erase);
            // the row stays, so the register shows when. Re-wrapping the data key under a new KEK
            // (`keys rewrap`) changes `kek_id` and `wrapped_data_key` only. Nothing else may change or delete a row.
            // `private_key_copy`: every plaintext copy written on a host (`keys materialize`), so
            // that revocation can find and erase them.
            try db.execute(
                sql: """
                    CREATE TABLE private_key_envelope (
                        key_id INTEGER PRIMARY KEY REFERENCES key(id) ON DELETE RESTRICT,
                        cipher TEXT NOT NULL CHECK (cipher = 'AES-256-GCM'),
                        kek_id TEXT NOT NULL CHECK (length(kek_id) = 16),
                        wrapped_data_key BLOB,
                        ciphertext BLOB,
                        sealed_at TEXT NOT NULL,
                        erased_at TEXT,
                        CHECK ((erased_at IS NULL AND wrapped_data_key IS NOT NULL AND ciphertext IS NOT NULL)
                            OR (erased_at IS NOT NULL AND wrapped_data_key IS NULL AND ciphertext IS NULL))
                    );
                    CREATE TRIGGER private_key_envelope_never_deleted BEFORE DELETE ON private_key_envelope
                    BEGIN SELECT RAISE(ABORT, 'sealed private keys are erased, never deleted'); END;
                    CREATE TRIGGER private_key_envelope_only_erased_or_rewrapped BEFORE UPDATE ON private_key_envelope
                    WHEN OLD.erased_at IS NOT NULL OR NEW.key_id IS NOT OLD.key_id OR NEW.sealed_at IS NOT OLD.sealed_at
                        OR NEW.cipher IS NOT OLD.cipher
                        OR (NEW.erased_at IS NOT NULL AND NEW.kek_id IS NOT OLD.kek_id)
                        OR (NEW.erased_at IS NULL AND NEW.ciphertext IS NOT OLD.ciphertext)
                    BEGIN SELECT RAISE(ABORT, 'a sealed private key only changes by being erased, or its data key re-wrapped'); END;
                    CREATE TABLE private_key_copy (
                        id INTEGER PRIMARY KEY,
                        key_id INTEGER NOT NULL REFERENCES key(id) ON DELETE RESTRICT,
                        host TEXT NOT NULL,
                        path TEXT NOT NULL,
                        written_at TEXT NOT NULL,
                        erased_at TEXT
                    );
                    CREATE UNIQUE INDEX private_key_copy_live ON private_key_copy(host, path) WHERE erased_at IS NULL;
                    CREATE INDEX private_key_copy_key ON private_key_copy(key_id);
                    """)
        }

        migrator.registerMigration("v9-scheduler-lease") { db in
            // Which scheduler leads (one row, name 'rotation'): its term — the fencing token every
            // write of a leader's tick checks — who holds it, since when, and until when its lease
            // runs, and when a leader last finished a tick. Operational state, not evidence: not in the event log nor the register.
            try db.execute(
                sql: """
                    CREATE TABLE scheduler_lease (
                        name TEXT PRIMARY KEY,
                        term INTEGER NOT NULL CHECK (term > 0),
                        holder TEXT NOT NULL,
                        since TEXT NOT NULL,
                        renewed_at TEXT NOT NULL,
                        expires_at TEXT NOT NULL,
                        released_at TEXT,
                        ticked_at TEXT
                    );
                    """)
        }

        return migrator
    }
}
