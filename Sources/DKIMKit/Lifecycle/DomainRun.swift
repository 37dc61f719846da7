import Foundation

/// One tick's work on one domain: its keys as the registry holds them (kept
/// up to date as steps change them), its publisher, and a report per slot.
struct DomainRun {
    let engine: RotationEngine
    let domain: DomainConfiguration
    let now: Date
    let dryRun: Bool
    let publisher: any RecordPublisher
    var keys: [Int64: RegisteredKey] = [:]
    /// Key ids by slot, oldest first: a tick over 10,000 slots must not scan every key per slot.
    var slotIndex: [String: [Int64]] = [:]
    /// Every key id, ascending (new keys get higher ids): each phase walks the keys in this
    /// order without sorting 100,000 keys again.
    var orderedIDs: [Int64] = []
    var policies: [String: SlotPolicy] = [:]
    var slotReports: [String: SlotReport] = [:]
    var slotOrder: [String] = []

    init(engine: RotationEngine, domain: DomainConfiguration, keys: [RegisteredKey], now: Date, dryRun: Bool) {
        self.engine = engine
        self.domain = domain
        self.now = now
        self.dryRun = dryRun
        self.publisher = engine.collaborators.publisher(domain, engine.state)
        for key in keys.sorted(by: { $0.id < $1.id }) {
            self.keys[key.id] = key
            slotIndex[Self.slotKey(key), default: []].append(key.id)
            orderedIDs.append(key.id)
        }
        for policy in domain.slots {
            let slot = Self.slotKey(policy.provider, policy.usage)
            policies[slot] = policy
            slotOrder.append(slot)
            slotReports[slot] = SlotReport(domain: domain.domain, provider: policy.provider, usage: policy.usage)
        }
    }

    static func slotKey(_ provider: Provider, _ usage: Usage) -> String { "\(provider.identifier)|\(usage.name)" }
    private static func slotKey(_ key: RegisteredKey) -> String { slotKey(key.provider, key.usage) }

    var registry: any KeyRegistry { engine.registry }
    var actor: Actor { engine.actor }
    var sortedKeys: [RegisteredKey] { orderedIDs.map { keys[$0]! } }

    func policy(_ key: RegisteredKey) -> SlotPolicy? { policies[Self.slotKey(key)] }

    func keys(inSlot slot: String) -> [RegisteredKey] { (slotIndex[slot] ?? []).map { keys[$0]! } }

    mutating func update(_ key: RegisteredKey) {
        if keys.updateValue(key, forKey: key.id) == nil {
            slotIndex[Self.slotKey(key), default: []].append(key.id)
            // Ids only grow; insert in place should one ever come out of order.
            if let last = orderedIDs.last, last > key.id {
                orderedIDs.insert(key.id, at: orderedIDs.firstIndex { $0 > key.id }!)
            } else {
                orderedIDs.append(key.id)
            }
        }
    }

    mutating func withReport(_ key: RegisteredKey, _ body: (inout SlotReport) -> Void) {
        let slot = Self.slotKey(key)
        if slotReports[slot] == nil {
            slotReports[slot] = SlotReport(domain: key.domain, provider: key.provider, usage: key.usage)
            slotOrder.append(slot)
        }
        body(&slotReports[slot]!)
    }

    mutating func act(_ key: RegisteredKey, _ text: String) { withReport(key) { $0.actions.append(text) } }
    mutating func fail(_ key: RegisteredKey, _ text: String) { withReport(key) { $0.errors.append(text) } }
    mutating func attention(_ key: RegisteredKey, _ text: String) { withReport(key) { $0.attention.append(text) } }

    static func message(_ error: Error) -> String { (error as? DKIMError)?.message ?? "\(error)" }

    var reports: [SlotReport] { slotOrder.map { slotReports[$0]! } }

    func report(forSlot key: RegisteredKey) -> SlotReport {
        slotReports[Self.slotKey(key)] ?? SlotReport(domain: key.domain, provider: key.provider, usage: key.usage)
    }

    // MARK: - Entry points

    mutating func tick() throws {
        try perform(try revocationsDue())
        try perform(ttlRaisesDue())
        try perform(keyCreationsDue())
        try perform(recordPushesDue())
        try perform(proofsDue())
        try perform(activationsDue())
        try perform(deploysDue())
        try perform(disposalsDue())
        finish()
    }

    mutating func settle() throws {
        try perform(recordPushesDue())
        try perform(deploysDue())
        try perform(disposalsDue())
        finish()
    }

