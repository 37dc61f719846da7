import Foundation

/// What a tick's planned steps do: described in a dry run, performed otherwise.
extension DomainRun {
    // MARK: - Dry run: what each step would do

    mutating func describe(_ step: TickStep) {
        switch step {
        case .revoke(let key, let policy):
            act(key, "revoke \(key.selector) (grace of \(policy.grace) over), \(policy.revocation == .delete ? "delete its record" : "publish an empty p=") and \(policy.reveal ? "reveal" : "destroy") its private key")
        case .raiseTTL(let key, let policy):
            act(key, "raise the TTL of \(key.selector) from \(key.ttl) to \(policy.stableTTL) s")
        case .createKeys(let due):
            for new in due {
                let specification = new.policy.specification
                withReport(new.policy) { $0.actions.append("create a \(specification.algorithm.rawValue)-\(specification.bits) key (\(new.reason)) and publish it") }
            }
        case .pushRecords(let pushes):
            for push in pushes { act(push.key, "\(push.change.action.rawValue) the record of \(push.key.selector) through \(publisher.name)") }
        case .prove(let pending):
            for key in pending { act(key, "check DNS for \(key.selector) on every authoritative server") }
        case .activate(let key, _):
            act(key, "activate \(key.selector) if DNS still proves it")
        case .deploy(let key, let action):
            act(key, "run the deploy hook (\(action.rawValue) \(key.selector))")
        case .disposeOfPrivateKey(let key, let reveal, _):
            act(key, "\(reveal ? "reveal" : "destroy") the private key of \(key.selector)")
        }
    }

    // MARK: - Execution

    mutating func execute(_ step: TickStep) throws {
        switch step {
        case .revoke(let key, let policy): revoke(key, policy)
        case .raiseTTL(let key, let policy): raiseTTL(key, policy)
        case .createKeys(let due): create(due)
        case .pushRecords(let pushes): try push(pushes)
        case .prove(let pending): try prove(pending)
        case .activate(let key, let policy): activate(key, policy)
        case .deploy(let key, let action): deploy(key, action)
        case .disposeOfPrivateKey(let key, let reveal, let awaitWithdrawal): disposeOfPrivateKey(key, reveal: reveal, awaitWithdrawal: awaitWithdrawal)
        }
    }

