import Foundation

/// The lifecycle transitions after activation: pushes to DNS, retirement,
/// revocation, deploy hooks and private key disposal. Each is one
/// `BEGIN IMMEDIATE` transaction that re-reads the key and refuses a state it
/// does not expect, so two processes can never apply the same step twice.
extension SQLRegistry {
    public func recordPush(
        keyID: Int64, action: RecordAction, ttl: Int, publisher: String, response: String, actor: Actor, at time: Date
    ) throws -> RegisteredKey {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let key = try Self.existingKey(db, keyID)
            try db.execute(
                sql: "UPDATE key SET dns_action = ?, dns_ttl = ?, dns_pushed_at = ? WHERE id = ?",
                arguments: [action.rawValue, ttl, Timestamp.databaseForm(time), keyID])
            try Self.append(
                EventDraft(
                    action: "record.pushed", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                    details: ["record_action": action.rawValue, "ttl": String(ttl), "publisher": publisher, "response": response]),
                db: db, actor: actor, time: time)
            return try Self.existingKey(db, keyID)
        }
    }

    public func retire(keyID: Int64, reason: String?, actor: Actor, at time: Date) throws -> RegisteredKey {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let key = try Self.existingKey(db, keyID)
            guard key.state == .active else {
                throw DKIMError(.conflict, "key \(key.selector) is \(key.state.rawValue); only the active key can be retired")
            }
            try db.execute(
                sql: "UPDATE key SET state = 'retired', retired_at = ?, deploy_pending = 'retire' WHERE id = ?",
                arguments: [Timestamp.databaseForm(time), keyID])
            var details = ["successor": ""]
            if let reason { details["reason"] = reason }
            try Self.append(
                EventDraft(
                    action: "key.retired", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                    fromState: .active, toState: .retired, details: details),
                db: db, actor: actor, time: time)
            return try Self.existingKey(db, keyID)
        }
    }

    public func revoke(
        keyID: Int64, reason: String, style: RevocationStyle, allowedStates: Set<KeyState>, actor: Actor, at time: Date
    ) throws -> RegisteredKey {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let key = try Self.existingKey(db, keyID)
            guard allowedStates.contains(key.state) else {
                throw DKIMError(
                    .conflict,
                    "key \(key.selector) is \(key.state.rawValue); allowed here: \(allowedStates.sorted().map(\.rawValue).joined(separator: ", "))")
            }
            // A key that never signed (pending, published) was never in the MTA's configuration.
            let deploy: String? = [.active, .retired].contains(key.state) ? DeployAction.revoke.rawValue : nil
            try db.execute(
                sql: "UPDATE key SET state = 'revoked', revoked_at = ?, revocation_reason = ?, deploy_pending = ? WHERE id = ?",
                arguments: [Timestamp.databaseForm(time), reason, deploy, keyID])
            try Self.append(
                EventDraft(
                    action: "key.revoked", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                    fromState: key.state, toState: .revoked, details: ["reason": reason, "revocation": style.rawValue]),
                db: db, actor: actor, time: time)
            return try Self.existingKey(db, keyID)
        }
    }

    public func recordDeployment(keyID: Int64, action: DeployAction, command: String, actor: Actor, at time: Date) throws -> RegisteredKey {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let key = try Self.existingKey(db, keyID)
            guard key.pendingDeploy == action else { return key }
            try db.execute(sql: "UPDATE key SET deploy_pending = NULL WHERE id = ?", arguments: [keyID])
            try Self.append(
                EventDraft(
                    action: "key.deployed", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                    details: ["deploy_action": action.rawValue, "command": command]),
                db: db, actor: actor, time: time)
            return try Self.existingKey(db, keyID)
        }
    }

    public func recordPrivateKeyDisposal(
        keyID: Int64, disposal: PrivateKeyDisposal, location: String?, actor: Actor, at time: Date
    ) throws -> RegisteredKey {
        let time = Timestamp.truncatedToMilliseconds(time)
        var erased = false
        let disposed = try write { db in
            let key = try Self.existingKey(db, keyID)
            guard key.state == .revoked else {
                throw DKIMError(.conflict, "key \(key.selector) is \(key.state.rawValue); only a revoked key's private key is disposed of")
            }
            if key.privateKeyDisposal != nil { return key }
            try db.execute(
                sql: "UPDATE key SET private_key_disposal = ?, private_key_disposed_at = ? WHERE id = ?",
                arguments: [disposal.rawValue, Timestamp.databaseForm(time), keyID])
            var details = ["private_key_path": key.privateKeyPath ?? ""]
            if let location { details["revealed_at"] = location }
            // A sealed key is crypto-erased with its disposal, whichever it is: a revealed key's
            // plaintext is at `location`, the registry need not keep it.
            erased = try Self.eraseEnvelope(keyID: keyID, db: db, time: time)
            if erased { details["envelope"] = "erased" }
            try Self.append(
                EventDraft(
                    action: "key.private-key-\(disposal.rawValue)", keyID: keyID, domain: key.domain.ascii,
                    selector: key.selector.name, details: details),
                db: db, actor: actor, time: time)
            return try Self.existingKey(db, keyID)
        }
        if erased { try store.purgeOldVersions() }
        return disposed
    }

    public func changeTTL(keyID: Int64, ttl: Int, actor: Actor, at time: Date) throws -> RegisteredKey {
        try PublishedRecord.validateTTL(ttl)
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let key = try Self.existingKey(db, keyID)
            if key.ttl == ttl { return key }
            try db.execute(sql: "UPDATE key SET ttl = ? WHERE id = ?", arguments: [ttl, keyID])
            try Self.append(
                EventDraft(
                    action: "key.ttl-changed", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                    details: ["ttl": String(ttl), "previous_ttl": String(key.ttl)]),
                db: db, actor: actor, time: time)
            return try Self.existingKey(db, keyID)
        }
    }

    public func forEachUnfinishedRevocation(_ body: (RegisteredKey) throws -> Void) throws {
        try read { db in
            var cursor = try db.cursor(sql: Self.keySelect + """
                     WHERE key.state = 'revoked' AND (key.private_key_disposal IS NULL OR key.deploy_pending IS NOT NULL
                        OR key.dns_action IS NULL OR key.dns_action = 'publish')
                    ORDER BY key.domain, key.selector
                    """)
            while let row = try cursor.next() { try body(Self.decodeKey(row)) }
        }
    }

    static func existingKey(_ db: any SQLSession, _ keyID: Int64) throws -> RegisteredKey {
        guard let key = try fetchKeys(db, where: "key.id = ?", arguments: [keyID]).first else {
            throw DKIMError(.notFound, "key \(keyID) is not in the registry")
        }
        return key
    }

    public func activate(
        keyID: Int64, rotationPeriod: TimeSpan, forcedReason: String?, actor: Actor, at time: Date
    ) throws -> (active: RegisteredKey, retired: RegisteredKey?) {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            guard let key = try Self.fetchKeys(db, where: "key.id = ?", arguments: [keyID]).first else {
                throw DKIMError(.notFound, "key \(keyID) is not in the registry")
            }
            switch key.state {
            case .published: break
            case .pending where forcedReason != nil: break
            case .pending:
                throw DKIMError(.conflict, "key \(key.selector) is pending: DNS has not proved its record yet")
            case .active:
                throw DKIMError(.conflict, "key \(key.selector) is already the active key of its slot")
            case .retired, .revoked:
                throw DKIMError(.conflict, "key \(key.selector) is \(key.state.rawValue) and cannot become active again")
            }
            let previous = try Self.fetchKeys(
                db, where: "key.slot_id = ? AND key.state = 'active' AND key.id != ?", arguments: [key.slotID, keyID]
            ).first
            if let previous {
                try db.execute(sql: "UPDATE key SET state = 'retired', retired_at = ? WHERE id = ?", arguments: [Timestamp.databaseForm(time), previous.id])
                try Self.append(
                    EventDraft(
                        action: "key.retired", keyID: previous.id, domain: previous.domain.ascii,
                        selector: previous.selector.name, fromState: .active, toState: .retired,
                        details: ["successor": key.selector.name]),
                    db: db, actor: actor, time: time)
            }
            let expires = time.addingTimeInterval(TimeInterval(rotationPeriod.seconds))
            try db.execute(
                sql: "UPDATE key SET state = 'active', activated_at = ?, expires_at = ?, deploy_pending = 'activate' WHERE id = ?",
                arguments: [Timestamp.databaseForm(time), Timestamp.databaseForm(expires), keyID])
            var details = [
                "forced": forcedReason == nil ? "false" : "true", "expires_at": Timestamp.iso8601(expires),
                "rotation_period": rotationPeriod.description,
            ]
            if let forcedReason { details["forced_reason"] = forcedReason }
            if let previous { details["predecessor"] = previous.selector.name }
            try Self.append(
                EventDraft(
                    action: "key.activated", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                    fromState: key.state, toState: .active, details: details),
                db: db, actor: actor, time: time)
            let active = try Self.fetchKeys(db, where: "key.id = ?", arguments: [keyID])[0]
            let retired = try previous.map { try Self.fetchKeys(db, where: "key.id = ?", arguments: [$0.id])[0] }
            return (active, retired)
        }
    }
}
