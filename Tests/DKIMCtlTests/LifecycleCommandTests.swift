import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

private let day: TimeInterval = 86400
private let hour: TimeInterval = 3600

/// `config`, `retire`, `revoke`, `rotate --emergency` and `scheduler`, as users run them.
@Suite(.serialized) struct LifecycleCommandTests {
    /// Each bad configuration: one error line naming the place, exit 64, and nothing written.
    @Test(arguments: [
        ("unknown key", "defaults: { owner: a@example.org, graze: 7d }\n", "defaults.graze: unknown key 'graze'"),
        ("wrong type", "defaults: { owner: a@example.org, reveal: sometimes }\n", "defaults.reveal: wrong type (expected true or false)"),
        ("unknown provider", "domains:\n  example.org:\n    slots: [ { provider: sparkpost } ]\n", "unknown provider 'sparkpost'"),
        ("missing secret file",
         "domains:\n  example.org:\n    publisher: { type: rfc2136, server: 127.0.0.1, tsig: { name: k, secretFile: /nonexistent/tsig.key } }\n",
         "TSIG secret file /nonexistent/tsig.key does not exist"),
        ("unsafe secret mode",
         "domains:\n  example.org:\n    publisher: { type: rfc2136, server: 127.0.0.1, tsig: { name: k, secretFile: SECRET } }\n",
         "(allowed: 600 or stricter; fix: chmod 600"),
        ("short revokeAfterUnused",
         "defaults: { owner: a@example.org, revokeAfterUnused: 2h }\ndomains:\n  example.org:\n    slots: [ { provider: self-hosted } ]\n",
         "defaults.revokeAfterUnused: revokeAfterUnused 2h is shorter than the day an aggregate report covers (allowed: 1d or more)"),
        ("short retention", "reports: { retention: 3d }\n",
         "reports.retention: retention 3d is shorter than a week (allowed: 7d or more; revokeAfterUnused and the audit read the reports)"),
        ("missing publisher command",
         "domains:\n  example.org:\n    publisher: { type: command, command: /usr/local/bin/no-such-dns-hook }\n",
         "publisher command '/usr/local/bin/no-such-dns-hook' was not found"),
    ])
    func badConfigurationIsRefusedAndNothingIsDone(_ name: String, yaml: String, expected: String) throws {
        let scratch = try TemporaryDirectory()
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"))
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        try "key \"k\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; };\n".write(toFile: scratch.file("secret"), atomically: true, encoding: .utf8)
        chmod(scratch.file("secret"), 0o644)
        let config = scratch.file("state/dkimctl.yaml")
        try yaml.replacingOccurrences(of: "SECRET", with: scratch.file("secret")).write(toFile: config, atomically: true, encoding: .utf8)
        let before = DirectorySnapshot(scratch.file("state"), ignoring: ["-shm"])
        for command in [["config", "check"], ["rotate"], ["rotate", "--dry-run"]] {
            let run = try dkimctl.run(command)
            #expect(run.status == 64, "\(name) \(command): \(run.standardError)")
            #expect(run.errorLines.count == 1, "\(name) \(command): \(run.standardError)")
            #expect(run.errorLines.first?.hasPrefix("dkimctl: error: ") == true && run.errorLines.first?.contains("/state/dkimctl.yaml:") == true, "\(run.standardError)")
            #expect(run.errorLines.first?.contains(expected) == true, "\(name): \(run.standardError)")
            #expect(run.standardOutput.isEmpty)
        }
        #expect(DirectorySnapshot(scratch.file("state"), ignoring: ["-shm"]) == before)
    }

