import Foundation

/// One tick's work on one domain: its keys as the registry holds them (kept
/// up to date as steps change them), its publisher, and a report per slot.
struct DomainRun {
    let engine: RotationEngine
    let domain: DomainConfiguration
    let now: Date
    let dryRun: Bool
    let publisher: any RecordPublisher
    private var keys: [Int64: RegisteredKey] = [:]
    /// Key ids by slot, oldest first: a tick over 10,000 slots must not scan every key per slot.
    private var slotIndex: [String: [Int64]] = [:]
    private var policies: [String: SlotPolicy] = [:]
    private var slotReports: [String: SlotReport] = [:]
    private var slotOrder: [String] = []

    init(engine: RotationEngine, domain: DomainConfiguration, keys: [RegisteredKey], now: Date, dryRun: Bool) {
        self.engine = engine
        self.domain = domain
        self.now = now
        self.dryRun = dryRun
        self.publisher = engine.collaborators.publisher(domain, engine.state)
        for key in keys.sorted(by: { $0.id < $1.id }) {
            self.keys[key.id] = key
            slotIndex[Self.slotKey(key), default: []].append(key.id)
        }
        for policy in domain.slots {
            let slot = Self.slotKey(policy.provider, policy.usage)
            policies[slot] = policy
            slotOrder.append(slot)
            slotReports[slot] = SlotReport(domain: domain.domain, provider: policy.provider, usage: policy.usage)
        }
    }

    private static func slotKey(_ provider: Provider, _ usage: Usage) -> String { "\(provider.identifier)|\(usage.name)" }
    private static func slotKey(_ key: RegisteredKey) -> String { slotKey(key.provider, key.usage) }

    private var registry: any KeyRegistry { engine.registry }
    private var actor: Actor { engine.actor }
    private var sortedKeys: [RegisteredKey] { keys.values.sorted { $0.id < $1.id } }

    private func policy(_ key: RegisteredKey) -> SlotPolicy? { policies[Self.slotKey(key)] }

    private func keys(inSlot slot: String) -> [RegisteredKey] { (slotIndex[slot] ?? []).map { keys[$0]! } }

    private mutating func update(_ key: RegisteredKey) {
        if keys.updateValue(key, forKey: key.id) == nil { slotIndex[Self.slotKey(key), default: []].append(key.id) }
    }

    private mutating func withReport(_ key: RegisteredKey, _ body: (inout SlotReport) -> Void) {
        let slot = Self.slotKey(key)
        if slotReports[slot] == nil {
            slotReports[slot] = SlotReport(domain: key.domain, provider: key.provider, usage: key.usage)
            slotOrder.append(slot)
        }
        body(&slotReports[slot]!)
    }

    private mutating func act(_ key: RegisteredKey, _ text: String) { withReport(key) { $0.actions.append(text) } }
    private mutating func fail(_ key: RegisteredKey, _ text: String) { withReport(key) { $0.errors.append(text) } }
    private mutating func attention(_ key: RegisteredKey, _ text: String) { withReport(key) { $0.attention.append(text) } }

    private static func message(_ error: Error) -> String { (error as? DKIMError)?.message ?? "\(error)" }

    var reports: [SlotReport] { slotOrder.map { slotReports[$0]! } }

    func report(forSlot key: RegisteredKey) -> SlotReport {
        slotReports[Self.slotKey(key)] ?? SlotReport(domain: key.domain, provider: key.provider, usage: key.usage)
    }

    // MARK: - Entry points

    mutating func tick() throws {
        revokeRetiredKeysPastGrace()
        raiseStableTTLs()
        try createDueKeys()
        try pushRecords()
        try provePendingKeys()
        try activateProvedKeys()
        runDeployHooks()
        disposeOfRevokedPrivateKeys()
        finish()
    }

