import Foundation

/// The parts of mail that may carry aggregate reports: an mbox file is split into its
/// messages, a message (`.eml`, a Maildir file) into its MIME leaves, each decoded
/// (base64, quoted-printable) into the bytes a report file would hold. Headers decide
/// nothing but the structure: whether a leaf is a report is read from its bytes.
enum MailMessage {
    /// Whether `data` looks like mail: an mbox `From ` line, or a first line that is a header field.
    static func isMail(_ data: Data) -> Bool {
        let head = data.prefix(512)
        guard let lineEnd = head.firstIndex(of: 0x0A) else { return false }
        let line = String(decoding: head[head.startIndex..<lineEnd], as: UTF8.self)
        if line.hasPrefix("From ") { return true }
        guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { return false }
        return line[..<colon].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    /// The messages of an mbox (mboxrd: `>From ` lines unescaped), or the one message.
    static func messages(in data: Data) -> [Data] {
        guard data.starts(with: Array("From ".utf8)) else { return [data] }
        var messages: [Data] = []
        var current = Data()
        var first = true
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            if line.starts(with: Array("From ".utf8)) {
                if !first { messages.append(current) }
                first = false
                current = Data()
                continue
            }
            var line = Data(line)
            if line.first == UInt8(ascii: ">"), line.drop(while: { $0 == UInt8(ascii: ">") }).starts(with: Array("From ".utf8)) {
                line = line.dropFirst()
            }
            current.append(line)
            current.append(0x0A)
        }
        if !first { messages.append(current) }
        return messages
    }

    /// One leaf of a message: its file name (if any) and its decoded bytes.
    struct Leaf {
        var name: String?
        var bytes: Data
    }

    /// Every leaf of the message, decoded; multiparts are walked to a depth of 8.
    static func leaves(of message: Data, depth: Int = 0) -> [Leaf] {
        let (headers, body) = split(message)
        let contentType = headers["content-type"] ?? "text/plain"
        let type = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if type.hasPrefix("multipart/"), depth < 8, let boundary = parameter("boundary", in: contentType) {
            return parts(of: body, boundary: boundary).flatMap { leaves(of: $0, depth: depth + 1) }
        }
        let name = parameter("filename", in: headers["content-disposition"] ?? "") ?? parameter("name", in: contentType)
        let encoding = (headers["content-transfer-encoding"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        switch encoding {
        case "base64":
            let text = body.filter { !(0x09...0x0D).contains($0) && $0 != 0x20 }
            return [Leaf(name: name, bytes: Data(base64Encoded: text, options: .ignoreUnknownCharacters) ?? Data())]
        case "quoted-printable":
            return [Leaf(name: name, bytes: quotedPrintable(body))]
        default:
            return [Leaf(name: name, bytes: body)]
        }
    }

    /// Header fields (lower-cased names, unfolded values; the first of each name) and the body.
    static func split(_ message: Data) -> ([String: String], Data) {
        var headers: [String: String] = [:]
        var index = message.startIndex
        var lastName: String?
        while index < message.endIndex {
            let end = message[index...].firstIndex(of: 0x0A) ?? message.endIndex
            var line = message[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            index = end < message.endIndex ? end + 1 : end
            if line.isEmpty { break }
            let text = String(decoding: line, as: UTF8.self)
            if let first = text.first, first == " " || first == "\t" {
                if let lastName, headers[lastName] != nil { headers[lastName]! += " " + text.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard let colon = text.firstIndex(of: ":") else { continue }
            let name = text[..<colon].lowercased()
            lastName = name
            if headers[name] == nil { headers[name] = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
            else { lastName = nil }
        }
        return (headers, Data(message[index...]))
    }

    /// `name=value` or `name="value"` in a header value.
    static func parameter(_ name: String, in value: String) -> String? {
        for item in value.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            return pair[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    /// The parts between `--boundary` lines, up to `--boundary--`.
    static func parts(of body: Data, boundary: String) -> [Data] {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [Data] = []
        var current: Data?
        for line in body.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let trimmed = line.last == 0x0D ? line.dropLast() : line[...]
            if trimmed.starts(with: delimiter) {
                if let current { parts.append(current) }
                if trimmed.dropFirst(delimiter.count).starts(with: Array("--".utf8)) { return parts }
                current = Data()
                continue
            }
            current?.append(contentsOf: line)
            current?.append(0x0A)
        }
        if let current { parts.append(current) }
        return parts
    }

    static func quotedPrintable(_ body: Data) -> Data {
        var output = Data()
        let bytes = [UInt8](body)
        var index = 0
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 1 < bytes.count {
                if bytes[index + 1] == 0x0A { index += 2; continue }
                if bytes[index + 1] == 0x0D, index + 2 < bytes.count, bytes[index + 2] == 0x0A { index += 3; continue }
                if index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            output.append(bytes[index])
            index += 1
        }
        return output
    }
}
