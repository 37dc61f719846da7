import Foundation

/// What `dkimctl track` asks for: a provider-managed selector to register.
public struct TrackRequest: Sendable {
    public var domain: DomainName
    public var provider: Provider
    public var usage: Usage
    public var owner: Owner
    public var selector: Selector
    public var profile: ProviderProfile

    public init(domain: DomainName, provider: Provider, usage: Usage, owner: Owner, selector: Selector, profile: ProviderProfile) {
        self.domain = domain
        self.provider = provider
        self.usage = usage
        self.owner = owner
        self.selector = selector
        self.profile = profile
    }
}

/// What following one tracked selector found.
public struct TrackingOutcome: Sendable {
    public enum Change: Sendable, Equatable {
        /// First registration.
        case tracked
        /// DNS serves the key already registered.
        case unchanged
        /// The provider rotated: the key (or the CNAME target) behind the selector changed.
        case changed(previousFingerprint: String, previousCNAMETarget: String?)
        /// DNS gave no consistent, usable key; nothing changed but the stored evidence.
        case unresolved([String])
    }

    public let key: RegisteredKey
    public let change: Change
    public let check: PublicationCheck
    /// Advice that does not stop tracking (a CNAME target outside the provider's zones, t=y, …).
    public let warnings: [String]
}

/// Registers provider-managed selectors and follows the key DNS serves behind
/// them, through CNAMEs, on every authoritative server. The checks are stored
/// as evidence like those of dkimctl's own keys.
public struct SelectorTracker: Sendable {
    public let registry: any KeyRegistry
    public let checker: PublicationChecker
    public let actor: Actor

    public init(registry: any KeyRegistry, checker: PublicationChecker, actor: Actor) {
        self.registry = registry
        self.checker = checker
        self.actor = actor
    }

    /// Reads the selector's key from DNS and registers it as an `external`, `active` key.
    /// - Throws: `DKIMError.conflict` if the selector is registered already; `.dnsFailure`
    ///   when DNS does not serve one consistent key (nothing is written then).
    public func track(_ request: TrackRequest, at time: Date) throws -> TrackingOutcome {
        let name = try KeyRecordName(selector: request.selector, domain: request.domain)
        if let existing = try registry.key(selector: request.selector, domain: request.domain) {
            throw existing.kind == .external
                ? DKIMError(
                    .conflict, "selector '\(request.selector)' of \(request.domain) is tracked already (provider \(existing.provider))",
                    remedy: .refreshTracking)
                : DKIMError(.conflict, "selector '\(request.selector)' of \(request.domain) is a key dkimctl generated, not a provider-managed one")
        }
        let check = checker.check(name, expecting: ExpectedKey(algorithm: .rsa, publicKey: ""))
        let observation = try Self.observation(name, check).get()
        let key = try registry.registerExternal(
            ExternalKeyRegistration(
                domain: request.domain, provider: request.provider, usage: request.usage, owner: request.owner,
                selector: request.selector, observation: observation),
            actor: actor, at: time)
        // The evidence: the same answers, judged against the key now registered.
        let proof = check.judged(against: ExpectedKey(key))
        let stored = try registry.recordChecks([(key, proof)], actor: actor, at: time)[0]
        return TrackingOutcome(key: stored, change: .tracked, check: proof, warnings: Self.warnings(observation, request.profile, proof))
    }

    /// Reads a tracked selector again; records a provider's rotation as an event with both fingerprints.
    public func refresh(_ key: RegisteredKey, profile: ProviderProfile, at time: Date) throws -> TrackingOutcome {
        guard key.kind == .external else {
            throw DKIMError(.conflict, "key \(key.selector) of \(key.domain) is dkimctl's own; only tracked selectors are followed in DNS")
        }
        let check = checker.check(key.recordName, expecting: ExpectedKey(key))
        switch Self.observation(key.recordName, check) {
        case .failure(let error):
            let stored = try registry.recordChecks([(key, check)], actor: actor, at: time)[0]
            return TrackingOutcome(key: stored, change: .unresolved([error.message]), check: check, warnings: [])
        case .success(let observation):
            let (updated, changed) = try registry.recordExternalObservation(keyID: key.id, observation, actor: actor, at: time)
            let proof = changed ? check.judged(against: ExpectedKey(updated)) : check
            let stored = try registry.recordChecks([(updated, proof)], actor: actor, at: time)[0]
            return TrackingOutcome(
                key: stored,
                change: changed ? .changed(previousFingerprint: key.fingerprint, previousCNAMETarget: key.cnameTarget) : .unchanged,
                check: proof, warnings: Self.warnings(observation, profile, proof))
        }
    }

