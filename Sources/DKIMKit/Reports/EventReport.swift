/// The event log for auditors: the chain's verdict, and the events themselves
/// with their hashes (`dkimctl audit verify`, `dkimctl audit events`).
public enum EventReport {
    /// The exported columns, in the order the hash covers them, then the hash.
    public static let columns = [
        "id", "time", "actor", "key_id", "domain", "selector", "action", "from_state", "to_state", "details", "previous_hash", "hash",
    ]

    static func values(_ event: RegistryEvent) -> [String?] {
        [
            String(event.id), event.time, event.actor, event.keyID.map { String($0) }, event.domain, event.selector, event.action,
            event.fromState, event.toState, event.details, event.previousHash, event.hash,
        ]
    }

    public static let csvHeader = columns.joined(separator: ",") + "\r\n"

    /// RFC 4180: every present value quoted, NULL an empty unquoted field. A value a
    /// spreadsheet would take for a formula (first character `=`, `+`, `-`, `@`, tab or
    /// CR) gets a `'` in front, and so does a value that starts with `'`: removing one
    /// leading `'` from every value that has one gives the values exactly as hashed.
    public static func csvRow(_ event: RegistryEvent) -> String {
        values(event).map { value in
            value.map { value in
                let neutral = value.unicodeScalars.first.map { "=+-@\t\r'".unicodeScalars.contains($0) } == true ? "'" + value : value
                return "\"" + neutral.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            } ?? ""
        }.joined(separator: ",") + "\r\n"
    }

    /// One JSON object per line (JSON Lines), NULL as null.
    public static func jsonLine(_ event: RegistryEvent) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for (column, value) in zip(columns, values(event)) {
            if column == "id" || column == "key_id" {
                writer.field(column, value.flatMap { Int($0) })
            } else {
                writer.field(column, value)
            }
        }
        writer.endObject()
        return writer.text + "\n"
    }

    public static func verificationText(
        _ verification: EventChainVerification, register: RegisterVerification, seals: SealLog.Verification? = nil,
        expectedHead: HeadContinuation?
    ) -> String {
        var text = ""
        if let first = verification.firstBreak {
            text += "event chain BROKEN: \(first.problem)\n"
            for other in verification.breaks.dropFirst() { text += "  also: \(other.problem)\n" }
        } else {
            text += "event chain intact: \(verification.eventCount) events, head event \(verification.headID) \(verification.headHash)\n"
        }
        if let first = register.problems.first {
            text += "register DIFFERS from the event log: \(first)\n"
            for other in register.problems.dropFirst() { text += "  also: \(other)\n" }
        } else {
            text += "register matches the event log: \(register.rowsChecked) slot, slot definition and key rows, \(register.checksAnchored) DNS checks anchored\n"
        }
        if let seals {
            if let first = seals.problems.first {
                text += "seals BROKEN: \(first)\n"
                for other in seals.problems.dropFirst() { text += "  also: \(other)\n" }
            } else {
                text += "seals hold: \(seals.sealCount) seal\(seals.sealCount == 1 ? "" : "s") in \(seals.path), the last made \(seals.lastSealTime ?? "-")\n"
            }
        }
        if let expectedHead {
            text += expectedHead.found
                ? "the head kept from the last audit (\(expectedHead.hash)) is event \(expectedHead.eventID ?? 0): the log continues it\n"
                : "the head kept from the last audit (\(expectedHead.hash)) is NOT in the log: events up to it were removed or rewritten\n"
        }
        return text
    }

    public static func verificationJSON(
        _ verification: EventChainVerification, register: RegisterVerification, seals: SealLog.Verification? = nil,
        expectedHead: HeadContinuation?
    ) -> String {
        func write(_ item: ChainBreak, _ writer: inout JSONWriter) {
            writer.beginObject()
            writer.field("kind", item.kind.rawValue)
            writer.field("eventId", item.eventID.map { Int($0) })
            writer.field("action", item.action)
            writer.field("time", item.time)
            writer.field("problem", item.problem)
            writer.endObject()
        }
        var writer = JSONWriter(pretty: true)
        writer.beginObject()
        writer.field("intact", verification.isIntact && register.isIntact && seals?.isIntact != false)
        writer.field("chainIntact", verification.isIntact)
        writer.field("eventCount", verification.eventCount)
        writer.field("headId", Int(verification.headID))
        writer.field("headHash", verification.headHash)
        writer.key("firstBreak")
        if let first = verification.firstBreak { write(first, &writer) } else { writer.null() }
        writer.key("breaks")
        writer.beginArray()
        for item in verification.breaks { write(item, &writer) }
        writer.endArray()
        writer.key("register")
        writer.beginObject()
        writer.field("intact", register.isIntact)
        writer.field("rowsChecked", register.rowsChecked)
        writer.field("checksAnchored", register.checksAnchored)
        writer.field("problems", register.problems)
        writer.endObject()
        if let seals {
            writer.key("seals")
            writer.beginObject()
            writer.field("intact", seals.isIntact)
            writer.field("path", seals.path)
            writer.field("count", seals.sealCount)
            writer.field("lastSealTime", seals.lastSealTime)
            writer.field("problems", seals.problems)
            writer.endObject()
        }
        if let expectedHead {
            writer.key("expectedHead")
            writer.beginObject()
            writer.field("hash", expectedHead.hash)
            writer.field("found", expectedHead.found)
            writer.field("eventId", expectedHead.eventID.map { Int($0) })
            writer.endObject()
        }
        writer.endObject()
        return writer.text + "\n"
    }
}

/// Whether the head hash an auditor kept from the previous audit is still in the log.
public struct HeadContinuation: Sendable, Equatable {
    public let hash: String
    public let eventID: Int64?
    public var found: Bool { eventID != nil }

    public init(hash: String, eventID: Int64?) {
        self.hash = hash
        self.eventID = eventID
    }
}
