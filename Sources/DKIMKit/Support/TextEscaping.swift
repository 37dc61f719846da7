import Foundation

/// Text from outside (DNS answers, registry rows) made safe to show on a terminal.
public enum TextEscaping {
    /// `text` with control characters written as escapes: `\n`, `\r`, `\t`, `\xHH` for
    /// other C0 controls and DEL, `\u{HHHH}` for C1 controls and bidirectional
    /// overrides (which can make a terminal show text in another order). A
    /// backslash is doubled only when something was escaped, so plain text stays as it is.
    public static func controlCharactersEscaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += String(format: "\\x%02X", scalar.value)
            case _ where needsEscape(scalar): out += String(format: "\\u{%04X}", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || value == 0x7F || (0x80...0x9F).contains(value) || (0x202A...0x202E).contains(value)
            || (0x2066...0x2069).contains(value)
    }
}

extension String {
    /// Without leading and trailing white space (`CharacterSet.whitespaces`). Foundation's
    /// trimming is slow on Linux; text that starts and ends with a visible ASCII character
    /// (nearly every value, and 100,000 registry slots are read per tick) is returned as is.
    var trimmingWhitespace: String {
        if let first = utf8.first, let last = utf8.last, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) { return self }
        return trimmingCharacters(in: .whitespaces)
    }
}
