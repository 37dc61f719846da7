import Foundation

/// Provider-managed selectors (`dkimctl track`): registered as `external`
/// keys that are active from the start (the provider signs with them), whose
/// public key is whatever DNS serves, and whose changes are events.
extension SQLRegistry {
    public func registerExternal(_ registration: ExternalKeyRegistration, actor: Actor, at time: Date) throws -> RegisteredKey {
        try registering(registration, actor: actor, at: time) { db, slotID, time in
            let domain = registration.domain.ascii
            let seen = registration.observation
            let stored = Timestamp.databaseForm(time)
            let keyID = try db.insert(
                sql: """
                    INSERT INTO key (slot_id, domain, selector, algorithm, bits, state, public_key, fingerprint, private_key_path,
                                     ttl, hash_algorithms, service_types, flags, notes, created_at, published_at, activated_at,
                                     kind, cname_target, last_seen_at)
                    VALUES (?, ?, ?, ?, ?, 'active', ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, 'external', ?, ?)
                    """,
                arguments: SQLArguments(
                    [slotID, domain, registration.selector.name, seen.algorithm.rawValue, seen.bits, seen.record.publicKey, seen.fingerprint, seen.ttl]
                        + seen.record.options.columnValues + [stored, stored, stored, seen.cnameTarget, stored]))
            var details = [
                "provider": registration.provider.identifier, "usage": registration.usage.name,
                "owner": registration.owner.address, "algorithm": seen.algorithm.rawValue, "bits": String(seen.bits),
                "fingerprint": seen.fingerprint,
            ]
            if let target = seen.cnameTarget { details["cname_target"] = target }
            try Self.append(
                EventDraft(
                    action: "key.tracked", keyID: keyID, domain: domain, selector: registration.selector.name, toState: .active,
                    details: details),
                db: db, actor: actor, time: time)
            return try Self.existingKey(db, keyID)
        }
    }

    public func recordExternalObservation(
        keyID: Int64, _ seen: ExternalKeyObservation, actor: Actor, at time: Date
    ) throws -> (key: RegisteredKey, changed: Bool) {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let key = try Self.existingKey(db, keyID)
            guard key.kind == .external else {
                throw DKIMError(.conflict, "key \(key.selector) is dkimctl's own; only tracked selectors follow what DNS serves")
            }
            let changed = key.fingerprint != seen.fingerprint || key.cnameTarget != seen.cnameTarget
            if changed {
                try db.execute(
                    sql: """
                        UPDATE key SET algorithm = ?, bits = ?, public_key = ?, fingerprint = ?, ttl = ?, hash_algorithms = ?,
                                       service_types = ?, flags = ?, notes = ?, cname_target = ?, last_seen_at = ?
                        WHERE id = ?
                        """,
                    arguments: SQLArguments(
                        [seen.algorithm.rawValue, seen.bits, seen.record.publicKey, seen.fingerprint, seen.ttl]
                            + seen.record.options.columnValues + [seen.cnameTarget, Timestamp.databaseForm(time), keyID]))
                var details = [
                    "previous_fingerprint": key.fingerprint, "fingerprint": seen.fingerprint,
                    "algorithm": seen.algorithm.rawValue, "bits": String(seen.bits),
                ]
                if key.cnameTarget != seen.cnameTarget {
                    details["previous_cname_target"] = key.cnameTarget ?? ""
                    details["cname_target"] = seen.cnameTarget ?? ""
                }
                try Self.append(
                    EventDraft(
                        action: "key.external-changed", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                        details: details),
                    db: db, actor: actor, time: time)
            } else {
                try db.execute(sql: "UPDATE key SET last_seen_at = ? WHERE id = ?", arguments: [Timestamp.databaseForm(time), keyID])
                // Every change of a row is an event, so the register can be replayed from the log.
                try Self.append(
                    EventDraft(
                        action: "key.external-seen", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                        details: ["fingerprint": key.fingerprint]),
                    db: db, actor: actor, time: time)
            }
            return (try Self.existingKey(db, keyID), changed)
        }
    }
}
