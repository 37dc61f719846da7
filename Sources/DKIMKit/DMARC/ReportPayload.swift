import Foundation

/// Finds the XML of an aggregate report in a file's bytes: plain XML, gzip, or a ZIP
/// holding one XML file (as Google sends). The format comes from the bytes, never from
/// the file name or a content type: senders mislabel both.
enum ReportPayload {
    static func xml(in data: Data, limits: DMARCReportLimits) -> Result<Data, DMARCReportError> {
        let head = [UInt8](data.prefix(4))
        if head.starts(with: [0x1F, 0x8B]) {
            return Inflate.inflate(data, format: .gzip, limit: limits.inflatedBytes, ratio: limits.ratio).flatMap { requireXML($0) }
        }
        if head == [0x50, 0x4B, 0x03, 0x04] {
            return zipEntry(data, limits: limits).flatMap { requireXML($0) }
        }
        if head == [0x50, 0x4B, 0x05, 0x06] { return .failure(.unreadable("an empty ZIP archive")) }
        if data.count > limits.inflatedBytes {
            return .failure(.tooLarge("\(data.count) bytes of XML (allowed: at most \(limits.inflatedBytes))"))
        }
        return requireXML(data)
    }

    /// Whether a mail part may be a report, from its bytes: gzip, ZIP, or XML with a
    /// `<feedback` element near its start (a text or HTML body is not).
    static func mayHoldReport(_ data: Data) -> Bool {
        let head = [UInt8](data.prefix(4))
        if head.starts(with: [0x1F, 0x8B]) || head == [0x50, 0x4B, 0x03, 0x04] { return true }
        return String(decoding: data.prefix(4096), as: UTF8.self).contains("feedback")
            && (try? requireXML(data).get()) != nil
    }

    /// XML starts with `<` after an optional byte-order mark and white space.
    private static func requireXML(_ data: Data) -> Result<Data, DMARCReportError> {
        var bytes = data[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard let first = bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first == UInt8(ascii: "<") else {
            let shown = data.prefix(16).map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
            return .failure(.unreadable("not XML, gzip or ZIP (it begins '\(shown)')"))
        }
        return .success(data)
    }

    /// The XML entry of a ZIP archive, found through its central directory.
    private static func zipEntry(_ data: Data, limits: DMARCReportLimits) -> Result<Data, DMARCReportError> {
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        // End of central directory: 22 bytes plus a comment of up to 65,535.
        guard bytes.count >= 22,
            let end = stride(from: bytes.count - 22, through: max(0, bytes.count - 22 - 65_535), by: -1)
                .first(where: { u32($0) == 0x0605_4B50 })
        else { return .failure(.unreadable("a ZIP archive without its central directory (truncated?)")) }
        let count = u16(end + 10)
        var entry = u32(end + 16)
        var candidates: [(name: String, method: Int, compressed: Int, size: Int, offset: Int)] = []
        for _ in 0..<min(count, 64) {
            guard entry + 46 <= bytes.count, u32(entry) == 0x0201_4B50 else { return .failure(.unreadable("a damaged ZIP central directory")) }
            let nameLength = u16(entry + 28)
            guard entry + 46 + nameLength <= bytes.count else { return .failure(.unreadable("a damaged ZIP central directory")) }
            let name = String(decoding: bytes[(entry + 46)..<(entry + 46 + nameLength)], as: UTF8.self)
            candidates.append((name, u16(entry + 10), u32(entry + 20), u32(entry + 24), u32(entry + 42)))
            entry += 46 + nameLength + u16(entry + 30) + u16(entry + 32)
        }
        let files = candidates.filter { !$0.name.hasSuffix("/") }
        guard let chosen = files.first(where: { $0.name.lowercased().hasSuffix(".xml") }) ?? (files.count == 1 ? files.first : nil) else {
            return .failure(.unreadable("a ZIP archive with no XML file in it (\(files.map(\.name).prefix(5).joined(separator: ", ")))"))
        }
        if chosen.compressed == 0xFFFF_FFFF || chosen.size == 0xFFFF_FFFF { return .failure(.tooLarge("a ZIP64 entry (\(chosen.name))")) }
        if chosen.size > limits.inflatedBytes {
            return .failure(.tooLarge("\(chosen.name) inflates to \(chosen.size) bytes (allowed: at most \(limits.inflatedBytes))"))
        }
        let local = chosen.offset
        guard local + 30 <= bytes.count, u32(local) == 0x0403_4B50 else { return .failure(.unreadable("a damaged ZIP entry header (\(chosen.name))")) }
        let start = local + 30 + u16(local + 26) + u16(local + 28)
        guard start + chosen.compressed <= bytes.count else { return .failure(.unreadable("\(chosen.name) is truncated in the ZIP archive")) }
        let payload = data.subdata(in: (data.startIndex + start)..<(data.startIndex + start + chosen.compressed))
        switch chosen.method {
        case 0: return .success(payload)
        case 8: return Inflate.inflate(payload, format: .rawDeflate, limit: limits.inflatedBytes, ratio: limits.ratio)
        default: return .failure(.unreadable("\(chosen.name) uses ZIP compression method \(chosen.method) (allowed: stored or deflate)"))
        }
    }
}
