import Foundation

/// The scheduler tick: moves every configured slot as far along its lifecycle
/// as the clock and DNS allow (README, "Rotation: configuration, publishers, scheduler").
///
/// Each step is decided afresh from the registry, so a run that was killed
/// anywhere is resumed by the next one, and a run with nothing due writes
/// nothing. Per domain, the steps run in this order, which is also the order
/// of safety: revoke retired keys past grace, raise stable TTLs, create keys
/// (files before rows), push records (rows before publishing), prove pending
/// keys (publishing before proof), activate proved keys (proof before
/// activation), run deploy hooks, and destroy or reveal revoked private keys
/// (only once their revocation was pushed and deployed).
public struct RotationEngine: Sendable {
    public let registry: any KeyRegistry
    public let state: StateDirectory
    public let configuration: LifecycleConfiguration
    public let checker: PublicationChecker
    public let actor: Actor
    /// Threads generating keys at once (RSA key generation is CPU-bound).
    public var keyGenerationThreads: Int
    /// Publishers, hooks, key generation and key-file disposal.
    public var collaborators: RotationCollaborators

    public init(
        registry: any KeyRegistry, state: StateDirectory, configuration: LifecycleConfiguration, checker: PublicationChecker,
        actor: Actor, keyGenerationThreads: Int = ProcessInfo.processInfo.activeProcessorCount,
        collaborators: RotationCollaborators = .standard
    ) {
        self.collaborators = collaborators
        self.registry = registry
        self.state = state
        self.configuration = configuration
        self.checker = checker
        self.actor = actor
        self.keyGenerationThreads = keyGenerationThreads
    }

    /// Private keys: read, handed to hooks, revealed, their copies erased.
    public var custody: PrivateKeyCustody {
        PrivateKeyCustody(registry: registry, state: state, store: configuration.privateKeyStore)
    }

    // MARK: - The tick

    /// Runs one tick over every configured domain (or just `domain`).
    /// - Parameter shouldStop: asked between domains; true ends the tick early (SIGTERM).
    public func tick(
        at now: Date, domain only: DomainName? = nil, dryRun: Bool = false, shouldStop: () -> Bool = { false }
    ) throws -> RotationReport {
        var report = RotationReport()
        report.dryRun = dryRun
        let domains = configuration.domains.filter { only == nil || $0.domain == only }
        if let only, domains.isEmpty {
            throw DKIMError(.notFound, "domain \(only) is not in the configuration (configured: \(configuration.domains.map(\.domain.ascii).joined(separator: ", ")))")
        }
        let keysByDomain = try loadKeys(domains: Set(domains.map(\.domain)), only: only)
        for domain in domains {
            if shouldStop() {
                report.interrupted = true
                break
            }
            var run = DomainRun(engine: self, domain: domain, keys: keysByDomain[domain.domain] ?? [], now: now, dryRun: dryRun)
            try run.tick()
            report.slots += run.reports
        }
        // A complete, error-free tick over every domain is what `metrics` reports as the last success.
        if !dryRun, only == nil, !report.interrupted, !report.hasErrors {
            try AtomicFile.write(Data((Timestamp.iso8601(now) + "\n").utf8), to: state.lastRotatePath, mode: 0o600, replacing: true)
        }
        return report
    }

    /// Finishes what a manual state change started for one key (push, deploy,
    /// dispose of the private key), with the domain's publisher and hook.
    public func settle(_ key: RegisteredKey, at now: Date) throws -> SlotReport {
        var run = try slotRun(of: key, at: now)
        try run.settle()
        return run.report(forSlot: key)
    }

    /// Emergency rotation of a compromised key: a successor is created and
    /// published, and the key is revoked at once, without the grace week.
    public func emergency(_ key: RegisteredKey, reason: String, at now: Date) throws -> SlotReport {
        guard [.active, .retired, .published, .pending].contains(key.state) else {
            throw DKIMError(.conflict, "key \(key.selector) is already \(key.state.rawValue)")
        }
        let policy = configuration.effectivePolicy(for: key)
        var run = try slotRun(of: key, at: now)
        try run.emergency(key, policy: policy, reason: reason)
        return run.report(forSlot: key)
    }

    /// A run over `key`'s slot only, with its domain's publisher and hook (manual publishing if unconfigured).
    private func slotRun(of key: RegisteredKey, at now: Date) throws -> DomainRun {
        let domain = configuration.domain(key.domain) ?? DomainConfiguration(domain: key.domain)
        return DomainRun(engine: self, domain: domain, keys: try slotKeys(of: key), now: now, dryRun: false)
    }

    private func slotKeys(of key: RegisteredKey) throws -> [RegisteredKey] {
        var keys = try registry.keys(
            matching: KeyFilter(domain: key.domain, provider: key.provider, usage: key.usage, states: [.pending, .published, .active, .retired], kinds: [.local]))
        try registry.forEachUnfinishedRevocation { revoked in
            if revoked.slotID == key.slotID { keys.append(revoked) }
        }
        return keys
    }

    /// Every key that may still need a step, grouped by domain: all keys not
    /// revoked, and revoked keys whose revocation is unfinished.
    private func loadKeys(domains: Set<DomainName>, only: DomainName?) throws -> [DomainName: [RegisteredKey]] {
        var keys: [DomainName: [RegisteredKey]] = [:]
        try registry.forEachKey(matching: KeyFilter(domain: only, states: [.pending, .published, .active, .retired], kinds: [.local])) { key in
            if domains.contains(key.domain) { keys[key.domain, default: []].append(key) }
        }
        try registry.forEachUnfinishedRevocation { key in
            if domains.contains(key.domain) { keys[key.domain, default: []].append(key) }
        }
        return keys
    }
}
