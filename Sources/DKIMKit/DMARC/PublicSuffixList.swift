import Foundation

/// The Public Suffix List (Debian's `publicsuffix` package) and the organisational
/// domain it gives (RFC 7489 §3.2): the public suffix plus one label.
public struct PublicSuffixList: Sendable {
    public static let debianPath = "/usr/share/publicsuffix/public_suffix_list.dat"

    private let rules: Set<String>
    private let wildcards: Set<String>
    private let exceptions: Set<String>

    /// The rules of a list in the PSL's format (comments `//`, `*.` wildcards, `!` exceptions).
    public init(text: String) {
        var rules = Set<String>(), wildcards = Set<String>(), exceptions = Set<String>()
        for line in text.split(whereSeparator: \.isNewline) {
            guard let rule = line.split(whereSeparator: \.isWhitespace).first, !rule.hasPrefix("//") else { continue }
            let lowered = rule.lowercased()
            if lowered.hasPrefix("!") {
                exceptions.insert(String(lowered.dropFirst()))
            } else if lowered.hasPrefix("*.") {
                wildcards.insert(String(lowered.dropFirst(2)))
            } else {
                rules.insert(lowered)
            }
        }
        (self.rules, self.wildcards, self.exceptions) = (rules, wildcards, exceptions)
    }

    /// Debian's list, read once.
    /// - Throws: `DKIMError.notFound` when the package is not installed.
    public static func system() throws -> PublicSuffixList {
        try systemList.get()
    }

    private static let systemList: Result<PublicSuffixList, DKIMError> = {
        guard let text = try? String(contentsOfFile: debianPath, encoding: .utf8) else {
            return .failure(DKIMError(.notFound, "the Public Suffix List \(debianPath) is missing (apt-get install publicsuffix)"))
        }
        return .success(PublicSuffixList(text: text))
    }()

    /// The public suffix of `domain` (A-labels, any case, no final dot): the longest
    /// matching rule, an exception beating a wildcard, `*` (the last label) by default.
    public func publicSuffix(of domain: String) -> String {
        let labels = domain.lowercased().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for start in labels.indices {
            let candidate = labels[start...].joined(separator: ".")
            if exceptions.contains(candidate) { return labels[(start + 1)...].joined(separator: ".") }
            if rules.contains(candidate) { return candidate }
            if start + 1 < labels.count, wildcards.contains(labels[(start + 1)...].joined(separator: ".")) { return candidate }
        }
        return labels.last ?? domain
    }

    /// The organisational domain: the public suffix and one more label; the domain itself
    /// when it is a public suffix.
    public func organisationalDomain(of domain: String) -> String {
        let lowered = domain.lowercased()
        let suffix = publicSuffix(of: lowered)
        guard lowered.count > suffix.count else { return lowered }
        let rest = lowered.dropLast(suffix.count + 1)
        return (rest.split(separator: ".").last.map(String.init) ?? "") + "." + suffix
    }

    /// DKIM identifier alignment (RFC 7489 §3.1.1): strict, `d=` equals the From domain;
    /// relaxed, both have the same organisational domain.
    public func aligned(dkimDomain: String, fromDomain: String, strict: Bool) -> Bool {
        let (d, from) = (dkimDomain.lowercased(), fromDomain.lowercased())
        guard !d.isEmpty, !from.isEmpty else { return false }
        return strict ? d == from : organisationalDomain(of: d) == organisationalDomain(of: from)
    }
}
