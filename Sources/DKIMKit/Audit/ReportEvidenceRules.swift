import Foundation

/// The audit rules whose evidence is DMARC aggregate reports: what receivers saw signing.
extension ComplianceAuditor {
    /// An active key failing at receivers above this share of its messages…
    public static let failingShare = 0.10
    /// …over this many messages at least, in the last `failingWindow`.
    public static let failingMinimumMessages = 10
    public static let failingWindow = TimeSpan(seconds: 7 * 86400)

    /// What the reports say, read once per audit: per (`d=`, selector), over all days and the last week.
    struct ReportEvidence {
        let all: [SelectorEvidence]
        let allByKey: [String: SelectorEvidence]
        let recentByKey: [String: SelectorEvidence]
        let recentSince: String

        init(registry: any KeyRegistry, domain: DomainName?, at now: Date) throws {
            all = try registry.selectorEvidence(domain: domain?.ascii, since: nil)
            recentSince = Timestamp.day(now.addingTimeInterval(-TimeInterval(ComplianceAuditor.failingWindow.seconds)))
            let recent = try registry.selectorEvidence(domain: domain?.ascii, since: recentSince)
            allByKey = Dictionary(all.map { ("\($0.dkimDomain)|\($0.selector)", $0) }, uniquingKeysWith: { first, _ in first })
            recentByKey = Dictionary(recent.map { ("\($0.dkimDomain)|\($0.selector)", $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// The key with the findings its sightings add.
    func withReportFindings(_ audited: AuditedKey, evidence: ReportEvidence) throws -> AuditedKey {
        let key = audited.key
        var findings: [AuditFinding] = []
        func find(_ rule: AuditRule, _ message: String) {
            findings.append(AuditFinding(severity: rule.severity, rule: rule.rawValue, domain: key.domain.ascii, selector: key.selector.name, message: message))
        }
        if key.state == .retired || key.state == .revoked, let seen = try registry.lastSighting(domain: key.domain, selector: key.selector) {
            if key.state == .retired, let retired = key.retiredAt, seen > retired {
                find(.retiredKeyStillSigning, "retired \(Timestamp.day(retired)), still seen signing until \(Timestamp.iso8601(seen)) in DMARC reports")
            }
            if key.state == .revoked, let revoked = key.revokedAt, seen > revoked {
                find(.revokedKeyStillSigning, "revoked \(Timestamp.day(revoked)), still seen signing until \(Timestamp.iso8601(seen)) in DMARC reports")
            }
        }
        let name = "\(key.domain.ascii)|\(key.selector.name)"
        if key.state == .active, let recent = evidence.recentByKey[name], recent.messages >= Self.failingMinimumMessages,
            1 - recent.passRate > Self.failingShare
        {
            find(.selectorFailing, "\(recent.messages - recent.passingMessages) of \(recent.messages) messages failed DKIM at receivers since \(evidence.recentSince)")
        }
        if key.state != .revoked, let all = evidence.allByKey[name], all.passingUnalignedMessages > 0 {
            find(.dkimNotAligned, "\(all.passingUnalignedMessages) message(s) passed DKIM with d=\(key.domain.ascii) but not aligned with their From domain under the published adkim")
        }
        return audited.adding(findings)
    }

    /// Selectors the registry does not know passing DKIM for one of `domains`, as reports show them.
    func unknownSigners(in domains: Set<String>, evidence: ReportEvidence) -> [UnknownSelector] {
        evidence.all.compactMap { item in
            guard !item.known, domains.contains(item.dkimDomain), item.passingMessages > 0 else { return nil }
            let named = item.selector.isEmpty ? "a selector the reports do not name" : "selector \(item.selector)"
            return UnknownSelector(
                domain: item.dkimDomain, selector: item.selector, value: "",
                finding: AuditFinding(
                    severity: AuditRule.unknownSelectorSigning.severity, rule: AuditRule.unknownSelectorSigning.rawValue,
                    domain: item.dkimDomain, selector: item.selector,
                    message: "\(named) of \(item.dkimDomain) passed DKIM for \(item.passingMessages) message(s) (\(item.firstSeen) to \(item.lastSeen), \(item.reporters) reporter(s)) but is not in the register: declare it or stop that sender",
                    remedy: item.selector.isEmpty ? nil : .track(provider: nil, selector: item.selector)))
        }
    }

    /// `slot-not-aligned` (DNS): for each configured slot, its `d=` against each of its From
    /// domains under the DMARC record that applies; on the slot's newest key that is not revoked.
    func withAlignmentFindings(_ audited: [AuditedKey], checker: PublicationChecker, only: DomainName?) throws -> [AuditedKey] {
        let slots = configuration.slots.filter { only == nil || $0.domain == only }
        guard !slots.isEmpty else { return audited }
        let suffixes = try PublicSuffixList.system()
        let lookup = DMARCPolicyLookup(transport: checker.transport, resolvers: checker.discovery.resolvers, suffixes: suffixes)
        // Each slot's newest key that is not revoked carries its findings (label: the key's index).
        let targets = slots.compactMap { slot -> (index: Int, slot: SlotPolicy)? in
            audited.lastIndex(where: {
                $0.key.domain == slot.domain && $0.key.provider == slot.provider && $0.key.usage == slot.usage && $0.key.state != .revoked
            }).map { ($0, slot) }
        }
        let verdicts = try lookup.verdicts(targets.map { (String($0.index), $0.slot.domain.ascii, $0.slot.fromDomains.map(\.ascii)) })
        var result = audited
        for verdict in verdicts where !verdict.aligned {
            guard let index = Int(verdict.slot) else { continue }
            let key = result[index].key
            result[index] = result[index].adding([AuditFinding(
                severity: AuditRule.slotNotAligned.severity, rule: AuditRule.slotNotAligned.rawValue, domain: key.domain.ascii,
                selector: key.selector.name, message: "From \(verdict.fromDomain): \(verdict.reason)")])
        }
        return result
    }
}

extension AuditedKey {
    /// The same key with `extra` findings after its own.
    func adding(_ extra: [AuditFinding]) -> AuditedKey {
        guard !extra.isEmpty else { return self }
        var updated = AuditedKey(
            key: key, algorithm: algorithm, bits: bits, lastCheck: lastCheck, privateKey: privateKey, findings: findings + extra)
        updated.seenSigning = seenSigning
        return updated
    }
}
