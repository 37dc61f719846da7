import Foundation

// The event log: appending to the hash chain, reading and verifying it.
extension SQLRegistry {
    public func events(forKey keyID: Int64) throws -> [RegistryEvent] {
        try read { db in
            try db.rows(sql: "SELECT * FROM event WHERE key_id = ? ORDER BY id", arguments: [keyID]).map { try Self.decodeEvent($0) }
        }
    }

    public func verifyEventChain() throws -> EventChainVerification {
        try read { db in try Self.verifyEventChain(db) }
    }

    /// The chain as `db` sees it (inside a transaction that is about to commit, for a copy).
    static func verifyEventChain(_ db: any SQLSession) throws -> EventChainVerification {
        var breaks: [ChainBreak] = []
        var previousHash = RegistryEvent.genesisHash
        var count = 0
        var previousID: Int64 = 0
        var cursor = try db.cursor(sql: "SELECT * FROM event ORDER BY id")
        while let row = try cursor.next() {
            let event: RegistryEvent
            do {
                event = try Self.decodeEvent(row)
            } catch let error as DKIMError {
                breaks.append(ChainBreak(kind: .damaged, eventID: nil, action: nil, time: nil, problem: error.message))
                continue
            }
            count += 1
            func broken(_ kind: ChainBreak.Kind, _ problem: String) {
                breaks.append(ChainBreak(kind: kind, eventID: event.id, action: event.action, time: event.time, problem: problem))
            }
            if event.id != previousID + 1 {
                broken(.removed, "event ids jump from \(previousID) to \(event.id): \(event.id - previousID - 1) event(s) before event \(event.id) were removed")
            }
            if event.computedHash != event.hash {
                broken(.altered, "event \(event.id) (\(event.action), \(event.time)) was altered: its stored hash does not match its content")
            } else if event.previousHash != previousHash {
                broken(.unlinked, "event \(event.id) (\(event.action), \(event.time)) does not link to the event before it: events were removed, inserted or reordered before it")
            }
            previousID = event.id
            previousHash = event.hash
        }
        let headID = try Self.meta(db, "event_head_id").flatMap { Int64($0) } ?? 0
        let headHash = try Self.meta(db, "event_head_hash") ?? RegistryEvent.genesisHash
        if headID != previousID || headHash != previousHash {
            breaks.append(ChainBreak(
                kind: .truncated, eventID: nil, action: nil, time: nil,
                problem: "the log ends at event \(previousID) but the registry recorded event \(headID) as the last: events were removed from the end"))
        }
        return EventChainVerification(eventCount: count, headHash: previousHash, headID: previousID, breaks: breaks)
    }

    public func selectorsInEvents(of domain: DomainName) throws -> Set<String> {
        try read { db in
            Set(try db.strings(sql: "SELECT DISTINCT selector FROM event WHERE domain = ? AND selector IS NOT NULL", arguments: [domain.ascii]))
        }
    }

    public func eventHash(id: Int64) throws -> String? {
        try read { db in try db.string(sql: "SELECT hash FROM event WHERE id = ?", arguments: [id]) }
    }

    public func eventHead() throws -> (id: Int64, hash: String)? {
        try read { db in
            try db.row(sql: "SELECT id, hash FROM event ORDER BY id DESC LIMIT 1").map {
                let row = RowDecoder($0, table: "event")
                return (id: try row.int64(0), hash: try row.string(1))
            }
        }
    }

    public func eventID(withHash hash: String) throws -> Int64? {
        try read { db in try db.int64(sql: "SELECT id FROM event WHERE hash = ?", arguments: [hash.lowercased()]) }
    }

    public func forEachEvent(since time: Date?, _ body: (RegistryEvent) throws -> Void) throws {
        try read { db in
            // `time` is ISO 8601 UTC with milliseconds: text order is time order.
            var cursor = try db.cursor(sql: "SELECT * FROM event WHERE time >= ? ORDER BY id",
                arguments: [time.map(Timestamp.iso8601Milliseconds) ?? ""])
            while let row = try cursor.next() { try body(try Self.decodeEvent(row)) }
        }
    }

    /// Appends one event to the chain; must run inside the transaction of the change it records.
    static func append(_ draft: EventDraft, db: any SQLSession, actor: Actor, time: Date) throws {
        var draft = draft
        try RegisterEvidence.attachSnapshots(to: &draft, db: db)
        let head = try db.row(sql: "SELECT id, hash FROM event ORDER BY id DESC LIMIT 1")
        let previousHash = try head.map { try RowDecoder($0, table: "event").string("hash") } ?? RegistryEvent.genesisHash
        let id = try (head.map { try RowDecoder($0, table: "event").int64("id") } ?? 0) + 1
        let timeText = Timestamp.iso8601Milliseconds(time)
        let details = draft.detailsJSON
        let hash = EventHash.compute(
            id: id, time: timeText, actor: actor.name, keyID: draft.keyID, domain: draft.domain,
            selector: draft.selector, action: draft.action, fromState: draft.fromState?.rawValue,
            toState: draft.toState?.rawValue, details: details, previousHash: previousHash)
        try db.execute(sql: """
                INSERT INTO event (id, time, actor, key_id, domain, selector, action, from_state, to_state, details, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                id, timeText, actor.name, draft.keyID, draft.domain, draft.selector, draft.action,
                draft.fromState?.rawValue, draft.toState?.rawValue, details, previousHash, hash,
            ])
        try setMeta(db, "event_head_id", String(id))
        try setMeta(db, "event_head_hash", hash)
    }

    private static func decodeEvent(_ row: SQLRow) throws -> RegistryEvent {
        let row = RowDecoder(row, table: "event")
        return RegistryEvent(
            id: try row.int64("id"), time: try row.string("time"), actor: try row.string("actor"), keyID: try row.optionalInt64("key_id"),
            domain: try row.optionalString("domain"), selector: try row.optionalString("selector"), action: try row.string("action"),
            fromState: try row.optionalString("from_state"), toState: try row.optionalString("to_state"),
            details: try row.string("details"), previousHash: try row.string("previous_hash"), hash: try row.string("hash"))
    }
}
