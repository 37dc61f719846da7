import Foundation

// Private keys the registry keeps sealed, their crypto-erasure, and the plaintext
// copies written on signing hosts.
extension SQLRegistry {
    static func insertEnvelope(_ sealed: SealedPrivateKey, keyID: Int64, db: any SQLSession, time: Date) throws {
        try db.execute(
            sql: """
                INSERT INTO private_key_envelope (key_id, cipher, kek_id, wrapped_data_key, ciphertext, sealed_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [keyID, KeyEnvelope.cipher, sealed.kekID, sealed.wrappedDataKey, sealed.ciphertext, Timestamp.databaseForm(time)])
    }

    public func storedPrivateKey(keyID: Int64) throws -> StoredPrivateKey? {
        try read { db in
            guard let row = try db.row(sql: "SELECT cipher, kek_id, wrapped_data_key, ciphertext, erased_at FROM private_key_envelope WHERE key_id = ?",
                arguments: [keyID])
            else { return nil }
            let decoder = RowDecoder(row, table: "private_key_envelope")
            if let erased = try decoder.optionalDate("erased_at") { return .erased(at: erased) }
            guard try decoder.string("cipher") == KeyEnvelope.cipher,
                let wrapped = row["wrapped_data_key"].data, let ciphertext = row["ciphertext"].data
            else {
                throw DKIMError(.registry, "the sealed private key of key \(keyID) is damaged in the registry (cipher or blobs missing)", remedy: .verifyRegister)
            }
            return .sealed(SealedPrivateKey(kekID: try decoder.string("kek_id"), wrappedDataKey: wrapped, ciphertext: ciphertext))
        }
    }

    /// Clears a key's envelope inside the caller's transaction (crypto-erase); the connection's
    /// `secure_delete` zeroes the freed bytes in the file. Returns whether there was one to erase.
    static func eraseEnvelope(keyID: Int64, db: any SQLSession, time: Date) throws -> Bool {
        try db.execute(
            sql: "UPDATE private_key_envelope SET wrapped_data_key = NULL, ciphertext = NULL, erased_at = ? WHERE key_id = ? AND erased_at IS NULL",
            arguments: [Timestamp.databaseForm(time), keyID])
        return db.changesCount > 0
    }

    public func sealPrivateKey(keyID: Int64, _ sealed: SealedPrivateKey, actor: Actor, at time: Date) throws -> RegisteredKey {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let key = try Self.existingKey(db, keyID)
            guard key.kind == .local, key.state != .revoked, let path = key.privateKeyPath, !key.privateKeyInRegistry else {
                throw DKIMError(
                    .conflict,
                    "key \(key.selector) (\(key.domain)) has no private key file to seal (\(key.state.rawValue)\(key.privateKeyInRegistry ? ", already sealed" : ""))")
            }
            try Self.insertEnvelope(sealed, keyID: keyID, db: db, time: time)
            try db.execute(sql: "UPDATE key SET private_key_path = NULL WHERE id = ?", arguments: [keyID])
            try Self.append(
                EventDraft(
                    action: "key.private-key-sealed", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                    details: ["private_key_path": path, "private_key_store": "registry", "kek_id": sealed.kekID]),
                db: db, actor: actor, time: time)
            return try Self.existingKey(db, keyID)
        }
    }

    public func rewrapPrivateKeys(from previous: KeyEncryptionKey, to next: KeyEncryptionKey, actor: Actor, at time: Date) throws -> Int {
        guard previous.id != next.id else { return 0 }
        let time = Timestamp.truncatedToMilliseconds(time)
        let count = try write { db in
            let rows = try db.rows(sql: """
                    SELECT e.key_id, e.wrapped_data_key, e.ciphertext, k.domain, k.selector, k.fingerprint
                    FROM private_key_envelope e JOIN key k ON k.id = e.key_id
                    WHERE e.erased_at IS NULL AND e.kek_id = ? ORDER BY e.key_id
                    """,
                arguments: [previous.id])
            for row in rows {
                let decoder = RowDecoder(row, table: "private_key_envelope")
                let keyID = try decoder.int64("key_id")
                guard let wrapped = row["wrapped_data_key"].data, let ciphertext = row["ciphertext"].data else {
                    throw DKIMError(.registry, "the sealed private key of key \(keyID) is damaged in the registry (blobs missing)", remedy: .verifyRegister)
                }
                let name = try KeyRecordName(
                    selector: Selector(trusted: decoder.string("selector")), domain: DomainName(trusted: decoder.string("domain")))
                let rewrapped = try KeyEnvelope.rewrap(
                    SealedPrivateKey(kekID: previous.id, wrappedDataKey: wrapped, ciphertext: ciphertext),
                    recordName: name.relative, fingerprint: try decoder.string("fingerprint"), from: previous, to: next,
                    subject: "\(name.selector) (\(name.domain))")
                try db.execute(
                    sql: "UPDATE private_key_envelope SET kek_id = ?, wrapped_data_key = ? WHERE key_id = ?",
                    arguments: [next.id, rewrapped.wrappedDataKey, keyID])
            }
            if !rows.isEmpty {
                try Self.append(
                    EventDraft(action: "keys.rewrapped", details: ["previous_kek_id": previous.id, "kek_id": next.id, "keys": String(rows.count)]),
                    db: db, actor: actor, time: time)
            }
            return rows.count
        }
        // The data keys wrapped under the previous KEK must not survive in the WAL either.
        if count > 0 { try store.purgeOldVersions() }
        return count
    }

    public func materializedCopies(host: String?, keyID: Int64?, includingErased: Bool) throws -> [MaterializedCopy] {
        var conditions: [String] = []
        var arguments: [any SQLBindable] = []
        if let host {
            conditions.append("host = ?")
            arguments.append(contentsOf: [host])
        }
        if let keyID {
            conditions.append("key_id = ?")
            arguments.append(contentsOf: [keyID])
        }
        if !includingErased { conditions.append("erased_at IS NULL") }
        let clause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try read { db in
            try db.rows(sql: "SELECT id, key_id, host, path, written_at, erased_at FROM private_key_copy" + clause + " ORDER BY id", arguments: arguments)
                .map { row in
                    let decoder = RowDecoder(row, table: "private_key_copy")
                    return MaterializedCopy(
                        id: try decoder.int64("id"), keyID: try decoder.int64("key_id"), host: try decoder.string("host"),
                        path: try decoder.string("path"), writtenAt: try decoder.date("written_at"), erasedAt: try decoder.optionalDate("erased_at"))
                }
        }
    }

    public func recordMaterialization(_ changes: MaterializationChanges, actor: Actor, at time: Date) throws {
        guard !changes.written.isEmpty || !changes.erased.isEmpty else { return }
        let time = Timestamp.truncatedToMilliseconds(time)
        try write { db in
            let stamp = Timestamp.databaseForm(time)
            for copy in changes.erased {
                try db.execute(sql: "UPDATE private_key_copy SET erased_at = ? WHERE id = ? AND erased_at IS NULL", arguments: [stamp, copy.id])
            }
            for (keyID, path) in changes.written {
                // A rewritten file replaces the copy recorded at the same place.
                try db.execute(
                    sql: "UPDATE private_key_copy SET erased_at = ? WHERE host = ? AND path = ? AND erased_at IS NULL",
                    arguments: [stamp, changes.host, path])
                try db.execute(
                    sql: "INSERT INTO private_key_copy (key_id, host, path, written_at) VALUES (?, ?, ?, ?)",
                    arguments: [keyID, changes.host, path, stamp])
            }
            try Self.append(
                EventDraft(
                    action: "keys.materialized",
                    details: [
                        "host": changes.host, "directory": changes.directory, "written": String(changes.written.count),
                        "erased": String(changes.erased.count), "unchanged": String(changes.unchanged),
                    ]),
                db: db, actor: actor, time: time)
        }
    }
}
