import Foundation

/// A DMARC policy record (RFC 7489 §6.3, RFC 9989): the tags alignment and reports depend on.
public struct DMARCRecord: Sendable, Equatable {
    public var text: String
    public var p: String
    public var sp: String?
    /// RFC 9989: the policy for non-existent subdomains.
    public var np: String?
    /// `r` (relaxed, the default) or `s` (strict).
    public var adkim: String
    public var aspf: String
    public var rua: [String]

    /// Parses a TXT value; nil when it is not a DMARC record (`v=DMARC1` must come first).
    public static func parse(_ text: String) -> DMARCRecord? {
        var tags: [String: String] = [:]
        var order: [String] = []
        for part in text.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, !pair[0].isEmpty else { continue }
            let name = pair[0].lowercased()
            order.append(name)
            if tags[name] == nil { tags[name] = pair[1] }
        }
        guard order.first == "v", tags["v"]?.uppercased() == "DMARC1" else { return nil }
        return DMARCRecord(
            text: text, p: tags["p"]?.lowercased() ?? "none", sp: tags["sp"]?.lowercased(), np: tags["np"]?.lowercased(),
            adkim: tags["adkim"]?.lowercased() == "s" ? "s" : "r", aspf: tags["aspf"]?.lowercased() == "s" ? "s" : "r",
            rua: (tags["rua"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }
}

/// Finds the DMARC record that applies to a From domain through a recursive resolver:
/// `_dmarc.` of the domain, then of each parent up to its organisational domain (the
/// RFC 9989 tree walk, which ends where RFC 7489's organisational-domain lookup does).
public struct DMARCPolicyLookup: Sendable {
    public let transport: any DNSTransport
    public let resolvers: [DNSServer]
    public let suffixes: PublicSuffixList

    public init(transport: any DNSTransport, resolvers: [DNSServer], suffixes: PublicSuffixList) {
        self.transport = transport
        self.resolvers = resolvers
        self.suffixes = suffixes
    }

    /// For each slot and each of its From domains, the verdict on alignment; each From
    /// domain's record is looked up once.
    /// - Parameter slots: a label, the slot's `d=` and its From domains.
    public func verdicts(_ slots: [(slot: String, dkimDomain: String, fromDomains: [String])]) throws -> [AlignmentVerdict] {
        var policies: [String: (found: (domain: String, record: DMARCRecord)?, exists: Bool)] = [:]
        var verdicts: [AlignmentVerdict] = []
        for (slot, dkimDomain, fromDomains) in slots {
            for from in fromDomains {
                if policies[from] == nil {
                    let found = try policy(for: from)
                    // A subdomain's record is its parent's: np= (RFC 9989) applies if the From domain does not exist.
                    var exists = true
                    if let found, found.domain != from.lowercased() { exists = try self.exists(from) }
                    policies[from] = (found, exists)
                }
                let known = policies[from]!
                verdicts.append(AlignmentVerdict.judge(
                    slot: slot, dkimDomain: dkimDomain, fromDomain: from, found: known.found, fromDomainExists: known.exists, suffixes: suffixes))
            }
        }
        return verdicts
    }

    /// Whether `domain` exists in DNS: false only when a resolver says NXDOMAIN (RFC 9989's
    /// non-existent domain); an answer without records, or no answer at all, counts as existing.
    func exists(_ domain: String) throws -> Bool {
        for resolver in resolvers {
            if case .response(let response) = transport.query(domain, .a, server: resolver, recursionDesired: true), response.rcode.isAnswer {
                return response.rcode != .nameError
            }
        }
        return true
    }

    /// The record that applies and where it was found; nil when no DMARC record applies.
    public func policy(for fromDomain: String) throws -> (domain: String, record: DMARCRecord)? {
        let from = fromDomain.lowercased()
        let organisational = suffixes.organisationalDomain(of: from)
        var labels = from.split(separator: ".").map(String.init)
        var asked = 0
        while !labels.isEmpty, asked < 8 {
            let candidate = labels.joined(separator: ".")
            if let record = try record(at: "_dmarc." + candidate) { return (candidate, record) }
            if candidate == organisational { break }
            labels.removeFirst()
            asked += 1
        }
        return nil
    }

    /// The DMARC record at `name`, nil when there is none (NXDOMAIN, no TXT, no `v=DMARC1`).
    /// - Throws: `DKIMError.dnsFailure` when no resolver answers.
    func record(at name: String) throws -> DMARCRecord? {
        var reasons: [String] = []
        for resolver in resolvers {
            switch transport.query(name, .txt, server: resolver, recursionDesired: true) {
            case .response(let response) where response.rcode.isAnswer:
                let records = response.answer.compactMap { record -> DMARCRecord? in
                    guard case .txt(let strings) = record.data else { return nil }
                    return DMARCRecord.parse(strings.joined())
                }
                // RFC 7489 §6.6.3: more than one record is as good as none.
                return records.count == 1 ? records[0] : nil
            case .response(let response):
                reasons.append("\(resolver): \(response.rcode)")
            case .failure(let reason):
                reasons.append("\(resolver): \(reason)")
            }
        }
        throw DKIMError(.dnsFailure, "no resolver answered TXT \(name) (\(reasons.joined(separator: "; ")))")
    }
}

/// Whether a slot's `d=` aligns with one From domain, under relaxed and strict alignment
/// and under the `adkim` the From domain's DMARC record publishes.
public struct AlignmentVerdict: Sendable, Equatable {
    public var slot: String
    public var dkimDomain: String
    public var fromDomain: String
    /// Where the DMARC record was found (`example.org` for `_dmarc.example.org`), nil when none applies.
    public var recordDomain: String?
    public var record: DMARCRecord?
    public var relaxed: Bool
    public var strict: Bool
    /// The policy that applies to mail from the From domain (`p=reject`, `sp=quarantine`), or nil.
    public var policy: String?
    public var reason: String

    /// Aligned under the published `adkim` (relaxed when no record applies).
    public var aligned: Bool { (record?.adkim ?? "r") == "s" ? strict : relaxed }

    /// - Parameter fromDomainExists: false when the From domain is a non-existent subdomain
    ///   (NXDOMAIN): the record's `np=` applies then, else its `sp=`, else its `p=` (RFC 9989).
    public static func judge(
        slot: String, dkimDomain: String, fromDomain: String, found: (domain: String, record: DMARCRecord)?, fromDomainExists: Bool = true,
        suffixes: PublicSuffixList
    ) -> AlignmentVerdict {
        let (d, from) = (dkimDomain.lowercased(), fromDomain.lowercased())
        let relaxed = suffixes.aligned(dkimDomain: d, fromDomain: from, strict: false)
        let strict = suffixes.aligned(dkimDomain: d, fromDomain: from, strict: true)
        var verdict = AlignmentVerdict(
            slot: slot, dkimDomain: d, fromDomain: from, recordDomain: found?.domain, record: found?.record, relaxed: relaxed, strict: strict,
            policy: nil, reason: "")
        let (dOrg, fromOrg) = (suffixes.organisationalDomain(of: d), suffixes.organisationalDomain(of: from))
        let adkim = found?.record.adkim ?? "r"
        if let found {
            let record = found.record
            verdict.policy = found.domain == from
                ? "p=\(record.p)"
                : !fromDomainExists && record.np != nil ? "np=\(record.np!)" : "sp=\(record.sp ?? record.p)"
        }
        switch (adkim, verdict.aligned) {
        case ("s", true): verdict.reason = "adkim=s: d=\(d) is the From domain"
        case ("s", false):
            verdict.reason = relaxed
                ? "adkim=s: d=\(d) is not the From domain \(from) (they would align under adkim=r)"
                : "adkim=s: d=\(d) is not the From domain \(from)"
        case (_, true): verdict.reason = d == from ? "d=\(d) is the From domain" : "d=\(d) and \(from) share the organisational domain \(fromOrg) (adkim=r)"
        default: verdict.reason = "d=\(d) and \(from) have different organisational domains (\(dOrg), \(fromOrg))"
        }
        if found == nil { verdict.reason += "; no DMARC record applies to \(from), so receivers apply no DMARC policy" }
        return verdict
    }
}
