import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// The rotation core tick by tick, without BIND, hooks or files outside a
/// temporary state directory: an in-memory registry, a fake DNS (a zone in
/// memory that the fake publisher writes and the fake transport serves), fake
/// deploy hooks and a recorded key disposal. BIND tests remain the end-to-end proof.
@Suite struct RotationCoreTests {
    /// example.org in memory: TXT records by owner, served as an authoritative server would.
    final class FakeZone: @unchecked Sendable, DNSTransport, RecordPublisher {
        // @unchecked Sendable: every field is touched under `lock`.
        private let lock = NSLock()
        private var records: [String: [String]] = [:]
        private var serial: UInt32 = 1
        private(set) var hooks: [String] = []
        private(set) var disposed: [String] = []
        let apex = "example.org."

        var name: String { "fake" }

        func apply(_ changes: [RecordChange], domain: DomainName, domainRecords: [PublishedRecord]) -> [Result<String, DKIMError>] {
            lock.lock()
            defer { lock.unlock() }
            serial += 1
            return changes.map { change in
                let owner = change.record.name.absolute.lowercased()
                if change.action == .delete { records[owner] = nil } else { records[owner] = change.record.data.strings }
                return .success("stored")
            }
        }

        func query(_ name: String, _ type: DNSRecordType, server: DNSServer, recursionDesired: Bool) -> DNSOutcome {
            lock.lock()
            defer { lock.unlock() }
            let owner = name.hasSuffix(".") ? name.lowercased() : name.lowercased() + "."
            let soa = DNSResourceRecord(owner: apex, ttl: 3600, data: .soa(primary: "ns1.example.org.", serial: serial, minimum: 300))
            switch type {
            case .soa where owner == apex:
                return .response(DNSResponse(rcode: .noError, authoritative: true, answer: [soa], authority: []))
            case .txt:
                guard let strings = records[owner] else {
                    return .response(DNSResponse(rcode: .nameError, authoritative: true, answer: [], authority: [soa]))
                }
                return .response(DNSResponse(
                    rcode: .noError, authoritative: true, answer: [DNSResourceRecord(owner: owner, ttl: 1800, data: .txt(strings))], authority: []))
            default:
                return .response(DNSResponse(rcode: .noError, authoritative: true, answer: [], authority: [soa]))
            }
        }

        func served(_ key: RegisteredKey) -> String? {
            lock.lock()
            defer { lock.unlock() }
            return records[key.recordName.absolute.lowercased()]?.joined()
        }

        func hook(_ command: String, _ environment: [String: String]) -> ShellCommand.Outcome {
            lock.lock()
            hooks.append("\(environment["DKIM_ACTION"] ?? "?") \(environment["DKIM_SELECTOR"] ?? "?")")
            lock.unlock()
            return ShellCommand.Outcome(status: 0, output: "", timedOut: false)
        }

        func dispose(_ path: String, _ reveal: String?) throws -> String? {
            lock.lock()
            disposed.append((path as NSString).lastPathComponent)
            lock.unlock()
            try PrivateKeyFile.destroy(path)
            return nil
        }
    }

    let start = Timestamp.parse("2026-11-23T03:00:00Z")!
    let hour: TimeInterval = 3600
    let day: TimeInterval = 86400

    /// One managed slot (self-hosted, Ed25519) on example.org, over an in-memory registry and the fake zone.
    struct World {
        let scratch: TemporaryDirectory
        let registry: SQLRegistry
        let zone = FakeZone()
        let policy: SlotPolicy
        let engine: RotationEngine

        init(revokeAfterUnused: TimeSpan? = nil, backend: RegistryBackend = .sqlite) throws {
            scratch = try TemporaryDirectory("core")
            let state = StateDirectory(path: scratch.file("state"))
            try state.create()
            registry = try backend.freshRegistry()
            let zone = self.zone
            let server = DNSServer(address: "192.0.2.53")
            let checker = PublicationChecker(
                transport: zone, discovery: NameserverDiscovery(transport: zone, resolvers: [server]), nameservers: [server])
            var policy = try SlotPolicy(
                domain: DomainName("example.org"), provider: Provider("self-hosted"), usage: Usage("notifications"),
                owner: Owner("team@example.org"), specification: KeySpecification(algorithm: .ed25519))
            policy.ttl = 1800
            policy.revokeAfterUnused = revokeAfterUnused
            self.policy = policy
            let configuration = LifecycleConfiguration(
                domains: [DomainConfiguration(domain: try DomainName("example.org"), deploy: "deploy", slots: [policy])])
            engine = RotationEngine(
                registry: registry, state: state, configuration: configuration, checker: checker, actor: Actor("core-test"),
                collaborators: RotationCollaborators(
                    publisher: { _, _ in zone }, runHook: { zone.hook($0, $1) },
                    generateKey: { try KeyPair.generate($0) }, disposeOfKeyFile: { try zone.dispose($0, $1) }))
        }