    @Test func configInitWritesACheckedExampleAndNeverOverwrites() throws {
        let scratch = try TemporaryDirectory()
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"))
        #expect(try dkimctl.run(["init"]).status == 0)
        #expect(try dkimctl.run(["config", "init"]).status == 0)
        let checked = try dkimctl.run(["config", "check"])
        #expect(checked.status == 0)
        #expect(checked.standardOutput.contains("mailgun/notifications: owner mail-team@example.org, rsa-2048, rotation 182d, lead 14d, grace 7d, ttl 1800→86400, revocation empty-p"))
        // The example loads as written, with the values its comments promise.
        let configuration = try ConfigurationFile.parse(String(contentsOfFile: scratch.file("state/dkimctl.yaml"), encoding: .utf8))
        #expect(configuration.domains.map(\.domain.ascii) == ["example.org"])
        let slots = configuration.slots
        #expect(slots.map { "\($0.provider)/\($0.usage)" } == ["mailgun/notifications", "self-hosted/support"])
        #expect(slots[1].owner.address == "helpdesk@example.org")
        #expect(slots[0].owner.address == "mail-team@example.org")
        #expect(slots[0].rotation.seconds == 182 * 86400 && slots[0].lead.seconds == 14 * 86400 && slots[0].grace.seconds == 7 * 86400)
        #expect(slots[0].ttl == 1800 && slots[0].stableTTL == 86400 && slots[0].revocation == .emptyP)
        let again = try dkimctl.run(["config", "init"])
        #expect(again.status == 64)
        #expect(again.errorLines.first?.contains("already exists; refusing to overwrite it") == true)
        let missing = try dkimctl.run(["rotate", "--config", scratch.file("none.yaml")])
        #expect(missing.status == 1)
        #expect(missing.errorLines == ["dkimctl: error: no configuration at \(scratch.file("none.yaml")); write one with 'dkimctl config init' (or pass --config), or define slots with 'dkimctl slot add'"])
    }

    @Test(arguments: RegistryBackend.allCases)
    func retireRevokeAndEmergency(backend: RegistryBackend) throws {
        let world = try RotationWorld(domains: ["example.org"], backend: backend)
        try world.writeConfiguration(.rfc2136)
        #expect(try world.rotate(at: 0).status == 0)
        #expect(try world.rotate(at: hour).status == 0)
        let first = try #require(try world.keys("example.org").first)
        #expect(first.state == .active)
        let reference = [first.selector.name, "--domain", "example.org", "--config", world.configPath]

        // The active key is not revoked by accident.
        let refused = try world.dkimctl.run(["revoke"] + reference, environment: world.at(2 * hour))
        #expect(refused.status == 64)
        #expect(refused.errorLines.first?.contains("is the active key of its slot; pass --immediately") == true)

        // Emergency: successor created and published, compromised key revoked at once, file destroyed.
        let emergency = try world.rotate(at: 2 * hour, ["--emergency", first.selector.name, "--domain", "example.org", "--reason", "key leaked"])
        #expect(emergency.status == 0, "\(emergency.standardOutput)\(emergency.standardError)")
        #expect(emergency.standardError.contains("The slot has no active key: mail for self-hosted/notifications goes unsigned until the successor is proved"))
        var keys = try world.keys("example.org")
        #expect(keys.map(\.state) == [.revoked, .published])
        #expect(keys[0].revocationReason == "compromised: key leaked")
        #expect(world.served(first.selector.name, in: "example.org")?.value == "v=DKIM1; k=ed25519; p=")
        #expect(!FileManager.default.fileExists(atPath: first.privateKeyPath!))
        #expect(world.lines(world.deployLog).last == "revoke \(first.selector) key-present")
        // The successor takes over on the next tick after its window.
        #expect(try world.rotate(at: 3 * hour).status == 0)
        keys = try world.keys("example.org")
        #expect(keys.map(\.state) == [.revoked, .active])
        let second = keys[1]

        // Retire by hand: the slot stops signing; the record stays for the grace week.
        let retired = try world.dkimctl.run(["retire", second.selector.name, "--domain", "example.org", "--config", world.configPath, "--reason", "route closed"], environment: world.at(4 * hour))
        #expect(retired.status == 0, "\(retired.standardError)")
        #expect(retired.standardError.contains("is still configured: the next 'dkimctl rotate' creates a new key for it"))
        #expect(world.lines(world.deployLog).last == "retire \(second.selector) key-present")
        #expect(try world.keys("example.org")[1].state == .retired)
        // Within the grace week, revoke needs --immediately; after it, it just works.
        let early = try world.dkimctl.run(["revoke"] + [second.selector.name, "--domain", "example.org", "--config", world.configPath], environment: world.at(5 * hour))
        #expect(early.status == 64)
        #expect(early.errorLines.first?.contains("is within its grace period until") == true)
        let late = try world.dkimctl.run(["revoke"] + [second.selector.name, "--domain", "example.org", "--config", world.configPath], environment: world.at(8 * day))
        #expect(late.status == 0, "\(late.standardError)")
        #expect(try world.keys("example.org")[1].state == .revoked)
        #expect(world.served(second.selector.name, in: "example.org")?.value == "v=DKIM1; k=ed25519; p=")
        #expect(!FileManager.default.fileExists(atPath: second.privateKeyPath!))
        try world.checkInvariants("example.org")
    }

