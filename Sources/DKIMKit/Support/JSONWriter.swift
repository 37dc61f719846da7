/// A small streaming JSON writer: deterministic field order and fast enough
/// to list 100,000 keys, which `JSONEncoder` is not on Linux.
public struct JSONWriter {
    /// The UTF-8 written so far.
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = [false]
    private let indent: Bool

    public init(pretty: Bool = false) {
        indent = pretty
        bytes.reserveCapacity(1024)
    }

    /// The JSON written so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func beginObject() { beginContainer("{") }
    public mutating func endObject() { endContainer("}") }
    public mutating func beginArray() { beginContainer("[") }
    public mutating func endArray() { endContainer("]") }

    public mutating func key(_ key: String) {
        separator()
        if key.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            // Field names are plain identifiers: no escape scan, no closure.
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: key.utf8)
            bytes.append(UInt8(ascii: "\""))
        } else {
            appendString(key)
        }
        append(indent ? ": " : ":")
        needsComma[needsComma.count - 1] = false
        pendingValueAfterKey = true
    }

    public mutating func field(_ key: String, _ value: String?) {
        self.key(key)
        value.map { string($0) } ?? null()
    }

    public mutating func field(_ key: String, _ value: Int?) {
        self.key(key)
        value.map { number($0) } ?? null()
    }

    public mutating func field(_ key: String, _ value: Bool) {
        self.key(key)
        separator()
        append(value ? "true" : "false")
        needsComma[needsComma.count - 1] = true
    }

    /// A fraction as a JSON number with four decimals (`0.9876`); not finite is `null`.
    public mutating func field(_ key: String, fraction value: Double) {
        self.key(key)
        separator()
        append(value.isFinite ? String(format: "%.4f", value) : "null")
        needsComma[needsComma.count - 1] = true
    }

    public mutating func field(_ key: String, _ values: [String]) {
        self.key(key)
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    public mutating func string(_ value: String) {
        separator()
        appendString(value)
        needsComma[needsComma.count - 1] = true
    }

    public mutating func number(_ value: Int) {
        separator()
        append(String(value))
        needsComma[needsComma.count - 1] = true
    }

    public mutating func null() {
        separator()
        append("null")
        needsComma[needsComma.count - 1] = true
    }

    /// Inserts already-serialised JSON (for example a stored details object).
    public mutating func raw(_ json: String) {
        separator()
        append(json)
        needsComma[needsComma.count - 1] = true
    }

    /// Forgets everything written, keeping the allocated buffer (for one object per line).
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = [false]
        pendingValueAfterKey = false
    }

    /// Hands the bytes written so far to `sink` and starts again (for streaming output).
    public mutating func flush(into sink: ([UInt8]) -> Void) {
        sink(bytes)
        bytes.removeAll(keepingCapacity: true)
    }

    private var pendingValueAfterKey = false

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    private mutating func separator() {
        if pendingValueAfterKey {
            pendingValueAfterKey = false
            return
        }
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        if indent, needsComma.count > 1 { append("\n" + String(repeating: "  ", count: needsComma.count - 1)) }
    }

    private mutating func beginContainer(_ opener: String) {
        separator()
        append(opener)
        needsComma[needsComma.count - 1] = true
        needsComma.append(false)
    }

    private mutating func endContainer(_ closer: String) {
        let hadContent = needsComma.removeLast()
        if indent, hadContent { append("\n" + String(repeating: "  ", count: needsComma.count - 1)) }
        append(closer)
    }

    private mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        if value.utf8.withContiguousStorageIfAvailable({ appendEscaped($0) }) == nil {
            appendEscaped(Array(value.utf8).withUnsafeBufferPointer { $0 })
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Whether any octet of `word` is below 0x20, a quote or a backslash
    /// (the "has less than" and "has zero byte" bit tricks).
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        let below0x20 = (word &- ones &* 0x20) & ~word & highs != 0
        return below0x20 || hasZero(word ^ (ones &* 0x22)) || hasZero(word ^ (ones &* 0x5C))
    }

    /// Appends `utf8` with JSON escapes, copying unescaped runs in one go.
    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        // Most values (base64 keys, names) need no escape at all: skip clean
        // 8-octet words at once before looking at octets one by one.
        var clean = 0
        if let base = utf8.baseAddress {
            let raw = UnsafeRawPointer(base)
            while clean + 8 <= utf8.count, !JSONWriter.needsEscape(raw.loadUnaligned(fromByteOffset: clean, as: UInt64.self)) {
                clean += 8
            }
        }
        var runStart = 0
        for index in clean..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            default:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
    }
}
