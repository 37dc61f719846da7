import Foundation

/// How serious an audit finding is. `error` findings make `dkimctl audit` exit non-zero.
public enum FindingSeverity: String, Sendable, Equatable, CaseIterable, Comparable {
    case error
    case warning

    public static func < (lhs: FindingSeverity, rhs: FindingSeverity) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One policy finding, with the rule it comes from.
public struct AuditFinding: Sendable, Equatable {
    public let severity: FindingSeverity
    /// The rule's identifier (`weak-key`, `rotation-overdue`, …), see `AuditRule`.
    public let rule: String
    public let domain: String
    public let selector: String
    public let message: String
    /// What fixes it, when there is a known step (the front end words it).
    public let remedy: Remedy?

    public init(severity: FindingSeverity, rule: String, domain: String, selector: String, message: String, remedy: Remedy? = nil) {
        self.severity = severity
        self.rule = rule
        self.domain = domain
        self.selector = selector
        self.message = message
        self.remedy = remedy
    }
}

/// The rules `dkimctl audit` applies, with their severity and source.
public enum AuditRule: String, Sendable, CaseIterable {
    case weakKey = "weak-key"
    case rotationOverdue = "rotation-overdue"
    case rotationDueSoon = "rotation-due-soon"
    case noOwner = "no-owner"
    case testingFlag = "testing-flag"
    case ttlNotRaised = "ttl-not-raised"
    case privateKeyMissing = "private-key-missing"
    case privateKeyUnsafe = "private-key-unsafe"
    case retiredStillPublished = "retired-still-published"
    case revokedStillLive = "revoked-still-live"
    case unknownSelectorLive = "unknown-selector-live"
    case keyFactsMismatch = "key-facts-mismatch"
    case unknownSelectorSigning = "unknown-selector-signing"
    case retiredKeyStillSigning = "retired-key-still-signing"
    case revokedKeyStillSigning = "revoked-key-still-signing"
    case selectorFailing = "selector-failing"
    case dkimNotAligned = "dkim-not-aligned"
    case slotNotAligned = "slot-not-aligned"
    case privateKeyCopyLingers = "private-key-copy-lingers"

    public var severity: FindingSeverity {
        switch self {
        case .rotationDueSoon, .testingFlag, .ttlNotRaised, .retiredKeyStillSigning, .dkimNotAligned, .privateKeyCopyLingers: .warning
        default: .error
        }
    }

    /// Where the rule comes from, for the auditor.
    public var source: String {
        switch self {
        case .weakKey: "CCCS ITSP.40.065 and the audit: RSA keys of 2048 bits (RFC 8301 sets 1024 as the bare minimum)"
        case .rotationOverdue: "the audit: semiannual rotation (CCCS: at least yearly)"
        case .rotationDueSoon: "rotation due within 30 days: plan it"
        case .noOwner: "the audit: a register of selectors with their owners"
        case .testingFlag: "RFC 6376 §3.6.1: t=y asks verifiers to ignore failures; no key should stay in testing once active"
        case .ttlNotRaised: "CCCS ITSP.40.065: TTL 1800 while records change, 86400 once stable"
        case .privateKeyMissing: "a key that signs must have its private key file"
        case .privateKeyUnsafe: "private keys readable only by their owner (mode 0600)"
        case .privateKeyCopyLingers: "plaintext private keys only where a signer needs them: copies of retired and revoked keys erased"
        case .retiredStillPublished: "CCCS ITSP.40.065: delete the old record a week after the switch"
        case .revokedStillLive: "a revoked key must no longer verify: its record must be withdrawn or have an empty p="
        case .unknownSelectorLive: "every live selector is in the register: an unknown key can sign as the domain"
        case .keyFactsMismatch: "the register's algorithm, size and fingerprint are those of the public key it stores"
        case .unknownSelectorSigning: "DMARC aggregate reports: a selector the register does not know passes DKIM for a registered domain (an undeclared sender or a forgotten route)"
        case .retiredKeyStillSigning: "DMARC aggregate reports: mail is still signed with a retired key; its sender has not switched"
        case .revokedKeyStillSigning: "DMARC aggregate reports: mail is still signed with a revoked key and fails DKIM"
        case .selectorFailing: "DMARC aggregate reports: over 10% of an active key's messages in the last 7 days fail DKIM at receivers"
        case .slotNotAligned: "RFC 7489 §3.1.1 and the DMARC record in DNS: the slot's d= does not align with one of its From domains under the published adkim"
        case .dkimNotAligned: "RFC 7489 §3.1.1: DKIM passes but d= does not align with the From domain under the published adkim, so it does not count for DMARC"
        }
    }
}

/// What became of a key's private half, as the audit reports it.
public enum PrivateKeyStatus: Sendable, Equatable {
    case present
    /// A revoked key whose file waits for DNS to show the record withdrawn before it is destroyed.
    case awaitingDisposal
    case unsafeMode(mode_t)
    case missing
    case destroyed
    case revealed
    case heldByProvider
    /// The registry's path leads outside the state directory's keys/ (an edited registry).
    case outsideState
    /// Sealed in the registry under the key-encryption key with this id.
    case sealed(kekID: String)

