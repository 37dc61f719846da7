/// A DKIM selector, the `s=` of a signature (RFC 6376 §3.1): one or more
/// dot-separated LDH labels, stored lowercased because DNS compares names
/// without regard to case.
public struct Selector: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let name: String

    /// - Throws: `DKIMError.invalidInput` naming the selector and the broken rule.
    public init(_ input: String) throws {
        if input.isEmpty {
            throw DKIMError.invalid("selector '' is empty (expected DNS labels of letters, digits and hyphens)")
        }
        if input.hasSuffix(".") {
            throw DKIMError.invalid("selector '\(input)' ends with a dot (a selector is relative to _domainkey.<domain>)")
        }
        for label in input.split(separator: ".", omittingEmptySubsequences: false) {
            if let problem = DNSLabel.problem(with: label) {
                throw DKIMError.invalid("selector '\(input)' is not valid: \(problem)")
            }
        }
        name = input.lowercased()
    }

    init(trusted name: String) {
        self.name = name
    }

    public var description: String { name }

    public static func < (lhs: Selector, rhs: Selector) -> Bool { lhs.name < rhs.name }
}

/// The owner name of a DKIM key record, `<selector>._domainkey.<domain>`
/// (RFC 6376 §3.6.2.1), checked against the 253-octet limit on names.
public struct KeyRecordName: Sendable, Hashable, CustomStringConvertible {
    public let selector: Selector
    public let domain: DomainName

    public init(selector: Selector, domain: DomainName) throws {
        self.selector = selector
        self.domain = domain
        relative = selector.name + "._domainkey." + domain.ascii
        let length = relative.utf8.count
        if length > DNSLabel.maximumNameOctets {
            throw DKIMError.invalid(
                "record name '\(relative)' is \(length) octets long (at most \(DNSLabel.maximumNameOctets)); choose a shorter selector")
        }
    }

    /// `<selector>._domainkey.<domain>` without the trailing dot.
    public let relative: String
    /// The absolute name with its trailing dot, as zone files and JSON outputs show it.
    public var absolute: String { relative + "." }
    public var description: String { relative }
}
