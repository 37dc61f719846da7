/// A sending domain, the `d=` of a DKIM signature (RFC 6376 §3.5).
///
/// Held in its ASCII form: lowercased, internationalised labels converted to
/// A-labels (IDNA2008), no trailing dot. Immutable so that a validated name
/// stays valid wherever it travels.
public struct DomainName: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The ASCII (A-label) form, lowercased, without a trailing dot.
    public let ascii: String

    /// Validates and normalises `input`.
    ///
    /// Accepts a trailing dot, upper case and internationalised names (converted
    /// to A-labels); refuses anything that is not at least two LDH labels.
    /// - Throws: `DKIMError` of kind `.invalidInput` naming the value and the rule.
    public init(_ input: String) throws {
        var text = input
        if text.hasSuffix(".") { text.removeLast() }
        if text.isEmpty {
            throw DKIMError.invalid("domain '\(input)' is empty (expected a name such as example.org)")
        }
        if text.unicodeScalars.contains(where: { !$0.isASCII }) {
            do {
                text = try IDNA.toASCII(text)
            } catch let error as IDNA.Failure {
                throw DKIMError.invalid("domain '\(input)' cannot be converted to an A-label name: \(error.reason)")
            }
        }
        text = text.lowercased()
        if let problem = DomainName.problem(with: text) {
            throw DKIMError.invalid("domain '\(input)' is not valid: \(problem)")
        }
        ascii = text
    }

    /// Builds a name already known to be valid (from the registry).
    init(trusted ascii: String) {
        self.ascii = ascii
    }

    public var description: String { ascii }

    /// The absolute form with its trailing dot, for zone files.
    public var absolute: String { ascii + "." }

    public static func < (lhs: DomainName, rhs: DomainName) -> Bool { lhs.ascii < rhs.ascii }

    private static func problem(with text: String) -> String? {
        if text.utf8.count > DNSLabel.maximumNameOctets {
            return "it is \(text.utf8.count) octets long (at most \(DNSLabel.maximumNameOctets))"
        }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count < 2 {
            return "it has a single label (a sending domain has at least two, e.g. example.org)"
        }
        for label in labels {
            if let problem = DNSLabel.problem(with: label) { return problem }
            if label.hasPrefix("xn--"), !IDNA.isValidALabel(String(label)) {
                return "label '\(label)' is not a valid A-label (IDNA2008)"
            }
        }
        if labels.last!.allSatisfy(\.isNumber) {
            return "the top-level label '\(labels.last!)' is all digits"
        }
        return nil
    }
}
