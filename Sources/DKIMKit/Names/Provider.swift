/// A sending route's provider: one of the built-in profiles, or `custom:NAME`
/// for anything else (a partner's relay, a CRM, …).
///
/// Issue-level constraints per provider (accepted algorithms and sizes, who
/// generates the key) grow here; the command line only sees this type.
public struct Provider: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The built-in provider identifiers, in the order `--help` lists them.
    public static let builtInIdentifiers = [
        "mailgun", "amazon-ses", "google-workspace", "microsoft-365",
        "brevo", "sendgrid", "postmark", "self-hosted",
    ]

    static let customPrefix = "custom:"

    /// `mailgun`, `amazon-ses`, … or `custom:NAME`, as stored in the registry.
    public let identifier: String

    /// - Throws: `DKIMError.invalidInput` listing what is accepted.
    public init(_ input: String) throws {
        let lowered = input.lowercased()
        if Provider.builtInIdentifiers.contains(lowered) {
            identifier = lowered
            return
        }
        if lowered.hasPrefix(Provider.customPrefix) {
            let name = lowered.dropFirst(Provider.customPrefix.count)
            if let problem = DNSLabel.problem(with: name) {
                throw DKIMError.invalid("provider '\(input)' is not valid: custom provider name has \(problem)")
            }
            if name.utf8.count > 32 {
                throw DKIMError.invalid("provider '\(input)' is not valid: a custom provider name has at most 32 characters")
            }
            identifier = lowered
            return
        }
        throw DKIMError.invalid(
            "unknown provider '\(input)' (allowed: \(Provider.builtInIdentifiers.joined(separator: ", ")), or custom:NAME)")
    }

    init(trusted identifier: String) { self.identifier = identifier }

    /// Whether this is one of the built-in profiles.
    public var isBuiltIn: Bool { !identifier.hasPrefix(Provider.customPrefix) }

    /// The form used in selectors: the identifier, or NAME for `custom:NAME`.
    public var selectorToken: String {
        isBuiltIn ? identifier : String(identifier.dropFirst(Provider.customPrefix.count))
    }

    public var description: String { identifier }
    public static func < (lhs: Provider, rhs: Provider) -> Bool { lhs.identifier < rhs.identifier }
}
