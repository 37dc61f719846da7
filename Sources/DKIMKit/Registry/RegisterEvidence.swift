import Foundation

/// What makes the register as tamper-evident as the event log.
///
/// - Every event about a key or a slot carries, in its details, a snapshot of
///   that row as the change left it (`key_row`, `slot_row`): the hash chain
///   covers the snapshot, so a row edited later no longer equals the last
///   snapshot the log holds for it. The public key is snapshotted as its SHA-256.
/// - Every batch of DNS checks is digested into one `dns.checks-recorded`
///   event (the check-id range, row counts and a SHA-256 of every evidence
///   row in it): an evidence row edited, removed or added breaks the digest.
///
/// `verify` replays the log and compares; see runbooks/audit-event-chain.md.
enum RegisterEvidence {
    /// Key columns in snapshot order; `public_key` is replaced by `public_key_sha256`.
    static let keyColumns = [
        "id", "slot_id", "domain", "selector", "algorithm", "bits", "state", "public_key", "fingerprint",
        "private_key_path", "ttl", "hash_algorithms", "service_types", "flags", "notes", "created_at", "published_at",
        "activated_at", "expires_at", "retired_at", "revoked_at", "dns_action", "dns_ttl", "dns_pushed_at",
        "deploy_pending", "private_key_disposal", "private_key_disposed_at", "revocation_reason", "kind",
        "cname_target", "last_seen_at",
    ]
    static let slotColumns = ["id", "domain", "provider", "usage", "owner", "created_at"]
    static let definitionColumns = ["id", "slot_id"] + SQLRegistry.definitionColumns.map(\.column) + ["defined_at", "changed_at", "removed_at"]
    static let checkColumns = ["id", "key_id", "checked_at", "actor", "verdict", "record_ttl", "negative_ttl", "problems"]
    static let serverColumns = [
        "id", "check_id", "zone", "name", "server", "address", "port", "status", "serial", "ttl", "negative_ttl", "detail",
    ]

    /// A row's fields as canonical text (nil for NULL), in column order.
    typealias Fields = [(name: String, value: String?)]

    static func fields(_ row: SQLRow, _ columns: [String]) -> Fields {
        columns.enumerated().map { index, column in
            let value = canonical(row[index])
            if column == "public_key" { return ("public_key_sha256", value.map(sha256Hex)) }
            return (column, value)
        }
    }

    static func canonical(_ value: SQLValue) -> String? {
        switch value {
        case .null: return nil
        case .integer(let number): return String(number)
        case .real(let number): return String(number)
        case .text(let text): return text
        case .blob(let data): return "blob:" + data.hexadecimal
        }
    }

