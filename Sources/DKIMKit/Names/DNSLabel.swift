/// Rules shared by domain names and selectors: both are sequences of
/// LDH labels (RFC 1035 §2.3.1 as relaxed by RFC 1123 §2.1: letters, digits
/// and hyphens, no hyphen at either end, 1–63 octets).
enum DNSLabel {
    static let maximumLabelOctets = 63
    /// RFC 1035 §2.3.4 allows 255 octets on the wire, which is 253 in text form
    /// without the trailing dot.
    static let maximumNameOctets = 253

    /// Why `label` is not an LDH label, or `nil` when it is one.
    static func problem(with label: Substring) -> String? {
        if label.isEmpty { return "an empty label" }
        if label.utf8.count > maximumLabelOctets {
            return "label '\(label)' is \(label.utf8.count) octets long (at most \(maximumLabelOctets))"
        }
        for scalar in label.unicodeScalars where !isLDH(scalar) {
            let shown = scalar == "_" ? "underscore" : "'\(scalar)'"
            return "label '\(label)' contains \(shown) (only letters a-z, digits and hyphens are allowed)"
        }
        if label.hasPrefix("-") || label.hasSuffix("-") {
            return "label '\(label)' starts or ends with a hyphen"
        }
        return nil
    }

    static func isLDH(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-": return true
        default: return false
        }
    }
}
