/// A small streaming JSON writer: deterministic field order and fast enough
/// to list 100,000 keys, which `JSONEncoder` is not on Linux.
public struct JSONWriter {
    public private(set) var text = ""
    private var needsComma: [Bool] = [false]
    private let indent: Bool

    public init(pretty: Bool = false) {
        indent = pretty
        text.reserveCapacity(1024)
    }

    public mutating func beginObject() { beginContainer("{") }
    public mutating func endObject() { endContainer("}") }
    public mutating func beginArray() { beginContainer("[") }
    public mutating func endArray() { endContainer("]") }

    public mutating func key(_ key: String) {
        separator()
        appendString(key)
        text += indent ? ": " : ":"
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
        text += value ? "true" : "false"
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
        text += String(value)
        needsComma[needsComma.count - 1] = true
    }

    public mutating func null() {
        separator()
        text += "null"
        needsComma[needsComma.count - 1] = true
    }

    /// Inserts already-serialised JSON (for example a stored details object).
    public mutating func raw(_ json: String) {
        separator()
        text += json
        needsComma[needsComma.count - 1] = true
    }

    /// Hands the text written so far to `sink` and starts again (for streaming output).
    public mutating func flush(into sink: (String) -> Void) {
        sink(text)
        text.removeAll(keepingCapacity: true)
    }

    private var pendingValueAfterKey = false

    private mutating func separator() {
        if pendingValueAfterKey {
            pendingValueAfterKey = false
            return
        }
        if needsComma[needsComma.count - 1] { text += "," }
        if indent, needsComma.count > 1 { text += "\n" + String(repeating: "  ", count: needsComma.count - 1) }
    }

    private mutating func beginContainer(_ opener: String) {
        separator()
        text += opener
        needsComma[needsComma.count - 1] = true
        needsComma.append(false)
    }

    private mutating func endContainer(_ closer: String) {
        let hadContent = needsComma.removeLast()
        if indent, hadContent { text += "\n" + String(repeating: "  ", count: needsComma.count - 1) }
        text += closer
    }

    private mutating func appendString(_ value: String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}