    mutating func emergency(_ compromised: RegisteredKey, policy: SlotPolicy, reason: String) throws {
        let slot = Self.slotKey(compromised)
        if policies[slot] == nil {
            policies[slot] = policy
            slotOrder.append(slot)
            slotReports[slot] = SlotReport(domain: compromised.domain, provider: compromised.provider, usage: compromised.usage)
        }
        let successor = keys(inSlot: slot).first { [.pending, .published].contains($0.state) && $0.id != compromised.id }
        if successor == nil {
            try perform([.createKeys([TickStep.NewKey(policy: policy, reason: "successor of compromised \(compromised.selector)")])])
        }
        let revoked = try registry.revoke(
            keyID: compromised.id, reason: "compromised: \(reason)", style: policy.revocation,
            allowedStates: [.active, .retired, .published, .pending], actor: actor, at: now)
        update(revoked)
        act(revoked, "revoked \(revoked.selector) at once (\(reason)); no grace period")
        FaultInjection.point("key-revoked")
        try perform(recordPushesDue())
        try perform(proofsDue())
        try perform(deploysDue())
        try perform(disposalsDue())
        finish()
    }

    /// Plan, then maybe execute: a dry run says what each step would do, a real run does it.
    private mutating func perform(_ steps: [TickStep]) throws {
        for step in steps {
            if dryRun { describe(step) } else { try execute(step) }
        }
    }

    // MARK: - Plans (read the keys, change nothing)

    /// `retired`, the grace period over and, with `revokeAfterUnused`, receivers no longer
    /// seeing it sign → `revoked` (the record and the file follow).
    private func revocationsDue() throws -> [TickStep] {
        try sortedKeys.compactMap { key in
            guard key.state == .retired, let policy = policy(key),
                let due = SlotSchedule(policy: policy).revocationDue(of: key, lastSighting: try lastSighting(key, policy)), due <= now
            else { return nil }
            return .revoke(key, policy)
        }
    }

    /// What DMARC reports say of a retired key, asked only when the slot's policy uses it.
    func lastSighting(_ key: RegisteredKey, _ policy: SlotPolicy) throws -> Date? {
        guard policy.revokeAfterUnused != nil, key.state == .retired else { return nil }
        return try registry.lastSighting(domain: key.domain, selector: key.selector)
    }

    /// An active key past its grace period gets the stable TTL (CCCS: 86,400 s once stable).
    private func ttlRaisesDue() -> [TickStep] {
        sortedKeys.compactMap { key in
            guard key.state == .active, let policy = policy(key), let due = SlotSchedule(policy: policy).stableTTLDue(of: key), due <= now
            else { return nil }
            return .raiseTTL(key, policy)
        }
    }

    /// A slot without a key on the way gets one: its first key, a key after a
    /// manual retirement, or the active key's successor once within the lead time.
    private func keyCreationsDue() -> [TickStep] {
        let due = slotOrder.compactMap { slot -> TickStep.NewKey? in
            guard let policy = policies[slot], let why = SlotSchedule(policy: policy).newKeyReason(keys(inSlot: slot), at: now) else { return nil }
            return TickStep.NewKey(policy: policy, reason: why)
        }
        return due.isEmpty ? [] : [.createKeys(due)]
    }

    /// Every change DNS is missing, for the domain's publisher.
    private func recordPushesDue() -> [TickStep] {
        let pushes = sortedKeys.filter(needsPush).map { TickStep.PlannedPush(key: $0, change: RecordChange.of($0, action: desiredAction($0))) }
        return pushes.isEmpty ? [] : [.pushRecords(pushes)]
    }

    /// Every pending key of a managed slot is checked in DNS; a full pass makes it `published`.
    private func proofsDue() -> [TickStep] {
        let pending = sortedKeys.filter { $0.state == .pending && policy($0) != nil }
        return pending.isEmpty ? [] : [.prove(pending)]
    }

    /// The newest published key of each managed slot becomes active once its window is over (DNS asked again).
    private func activationsDue() throws -> [TickStep] {
        try slotOrder.compactMap { slot in
            guard let policy = policies[slot],
                let key = keys(inSlot: slot).last(where: { $0.state == .published }),
                let ready = try activationTime(key, policy), ready <= now
            else { return nil }
            return .activate(key, policy)
        }
    }

    /// Every key that owes a deploy hook; a revocation's hook waits until the revocation has been pushed.
    private func deploysDue() -> [TickStep] {
        sortedKeys.compactMap { key in
            guard let action = key.pendingDeploy else { return nil }
            if action == .revoke, key.publication.map({ $0.action == .publish }) ?? true { return nil }
            return .deploy(key, action)
        }
    }

