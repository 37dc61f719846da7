/// A TXT record's data as DNS carries it: a sequence of character-strings of
/// at most 255 octets each (RFC 1035 §3.3.14). Verifiers join them with
/// nothing in between (RFC 6376 §3.6.2.2).
public struct TXTRecordData: Sendable, Equatable {
    public static let maximumStringOctets = 255

    public let strings: [String]

    /// Splits `value` into as few character-strings as possible, each at most
    /// `maximumStringOctets` octets, never inside a UTF-8 sequence.
    public init(splitting value: String, maximumOctets: Int = TXTRecordData.maximumStringOctets) {
        precondition(maximumOctets >= 4, "a character-string must hold at least one UTF-8 sequence")
        let utf8 = Array(value.utf8)
        var strings: [String] = []
        var start = 0
        while utf8.count - start > maximumOctets {
            var end = start + maximumOctets
            // Never end a string inside a multi-octet sequence (continuation octets are 10xxxxxx).
            while utf8[end] & 0xC0 == 0x80 { end -= 1 }
            strings.append(String(decoding: utf8[start..<end], as: UTF8.self))
            start = end
        }
        strings.append(String(decoding: utf8[start...], as: UTF8.self))
        self.strings = strings
    }

    public init(strings: [String]) {
        self.strings = strings
    }

    /// The strings joined with nothing in between: the record value a verifier sees.
    public var joined: String { strings.joined() }

    /// The strings in master-file syntax: each quoted, with `"` and `\` escaped (RFC 1035 §5.1).
    public var quotedStrings: [String] {
        strings.map { string in
            var quoted = "\""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"", "\\": quoted += "\\" + String(scalar)
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        quoted += "\\" + decimalEscape(scalar.value)
                    } else {
                        quoted.unicodeScalars.append(scalar)
                    }
                }
            }
            return quoted + "\""
        }
    }
}

/// `DDD`: the decimal escape body RFC 1035 master files use for non-printable octets.
private func decimalEscape(_ value: UInt32) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
}
