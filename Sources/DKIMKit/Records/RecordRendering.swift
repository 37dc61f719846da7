/// The ways dkimctl writes a key record for people and for DNS software.
public enum RecordFormat: String, Sendable, CaseIterable {
    /// BIND master-file syntax, absolute owner name, TTL, split strings.
    case zone
    /// The unsplit value on one line, for DNS providers' web forms.
    case value
    /// One JSON object describing the key and its record.
    case json
}

/// A key record placed in DNS: where it lives, with what TTL, and what it says.
public struct PublishedRecord: Sendable, Equatable {
    public let name: KeyRecordName
    /// Seconds; CCCS ITSP.40.065 advises 1,800 while a record is new and 86,400 once stable.
    public let ttl: Int
    public let record: DKIMKeyRecord

    public static let defaultTTL = 1800
    public static let ttlRange = 60...604_800

    public init(name: KeyRecordName, ttl: Int, record: DKIMKeyRecord) {
        self.name = name
        self.ttl = ttl
        self.record = record
    }

    /// Checks a TTL given by the user.
    public static func validateTTL(_ ttl: Int) throws {
        guard ttlRange.contains(ttl) else {
            throw DKIMError.invalid(
                "TTL \(ttl) is out of range (allowed: \(ttlRange.lowerBound)–\(ttlRange.upperBound) seconds; 1800 recommended while a record is new)")
        }
    }

    public var data: TXTRecordData { TXTRecordData(splitting: record.text) }

    /// The record as a BIND master-file entry, e.g.
    /// `sel._domainkey.example.org. 1800 IN TXT ( "v=DKIM1; k=rsa; p=…" "…" )`,
    /// preceded by a comment line when `comment` is given.
    public func zoneText(comment: String? = nil) -> String {
        var lines: [String] = []
        if let comment { lines.append("; " + comment) }
        let quoted = data.quotedStrings
        let head = "\(name.absolute) \(ttl) IN TXT ( "
        if quoted.count == 1 {
            lines.append(head + quoted[0] + " )")
        } else {
            lines.append(head + quoted[0])
            for string in quoted.dropFirst().dropLast() { lines.append("\t" + string) }
            lines.append("\t" + quoted.last! + " )")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