    /// The private key of each revoked key whose revocation was pushed and deployed.
    /// Revealing, and any revocation made by hand (manual publisher), first needs DNS
    /// to show the key withdrawn.
    private func disposalsDue() -> [TickStep] {
        let manual: Bool = { if case .manual = domain.publisher { true } else { false } }()
        return sortedKeys.compactMap { key in
            guard key.state == .revoked, key.privateKeyDisposal == nil, key.pendingDeploy == nil,
                let pushed = key.publication?.action, pushed != .publish
            else { return nil }
            let reveal = (policy(key) ?? engine.configuration.effectivePolicy(for: key)).reveal
            return .disposeOfPrivateKey(key, reveal: reveal, awaitWithdrawal: reveal || manual)
        }
    }

    /// What DNS must hold at a key's name now.
    func desiredAction(_ key: RegisteredKey) -> RecordAction {
        guard key.state == .revoked else { return .publish }
        if let policy = policy(key) { return policy.revocation.recordAction }
        if let pushed = key.publication?.action, pushed != .publish { return pushed }
        return .revoke
    }

    private func needsPush(_ key: RegisteredKey) -> Bool {
        let desired = desiredAction(key)
        guard let publication = key.publication else { return true }
        return publication.action != desired || (desired != .delete && publication.ttl != key.ttl)
    }

    /// When a published key may become active: first full pass + propagation window.
    func activationTime(_ key: RegisteredKey, _ policy: SlotPolicy) throws -> Date? {
        guard key.publishedAt != nil else { return nil }
        let last = try registry.checks(forKey: key.id, limit: 1).first
        return SlotSchedule(policy: policy).activationTime(
            publishedAt: key.publishedAt, recordTTL: last?.recordTTL ?? key.ttl, negativeTTL: last?.negativeTTL)
    }

    // MARK: - Summary

    /// Per slot: the active key, what comes next and when, and attention for overdue keys.
    private mutating func finish() {
        for slot in slotOrder {
            let slotKeys = keys(inSlot: slot)
            var report = slotReports[slot]!
            report.activeSelector = slotKeys.first { $0.state == .active }?.selector.name
            let policy = policies[slot]
            var steps: [(String, Date?)] = []
            for key in slotKeys {
                switch key.state {
                case .pending:
                    let publish: String = { if case .manual = domain.publisher { "publish \(engine.state.outboxPath)/\(domain.domain.ascii)/\(key.selector).zone, then " } else { "" } }()
                    steps.append(("\(publish)wait for DNS to show \(key.selector) on every authoritative server", nil))
                case .published:
                    if let policy, let ready = try? activationTime(key, policy) {
                        steps.append(("activate \(key.selector) (propagation window)", max(ready, now)))
                    }
                case .active:
                    if SlotSchedule.isOverdue(key, at: now), let expires = key.expiresAt, !dryRun {
                        report.attention.append("\(key.selector) is past its rotation date \(Timestamp.iso8601(expires))")
                    }
                    guard let policy else { break }
                    let schedule = SlotSchedule(policy: policy)
                    if let due = schedule.stableTTLDue(of: key) {
                        steps.append(("raise the TTL of \(key.selector) to \(policy.stableTTL) s", due))
                    }
                    if !SlotSchedule.hasKeyOnTheWay(slotKeys), let due = schedule.successorDue(of: key) {
                        steps.append(("create the successor of \(key.selector)", due))
                    }
                case .retired:
                    guard let policy, let graceEnd = SlotSchedule(policy: policy).graceEnd(of: key) else { break }
                    let seen = try? lastSighting(key, policy)
                    let due = SlotSchedule(policy: policy).revocationDue(of: key, lastSighting: seen ?? nil) ?? graceEnd
                    if due > graceEnd, let seen = seen ?? nil, let quiet = policy.revokeAfterUnused {
                        steps.append(("revoke \(key.selector) once DMARC reports no longer show it signing for \(quiet) (last seen \(Timestamp.iso8601(seen)))", due))
                    } else {
                        steps.append(("revoke \(key.selector) (end of grace)", graceEnd))
                    }
                case .revoked:
                    steps.append(("finish revoking \(key.selector)", nil))
                }
            }
            if slotKeys.isEmpty, policy != nil { steps.append(("create the slot's first key", nil)) }
            if report.next.isEmpty {
                let earliest = steps.min { ($0.1 ?? .distantPast) < ($1.1 ?? .distantPast) }
                report.next = earliest?.0 ?? "nothing scheduled"
                report.nextAt = earliest?.1
            }
            slotReports[slot] = report
        }
    }
}