    public var text: String {
        switch self {
        case .present: "present (0600)"
        case .awaitingDisposal: "present (0600) until DNS shows the record withdrawn"
        case .unsafeMode(let mode): "unsafe mode 0" + String(mode, radix: 8)
        case .missing: "missing"
        case .destroyed: "destroyed"
        case .revealed: "revealed"
        case .outsideState: "path outside the state directory"
        case .heldByProvider: "held by the provider"
        case .sealed(let kekID): "sealed in the registry (KEK \(kekID))"
        }
    }
}

/// One key as the audit sees it.
public struct AuditedKey: Sendable {
    public let key: RegisteredKey
    /// The algorithm, read from the stored public key (the column when the key does not decode).
    public let algorithm: KeyAlgorithm
    /// The key size in bits, read from the stored public key (the column when the key does not decode).
    public let bits: Int
    public let lastCheck: CheckSummary?
    public let privateKey: PrivateKeyStatus
    public let findings: [AuditFinding]
    /// The end of the latest DMARC report period showing the key signing.
    public var seenSigning: Date? = nil
}

/// A DKIM record live in DNS under a selector the registry does not know.
public struct UnknownSelector: Sendable, Equatable {
    public let domain: String
    public let selector: String
    /// The record as served (first server that served one).
    public let value: String
    public let finding: AuditFinding
}

/// The whole audit: every key, every finding.
public struct ComplianceAuditResult: Sendable {
    public let generatedAt: Date
    public let since: Date?
    public let dnsChecked: Bool
    public let keys: [AuditedKey]
    public let unknownSelectors: [UnknownSelector]

    public var findings: [AuditFinding] {
        (keys.flatMap(\.findings) + unknownSelectors.map(\.finding)).sorted {
            ($0.severity, $0.domain, $0.selector, $0.rule) < ($1.severity, $1.domain, $1.selector, $1.rule)
        }
    }

    public func count(_ severity: FindingSeverity) -> Int { findings.filter { $0.severity == severity }.count }
}

/// Builds the compliance audit from the registry, the key files and (optionally) DNS.
public struct ComplianceAuditor: Sendable {
    /// Selectors providers commonly use; checked in DNS for every audited domain.
    public static let commonSelectors = [
        "google", "selector1", "selector2", "s1", "s2", "k1", "pdk1", "pdk2", "mg", "mailo", "brevo1", "brevo2", "default",
        "dkim", "mail",
    ]
    public static let dueWithin = TimeSpan(seconds: 30 * 86400)
    /// How long past the date the schedule raises the TTL (activation + grace) it may
    /// still be at its "new" value before the audit warns: 7 days, so 14 days after
    /// activation with the default grace week.
    public static let ttlRaiseSlack = TimeSpan(seconds: 7 * 86400)
    /// Owners that mean nobody: `unknown@…`, `tbd@…`.
    public static let placeholderOwners: Set<String> = ["unknown", "unassigned", "nobody", "none", "tbd", "todo", "changeme"]

    public let registry: any KeyRegistry
    public let configuration: LifecycleConfiguration
    /// nil: no DNS questions (`--no-dns`); the DNS rules are then not applied.
    public let checker: PublicationChecker?
    /// Where the key files are.
    public let state: StateDirectory

    public init(registry: any KeyRegistry, configuration: LifecycleConfiguration, checker: PublicationChecker?, state: StateDirectory) {
        self.registry = registry
        self.configuration = configuration
        self.checker = checker
        self.state = state
    }

    public func run(domain only: DomainName?, since: Date?, at now: Date) throws -> ComplianceAuditResult {
        var audited: [AuditedKey] = []
        var domains = Set(configuration.domains.map(\.domain.ascii))
        let checks = try registry.latestCheckSummaries()
        var known: [String: Set<String>] = [:]
        for key in try registry.keys(matching: KeyFilter(domain: only)) {
            domains.insert(key.domain.ascii)
            known[key.domain.ascii, default: []].insert(key.selector.name)
            if let since, let revoked = key.revokedAt, revoked < since { continue }
            audited.append(audit(key, lastCheck: checks[key.id], at: now))
        }
        if let only { domains = [only.ascii] }
        let evidence = try ReportEvidence(registry: registry, domain: only, at: now)
        let sightings = try registry.lastSightings()
        audited = try audited.map { key in
            var audited = try withReportFindings(key, evidence: evidence)
            audited.seenSigning = sightings["\(key.key.domain.ascii)|\(key.key.selector.name)"]
            return audited
        }
        audited = try withCopyFindings(audited)
        var unknown = unknownSigners(in: domains, evidence: evidence)
        if let checker { audited = try withAlignmentFindings(audited, checker: checker, only: only) }
        if let checker {
            for domain in domains.sorted() {
                unknown += try unknownSelectors(in: DomainName(domain), known: known[domain] ?? [], checker: checker)
            }
        }
        return ComplianceAuditResult(generatedAt: now, since: since, dnsChecked: checker != nil, keys: audited, unknownSelectors: unknown)
    }