    /// The one key every authoritative server serves, with the CNAME target of the selector, or why there is none.
    static func observation(_ name: KeyRecordName, _ check: PublicationCheck) -> Result<ExternalKeyObservation, DKIMError> {
        func failure(_ reason: String) -> Result<ExternalKeyObservation, DKIMError> {
            .failure(DKIMError(.dnsFailure, "\(name.absolute): \(reason)"))
        }
        if let problem = check.problems.first { return failure(problem.description) }
        if let unanswered = check.results.first(where: { $0.status == .temperror }) {
            return failure("\(unanswered.server) gave no answer (\(unanswered.detail))")
        }
        let owner = name.absolute.lowercased()
        let targets = Set(check.results.filter { $0.name == owner }.compactMap(\.cnameTarget))
        let final = check.results.filter { $0.cnameTarget == nil }
        guard !final.isEmpty else { return failure("no server answered for the key record") }
        var records: [DKIMKeyRecord] = []
        for result in final {
            guard let record = result.servedRecord else { return failure("\(result.server): \(result.detail)") }
            if record.isRevoked { return failure("\(result.server) serves a revoked key (empty p=)") }
            records.append(record)
        }
        guard Set(records.map(\.publicKey)).count == 1, Set(records.map(\.keyType)).count == 1 else {
            return failure("the authoritative servers serve different keys; wait until the provider's change has reached them all")
        }
        let record = records[0]
        guard let algorithm = KeyAlgorithm(rawValue: record.keyType), let bytes = record.publicKeyBytes else {
            return failure("k=\(record.keyType) is not a key type dkimctl knows (rsa, ed25519)")
        }
        let bits: Int
        do {
            bits = try PublicKeyInfo.bits(algorithm: algorithm, dkimPublicKey: bytes)
        } catch {
            return failure("p= does not decode as an \(algorithm.rawValue) public key")
        }
        return .success(
            ExternalKeyObservation(
                record: record, algorithm: algorithm, bits: bits, fingerprint: PublicKeyFingerprint.of(bytes),
                cnameTarget: targets.first.map { String($0.dropLast()) }, ttl: Int(check.recordTTL ?? UInt32(PublishedRecord.defaultTTL))))
    }

    static func warnings(_ seen: ExternalKeyObservation, _ profile: ProviderProfile, _ check: PublicationCheck) -> [String] {
        var warnings: [String] = []
        let styles = Set(profile.managed.map(\.style))
        if let target = seen.cnameTarget {
            if !styles.isEmpty, !styles.contains(.cname) {
                warnings.append("\(profile.provider) publishes TXT keys, but this selector is a CNAME to \(target)")
            }
            let suffixes = profile.managed.filter { $0.style == .cname }.flatMap(\.targetSuffixes)
            if !suffixes.isEmpty, !suffixes.contains(where: { target.lowercased() == $0 || target.lowercased().hasSuffix("." + $0) }) {
                warnings.append("CNAME target \(target) is outside \(profile.provider)'s zones (\(suffixes.joined(separator: ", ")))")
            }
        } else if !styles.isEmpty, !styles.contains(.txt) {
            warnings.append("\(profile.provider) delegates its selectors by CNAME, but this one is a TXT record in your zone: it will not follow the provider's rotation")
        }
        if seen.algorithm == .rsa, seen.bits < 2048 {
            warnings.append("the provider's key is \(seen.bits)-bit RSA; ask for 2048 bits (CCCS ITSP.40.065)")
        }
        if seen.record.isTesting { warnings.append("t=y: the record says the domain is testing DKIM") }
        return warnings
    }
}
