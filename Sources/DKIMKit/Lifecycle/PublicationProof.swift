import Foundation

/// A key and what DNS said about it.
public struct VerifiedKey: Sendable {
    /// The key as it is after the check was recorded (possibly now `published`).
    public let key: RegisteredKey
    public let check: PublicationCheck
    /// The state before the check.
    public let previousState: KeyState

    public init(key: RegisteredKey, check: PublicationCheck, previousState: KeyState) {
        self.key = key
        self.check = check
        self.previousState = previousState
    }
}

/// What `activate` achieved.
public enum ActivationOutcome: Sendable {
    /// The key is now active; `retired` is the slot's previous active key.
    case activated(active: RegisteredKey, retired: RegisteredKey?, check: PublicationCheck?)
    /// DNS proves the record, but resolvers may still hold older answers until `until`.
    case waiting(key: RegisteredKey, until: Date, check: PublicationCheck)
    /// DNS does not (yet) prove the record.
    case notProved(key: RegisteredKey, check: PublicationCheck)
}

/// Runs DNS checks, records them as evidence and moves keys from `pending`
/// to `published` to `active`.
public struct PublicationProof: Sendable {
    public let registry: any KeyRegistry
    public let checker: PublicationChecker
    public let actor: Actor
    /// How many checks run at once (each waits on the network, not the CPU).
    public let concurrency: Int

    public init(registry: any KeyRegistry, checker: PublicationChecker, actor: Actor, concurrency: Int = 32) {
        self.registry = registry
        self.checker = checker
        self.actor = actor
        self.concurrency = concurrency
    }

    /// How many checks are recorded per transaction while the others still run.
    public static let recordingBatch = 500

    /// Checks every key concurrently, on dedicated threads, and records the
    /// checks as they finish, `recordingBatch` per transaction, so that writing
    /// the evidence overlaps with waiting on DNS. `progress` is called on the
    /// calling thread with the number of keys done.
    public func verify(_ keys: [RegisteredKey], at time: Date, progress: ((Int) -> Void)? = nil) throws -> [VerifiedKey] {
        let checker = self.checker
        var verified = [VerifiedKey?](repeating: nil, count: keys.count)
        var batch: [(index: Int, check: PublicationCheck)] = []
        var done = 0
        func record() throws {
            let updated = try registry.recordChecks(batch.map { (key: keys[$0.index], check: $0.check) }, actor: actor, at: time)
            for (entry, key) in zip(batch, updated) {
                verified[entry.index] = VerifiedKey(key: key, check: entry.check, previousState: keys[entry.index].state)
            }
            done += batch.count
            batch.removeAll(keepingCapacity: true)
            progress?(done)
        }
        try BlockingWorkers.stream(keys, threads: concurrency, { key in
            checker.check(key.recordName, expecting: ExpectedKey(key))
        }) { index, check in
            batch.append((index, check))
            if batch.count >= Self.recordingBatch { try record() }
        }
        if !batch.isEmpty { try record() }
        return verified.map { $0! }
    }

    /// Proves the key's record and activates it once the propagation window
    /// since its first full pass is over; with `forcedReason`, activates without
    /// asking DNS (the event log says so).
    public func activate(_ key: RegisteredKey, policy: ActivationPolicy, forcedReason: String?, at time: Date) throws -> ActivationOutcome {
        if let forcedReason {
            let (active, retired) = try registry.activate(
                keyID: key.id, rotationPeriod: policy.rotationPeriod, forcedReason: forcedReason, actor: actor, at: time)
            return .activated(active: active, retired: retired, check: nil)
        }
        switch key.state {
        case .pending, .published: break
        case .active, .retired, .revoked:
            throw DKIMError(.conflict, "key \(key.selector) is \(key.state.rawValue); only pending or published keys can be activated")
        }
        guard let verified = try verify([key], at: time).first else {
            throw DKIMError(.registry, "the check of \(key.selector) was not recorded")
        }
        guard verified.check.verdict == .pass, let publishedAt = verified.key.publishedAt else {
            return .notProved(key: verified.key, check: verified.check)
        }
        let window = policy.propagationWindow(
            recordTTL: verified.check.recordTTL.map { Int($0) } ?? key.ttl,
            negativeTTL: verified.check.negativeTTL.map { Int($0) })
        let ready = publishedAt.addingTimeInterval(window)
        if time < ready {
            return .waiting(key: verified.key, until: ready, check: verified.check)
        }
        let (active, retired) = try registry.activate(
            keyID: key.id, rotationPeriod: policy.rotationPeriod, forcedReason: nil, actor: actor, at: time)
        return .activated(active: active, retired: retired, check: verified.check)
    }
}