    func audit(_ key: RegisteredKey, lastCheck: CheckSummary?, at now: Date) -> AuditedKey {
        var findings: [AuditFinding] = []
        func find(_ rule: AuditRule, _ message: String, severity: FindingSeverity? = nil, remedy: Remedy? = nil) {
            findings.append(AuditFinding(
                severity: severity ?? rule.severity, rule: rule.rawValue, domain: key.domain.ascii, selector: key.selector.name, message: message,
                remedy: remedy))
        }
        let live = key.state != .revoked
        let policy = configuration.effectivePolicy(for: key)
        // Algorithm and size come from the stored public key, never from columns that can be relabelled.
        var algorithm = key.algorithm
        var bits = key.bits
        if let bytes = key.record.publicKeyBytes, let facts = PublicKeyInfo.facts(dkimPublicKey: bytes) {
            (algorithm, bits) = facts
            if facts.algorithm != key.algorithm || facts.bits != key.bits {
                find(.keyFactsMismatch,
                     "the register says \(key.algorithm.rawValue)-\(key.bits) but the stored public key is \(facts.algorithm.rawValue)-\(facts.bits)")
            } else if PublicKeyFingerprint.of(bytes) != key.fingerprint {
                find(.keyFactsMismatch, "the register's fingerprint \(key.fingerprint) is not that of the stored public key (\(PublicKeyFingerprint.of(bytes)))")
            }
        } else if !key.publicKey.isEmpty {
            find(.keyFactsMismatch, "the stored public key does not decode as an RSA or Ed25519 key")
        }
        if live, algorithm == .rsa, bits < 2048 {
            find(.weakKey, "\(bits)-bit RSA key; use 2048 bits" + (key.kind == .external ? " (ask \(key.provider))" : ""),
                 severity: key.kind == .external ? .warning : .error)
        }
        if live, Self.isPlaceholder(key.owner) {
            find(.noOwner, "the slot \(key.provider)/\(key.usage) has no owner ('\(key.owner)')", remedy: .recordDefaultOwner)
        }
        let schedule = SlotSchedule(policy: policy)
        if key.state == .active, key.kind == .local, let expires = key.expiresAt {
            if SlotSchedule.isOverdue(key, at: now) {
                find(.rotationOverdue, "active past its rotation date \(Timestamp.day(expires)) (\(TimeSpan(seconds: Int(now.timeIntervalSince(expires)))) overdue)")
            } else if expires.timeIntervalSince(now) <= TimeInterval(Self.dueWithin.seconds) {
                find(.rotationDueSoon, "rotation due \(Timestamp.day(expires)), within \(Self.dueWithin)")
            }
        }
        if key.state == .active, key.record.isTesting {
            find(.testingFlag, "t=y is still published on the active key: verifiers treat failures as unsigned mail")
        }
        // The tick raises the TTL when the schedule says; the audit warns once a week past that.
        if key.kind == .local, let due = schedule.stableTTLDue(of: key), let activated = key.activatedAt,
            now.timeIntervalSince(due) > TimeInterval(Self.ttlRaiseSlack.seconds)
        {
            find(.ttlNotRaised, "TTL still \(key.ttl) s \(TimeSpan(seconds: Int(now.timeIntervalSince(activated)))) after activation (stable TTL \(policy.stableTTL) s)")
        }
        let privateKey = privateKeyStatus(key)
        if [.pending, .published, .active, .retired].contains(key.state) {
            switch privateKey {
            case .missing:
                find(.privateKeyMissing, "private key file \(key.privateKeyPath ?? "-") is missing: the key cannot sign; rotate it at once",
                    remedy: .emergencyRotation(selector: key.selector.name, domain: key.domain.ascii, reason: "key file lost"))
            case .unsafeMode(let mode):
                find(.privateKeyUnsafe, "private key file \(key.privateKeyPath ?? "-") has mode 0\(String(mode, radix: 8)): chmod 600 it and treat the key as exposed")
            case .outsideState:
                find(.privateKeyUnsafe, "the registry's private key path '\(key.privateKeyPath ?? "-")' leads outside the state directory's keys/: the registry was edited",
                    remedy: .verifyRegister)
            default: break
            }
        }
        if let checker, key.kind == .local {
            if let graceEnd = schedule.graceEnd(of: key), let retired = key.retiredAt, now > graceEnd,
                let server = servesKey(key, checker)
            {
                find(.retiredStillPublished, "retired \(Timestamp.day(retired)), grace \(policy.grace) over, and \(server) still serves its record: revoke it",
                    remedy: .revoke(selector: key.selector.name, domain: key.domain.ascii, immediately: false, reason: nil))
            }
            if key.state == .revoked, let server = servesKey(key, checker) {
                find(.revokedStillLive, "revoked, but \(server) still serves its public key: withdraw the record")
            }
        }
        return AuditedKey(key: key, algorithm: algorithm, bits: bits, lastCheck: lastCheck, privateKey: privateKey, findings: findings)
    }

