/// A pull reader of XML events over bytes in memory: start tags, end tags and text,
/// element names without their namespace prefix. It never builds a tree, and it is
/// deliberately small: a DOCTYPE (and so every entity declaration: XXE, billion laughs)
/// is refused, only the five predefined and numeric character references are decoded,
/// and nesting, text length and element count are bounded.
struct XMLEventReader {
    enum Event: Equatable {
        case start(String)
        case end(String)
        case text(String)
    }

    private let bytes: [UInt8]
    private var position = 0
    private var open: [String] = []
    private var pendingEnd: String?
    private var elements = 0
    private var rootSeen = false
    private let limits: DMARCReportLimits

    init(_ bytes: [UInt8], limits: DMARCReportLimits) {
        self.bytes = bytes
        self.limits = limits
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
    }

    /// The next event, or nil at the end of a well-formed document.
    mutating func next() throws(DMARCReportError) -> Event? {
        if let name = pendingEnd {
            pendingEnd = nil
            return .end(name)
        }
        while position < bytes.count {
            guard bytes[position] == UInt8(ascii: "<") else {
                let start = position
                while position < bytes.count, bytes[position] != UInt8(ascii: "<") { position += 1 }
                let raw = bytes[start..<position]
                if raw.allSatisfy({ Self.isSpace($0) }) { continue }
                guard !open.isEmpty else { throw .notAReport("text outside the root element at byte \(start)") }
                return .text(try decode(raw, at: start))
            }
            let second = position + 1 < bytes.count ? bytes[position + 1] : 0
            if second != UInt8(ascii: "?"), second != UInt8(ascii: "!"), second != UInt8(ascii: "/") {
                position += 1
                let name = try readName()
                return try startTag(name)
            }
            if starts(with: Self.processingInstruction) {
                try skip(past: Self.processingInstructionEnd, what: "processing instruction")
            } else if starts(with: Self.comment) {
                try skip(past: Self.commentEnd, what: "comment")
            } else if starts(with: Self.cdata) {
                let start = position + 9
                try skip(past: Self.cdataEnd, what: "CDATA section")
                guard !open.isEmpty else { throw .notAReport("CDATA outside the root element") }
                return .text(Self.text(bytes, start..<(position - 3)))
            } else if starts(with: Self.declaration) {
                throw .unsafe("a DTD or declaration ('<!' at byte \(position)): DTDs and entity declarations are refused (XXE, entity expansion)")
            } else if second == UInt8(ascii: "/") {
                position += 2
                let name = try readName()
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ">") else { throw truncatedOr("malformed end tag </\(name)") }
                position += 1
                guard let expected = open.popLast() else { throw .notAReport("end tag </\(name)> without a start tag") }
                guard expected == name else { throw .notAReport("end tag </\(name)> closes <\(expected)>") }
                return .end(name)
            } else {
                position += 1
                let name = try readName()
                return try startTag(name)
            }
        }
        if let unclosed = open.last { throw .notAReport("the document ends inside <\(unclosed)> (truncated)") }
        if elements == 0 { throw .notAReport("no root element") }
        return nil
    }

    /// The rest of a start tag whose name was read: attributes skipped, limits checked.
    private mutating func startTag(_ name: String) throws(DMARCReportError) -> Event {
        let selfClosing = try skipAttributes(of: name)
        elements += 1
        if elements > limits.elements { throw .tooLarge("more than \(limits.elements) elements") }
        if open.isEmpty {
            guard !rootSeen else { throw .notAReport("a second root element <\(name)>") }
            rootSeen = true
        }
        if open.count + 1 > limits.depth { throw .tooLarge("elements nested more than \(limits.depth) deep") }
        if selfClosing { pendingEnd = name } else { open.append(name) }
        return .start(name)
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    /// UTF-8 text of a byte range, decoded from contiguous memory (the fast path).
    static func text(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        bytes.withUnsafeBufferPointer { buffer in String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self) }
    }

    private static let processingInstruction = Array("<?".utf8), processingInstructionEnd = Array("?>".utf8)
    private static let comment = Array("<!--".utf8), commentEnd = Array("-->".utf8)
    private static let cdata = Array("<![CDATA[".utf8), cdataEnd = Array("]]>".utf8)
    private static let declaration = Array("<!".utf8), endTag = Array("</".utf8)

    private func starts(with utf8: [UInt8]) -> Bool {
        guard position + utf8.count <= bytes.count else { return false }
        for (offset, byte) in utf8.enumerated() where bytes[position + offset] != byte { return false }
        return true
    }

    private mutating func skip(past utf8: [UInt8], what: String) throws(DMARCReportError) {
        var index = position
        while index + utf8.count <= bytes.count {
            if bytes[index] == utf8[0], bytes[index..<(index + utf8.count)].elementsEqual(utf8) {
                position = index + utf8.count
                return
            }
            index += 1
        }
        throw .notAReport("the document ends inside a \(what) (truncated)")
    }

    private mutating func skipSpace() {
        while position < bytes.count, Self.isSpace(bytes[position]) { position += 1 }
    }

    /// A name, its namespace prefix dropped: `dmarc:record` → `record`.
    private mutating func readName() throws(DMARCReportError) -> String {
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if Self.isSpace(byte) || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=") { break }
            position += 1
            if position - start > 256 { throw .tooLarge("an element name longer than 256 bytes") }
        }
        guard position > start else { throw truncatedOr("an empty element name at byte \(start)") }
        var nameStart = start
        if let colon = bytes[start..<position].lastIndex(of: UInt8(ascii: ":")) { nameStart = colon + 1 }
        return Self.text(bytes, nameStart..<position)
    }

    /// Skips a start tag's attributes (namespace declarations and the like); true for `/>`.
    private mutating func skipAttributes(of name: String) throws(DMARCReportError) -> Bool {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: ">"):
                position += 1
                return false
            case UInt8(ascii: "/"):
                guard position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: ">") else { throw truncatedOr("malformed tag <\(name)") }
                position += 2
                return true
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                let quote = bytes[position]
                position += 1
                while position < bytes.count, bytes[position] != quote {
                    if bytes[position] == UInt8(ascii: "<") { throw .notAReport("'<' inside an attribute value of <\(name)>") }
                    position += 1
                }
                guard position < bytes.count else { throw truncatedOr("") }
                position += 1
            default:
                position += 1
            }
        }
        throw truncatedOr("")
    }

    private func truncatedOr(_ reason: String) -> DMARCReportError {
        position >= bytes.count ? .notAReport("the document ends inside a tag (truncated)") : .notAReport(reason)
    }

    /// Text with its character references decoded; any other entity is refused.
    private func decode(_ raw: ArraySlice<UInt8>, at offset: Int) throws(DMARCReportError) -> String {
        if raw.count > limits.textBytes { throw .tooLarge("a text of \(raw.count) bytes (allowed: at most \(limits.textBytes))") }
        guard raw.contains(UInt8(ascii: "&")) else { return Self.text(bytes, raw.startIndex..<raw.endIndex) }
        var output: [UInt8] = []
        var index = raw.startIndex
        while index < raw.endIndex {
            guard raw[index] == UInt8(ascii: "&") else {
                output.append(raw[index])
                index += 1
                continue
            }
            guard let semicolon = raw[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                throw .notAReport("a bare '&' at byte \(offset + index - raw.startIndex)")
            }
            let reference = String(decoding: raw[(index + 1)..<semicolon], as: UTF8.self)
            let scalar: Unicode.Scalar?
            switch reference {
            case "lt": scalar = "<"
            case "gt": scalar = ">"
            case "amp": scalar = "&"
            case "quot": scalar = "\""
            case "apos": scalar = "'"
            default:
                if reference.hasPrefix("#x") || reference.hasPrefix("#X") {
                    scalar = UInt32(reference.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if reference.hasPrefix("#") {
                    scalar = UInt32(reference.dropFirst(1)).flatMap(Unicode.Scalar.init)
                } else {
                    throw .unsafe("the entity &\(reference); (only the predefined entities and character references are expanded)")
                }
            }
            guard let scalar else { throw .notAReport("an invalid character reference &\(reference);") }
            output.append(contentsOf: Array(String(Character(scalar)).utf8))
            index = semicolon + 1
        }
        return String(decoding: output, as: UTF8.self)
    }
}