    static func json(_ fields: Fields) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for field in fields { writer.field(field.name, field.value) }
        writer.endObject()
        return writer.text
    }

    static func keyRow(_ db: any SQLSession, id: Int64) throws -> Fields? {
        try db.row(sql: "SELECT \(keyColumns.joined(separator: ", ")) FROM key WHERE id = ?", arguments: [id]
        ).map { fields($0, keyColumns) }
    }

    static func slotRow(_ db: any SQLSession, id: Int64) throws -> Fields? {
        try db.row(sql: "SELECT \(slotColumns.joined(separator: ", ")) FROM slot WHERE id = ?", arguments: [id]
        ).map { fields($0, slotColumns) }
    }

    static func definitionRow(_ db: any SQLSession, slotID: Int64) throws -> Fields? {
        try db.row(sql: "SELECT \(definitionColumns.joined(separator: ", ")) FROM slot_definition WHERE slot_id = ?", arguments: [slotID]
        ).map { fields($0, definitionColumns) }
    }

    /// Adds the snapshots of the rows `draft` is about to its details.
    static func attachSnapshots(to draft: inout EventDraft, db: any SQLSession) throws {
        var slotID = draft.slotID
        if let keyID = draft.keyID, let row = try keyRow(db, id: keyID) {
            draft.details["key_row"] = json(row)
            slotID = slotID ?? row.first(where: { $0.name == "slot_id" })?.value.flatMap { Int64($0) }
        }
        if let slotID, let row = try slotRow(db, id: slotID) {
            draft.details["slot_row"] = json(row)
            // Only slot events carry the definition: a key's events do not change it.
            // (Migrations before v7 append events too, before the table exists.)
            if draft.keyID == nil, try db.tableExists("slot_definition"), let definition = try definitionRow(db, slotID: slotID) {
                draft.details["definition_row"] = json(definition)
            }
        }
    }

    // MARK: DNS evidence digests

    /// The digest of the DNS evidence rows of checks `first...last`: SHA-256 (hex) of
    /// `dkimctl-evidence-v1\n`, then for each check in id order `dns_check\n` and its
    /// fields, then `dns_check_server\n` and the fields of each of its server rows in
    /// id order; a field is `name=LENGTH:VALUE\n` or `name=null\n` (as in event hashes).
    static func evidenceDigest(_ db: any SQLSession, first: Int64, last: Int64) throws -> (checks: Int, servers: Int, digest: String) {
        var servers: [Int64: [Fields]] = [:]
        var serverCount = 0
        var serverRows = try db.cursor(sql: "SELECT \(serverColumns.joined(separator: ", ")) FROM dns_check_server WHERE check_id BETWEEN ? AND ? ORDER BY id",
            arguments: [first, last])
        while let row = try serverRows.next() {
            servers[try RowDecoder(row, table: "dns_check_server").int64(1), default: []].append(fields(row, serverColumns))
            serverCount += 1
        }
        var text = "dkimctl-evidence-v1\n"
        var checkCount = 0
        var checkRows = try db.cursor(sql: "SELECT \(checkColumns.joined(separator: ", ")) FROM dns_check WHERE id BETWEEN ? AND ? ORDER BY id",
            arguments: [first, last])
        while let row = try checkRows.next() {
            checkCount += 1
            text += "dns_check\n" + encoded(fields(row, checkColumns))
            for server in servers.removeValue(forKey: try RowDecoder(row, table: "dns_check").int64(0)) ?? [] {
                text += "dns_check_server\n" + encoded(server)
            }
        }
        // Server rows whose check is gone still count: they change the digest.
        for (checkID, orphans) in servers.sorted(by: { $0.key < $1.key }) {
            text += "orphan \(checkID)\n" + orphans.map(encoded).joined()
        }
        return (checkCount, serverCount, sha256Hex(text))
    }

    private static func encoded(_ fields: Fields) -> String {
        var text = ""
        for field in fields {
            if let value = field.value {
                text += "\(field.name)=\(value.utf8.count):\(value)\n"
            } else {
                text += "\(field.name)=null\n"
            }
        }
        return text
    }

    /// Appends the event that anchors the checks recorded since `previousLast` (exclusive).
    static func anchorChecks(after previousLast: Int64, db: any SQLSession, actor: Actor, time: Date) throws {
        guard let last = try db.int64(sql: "SELECT max(id) FROM dns_check"), last > previousLast else { return }
        let first = previousLast + 1
        let digest = try evidenceDigest(db, first: first, last: last)
        try SQLRegistry.append(
            EventDraft(
                action: "dns.checks-recorded",
                details: [
                    "first_check_id": String(first), "last_check_id": String(last), "checks": String(digest.checks),
                    "server_rows": String(digest.servers), "digest": digest.digest,
                ]),
            db: db, actor: actor, time: time)
    }

    static func lastCheckID(_ db: any SQLSession) throws -> Int64 {
        try db.int64(sql: "SELECT coalesce(max(id), 0) FROM dns_check") ?? 0
    }

    // MARK: Replay

    /// Replays the event log against the register and the DNS evidence.
    /// - Returns: every difference, the first found first.
    static func verify(_ db: any SQLSession) throws -> RegisterVerification {
        var keySnapshots: [Int64: (event: Int64, fields: [String: String?])] = [:]
        var slotSnapshots: [Int64: (event: Int64, fields: [String: String?])] = [:]
        var definitionSnapshots: [Int64: (event: Int64, fields: [String: String?])] = [:]
        var anchors: [(event: Int64, first: Int64, last: Int64, checks: Int, servers: Int, digest: String)] = []
        var problems: [String] = []

        var events = try db.cursor(sql: "SELECT id, action, details FROM event ORDER BY id")
        while let event = try events.next() {
            let decoder = RowDecoder(event, table: "event")
            let details = try decoder.string(2)
            guard details.contains("_row\"") || details.contains("\"digest\"") else { continue }
            let eventID = try decoder.int64(0)
            guard let object = try? JSONSerialization.jsonObject(with: Data(details.utf8)) as? [String: String] else {
                problems.append("event \(eventID) has details that are not a JSON object of strings")
                continue
            }
            for name in ["key_row", "slot_row", "definition_row"] {
                guard let text = object[name] else { continue }
                guard let snapshot = parseSnapshot(text), let id = snapshot["id"].flatMap({ $0 }).flatMap({ Int64($0) }) else {
                    problems.append("event \(eventID) holds a \(name) that does not parse")
                    continue
                }
                switch name {
                case "key_row": keySnapshots[id] = (eventID, snapshot)
                case "slot_row": slotSnapshots[id] = (eventID, snapshot)
                default: definitionSnapshots[id] = (eventID, snapshot)
                }
            }
            if try decoder.string(1) == "dns.checks-recorded" {
                guard let first = object["first_check_id"].flatMap({ Int64($0) }), let last = object["last_check_id"].flatMap({ Int64($0) }),
                    let checks = object["checks"].flatMap({ Int($0) }), let servers = object["server_rows"].flatMap({ Int($0) }),
                    let digest = object["digest"]
                else {
                    problems.append("event \(eventID) (dns.checks-recorded) lacks its range or digest")
                    continue
                }
                anchors.append((eventID, first, last, checks, servers, digest))
            }
        }

        // Slot rows are named "provider usage of domain", key rows "selector of domain".
        var rows = 0
        rows += try replay(db, table: "slot", columns: slotColumns, snapshots: slotSnapshots, problems: &problems) { row in
            "\(describe(row[2])) \(describe(row[3])) of \(describe(row[1]))"
        }
        rows += try replay(db, table: "key", columns: keyColumns, snapshots: keySnapshots, problems: &problems) { row in
            "\(describe(row[3])) of \(describe(row[2]))"
        }
        rows += try replay(db, table: "slot_definition", columns: definitionColumns, snapshots: definitionSnapshots, problems: &problems) { row in
            "slot \(describe(row[1]))"
        }

        // DNS evidence: each anchored range still digests the same, and no row lies outside every range.
        var covered: [ClosedRange<Int64>] = []
        var anchoredChecks = 0
        for anchor in anchors {
            let now = try evidenceDigest(db, first: anchor.first, last: anchor.last)
            anchoredChecks += now.checks
            if now.digest != anchor.digest {
                var what: [String] = []
                if now.checks != anchor.checks { what.append("\(anchor.checks) checks recorded, \(now.checks) now") }
                if now.servers != anchor.servers { what.append("\(anchor.servers) server rows recorded, \(now.servers) now") }
                if what.isEmpty { what.append("a row was edited") }
                problems.append(
                    "DNS evidence of checks \(anchor.first)–\(anchor.last) no longer matches event \(anchor.event) (\(what.joined(separator: "; ")))")
            }
            covered.append(anchor.first...anchor.last)
        }
        let uncovered = try db.int64s(sql: "SELECT id FROM dns_check ORDER BY id").filter { id in !covered.contains { $0.contains(id) } }
        if let first = uncovered.first {
            problems.append(
                "\(uncovered.count) DNS check row\(uncovered.count == 1 ? " is" : "s are") anchored by no event (first: dns_check \(first)): added outside dkimctl")
        }
        let strayServers = try db.int64s(sql: "SELECT DISTINCT check_id FROM dns_check_server ORDER BY check_id")
            .filter { id in !covered.contains { $0.contains(id) } }
        if let first = strayServers.first {
            problems.append("DNS server rows of \(strayServers.count) check\(strayServers.count == 1 ? "" : "s") are anchored by no event (first: check \(first))")
        }
        return RegisterVerification(rowsChecked: rows, checksAnchored: anchoredChecks, problems: problems)
    }

    /// Compares every row of `table` with its last snapshot; returns how many rows there are.
    private static func replay(
        _ db: any SQLSession, table: String, columns: [String], snapshots: [Int64: (event: Int64, fields: [String: String?])],
        problems: inout [String], name: (SQLRow) -> String
    ) throws -> Int {
        var unseen = snapshots
        var count = 0
        var rows = try db.cursor(sql: "SELECT \(columns.joined(separator: ", ")) FROM \(table) ORDER BY id")
        while let row = try rows.next() {
            count += 1
            let id = try RowDecoder(row, table: table).int64(0)
            problems += compare("\(table) row \(id) (\(name(row)))", fields(row, columns), unseen.removeValue(forKey: id))
        }
        for id in unseen.keys.sorted() { problems.append("\(table) row \(id) is in the event log but no longer in the register: it was deleted") }
        return count
    }

    private static func parseSnapshot(_ text: String) -> [String: String?]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        var snapshot: [String: String?] = [:]
        for (name, value) in object {
            switch value {
            case let text as String: snapshot[name] = .some(text)
            case is NSNull: snapshot[name] = .some(nil)
            default: return nil
            }
        }
        return snapshot
    }

    private static func compare(_ label: String, _ current: Fields, _ recorded: (event: Int64, fields: [String: String?])?) -> [String] {
        guard let recorded else { return ["\(label) is recorded by no event: it was inserted outside dkimctl"] }
        for field in current {
            let expected = recorded.fields[field.name] ?? nil
            if field.value != expected {
                return ["\(label): \(field.name) is \(show(field.value)) but the event log says \(show(expected)) (event \(recorded.event))"]
            }
        }
        return []
    }

    private static func show(_ value: String?) -> String {
        guard let value else { return "NULL" }
        let shown = value.count > 80 ? String(value.prefix(77)) + "…" : value
        return "'" + TextEscaping.controlCharactersEscaped(shown) + "'"
    }

    private static func describe(_ value: SQLValue) -> String {
        canonical(value).map(TextEscaping.controlCharactersEscaped) ?? "NULL"
    }
}

/// The outcome of replaying the event log against the register and the DNS evidence.
public struct RegisterVerification: Sendable, Equatable {
    /// Slot, slot definition and key rows compared with their last snapshot.
    public let rowsChecked: Int
    /// DNS checks whose evidence rows matched an anchoring event's range.
    public let checksAnchored: Int
    /// Every difference, in words; empty when the register is what the events say.
    public let problems: [String]

    public var isIntact: Bool { problems.isEmpty }
}