    @Test func schedulerTicksAndStopsCleanlyOnSIGTERM() throws {
        let world = try RotationWorld(domains: ["example.org"])
        try world.writeConfiguration(.rfc2136)
        let scheduler = try ProcessRunner.start(
            world.dkimctl.path,
            ["scheduler", "--interval", "1s", "--config", world.configPath, "--state-dir", world.dkimctl.stateDirectory],
            environment: world.dkimctl.environment)
        // Wait for the first key to appear and be published.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? world.keys("example.org").first?.state) != .published { usleep(100_000) }
        scheduler.signal(SIGTERM)
        let result = scheduler.wait()
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("scheduler started"))
        #expect(result.standardError.contains("tick done"))
        #expect(result.standardError.contains("scheduler stopping on request"))
        #expect(try world.keys("example.org").map(\.state) == [.published])
        try world.checkInvariants("example.org")
    }

    /// A failing publisher is an error (exit 1) retried on the next run; a key that DNS never
    /// shows needs attention (exit 3) once `attentionAfter` has passed.
    @Test func failedPushIsRetriedAndInvisibleKeyNeedsAttention() throws {
        let world = try RotationWorld(domains: ["example.org"])
        let hook = world.scratch.file("flaky-hook.sh")
        // Fails until the flag file exists; then succeeds without publishing anything.
        try "#!/bin/sh\n[ -f \(world.scratch.file("flag")) ] || { echo 'DNS API unreachable' >&2; exit 7; }\necho accepted\n"
            .write(toFile: hook, atomically: true, encoding: .utf8)
        chmod(hook, 0o755)
        try """
            defaults: { owner: team@example.org, algorithm: ed25519, attentionAfter: 2d }
            dns: { nameservers: ["\(world.nameserver)"], timeout: 1, retries: 0 }
            domains:
              example.org:
                publisher: { type: command, command: "\(hook)" }
                slots: [ { provider: "custom:crm", usage: noreply } ]
            """.write(toFile: world.configPath, atomically: true, encoding: .utf8)
        let failed = try world.rotate(at: 0)
        #expect(failed.status == 1)
        #expect(failed.standardOutput.contains("error: publish of crm-noreply-20261123 via command \(hook) failed (retried on the next run): publisher command '\(hook)' failed for publish crm-noreply-20261123._domainkey.example.org: exit 7: DNS API unreachable"), "\(failed.standardOutput)")
        #expect(try world.keys("example.org").map(\.publication) == [nil])

        FileManager.default.createFile(atPath: world.scratch.file("flag"), contents: nil)
        let retried = try world.rotate(at: hour)
        #expect(retried.status == 0, "\(retried.standardOutput)")
        #expect(retried.standardOutput.contains("published the record of crm-noreply-20261123 via command \(hook): exit 0: accepted"))
        #expect(try world.keys("example.org").first?.publication?.action == .publish)

        let late = try world.rotate(at: 3 * day)
        #expect(late.status == 3, "\(late.standardOutput)")
        #expect(late.standardOutput.contains("attention: crm-noreply-20261123 is still not visible in DNS 2d 23h after it was pushed (127.0.0.1:\(world.named.port): NXDOMAIN"), "\(late.standardOutput)")
        let json = try world.rotate(at: 3 * day, ["--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        #expect(report["exit_status"] as? Int == 3)
        let slot = try #require((report["slots"] as? [[String: Any]])?.first)
        #expect(slot["provider"] as? String == "custom:crm" && slot["usage"] as? String == "noreply")
        #expect((slot["attention"] as? [String])?.count == 1)
    }

    /// A TSIG secret the server does not know: the UPDATE is refused, said plainly, nothing recorded as pushed.
    @Test func wrongTSIGSecretIsReported() throws {
        let world = try RotationWorld(domains: ["example.org"])
        try world.writeConfiguration(.rfc2136, deploy: false)
        let wrong = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try "key \"\(RotationWorld.tsigName)\" { algorithm hmac-sha256; secret \"\(wrong)\"; };\n"
            .write(toFile: world.keyFile, atomically: true, encoding: .utf8)
        chmod(world.keyFile, 0o600)
        let run = try world.rotate(at: 0)
        #expect(run.status == 1)
        #expect(run.standardOutput.contains("refused TSIG key \(RotationWorld.tsigName) (hmac-sha256): wrong secret, algorithm or key name"), "\(run.standardOutput)")
        #expect(try world.keys("example.org").map(\.publication) == [nil])
        #expect(world.served("self-hosted-notifications-20261123", in: "example.org") == nil)
    }
}
