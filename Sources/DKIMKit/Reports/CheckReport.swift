import Foundation

/// How DNS checks are shown: a table per key and the verdict, or JSON with the same content.
public enum CheckReport {
    public static let columns = ["SERVER", "ADDRESS", "ZONE", "STATUS", "SERIAL", "TTL", "DETAIL"]

    public static func text(_ verified: VerifiedKey) -> String {
        let key = verified.key
        var text = "\(key.recordName.absolute)  \(key.algorithm.rawValue)-\(key.bits)  "
        text += verified.previousState == key.state ? key.state.rawValue : "\(verified.previousState.rawValue) → \(key.state.rawValue)"
        text += "\n"
        let rows = verified.check.results.map { result -> [String] in
            [
                result.server.name, result.server.description, result.zone, result.status.rawValue,
                result.serial.map(String.init) ?? "-", result.ttl.map(String.init) ?? "-",
                // DNS-derived text: control characters escaped before they reach a terminal.
                TextEscaping.controlCharactersEscaped(([result.detail] + result.warnings.map { "warning: " + $0 }).joined(separator: "; ")),
            ]
        }
        if !rows.isEmpty { text += KeyReport.table(header: columns, rows: rows) }
        for problem in verified.check.problems { text += "problem: \(TextEscaping.controlCharactersEscaped(problem.description))\n" }
        text += "verdict: \(verified.check.verdict.rawValue)\n"
        return text
    }

    public static func object(_ verified: VerifiedKey, into writer: inout JSONWriter) {
        let key = verified.key
        writer.beginObject()
        writer.field("domain", key.domain.ascii)
        writer.field("selector", key.selector.name)
        writer.field("name", key.recordName.absolute)
        writer.field("previousState", verified.previousState.rawValue)
        writer.field("state", key.state.rawValue)
        writer.field("verdict", verified.check.verdict.rawValue)
        writer.field("recordTTL", verified.check.recordTTL.map { Int($0) })
        writer.field("negativeTTL", verified.check.negativeTTL.map { Int($0) })
        writer.field("problems", verified.check.problems.map(\.description))
        writer.key("servers")
        writer.beginArray()
        for result in verified.check.results {
            writer.beginObject()
            writer.field("server", result.server.name)
            writer.field("address", result.server.address)
            writer.field("port", Int(result.server.port))
            writer.field("zone", result.zone)
            writer.field("name", result.name)
            writer.field("status", result.status.rawValue)
            writer.field("serial", result.serial.map { Int($0) })
            writer.field("ttl", result.ttl.map { Int($0) })
            writer.field("negativeTTL", result.negativeTTL.map { Int($0) })
            writer.field("detail", result.detail)
            writer.field("warnings", result.warnings)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }

    /// The verdict over several keys: fail if any failed, temperror if any could not be decided.
    public static func overall(_ verified: [VerifiedKey]) -> CheckStatus {
        let verdicts = verified.map(\.check.verdict)
        if verdicts.contains(.fail) { return .fail }
        if verdicts.contains(.temperror) { return .temperror }
        return .pass
    }

    /// Stored checks for `show`.
    public static func storedText(_ checks: [StoredCheck]) -> String {
        var text = ""
        for check in checks {
            text += "\(Timestamp.iso8601(check.checkedAt))  \(check.verdict.rawValue)  by \(check.actor)"
            if let ttl = check.recordTTL { text += "  ttl \(ttl)" }
            if let negative = check.negativeTTL { text += "  negative ttl \(negative)" }
            text += "\n"
            for server in check.servers {
                text += "  \(server.status.rawValue)  \(server.server) \(server.address):\(server.port)  serial \(server.serial.map(String.init) ?? "-")  \(TextEscaping.controlCharactersEscaped(server.detail))\n"
            }
            for problem in check.problems { text += "  problem: \(problem)\n" }
        }
        return text
    }

    public static func storedObject(_ check: StoredCheck, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("checkedAt", Timestamp.iso8601(check.checkedAt))
        writer.field("actor", check.actor)
        writer.field("verdict", check.verdict.rawValue)
        writer.field("recordTTL", check.recordTTL)
        writer.field("negativeTTL", check.negativeTTL)
        writer.field("problems", check.problems)
        writer.key("servers")
        writer.beginArray()
        for server in check.servers {
            writer.beginObject()
            writer.field("server", server.server)
            writer.field("address", server.address)
            writer.field("port", server.port)
            writer.field("zone", server.zone)
            writer.field("name", server.name)
            writer.field("status", server.status.rawValue)
            writer.field("serial", server.serial)
            writer.field("ttl", server.ttl)
            writer.field("detail", server.detail)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }
}