    private mutating func revoke(_ key: RegisteredKey, _ policy: SlotPolicy) {
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

    private mutating func raiseTTL(_ key: RegisteredKey, _ policy: SlotPolicy) {
        do {
            update(try registry.changeTTL(keyID: key.id, ttl: policy.stableTTL, actor: actor, at: now))
            act(key, "raised the TTL of \(key.selector) from \(key.ttl) to \(policy.stableTTL) s (stable)")
        } catch {
            fail(key, "changing the TTL of \(key.selector) failed: \(Self.message(error))")
        }
    }

    /// Generates the keys in parallel (one thread per core), then writes and registers them one by one.
    private mutating func create(_ due: [TickStep.NewKey]) {
        let generate = engine.collaborators.generateKey
        let generated = BlockingWorkers.map(due.map(\.policy.specification), threads: engine.keyGenerationThreads) { specification in
            Result { try generate(specification) }
        }
        let issuer = KeyIssuer(registry: registry, state: engine.state, actor: actor, store: engine.configuration.privateKeyStore)
        if !due.isEmpty { FaultInjection.point("keys-generated") }
        for (new, pair) in zip(due, generated) {
            let policy = new.policy
            do {
                let request = KeyRequest(
                    domain: policy.domain, provider: policy.provider, usage: policy.usage, owner: policy.owner,
                    specification: policy.specification, pattern: policy.selectorPattern, ttl: policy.ttl,
                    profile: engine.configuration.providers.profile(for: policy.provider))
                let key = try issuer.issue(request, keyPair: try pair.get(), adoptingOrphans: true, at: now)
                FaultInjection.point("key-registered")
                update(key)
                act(key, "created \(key.selector) (\(new.reason))")
            } catch {
                withReport(policy) { $0.errors.append("creating a key (\(new.reason)) failed: \(Self.message(error))") }
            }
        }
    }

    private mutating func withReport(_ policy: SlotPolicy, _ body: (inout SlotReport) -> Void) {
        body(&slotReports[Self.slotKey(policy.provider, policy.usage)]!)
    }

    /// Sends the changes to the domain's publisher and records each success.
    private mutating func push(_ pushes: [TickStep.PlannedPush]) throws {
        let results = publisher.apply(pushes.map(\.change), domain: domain.domain, domainRecords: try domainRecords())
        for (push, result) in zip(pushes, results) {
            let (key, change) = (push.key, push.change)
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

    private mutating func prove(_ pending: [RegisteredKey]) throws {
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

    private mutating func activate(_ key: RegisteredKey, _ policy: SlotPolicy) {
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

    /// Runs the domain's deploy hook (if any) and records the deployment.
    private mutating func deploy(_ key: RegisteredKey, _ action: DeployAction) {
        var command = "(no deploy hook configured)"
        if let deploy = domain.deploy {
            command = deploy
            var environment = RecordChange.of(key, action: desiredAction(key)).hookEnvironment
            environment["DKIM_ACTION"] = action.rawValue
            do {
                let ran: ShellCommand.Outcome
                if key.privateKeyInRegistry, action == .activate {
                    // A sealed key reaches the hook as a 0600 file that lives as long as the hook runs.
                    ran = try engine.custody.withPrivateKeyFile(of: key) { path in
                        environment["DKIM_PRIVATE_KEY_PATH"] = path
                        return try engine.collaborators.runHook(deploy, environment)
                    }
                } else {
                    environment["DKIM_PRIVATE_KEY_PATH"] = key.privateKeyInRegistry ? "" : try engine.state.privateKeyFile(of: key) ?? ""
                    ran = try engine.collaborators.runHook(deploy, environment)
                }
                guard ran.succeeded else {
                    fail(key, "deploy hook '\(deploy)' failed for \(action.rawValue) \(key.selector) (retried on the next run): \(ran.summary)")
                    return
                }
            } catch {
                fail(key, "deploy hook for \(key.selector) failed: \(Self.message(error))")
                return
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

    /// Destroys (or reveals) a revoked key's private key, after DNS shows it withdrawn where that is required.
    private mutating func disposeOfPrivateKey(_ key: RegisteredKey, reveal: Bool, awaitWithdrawal: Bool) {
        if awaitWithdrawal {
            let check = engine.checker.check(key.recordName, expecting: ExpectedKey(key))
            guard check.isWithdrawn else {
                let problem = check.results.first { !$0.withdrawn }.map { "\($0.server): \($0.detail)" } ?? check.problems.first?.description ?? "no answer"
                withReport(key) { $0.next = "waiting for DNS to withdraw \(key.selector) before \(reveal ? "revealing" : "destroying") its private key (\(problem))" }
                return
            }
        }
        do {
            var location: String?
            if key.privateKeyInRegistry {
                // Destroying is the registry's crypto-erase, in the disposal's own transaction.
                if reveal { location = try engine.custody.revealSealed(key) }
            } else if let path = try engine.state.privateKeyFile(of: key) {
                location = try engine.collaborators.disposeOfKeyFile(path, reveal ? engine.state.revealedPath : nil)
            }
            let copies = try engine.custody.eraseCopies(of: key, onHost: PrivateKeyCustody.localHost, actor: actor, at: now)
            if copies > 0 { act(key, "erased \(copies) copies of the private key of \(key.selector) on this host") }
            FaultInjection.point("private-key-disposed")
            update(try registry.recordPrivateKeyDisposal(
                keyID: key.id, disposal: reveal ? .revealed : .destroyed, location: location, actor: actor, at: now))
            act(key, reveal ? "revealed the private key of \(key.selector) at \(location ?? "-")" : "destroyed the private key of \(key.selector)")
        } catch {
            fail(key, "disposing of the private key of \(key.selector) failed: \(Self.message(error))")
        }
    }
}