        func keys() throws -> [RegisteredKey] { try registry.keys().sorted { $0.id < $1.id } }
    }

    @Test(arguments: RegistryBackend.allCases)
    func oneRotationTickByTick(backend: RegistryBackend) throws {
        let world = try World(backend: backend)
        let (registry, zone, policy, engine) = (world.registry, world.zone, world.policy, world.engine)
        func keys() throws -> [RegisteredKey] { try world.keys() }

        // Tick 1: the first key is created, pushed, proved (published); not active before the window.
        var report = try engine.tick(at: start)
        #expect(!report.hasErrors, "\(report.slots.flatMap(\.errors))")
        var all = try keys()
        #expect(all.map(\.state) == [.published])
        #expect(zone.served(all[0])?.hasPrefix("v=DKIM1; k=ed25519; p=") == true)
        #expect(report.slots.first?.next.hasPrefix("activate") == true)

        // Tick 2, after the propagation window (record TTL 1800 s): active, deploy hook run.
        report = try engine.tick(at: start.addingTimeInterval(hour))
        all = try keys()
        #expect(all.map(\.state) == [.active])
        #expect(zone.hooks == ["activate \(all[0].selector)"])
        let first = all[0]
        let expires = try #require(first.expiresAt)
        #expect(report.slots.first?.nextAt == SlotSchedule(policy: policy).stableTTLDue(of: first))

        // A tick with nothing due writes nothing.
        report = try engine.tick(at: start.addingTimeInterval(2 * hour))
        #expect(report.slots.allSatisfy { $0.actions.isEmpty })

        // At the lead time: the successor is created and proved; an hour later it takes over.
        let lead = expires.addingTimeInterval(-TimeInterval(policy.lead.seconds))
        _ = try engine.tick(at: lead)
        all = try keys()
        #expect(all.map(\.state) == [.active, .published])
        _ = try engine.tick(at: lead.addingTimeInterval(hour))
        all = try keys()
        #expect(all.map(\.state) == [.retired, .active])
        // The successor's activation tells the MTA to switch; the predecessor's retirement is part of it.
        #expect(zone.hooks == ["activate \(first.selector)", "activate \(all[1].selector)"])
        #expect(zone.served(first) != nil, "the retired key stays published for the grace period")

        // After the grace week: revoked, withdrawn (empty p=), deploy hook, private key destroyed.
        _ = try engine.tick(at: lead.addingTimeInterval(hour + TimeInterval(policy.grace.seconds)))
        all = try keys()
        #expect(all.map(\.state) == [.revoked, .active])
        #expect(zone.served(first) == "v=DKIM1; k=ed25519; p=")
        #expect(zone.hooks.last == "revoke \(first.selector)")
        #expect(zone.disposed == ["\(first.recordName.relative).pem"])
        #expect(all[0].privateKeyDisposal == .destroyed)
        #expect(try registry.verifyEventChain().isIntact && registry.verifyRegister().isIntact)
    }

