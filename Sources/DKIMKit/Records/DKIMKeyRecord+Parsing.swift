import Foundation

/// Why a TXT value is not a valid DKIM key record.
public struct RecordSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

extension DKIMKeyRecord {
    /// Parses a key record per RFC 6376 §3.2 (tag lists) and §3.6.1 (key tags).
    ///
    /// Whitespace around tags, `=` and `;` is folding whitespace and ignored;
    /// tag names are case-sensitive; unknown tags are ignored; a tag given twice,
    /// a `v=` that is not first or not `DKIM1`, a missing `p=` or a `p=` that is
    /// not base64 are syntax errors.
    /// - Throws: `RecordSyntaxError` with the first problem found.
    public init(parsing text: String) throws {
        let tags = try TagList.parse(text)
        var seen = Set<String>()
        for (index, tag) in tags.enumerated() {
            guard seen.insert(tag.name).inserted else {
                throw RecordSyntaxError(reason: "tag '\(tag.name)' appears more than once")
            }
            if tag.name == "v", index != 0 {
                throw RecordSyntaxError(reason: "tag 'v' must be the first tag")
            }
        }
        let values = Dictionary(uniqueKeysWithValues: tags.map { ($0.name, $0.value) })

        if let version = values["v"], version != "DKIM1" {
            throw RecordSyntaxError(reason: "v=\(version) is not DKIM1")
        }
        guard let rawKey = values["p"] else {
            throw RecordSyntaxError(reason: "the required tag 'p' is missing")
        }
        let publicKey = rawKey.filter { !$0.isWhitespace }
        if !publicKey.isEmpty, !DKIMKeyRecord.isBase64(publicKey) {
            throw RecordSyntaxError(reason: "p= is not valid base64")
        }
        var notes: String?
        if let encoded = values["n"] {
            guard let decoded = DKIMQuotedPrintable.decode(encoded) else {
                throw RecordSyntaxError(reason: "n= is not valid dkim-quoted-printable")
            }
            notes = decoded
        }
        let keyType = values["k"].map { $0.filter { !$0.isWhitespace } } ?? "rsa"
        if keyType.isEmpty { throw RecordSyntaxError(reason: "k= is empty") }
        self.init(
            version: values["v"],
            hashAlgorithms: values["h"].map(DKIMKeyRecord.colonList),
            keyType: keyType,
            notes: notes,
            publicKey: publicKey,
            serviceTypes: values["s"].map(DKIMKeyRecord.colonList),
            flags: values["t"].map(DKIMKeyRecord.colonList) ?? [])
    }

    /// Parses the character-strings of one TXT record, joined with nothing in
    /// between as RFC 6376 §3.6.2.2 requires.
    public init(parsingStrings strings: [String]) throws {
        try self.init(parsing: strings.joined())
    }

    private static func colonList(_ value: String) -> [String] {
        value.split(separator: ":").map { $0.filter { !$0.isWhitespace } }.filter { !$0.isEmpty }
    }

    static func isBase64(_ text: String) -> Bool {
        guard text.utf8.count % 4 == 0 else { return false }
        var padding = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                if padding > 0 { return false }
            case UInt8(ascii: "="):
                padding += 1
                if padding > 2 { return false }
            default:
                return false
            }
        }
        return Data(base64Encoded: text) != nil
    }
}

/// The RFC 6376 §3.2 tag-list grammar, shared by key records and (later) signatures.
enum TagList {
    struct Tag: Equatable {
        let name: String
        let value: String
    }

    static func parse(_ text: String) throws -> [Tag] {
        var specs = text.split(separator: ";", omittingEmptySubsequences: false)
        // A single trailing ";" (possibly followed by whitespace) is allowed.
        if specs.count > 1, specs.last!.allSatisfy(isFWS) { specs.removeLast() }
        var tags: [Tag] = []
        for spec in specs {
            guard let equals = spec.firstIndex(of: "=") else {
                let shown = spec.trimmingCharacters(in: .whitespacesAndNewlines)
                throw RecordSyntaxError(reason: shown.isEmpty ? "empty tag (two ';' in a row)" : "'\(shown)' is not a tag=value pair")
            }
            let name = trimFWS(spec[..<equals])
            let value = trimFWS(spec[spec.index(after: equals)...])
            guard isTagName(name) else {
                throw RecordSyntaxError(reason: "'\(name)' is not a valid tag name")
            }
            for scalar in value.unicodeScalars where !isValueCharacter(scalar) && !isFWS(Character(scalar)) {
                let shown = scalar.value < 0x20 || scalar.value > 0x7E ? String(format: "U+%04X", scalar.value) : "'\(scalar)'"
                throw RecordSyntaxError(reason: "tag '\(name)' contains \(shown), which a tag value cannot hold")
            }
            tags.append(Tag(name: name, value: value))
        }
        return tags
    }

    private static func isFWS(_ character: Character) -> Bool {
        character == " " || character == "\t" || character == "\r\n" || character == "\r" || character == "\n"
    }

    private static func trimFWS(_ text: Substring) -> String {
        String(text.drop(while: isFWS).reversed().drop(while: isFWS).reversed())
    }

    /// tag-name = ALPHA *ALNUMPUNC, ALNUMPUNC = ALPHA / DIGIT / "_"
    private static func isTagName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// VALCHAR = %x21-3A / %x3C-7E (printable ASCII except ";").
    private static func isValueCharacter(_ scalar: Unicode.Scalar) -> Bool {
        (0x21...0x3A).contains(scalar.value) || (0x3C...0x7E).contains(scalar.value)
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
