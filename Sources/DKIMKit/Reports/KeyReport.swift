import Foundation

/// How keys are shown to people and handed to other programs: the record
/// formats of `new` and `record`, and the table, CSV and JSON of `list` and `show`.
public enum KeyReport {
    /// `new --format json` and `record --format json`: the key and its record as one object.
    /// (The other record formats are templates: `record/zone`, `record/value`, …)
    public static func recordJSON(_ key: RegisteredKey) -> String {
        var writer = JSONWriter(pretty: true)
        object(key, includeZone: true, into: &writer)
        return writer.text + "\n"
    }

    /// `; mailgun/notifications key for example.org: rsa-2048, created 2026-11-23, owner …, state pending`
    public static func zoneComment(_ key: RegisteredKey) -> String {
        "\(key.provider)/\(key.usage) key for \(key.domain): \(key.algorithm.rawValue)-\(key.bits), created \(Timestamp.day(key.createdAt)), owner \(key.owner), state \(key.state.rawValue)"
    }

    /// The JSON object of one key: `domain`, `selector`, `provider`, `usage`, `owner`,
    /// `algorithm`, `bits`, `state`, `name`, `ttl`, `value`, `strings`, (`zone`),
    /// `privateKeyPath`, `privateKeyStore` (files, registry; null for tracked selectors), `fingerprint`, then the dates.
    /// - Parameter seenSigning: the end of the latest DMARC report period showing the key signing.
    public static func object(_ key: RegisteredKey, includeZone: Bool, seenSigning: Date? = nil, into writer: inout JSONWriter) {
        let published = key.publishedRecord
        let value = published.record.text
        writer.beginObject()
        writer.field("domain", key.domain.ascii)
        writer.field("selector", key.selector.name)
        writer.field("provider", key.provider.identifier)
        writer.field("usage", key.usage.name)
        writer.field("owner", key.owner.address)
        writer.field("algorithm", key.algorithm.rawValue)
        writer.field("bits", key.bits)
        writer.field("state", key.state.rawValue)
        writer.field("name", published.name.absolute)
        writer.field("ttl", key.ttl)
        writer.field("value", value)
        writer.field("strings", TXTRecordData(splitting: value).strings)
        if includeZone { writer.field("zone", published.zoneText(comment: zoneComment(key))) }
        writer.field("privateKeyPath", key.privateKeyPath)
        writer.field("privateKeyStore", key.kind == .external ? nil : key.privateKeyInRegistry ? "registry" : "files")
        writer.field("fingerprint", key.fingerprint)
        writer.field("kind", key.kind.rawValue)
        writer.field("cnameTarget", key.cnameTarget)
        writer.field("lastSeenAt", key.lastSeenAt.map(Timestamp.iso8601))
        writer.field("lastSeenSigning", seenSigning.map(Timestamp.iso8601))
        for (name, date) in dates(key) {
            writer.field(name, date.map(Timestamp.iso8601))
        }
        writer.endObject()
    }

    private static func dates(_ key: RegisteredKey) -> [(String, Date?)] {
        [
            ("createdAt", key.createdAt), ("publishedAt", key.publishedAt), ("activatedAt", key.activatedAt),
            ("expiresAt", key.expiresAt), ("retiredAt", key.retiredAt), ("revokedAt", key.revokedAt),
        ]
    }

    // MARK: CSV (RFC 4180)

    public static let csvHeader =
        "domain,selector,provider,usage,owner,algorithm,bits,state,name,ttl,fingerprint,private_key_path,created_at,published_at,activated_at,expires_at,retired_at,revoked_at,value,kind,cname_target,last_seen_at,last_seen_signing\r\n"

    public static func csvRow(_ key: RegisteredKey, seenSigning: Date? = nil) -> String {
        var fields = [
            key.domain.ascii, key.selector.name, key.provider.identifier, key.usage.name, key.owner.address,
            key.algorithm.rawValue, String(key.bits), key.state.rawValue, key.recordName.absolute, String(key.ttl),
            key.fingerprint, key.privateKeyPath ?? "",
        ]
        fields += dates(key).map { $0.1.map(Timestamp.iso8601) ?? "" }
        fields.append(key.record.text)
        fields += [key.kind.rawValue, key.cnameTarget ?? "", key.lastSeenAt.map(Timestamp.iso8601) ?? "", seenSigning.map(Timestamp.iso8601) ?? ""]
        return fields.map(csvField).joined(separator: ",") + "\r\n"
    }

