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
        let publicKey = DKIMKeyRecord.removingFWS(rawKey)
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
        let keyType = values["k"].map(DKIMKeyRecord.removingFWS) ?? "rsa"
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
        value.split(separator: ":").map { removingFWS(String($0)) }.filter { !$0.isEmpty }
    }

    /// `value` without spaces, tabs, CR and LF (folding whitespace inside base64 and lists).
    static func removingFWS(_ value: String) -> String {
        let bytes = value.utf8
        guard bytes.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }) else { return value }
        return String(decoding: bytes.filter { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
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
///
/// Works on UTF-8 octets: `verify --all` parses one record per server per key.
enum TagList {
    struct Tag: Equatable {
        let name: String
        let value: String
    }

    static func parse(_ text: String) throws -> [Tag] {
        let bytes = Array(text.utf8)
        try checkLineBreaks(bytes)
        var specs: [Range<Int>] = []
        var start = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: ";") {
            specs.append(start..<index)
            start = index + 1
        }
        specs.append(start..<bytes.count)
        // A single trailing ";" (possibly followed by whitespace) is allowed.
        if specs.count > 1, trim(specs.last!, in: bytes).isEmpty { specs.removeLast() }
        var tags: [Tag] = []
        for spec in specs {
            guard let equals = bytes[spec].firstIndex(of: UInt8(ascii: "=")) else {
                // Text from DNS: control characters are shown escaped, never sent to a terminal.
                let shown = TextEscaping.controlCharactersEscaped(String(decoding: bytes[trim(spec, in: bytes)], as: UTF8.self))
                throw RecordSyntaxError(reason: shown.isEmpty ? "empty tag (two ';' in a row)" : "'\(shown)' is not a tag=value pair")
            }
            let nameRange = trim(spec.lowerBound..<equals, in: bytes)
            let valueRange = trim((equals + 1)..<spec.upperBound, in: bytes)
            let name = String(decoding: bytes[nameRange], as: UTF8.self)
            guard isTagName(bytes[nameRange]) else {
                throw RecordSyntaxError(reason: "'\(TextEscaping.controlCharactersEscaped(name))' is not a valid tag name")
            }
            for index in valueRange where !isValueCharacter(bytes[index]) && !isFWS(bytes[index]) {
                throw RecordSyntaxError(reason: "tag '\(name)' contains \(describe(bytes, at: index)), which a tag value cannot hold")
            }
            tags.append(Tag(name: name, value: String(decoding: bytes[valueRange], as: UTF8.self)))
        }
        return tags
    }

    /// RFC 6376 §2.8: FWS = [*WSP CRLF] 1*WSP. A line break is whitespace only as
    /// CRLF followed by a space or tab; a bare CR or LF, or CRLF at the end or
    /// before another character, is not folding whitespace.
    private static func checkLineBreaks(_ bytes: [UInt8]) throws {
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case 0x0A:
                throw RecordSyntaxError(reason: "a bare LF at octet \(index + 1) is not folding whitespace (RFC 6376 §2.8)")
            case 0x0D:
                guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else {
                    throw RecordSyntaxError(reason: "a bare CR at octet \(index + 1) is not folding whitespace (RFC 6376 §2.8)")
                }
                guard index + 2 < bytes.count, bytes[index + 2] == 0x20 || bytes[index + 2] == 0x09 else {
                    throw RecordSyntaxError(reason: "CRLF at octet \(index + 1) is not followed by a space or tab, so it is not folding whitespace (RFC 6376 §2.8)")
                }
                index += 3
            default:
                index += 1
            }
        }
    }

    private static func isFWS(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    private static func trim(_ range: Range<Int>, in bytes: [UInt8]) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isFWS(bytes[lower]) { lower += 1 }
        while upper > lower, isFWS(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    /// tag-name = ALPHA *ALNUMPUNC, ALNUMPUNC = ALPHA / DIGIT / "_"
    private static func isTagName(_ name: ArraySlice<UInt8>) -> Bool {
        guard let first = name.first, isLetter(first) else { return false }
        return name.allSatisfy { isLetter($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "_") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// VALCHAR = %x21-3A / %x3C-7E (printable ASCII except ";").
    private static func isValueCharacter(_ byte: UInt8) -> Bool {
        (0x21...0x3A).contains(byte) || (0x3C...0x7E).contains(byte)
    }

    /// `'x'` for printable ASCII, `U+00E9` for anything else.
    private static func describe(_ bytes: [UInt8], at index: Int) -> String {
        if (0x20...0x7E).contains(bytes[index]) { return "'\(Character(Unicode.Scalar(bytes[index])))'" }
        let scalar = String(decoding: bytes[index...], as: UTF8.self).unicodeScalars.first!
        return String(format: "U+%04X", scalar.value)
    }
}
