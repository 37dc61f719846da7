import Foundation

// DNS evidence: recording checks (and the publication they prove), reading them back,
// and replaying the register against the event log.
extension SQLRegistry {
    public func recordChecks(_ checks: [(key: RegisteredKey, check: PublicationCheck)], actor: Actor, at time: Date) throws -> [RegisteredKey] {
        let time = Timestamp.truncatedToMilliseconds(time)
        if checks.count > 100 { try store.prepareForBulkWrite() }
        return try write { db in
            let previousLast = try RegisterEvidence.lastCheckID(db)
            let keys = try checks.map { entry in
                try Self.recordCheck(entry.check, for: entry.key, db: db, actor: actor, time: time) ?? entry.key
            }
            try RegisterEvidence.anchorChecks(after: previousLast, db: db, actor: actor, time: time)
            return keys
        }
    }

    /// Stores one check; returns the key re-read from the registry when it is not
    /// as the caller saw it (the check changed it, or another process did), nil otherwise.
    private static func recordCheck(_ check: PublicationCheck, for key: RegisteredKey, db: any SQLSession, actor: Actor, time: Date) throws -> RegisteredKey? {
        let keyID = key.id
        // Only the state is read here: decoding the whole key per check costs
        // more than the check's own inserts when 10,000 keys are verified.
        guard let stateName = try db.string(sql: "SELECT state FROM key WHERE id = ?", arguments: [keyID]),
            let state = KeyState(rawValue: stateName)
        else {
            throw DKIMError(.notFound, "key \(keyID) is not in the registry")
        }
        let checkID = try db.insert(sql: """
                INSERT INTO dns_check (key_id, checked_at, actor, verdict, record_ttl, negative_ttl, problems)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                keyID, Timestamp.databaseForm(time), actor.name, check.verdict.rawValue, check.recordTTL.map { Int($0) },
                check.negativeTTL.map { Int($0) }, check.problems.map(\.description).joined(separator: "\n"),
            ])
        for result in check.results {
            try db.execute(sql: """
                    INSERT INTO dns_check_server (check_id, zone, name, server, address, port, status, serial, ttl, negative_ttl, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [
                    checkID, result.zone, result.name, result.server.name, result.server.address, Int(result.server.port),
                    result.status.rawValue, result.serial.map { Int($0) }, result.ttl.map { Int($0) },
                    result.negativeTTL.map { Int($0) }, ([result.detail] + result.warnings).joined(separator: "; "),
                ])
        }
        guard check.verdict == .pass, state == .pending else {
            return state == key.state ? nil : try fetchKeys(db, where: "key.id = ?", arguments: [keyID]).first
        }
        try db.execute(sql: "UPDATE key SET state = 'published', published_at = ? WHERE id = ?", arguments: [Timestamp.databaseForm(time), keyID])
        try append(
            EventDraft(
                action: "key.published", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                fromState: .pending, toState: .published,
                details: [
                    "check_id": String(checkID),
                    "servers": check.results.map { "\($0.server.name) \($0.server)" }.joined(separator: ", "),
                ]),
            db: db, actor: actor, time: time)
        return try fetchKeys(db, where: "key.id = ?", arguments: [keyID])[0]
    }

    public func checks(forKey keyID: Int64, limit: Int) throws -> [StoredCheck] {
        try read { db in
            let rows = try db.rows(sql: "SELECT * FROM dns_check WHERE key_id = ? ORDER BY id DESC LIMIT ?", arguments: [keyID, limit])
            return try rows.map { raw in
                let row = RowDecoder(raw, table: "dns_check")
                let id = try row.int64("id")
                let servers = try db.rows(sql: "SELECT * FROM dns_check_server WHERE check_id = ? ORDER BY id", arguments: [id])
                    .map { raw in
                        let server = RowDecoder(raw, table: "dns_check_server")
                        return StoredServerCheck(
                            zone: try server.string("zone"), name: try server.string("name"), server: try server.string("server"),
                            address: try server.string("address"), port: try server.int("port"),
                            status: try server.enumeration("status", CheckStatus.self),
                            serial: try server.optionalInt("serial"), ttl: try server.optionalInt("ttl"), detail: try server.string("detail"))
                    }
                let problems = try row.string("problems")
                return StoredCheck(
                    id: id, checkedAt: try row.date("checked_at"), actor: try row.string("actor"),
                    verdict: try row.enumeration("verdict", CheckStatus.self), recordTTL: try row.optionalInt("record_ttl"),
                    negativeTTL: try row.optionalInt("negative_ttl"), problems: problems.isEmpty ? [] : problems.components(separatedBy: "\n"),
                    servers: servers)
            }
        }
    }

    public func latestCheckSummaries() throws -> [Int64: CheckSummary] {
        try read { db in
            // One query for every key: per-key reads cost a transaction and a statement each.
            let rows = try db.rows(sql: """
                    SELECT c.key_id, c.checked_at, c.verdict, (SELECT count(*) FROM dns_check_server s WHERE s.check_id = c.id)
                    FROM dns_check c JOIN (SELECT max(id) AS id FROM dns_check GROUP BY key_id) latest ON latest.id = c.id
                    """)
            var summaries: [Int64: CheckSummary] = [:]
            for raw in rows {
                let row = RowDecoder(raw, table: "dns_check")
                summaries[try row.int64(0)] = CheckSummary(
                    checkedAt: try row.date(1), verdict: try row.enumeration(2, CheckStatus.self), servers: try row.int(3))
            }
            return summaries
        }
    }

    /// Replays the event log against every slot and key row and the DNS evidence rows.
    public func verifyRegister() throws -> RegisterVerification {
        try read { db in try RegisterEvidence.verify(db) }
    }
}