    mutating func settle() throws {
        try pushRecords()
        runDeployHooks()
        disposeOfRevokedPrivateKeys()
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
            try create([(policy, "successor of compromised \(compromised.selector)")])
        }
        let revoked = try registry.revoke(
            keyID: compromised.id, reason: "compromised: \(reason)", style: policy.revocation,
            allowedStates: [.active, .retired, .published, .pending], actor: actor, at: now)
        update(revoked)
        act(revoked, "revoked \(revoked.selector) at once (\(reason)); no grace period")
        FaultInjection.point("key-revoked")
        try pushRecords()
        try provePendingKeys()
        runDeployHooks()
        disposeOfRevokedPrivateKeys()
        finish()
    }

    // MARK: - Steps

    /// `retired` and the grace period over → `revoked` (the record and the file follow).
    private mutating func revokeRetiredKeysPastGrace() {
        for key in sortedKeys where key.state == .retired {
            guard let policy = policy(key), let graceEnd = SlotSchedule(policy: policy).graceEnd(of: key), graceEnd <= now else { continue }
            if dryRun {
                act(key, "revoke \(key.selector) (grace of \(policy.grace) over), \(policy.revocation == .delete ? "delete its record" : "publish an empty p=") and \(policy.reveal ? "reveal" : "destroy") its private key")
                continue
            }
            do {
                let revoked = try registry.revoke(
                    keyID: key.id, reason: "grace period of \(policy.grace) over", style: policy.revocation, allowedStates: [.retired],
                    actor: actor, at: now)
                update(revoked)
                act(revoked, "revoked \(key.selector) (grace of \(policy.grace) over)")
                FaultInjection.point("key-revoked")
            } catch {
                fail(key, "revoking \(key.selector) failed: \(Self.message(error))")
            }
        }
    }

    /// An active key past its grace period gets the stable TTL (CCCS: 86,400 s once stable).
    private mutating func raiseStableTTLs() {
        for key in sortedKeys where key.state == .active {
            guard let policy = policy(key), let due = SlotSchedule(policy: policy).stableTTLDue(of: key), due <= now else { continue }
            if dryRun {
                act(key, "raise the TTL of \(key.selector) from \(key.ttl) to \(policy.stableTTL) s")
                continue
            }
            do {
                update(try registry.changeTTL(keyID: key.id, ttl: policy.stableTTL, actor: actor, at: now))
                act(key, "raised the TTL of \(key.selector) from \(key.ttl) to \(policy.stableTTL) s (stable)")
            } catch {
                fail(key, "changing the TTL of \(key.selector) failed: \(Self.message(error))")
            }
        }
    }

    /// A slot without a key on the way gets one: its first key, a key after a
    /// manual retirement, or the active key's successor once within the lead time.
    private mutating func createDueKeys() throws {
        var due: [(SlotPolicy, String)] = []
        for slot in slotOrder {
            guard let policy = policies[slot], let why = SlotSchedule(policy: policy).newKeyReason(keys(inSlot: slot), at: now) else { continue }
            due.append((policy, why))
        }
        try create(due)
    }

    /// Generates the keys in parallel (one thread per core), then writes and
    /// registers them one by one.
    private mutating func create(_ due: [(SlotPolicy, String)]) throws {
        if due.isEmpty { return }
        if dryRun {
            for (policy, why) in due {
                withReport(policy) { $0.actions.append("create a \(policy.specification.algorithm.rawValue)-\(policy.specification.bits) key (\(why)) and publish it") }
            }
            return
        }
        let specifications = due.map(\.0.specification)
        let generate = engine.collaborators.generateKey
        let generated = BlockingWorkers.map(specifications, threads: engine.keyGenerationThreads) { specification in
            Result { try generate(specification) }
        }
        let issuer = KeyIssuer(registry: registry, state: engine.state, actor: actor)
        for ((policy, why), pair) in zip(due, generated) {
            do {
                let request = KeyRequest(
                    domain: policy.domain, provider: policy.provider, usage: policy.usage, owner: policy.owner,
                    specification: policy.specification, pattern: policy.selectorPattern, ttl: policy.ttl,
                    profile: engine.configuration.providers.profile(for: policy.provider))
                let key = try issuer.issue(request, keyPair: try pair.get(), adoptingOrphans: true, at: now)
                FaultInjection.point("key-registered")
                update(key)
                act(key, "created \(key.selector) (\(why))")
            } catch {
                withReport(policy) { $0.errors.append("creating a key (\(why)) failed: \(Self.message(error))") }
            }
        }
    }

    private mutating func withReport(_ policy: SlotPolicy, _ body: (inout SlotReport) -> Void) {
        body(&slotReports[Self.slotKey(policy.provider, policy.usage)]!)
    }

    /// What DNS must hold at a key's name now.
    private func desiredAction(_ key: RegisteredKey) -> RecordAction {
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

    /// Sends every change DNS is missing to the domain's publisher and records each success.
    private mutating func pushRecords() throws {
        let changed = sortedKeys.filter(needsPush)
        if changed.isEmpty { return }
        let changes = changed.map { RecordChange.of($0, action: desiredAction($0)) }
        if dryRun {
            for (key, change) in zip(changed, changes) {
                act(key, "\(change.action.rawValue) the record of \(key.selector) through \(publisher.name)")
            }
            return
        }
        let results = publisher.apply(changes, domain: domain.domain, domainRecords: try domainRecords())
        for ((key, change), result) in zip(zip(changed, changes), results) {
            switch result {
            case .success(let response):
                FaultInjection.point("record-pushed")
                do {
                    update(try registry.recordPush(
                        keyID: key.id, action: change.action, ttl: change.record.ttl, publisher: publisher.name, response: response,
                        actor: actor, at: now))
                    act(key, "\(change.action == .publish ? "published" : change.action == .revoke ? "revoked (empty p=)" : "deleted") the record of \(key.selector) via \(publisher.name): \(response)")
                    FaultInjection.point("push-recorded")
                } catch {
                    fail(key, "recording the push of \(key.selector) failed: \(Self.message(error))")
                }
            case .failure(let error):
                fail(key, "\(change.action.rawValue) of \(key.selector) via \(publisher.name) failed (retried on the next run): \(error.message)")
            }
        }
    }

    /// Every record the domain must have after this run's changes (what a zone fragment holds).
    private func domainRecords() throws -> [PublishedRecord] {
        guard case .zonefile = domain.publisher else { return [] }
        var records: [PublishedRecord] = []
        try registry.forEachKey(matching: KeyFilter(domain: domain.domain, kinds: [.local])) { stored in
            let key = keys[stored.id] ?? stored
            let action: RecordAction
            if keys[stored.id] != nil {
                action = desiredAction(key)
            } else {
                action = key.state == .revoked ? (key.publication?.action ?? .revoke) : .publish
            }
            switch action {
            case .delete: break
            case .publish, .revoke: records.append(RecordChange.of(key, action: action).record)
            }
        }
        return records
    }

    /// Checks DNS for every pending key of a managed slot; a full pass makes it `published`.
    private mutating func provePendingKeys() throws {
        let pending = sortedKeys.filter { $0.state == .pending && policy($0) != nil }
        if pending.isEmpty { return }
        if dryRun {
            for key in pending { act(key, "check DNS for \(key.selector) on every authoritative server") }
            return
        }
        let proof = PublicationProof(registry: registry, checker: engine.checker, actor: actor)
        for verified in try proof.verify(pending, at: now) {
            let key = verified.key
            update(key)
            if key.state == .published {
                act(key, "DNS proves \(key.selector) on \(verified.check.results.count) server(s): published")
                continue
            }
            guard let policy = policy(key) else { continue }
            let since = key.publication?.pushedAt ?? key.createdAt
            if since.addingTimeInterval(TimeInterval(policy.attentionAfter.seconds)) <= now {
                let problem = verified.check.results.first { $0.status != .pass }.map { "\($0.server): \($0.detail)" }
                    ?? verified.check.problems.first?.description ?? verified.check.verdict.rawValue
                attention(key, "\(key.selector) is still not visible in DNS \(TimeSpan(seconds: Int(now.timeIntervalSince(since))).humanReadable) after it was pushed (\(problem))")
            }
        }
    }

    /// When a published key may become active: first full pass + propagation window.
    private func activationTime(_ key: RegisteredKey, _ policy: SlotPolicy) throws -> Date? {
        guard key.publishedAt != nil else { return nil }
        let last = try registry.checks(forKey: key.id, limit: 1).first
        return SlotSchedule(policy: policy).activationTime(
            publishedAt: key.publishedAt, recordTTL: last?.recordTTL ?? key.ttl, negativeTTL: last?.negativeTTL)
    }

    /// The newest published key of each managed slot becomes active once its window is over (DNS asked again).
    private mutating func activateProvedKeys() throws {
        for slot in slotOrder {
            guard let policy = policies[slot],
                let key = keys(inSlot: slot).last(where: { $0.state == .published }),
                let ready = try activationTime(key, policy), ready <= now
            else { continue }
            if dryRun {
                act(key, "activate \(key.selector) if DNS still proves it")
                continue
            }
            do {
                let proof = PublicationProof(registry: registry, checker: engine.checker, actor: actor)
                switch try proof.activate(key, policy: policy.activationPolicy, forcedReason: nil, at: now) {
                case .activated(let active, let retired, _):
                    update(active)
                    if let retired { update(retired) }
                    act(active, "activated \(active.selector)" + (retired.map { "; retired \($0.selector)" } ?? "") + "; rotation due \(active.expiresAt.map(Timestamp.iso8601) ?? "-")")
                    FaultInjection.point("key-activated")
                case .waiting(let waiting, _, _):
                    update(waiting)
                case .notProved(let failed, let check):
                    update(failed)
                    let problem = check.results.first { $0.status != .pass }.map { "\($0.server): \($0.detail)" } ?? check.verdict.rawValue
                    attention(failed, "\(failed.selector) was published but DNS no longer proves it (\(problem)); not activated")
                }
            } catch {
                fail(key, "activating \(key.selector) failed: \(Self.message(error))")
            }
        }
    }

    /// Runs the domain's deploy hook for every key that owes one; a revocation's
    /// hook waits until the revocation has been pushed.
    private mutating func runDeployHooks() {
        for key in sortedKeys {
            guard let action = key.pendingDeploy else { continue }
            if action == .revoke, key.publication.map({ $0.action == .publish }) ?? true { continue }
            if dryRun {
                act(key, "run the deploy hook (\(action.rawValue) \(key.selector))")
                continue
            }
            var command = "(no deploy hook configured)"
            if let deploy = domain.deploy {
                command = deploy
                var environment = RecordChange.of(key, action: desiredAction(key)).hookEnvironment
                environment["DKIM_ACTION"] = action.rawValue
                do {
                    environment["DKIM_PRIVATE_KEY_PATH"] = try engine.state.privateKeyFile(of: key) ?? ""
                    let ran = try engine.collaborators.runHook(deploy, environment)
                    guard ran.succeeded else {
                        fail(key, "deploy hook '\(deploy)' failed for \(action.rawValue) \(key.selector) (retried on the next run): \(ran.summary)")
                        continue
                    }
                } catch {
                    fail(key, "deploy hook for \(key.selector) failed: \(Self.message(error))")
                    continue
                }
                FaultInjection.point("deploy-ran")
            }
            do {
                update(try registry.recordDeployment(keyID: key.id, action: action, command: command, actor: actor, at: now))
                if domain.deploy != nil { act(key, "ran the deploy hook (\(action.rawValue) \(key.selector))") }
            } catch {
                fail(key, "recording the deploy of \(key.selector) failed: \(Self.message(error))")
            }
        }
    }

    /// Destroys (or reveals) the private key of each revoked key whose
    /// revocation was pushed and deployed. Revealing, and any revocation made
    /// by hand (manual publisher), first needs DNS to show the key withdrawn.
    private mutating func disposeOfRevokedPrivateKeys() {
        for key in sortedKeys where key.state == .revoked && key.privateKeyDisposal == nil && key.pendingDeploy == nil {
            guard let pushed = key.publication?.action, pushed != .publish else { continue }
            let reveal = (policy(key) ?? engine.configuration.effectivePolicy(for: key)).reveal
            let manual: Bool = { if case .manual = domain.publisher { true } else { false } }()
            if dryRun {
                act(key, "\(reveal ? "reveal" : "destroy") the private key of \(key.selector)")
                continue
            }
            if reveal || manual {
                let check = engine.checker.check(key.recordName, expecting: ExpectedKey(key))
                guard check.isWithdrawn else {
                    let problem = check.results.first { !$0.withdrawn }.map { "\($0.server): \($0.detail)" } ?? check.problems.first?.description ?? "no answer"
                    withReport(key) { $0.next = "waiting for DNS to withdraw \(key.selector) before \(reveal ? "revealing" : "destroying") its private key (\(problem))" }
                    continue
                }
            }
            do {
                var location: String?
                if let path = try engine.state.privateKeyFile(of: key) {
                    location = try engine.collaborators.disposeOfKeyFile(path, reveal ? engine.state.revealedPath : nil)
                }
                FaultInjection.point("private-key-disposed")
                update(try registry.recordPrivateKeyDisposal(
                    keyID: key.id, disposal: reveal ? .revealed : .destroyed, location: location, actor: actor, at: now))
                act(key, reveal ? "revealed the private key of \(key.selector) at \(location ?? "-")" : "destroyed the private key of \(key.selector)")
            } catch {
                fail(key, "disposing of the private key of \(key.selector) failed: \(Self.message(error))")
            }
        }
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
                    if let policy, let graceEnd = SlotSchedule(policy: policy).graceEnd(of: key) {
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