    static func csvField(_ field: String) -> String {
        var needsQuotes = false
        for scalar in field.unicodeScalars where scalar == "," || scalar == "\"" || scalar == "\n" || scalar == "\r" {
            needsQuotes = true
            break
        }
        // A leading =, +, - or @ would be a formula in a spreadsheet: quote and prefix it.
        if let first = field.unicodeScalars.first, "=+-@".unicodeScalars.contains(first) {
            return "\"'" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return needsQuotes ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }

    // MARK: Table

    public static let tableColumns = ["DOMAIN", "SELECTOR", "PROVIDER", "USAGE", "OWNER", "KEY", "STATE", "CREATED", "EXPIRES"]

    public static func tableRow(_ key: RegisteredKey) -> [String] {
        [
            key.domain.ascii, key.selector.name, key.provider.identifier, key.usage.name, key.owner.address,
            "\(key.algorithm.rawValue)-\(key.bits)", key.kind == .external ? "\(key.state.rawValue) (tracked)" : key.state.rawValue,
            Timestamp.day(key.createdAt),
            key.expiresAt.map(Timestamp.day) ?? "-",
        ]
    }

    /// Left-aligned columns separated by two spaces.
    public static func table(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                if index == cells.count - 1 {
                    text += cell
                } else {
                    text += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
                }
            }
            return text + "\n"
        }
        return ([line(header)] + rows.map(line)).joined()
    }

    // MARK: show

    /// - Parameter lastSighting: the end of the latest DMARC report period that shows the key signing.
    public static func showText(
        _ key: RegisteredKey, events: [RegistryEvent], checks: [StoredCheck] = [], lastSighting: Date? = nil, wording: RemedyWording
    ) -> String {
        var fields: [(String, String)] = [
            ("Name", key.recordName.absolute), ("Domain", key.domain.ascii), ("Selector", key.selector.name),
            ("Provider", key.provider.identifier), ("Usage", key.usage.name), ("Owner", key.owner.address),
            ("Key", "\(key.algorithm.rawValue)-\(key.bits)"), ("State", key.state.rawValue),
            ("Fingerprint", key.fingerprint),
            ("Private key", key.privateKeyInRegistry ? "sealed in the registry" : key.privateKeyPath ?? "-"), ("TTL", String(key.ttl)),
        ]
        if key.kind == .external {
            fields[9] = ("Private key", "held by \(key.provider) (provider-managed selector, tracked)")
            fields.append(("CNAME target", key.cnameTarget ?? "- (TXT in the zone)"))
            fields.append(("Last seen", key.lastSeenAt.map(Timestamp.iso8601) ?? "-"))
        }
        for (name, date) in dates(key) {
            let label = name.replacingOccurrences(of: "At", with: "").capitalized
            fields.append((label, date.map(Timestamp.iso8601) ?? "-"))
        }
        fields.append(("Seen signing", lastSighting.map { "until \(Timestamp.iso8601($0)) (DMARC aggregate reports)" } ?? "- (no DMARC report shows it)"))
        fields.append(("Record", key.record.text))
        let width = fields.map(\.0.count).max()! + 1
        var text = fields.map { $0.0 + ":" + String(repeating: " ", count: width - $0.0.count) + " " + $0.1 }.joined(separator: "\n")
        text += "\n\nEvents:\n"
        let rows = events.map { event -> [String] in
            let transition = [event.fromState, event.toState].compactMap { $0 }.joined(separator: " → ")
            return [event.time, event.actor, event.action, transition.isEmpty ? "-" : transition, event.details]
        }
        text += table(header: ["TIME", "ACTOR", "ACTION", "STATE", "DETAILS"], rows: rows)
        text += "\nDNS checks (latest first):\n"
        text += checks.isEmpty ? wording.message("none yet", .verifyPublication) + "\n" : CheckReport.storedText(checks)
        return text
    }

    public static func showJSON(_ key: RegisteredKey, events: [RegistryEvent], checks: [StoredCheck] = [], lastSighting: Date? = nil) -> String {
        var writer = JSONWriter(pretty: true)
        writer.beginObject()
        writer.key("key")
        object(key, includeZone: false, seenSigning: lastSighting, into: &writer)
        writer.key("events")
        writer.beginArray()
        for event in events {
            writer.beginObject()
            writer.field("id", Int(event.id))
            writer.field("time", event.time)
            writer.field("actor", event.actor)
            writer.field("action", event.action)
            writer.field("fromState", event.fromState)
            writer.field("toState", event.toState)
            writer.key("details")
            writer.raw(event.details)
            writer.field("previousHash", event.previousHash)
            writer.field("hash", event.hash)
            writer.endObject()
        }
        writer.endArray()
        writer.key("checks")
        writer.beginArray()
        for check in checks { CheckReport.storedObject(check, into: &writer) }
        writer.endArray()
        writer.endObject()
        return writer.text + "\n"
    }
}