    /// A dry run plans each phase's steps from the keys as they are and describes them, writing
    /// nothing; the real tick that follows performs those same steps first.
    @Test func dryRunDescribesTheStepsTheTickPerforms() throws {
        let world = try World()
        func dryThenReal(at time: Date) throws -> (planned: [String], performed: [String]) {
            let head = try world.registry.eventHead()
            let (keys, hooks, disposed) = (try world.keys(), world.zone.hooks, world.zone.disposed)
            let dry = try world.engine.tick(at: time, dryRun: true)
            #expect(try world.registry.eventHead()?.id == head?.id, "a dry run wrote to the registry")
            #expect(try world.keys() == keys && world.zone.hooks == hooks && world.zone.disposed == disposed)
            let real = try world.engine.tick(at: time)
            #expect(!real.hasErrors, "\(real.slots.flatMap(\.errors))")
            return (dry.slots.flatMap(\.actions), real.slots.flatMap(\.actions))
        }

        // The slot has no key: the plan is to create one; the tick creates, publishes and proves it.
        var (planned, performed) = try dryThenReal(at: start)
        #expect(planned == ["create a ed25519-256 key (first key of the slot) and publish it"])
        let first = try #require(try world.keys().first)
        #expect(performed.first == "created \(first.selector) (first key of the slot)")

        // Published, window over: the plan is to activate; the tick activates.
        (planned, performed) = try dryThenReal(at: start.addingTimeInterval(hour))
        #expect(planned.first == "activate \(first.selector) if DNS still proves it")
        #expect(performed.first?.hasPrefix("activated \(first.selector)") == true)

        // A tick with nothing due plans nothing.
        (planned, performed) = try dryThenReal(at: start.addingTimeInterval(2 * hour))
        #expect(planned.isEmpty && performed.isEmpty)

        // After the grace period following activation: the stable TTL.
        let graceAfterActivation = start.addingTimeInterval(hour + TimeInterval(world.policy.grace.seconds))
        (planned, performed) = try dryThenReal(at: graceAfterActivation)
        #expect(planned == ["raise the TTL of \(first.selector) from 1800 to \(world.policy.stableTTL) s"])
        #expect(performed.first == "raised the TTL of \(first.selector) from 1800 to \(world.policy.stableTTL) s (stable)")
    }

    /// With `revokeAfterUnused`, a retired key that DMARC reports still show signing after its
    /// retirement is revoked only once they have been quiet that long; `next:` says why.
    /// Without it, the same evidence changes nothing.
    @Test(arguments: [true, false])
    func aRetiredKeyStillSeenSigningWaitsForQuietReports(evidenceCounts: Bool) throws {
        let world = try World(revokeAfterUnused: evidenceCounts ? TimeSpan(seconds: 3 * 86400) : nil)
        _ = try world.engine.tick(at: start)
        _ = try world.engine.tick(at: start.addingTimeInterval(hour))
        let first = try #require(try world.keys().first)
        let lead = try #require(first.expiresAt).addingTimeInterval(-TimeInterval(world.policy.lead.seconds))
        _ = try world.engine.tick(at: lead)
        _ = try world.engine.tick(at: lead.addingTimeInterval(hour))
        let retired = try #require(try world.keys().first)
        #expect(retired.state == .retired)
        let retiredAt = try #require(retired.retiredAt)

        // A receiver reports the retired key signing 5 days after its retirement.
        let seenUntil = retiredAt.addingTimeInterval(5 * day)
        var report = AggregateReport(
            reporter: "google.com", reportID: "r1", begin: seenUntil.addingTimeInterval(-day), end: seenUntil,
            policy: .init(domain: "example.org"))
        report.rows = 1
        report.messages = 12
        let sighting = DKIMSighting(
            day: Timestamp.day(report.begin), policyDomain: "example.org", headerFrom: "example.org", dkimDomain: "example.org",
            selector: retired.selector.name, result: "pass", aligned: true, reporter: "google.com")
        #expect(try world.registry.importReport(report, sightings: [sighting: SightingCount(messages: 12, sourceIPs: ["192.0.2.1"])], actor: Actor("test"), at: seenUntil))
        #expect(try world.registry.lastSighting(domain: retired.domain, selector: retired.selector) == seenUntil)

        // The grace week is over.
        let graceEnd = retiredAt.addingTimeInterval(TimeInterval(world.policy.grace.seconds))
        let atGraceEnd = try world.engine.tick(at: graceEnd)
        if !evidenceCounts {
            #expect(try world.keys().first?.state == .revoked)
            return
        }
        #expect(try world.keys().first?.state == .retired, "revoked while receivers still saw it signing")
        let slot = try #require(atGraceEnd.slots.first)
        #expect(slot.next == "revoke \(retired.selector) once DMARC reports no longer show it signing for 3d (last seen \(Timestamp.iso8601(seenUntil)))", "\(slot.next)")
        #expect(slot.nextAt == seenUntil.addingTimeInterval(3 * day))
        // Quiet for 3 days after the last sighting: revoked.
        _ = try world.engine.tick(at: seenUntil.addingTimeInterval(3 * day))
        #expect(try world.keys().first?.state == .revoked)
    }
}