    /// Plaintext copies on signing hosts of keys no signer needs any more (retired: warning,
    /// revoked: error): the host has not run `keys materialize` since.
    private func withCopyFindings(_ audited: [AuditedKey]) throws -> [AuditedKey] {
        let copies = Dictionary(grouping: try registry.materializedCopies(host: nil, keyID: nil, includingErased: false), by: \.keyID)
        guard !copies.isEmpty else { return audited }
        return audited.map { audited in
            guard let lingering = copies[audited.key.id], [.retired, .revoked].contains(audited.key.state) else { return audited }
            let key = audited.key
            let places = lingering.map { "\($0.host):\($0.path)" }.joined(separator: ", ")
            return audited.adding([AuditFinding(
                severity: key.state == .revoked ? .error : .warning, rule: AuditRule.privateKeyCopyLingers.rawValue,
                domain: key.domain.ascii, selector: key.selector.name,
                message: "\(key.state.rawValue), but \(lingering.count) plaintext copies of its private key remain (\(places)): run the key materialization on those hosts",
                remedy: nil)])
        }
    }

    static func isPlaceholder(_ owner: Owner) -> Bool {
        let local = owner.address.split(separator: "@").first.map { String($0).lowercased() } ?? ""
        return owner.address.isEmpty || placeholderOwners.contains(local)
    }

    func privateKeyStatus(_ key: RegisteredKey) -> PrivateKeyStatus {
        if key.kind == .external { return .heldByProvider }
        switch key.privateKeyDisposal {
        case .destroyed?: return .destroyed
        case .revealed?: return .revealed
        case nil: break
        }
        if key.privateKeyInRegistry {
            switch try? registry.storedPrivateKey(keyID: key.id) {
            case .sealed(let sealed)?: return .sealed(kekID: sealed.kekID)
            case .erased?: return .destroyed
            case nil: return .missing
            }
        }
        let path: String
        do {
            guard let file = try state.privateKeyFile(of: key) else { return .missing }
            path = file
        } catch {
            return .outsideState
        }
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else { return .unsafeMode(mode) }
        return key.state == .revoked ? .awaitingDisposal : .present
    }

    /// The first authoritative server that serves this key's public key, if any.
    private func servesKey(_ key: RegisteredKey, _ checker: PublicationChecker) -> String? {
        let check = checker.check(key.recordName, expecting: ExpectedKey(key))
        return check.results.first { $0.status == .pass && $0.cnameTarget == nil }.map { "\($0.server)" }
    }

    private func unknownSelectors(in domain: DomainName, known: Set<String>, checker: PublicationChecker) throws -> [UnknownSelector] {
        let managed = configuration.providers.profiles.flatMap(\.managed).flatMap(\.selectors)
        let candidates = Set(Self.commonSelectors + managed).union(try registry.selectorsInEvents(of: domain)).subtracting(known)
        var found: [UnknownSelector] = []
        for candidate in candidates.sorted() {
            guard let selector = try? Selector(candidate), let name = try? KeyRecordName(selector: selector, domain: domain) else { continue }
            let check = checker.check(name, expecting: ExpectedKey(algorithm: .rsa, publicKey: ""))
            guard let served = check.results.first(where: { $0.servedRecord.map { !$0.isRevoked } ?? false }),
                let record = served.servedRecord
            else { continue }
            let fingerprint = record.publicKeyBytes.map(PublicKeyFingerprint.of) ?? "undecodable p="
            found.append(UnknownSelector(
                domain: domain.ascii, selector: candidate, value: record.text,
                finding: AuditFinding(
                    severity: AuditRule.unknownSelectorLive.severity, rule: AuditRule.unknownSelectorLive.rawValue, domain: domain.ascii,
                    selector: candidate,
                    message: "\(served.server) serves a DKIM key (\(fingerprint)) the registry does not know: track it or withdraw it",
                    remedy: .track(provider: nil, selector: candidate))))
        }
        return found
    }
}
