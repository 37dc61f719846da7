import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

private let day: TimeInterval = 86400
private let hour: TimeInterval = 3600

/// `rotate` driven through simulated years against a real BIND.
@Suite(.serialized) struct RotationTests {
    /// One full year and a half: two rotations, with every step checked in the
    /// registry, in DNS, in the deploy log and on disk.
    @Test(arguments: [
        (RotationWorld.PublisherKind.rfc2136, "empty-p", false, RegistryBackend.sqlite),
        (RotationWorld.PublisherKind.zonefile, "delete", false, RegistryBackend.sqlite),
        (RotationWorld.PublisherKind.command, "empty-p", true, RegistryBackend.sqlite),
        (RotationWorld.PublisherKind.rfc2136, "delete", true, RegistryBackend.postgres),
    ])
    func simulatedYear(publisher: RotationWorld.PublisherKind, revocation: String, reveal: Bool, backend: RegistryBackend) throws {
        let domain = "example.org"
        let world = try RotationWorld(domains: [domain], zonefileDomains: publisher == .zonefile ? [domain] : [], backend: backend)
        try world.writeConfiguration(publisher, revocation: revocation, reveal: reveal)

        // Day 0: the first key is created, published, proved.
        var run = try world.rotate(at: 0)
        #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
        var keys = try world.keys(domain)
        try #require(keys.map(\.state) == [.published], "\(run.standardOutput)\(run.standardError)")
        let first = keys[0]
        #expect(first.selector.name == "self-hosted-notifications-20261123")
        #expect(world.served(first.selector.name, in: domain)?.value == first.record.text)
        #expect(world.served(first.selector.name, in: domain)?.ttl == 1800)
        #expect(run.standardOutput.contains("next: activate \(first.selector) (propagation window) at 2026-11-23T03:30:00Z"))

        // Within the propagation window (TTL 1800 s): nothing changes, DNS is not even asked.
        let beforeWait = try world.registryFingerprint()
        run = try world.rotate(at: 10 * 60)
        #expect(run.status == 0)
        #expect(try world.registryFingerprint() == beforeWait)

        // After the window: active, deploy hook run with the key file present.
        run = try world.rotate(at: hour)
        #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
        keys = try world.keys(domain)
        #expect(keys.map(\.state) == [.active])
        #expect(keys[0].expiresAt == RotationWorld.start.addingTimeInterval(hour + 182 * day))
        #expect(world.lines(world.deployLog) == ["activate \(first.selector) key-present"])

        // Idempotence: the same tick again changes nothing at all.
        let settled = try world.registryFingerprint()
        run = try world.rotate(at: hour)
        #expect(run.status == 0)
        #expect(try world.registryFingerprint() == settled)
        #expect(world.lines(world.deployLog).count == 1)

        // Dry run: says what it would do, does nothing.
        run = try world.rotate(at: 170 * day, ["--dry-run"])
        #expect(run.standardOutput.contains("would: create a ed25519-256 key (successor of \(first.selector)"))
        #expect(try world.registryFingerprint() == settled)

        // Day 7 after activation: the record gets the stable TTL.
        run = try world.rotate(at: 7 * day + 2 * hour)
        #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
        #expect(try world.keys(domain)[0].ttl == 86400)
        #expect(world.served(first.selector.name, in: domain)?.ttl == 86400)

        // Day 168 (rotation due at 182 minus 14 days' lead): the successor appears.
        run = try world.rotate(at: 168 * day + 2 * hour)
        #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
        keys = try world.keys(domain)
        try #require(keys.map(\.state) == [.active, .published])
        let second = keys[1]
        #expect(second.selector.name == "self-hosted-notifications-20270510")
        #expect(world.served(second.selector.name, in: domain)?.value == second.record.text)

        // Promoted after the window; the predecessor retired, still published.
        run = try world.rotate(at: 168 * day + 3 * hour)
        #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
        keys = try world.keys(domain)
        #expect(keys.map(\.state) == [.retired, .active])
        #expect(world.served(first.selector.name, in: domain)?.value == first.record.text)
        #expect(world.lines(world.deployLog).last == "activate \(second.selector) key-present")

        // Six days into the grace week: nothing yet.
        run = try world.rotate(at: 174 * day + 3 * hour)
        #expect(try world.keys(domain)[0].state == .retired)

        // Seven days later: revoked in DNS, deploy hook, then the private key is gone (or revealed).
        run = try world.rotate(at: 175 * day + 4 * hour)
        #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
        keys = try world.keys(domain)
        #expect(keys.map(\.state) == [.revoked, .active])
        if revocation == "delete" {
            #expect(world.served(first.selector.name, in: domain) == nil)
        } else {
            #expect(world.served(first.selector.name, in: domain)?.value == "v=DKIM1; k=ed25519; p=")
        }
        #expect(!FileManager.default.fileExists(atPath: first.privateKeyPath!))
        #expect(world.lines(world.deployLog).last == "revoke \(first.selector) key-present")
        #expect(keys[0].privateKeyDisposal == (reveal ? .revealed : .destroyed))
        if reveal {
            #expect(FileManager.default.fileExists(atPath: world.scratch.file("state/revealed/\(first.recordName.relative).pem")))
        }

        // A second full rotation, half a year later.
        run = try world.rotate(at: (168 + 182) * day + 4 * hour)
        run = try world.rotate(at: (168 + 182) * day + 5 * hour)
        run = try world.rotate(at: (175 + 182) * day + 6 * hour)
        #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
        keys = try world.keys(domain)
        #expect(keys.map(\.state) == [.revoked, .revoked, .active])
        #expect(!FileManager.default.fileExists(atPath: keys[1].privateKeyPath!))
        #expect(world.served(keys[2].selector.name, in: domain)?.value == keys[2].record.text)
        try world.checkInvariants(domain)
        if publisher == .command {
            #expect(world.lines(world.publishLog).first == "publish \(first.recordName.relative) 1800")
        }
        if publisher == .zonefile {
            // The fragment is a valid part of the zone.
            let checked = try ProcessRunner.run(
                try #require(ProcessRunner.which("named-checkzone")), [domain, world.named.directory.file("\(domain).zone")])
            #expect(checked.status == 0, "\(checked.standardOutput)")
        }
    }

    /// Two `rotate` processes at once, 20 times: exactly one successor each time.
    /// revokeAfterUnused end to end against BIND: a retired key that a DMARC report shows
    /// signing after its retirement stays published until reports are quiet for 3 days.
    @Test func aRetiredKeySeenSigningStaysUntilReportsAreQuiet() throws {
        let domain = "example.org"
        let world = try RotationWorld(domains: [domain])
        try world.writeConfiguration(.rfc2136)
        let text = try String(contentsOfFile: world.configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "  grace: 7d\n", with: "  grace: 7d\n  revokeAfterUnused: 3d\n")
            .write(toFile: world.configPath, atomically: true, encoding: .utf8)
        #expect(try world.rotate(at: 0).status == 0)
        #expect(try world.rotate(at: hour).status == 0)
        let first = try #require(try world.keys(domain).first)
        let activated = try #require(first.activatedAt).timeIntervalSince(RotationWorld.start)
        let lead = activated + 168 * day
        #expect(try world.rotate(at: lead).status == 0)
        #expect(try world.rotate(at: lead + hour).status == 0)
        let retired = try #require(try world.keys(domain).first)
        try #require(retired.state == .retired)
        let retiredAt = try #require(retired.retiredAt)

        // A receiver's report: the retired key still signs 5 days after its retirement.
        let begin = Int(retiredAt.timeIntervalSince1970) + 4 * 86400
        let report = """
            <feedback><report_metadata><org_name>google.com</org_name><report_id>late-1</report_id>
            <date_range><begin>\(begin)</begin><end>\(begin + 86400)</end></date_range></report_metadata>
            <policy_published><domain>example.org</domain><p>none</p></policy_published>
            <record><row><source_ip>192.0.2.1</source_ip><count>9</count></row><identifiers><header_from>example.org</header_from></identifiers>
            <auth_results><dkim><domain>example.org</domain><selector>\(retired.selector)</selector><result>pass</result></dkim></auth_results></record>
            </feedback>
            """
        try report.write(toFile: world.scratch.file("late.xml"), atomically: true, encoding: .utf8)
        let offset = retiredAt.timeIntervalSince(RotationWorld.start)
        let imported = try world.dkimctl.run(["reports", "import", world.scratch.file("late.xml")], environment: world.at(offset + 6 * day))
        #expect(imported.status == 0, "\(imported.standardError)")

        // Grace over: still retired and still served; the summary says why and until when.
        let seen = Date(timeIntervalSince1970: TimeInterval(begin + 86400))
        let waiting = try world.rotate(at: offset + 7 * day)
        #expect(waiting.status == 0, "\(waiting.standardOutput)\(waiting.standardError)")
        #expect(try world.keys(domain).first?.state == .retired)
        #expect(world.served(retired.selector.name, in: domain)?.value == retired.record.text)
        #expect(waiting.standardOutput.contains(
            "next: revoke \(retired.selector) once DMARC reports no longer show it signing for 3d (last seen \(Timestamp.iso8601(seen))) at \(Timestamp.iso8601(seen.addingTimeInterval(3 * day)))"),
            "\(waiting.standardOutput)")
        // Three quiet days after the last sighting: revoked, the record withdrawn (empty p=).
        let revoked = try world.rotate(at: seen.addingTimeInterval(3 * day).timeIntervalSince(RotationWorld.start))
        #expect(revoked.status == 0, "\(revoked.standardOutput)\(revoked.standardError)")
        #expect(try world.keys(domain).first?.state == .revoked)
        #expect(world.served(retired.selector.name, in: domain)?.value == "v=DKIM1; k=ed25519; p=")
        try world.checkInvariants(domain)
    }

    @Test(arguments: RegistryBackend.allCases)
    func concurrentRunsCreateOneSuccessor(backend: RegistryBackend) throws {
        let domains = (0..<20).map { "c\($0).example" }
        let world = try RotationWorld(domains: domains, backend: backend)
        try world.writeConfiguration(.rfc2136, deploy: false)
        for domain in domains {
            let created = try world.dkimctl.run(
                ["new", "--domain", domain, "--provider", "self-hosted", "--usage", "notifications", "--algorithm", "ed25519"],
                environment: world.at(0))
            #expect(created.status == 0)
            let selector = try world.keys(domain)[0].selector.name
            #expect(try world.dkimctl.run(["activate", selector, "--domain", domain, "--force"], environment: world.at(0)).status == 0)
        }
        for domain in domains {
            let processes = try (0..<2).map { _ in
                try ProcessRunner.start(
                    world.dkimctl.path,
                    ["rotate", "--config", world.configPath, "--domain", domain, "--state-dir", world.dkimctl.stateDirectory],
                    environment: world.dkimctl.environment.merging(world.at(170 * day)) { $1 })
            }
            let results = processes.map { $0.wait() }
            #expect(results.map(\.status) == [0, 0], "\(results.map(\.standardError))")
            let keys = try world.keys(domain)
            #expect(keys.map(\.state) == [.active, .published], "\(domain): \(keys.map(\.state))")
        }
        #expect(try world.registry().verifyEventChain().problems.isEmpty)
    }

    /// A held lock makes a second run wait, then give up with exit 75.
    @Test func heldLockMakesASecondRunGiveUp() throws {
        let world = try RotationWorld(domains: ["example.org"])
        try world.writeConfiguration(.rfc2136, deploy: false)
        let lock = try RotationLock.acquire(path: world.scratch.file("state/rotate.lock"), wait: 0)
        let run = try world.rotate(at: 0, ["--lock-wait", "0.3"])
        #expect(run.status == 75)
        #expect(run.errorLines.count == 1)
        #expect(run.errorLines.first?.contains("another dkimctl run (pid \(getpid())) is rotating keys") == true)
        #expect(try world.keys("example.org").isEmpty)
        withExtendedLifetime(lock) {}
    }

    /// Abort at every fault-injection point, resume, and end where an uninterrupted run ends.
    @Test func crashAtEveryStepResumes() throws {
        let points = FaultInjection.points
        let domains = ["baseline.example"] + points.indices.map { "fault\($0).example" }
        let world = try RotationWorld(domains: domains)
        try world.writeConfiguration(.rfc2136)
        let timeline: [TimeInterval] = [0, hour, 168 * day + 2 * hour, 168 * day + 3 * hour, 175 * day + 4 * hour]
        // Per domain: the final keys as (selector, state, disposal, last push).
        func shape(_ domain: String) throws -> [String] {
            try world.keys(domain).map {
                "\($0.selector.name.replacingOccurrences(of: domain, with: "")) \($0.state) \($0.privateKeyDisposal?.rawValue ?? "-") \($0.publication?.action.rawValue ?? "-") \($0.pendingDeploy?.rawValue ?? "-")"
            }
        }
        for time in timeline {
            #expect(try world.rotate(at: time, ["--domain", "baseline.example"]).status == 0)
        }
        let expected = try shape("baseline.example")
        #expect(expected.count == 2)
        for (index, point) in points.enumerated() {
            let domain = "fault\(index).example"
            var crashed = false
            for time in timeline {
                if !crashed {
                    let faulty = try world.rotate(at: time, ["--domain", domain], environment: ["DKIMCTL_FAULT": point])
                    if faulty.status != 0 {
                        crashed = true
                        #expect(faulty.standardError.contains("fault injected at '\(point)'"), "\(point): \(faulty.standardError)")
                        try world.checkInvariants(domain)
                    } else {
                        continue
                    }
                }
                let resumed = try world.rotate(at: time, ["--domain", domain])
                #expect(resumed.status == 0, "\(point) at \(time): \(resumed.standardOutput)\(resumed.standardError)")
                try world.checkInvariants(domain)
            }
            #expect(crashed, "the fault point \(point) was never reached")
            #expect(try shape(domain) == expected, "after a crash at \(point)")
            // No stray key file: everything in keys/ for this domain belongs to a registered, unrevoked key.
            let files = (try FileManager.default.contentsOfDirectory(atPath: world.scratch.file("state/keys"))).filter { $0.hasSuffix(domain + ".pem") }
            #expect(files.count == 1, "\(point): \(files)")
        }
    }
}
