import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// Provider-managed selectors served by a test BIND: a Google Workspace TXT key in our
/// zone and a Microsoft 365 CNAME into the provider's zone. Tracked, listed, and followed
/// when the provider rotates the key behind them or moves the CNAME target.
@Suite struct TrackingTests {
    static let tsigName = "dkimctl-test"
    static let target = "selector1-example-org._domainkey.contoso.onmicrosoft.com"

    final class World {
        let scratch: TemporaryDirectory
        let named: NamedServer
        let dkimctl: DKIMCtlBinary
        let keyFile: String
        var time = Timestamp.parse("2026-11-23T10:00:00Z")!

        init(google: KeyPair, microsoft: KeyPair) throws {
            scratch = try TemporaryDirectory("tracking")
            let secret = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            keyFile = scratch.file("tsig.key")
            try "key \"\(TrackingTests.tsigName)\" { algorithm hmac-sha256; secret \"\(secret)\"; };\n"
                .write(toFile: keyFile, atomically: true, encoding: .utf8)
            named = try NamedServer(
                zones: [
                    .init("example.org", ZoneText.zone("example.org", records: [
                        ZoneText.txt("google._domainkey", "v=DKIM1; k=rsa; p=" + google.dkimPublicKey, ttl: 3600),
                        "selector1._domainkey 3600 IN CNAME \(TrackingTests.target).",
                    ]), updateKey: TrackingTests.tsigName),
                    .init("onmicrosoft.com", ZoneText.zone("onmicrosoft.com", records: [
                        ZoneText.txt("selector1-example-org._domainkey.contoso", "v=DKIM1; k=rsa; p=" + microsoft.dkimPublicKey),
                        ZoneText.txt("selector2-example-org._domainkey.contoso", "v=DKIM1; k=rsa; p=" + microsoft.dkimPublicKey),
                    ]), updateKey: TrackingTests.tsigName),
                ],
                keys: [(TrackingTests.tsigName, "hmac-sha256", secret)])
            dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"))
            #expect(try run(["init", "--owner", "team@example.org"]).status == 0)
        }

        /// dkimctl at the world's time, finding zones and servers through the test BIND.
        func run(_ arguments: [String]) throws -> ProcessResult {
            var arguments = arguments
            if ["track", "verify"].contains(arguments[0]) {
                arguments += ["--resolver", "127.0.0.1:\(named.port)", "--authoritative-port", String(named.port), "--timeout", "1"]
            }
            return try dkimctl.run(arguments, environment: ["DKIMCTL_NOW": Timestamp.iso8601(time)])
        }

        /// What a provider does when it rotates: an UPDATE in its zone.
        func update(zone: String, _ commands: [String]) throws {
            let script = (["server 127.0.0.1 \(named.port)", "zone \(zone)"] + commands + ["send"]).joined(separator: "\n") + "\n"
            let result = try ProcessRunner.run(try #require(ProcessRunner.which("nsupdate")), ["-k", keyFile], input: script)
            #expect(result.status == 0, "\(result.standardError)")
        }

        func registry() throws -> SQLRegistry {
            try SQLRegistry.open(path: scratch.file("state/registry.sqlite"), create: false)
        }

        func key(_ selector: String) throws -> RegisteredKey {
            try #require(try registry().key(selector: Selector(selector), domain: DomainName("example.org")))
        }
    }

    private func json(_ text: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    @Test func txtAndCNAMESelectorsAreTrackedAndTheirKeyChangesRecorded() throws {
        let rsa = try KeySpecification(algorithm: .rsa, bits: 2048)
        let google = try KeyPair.generate(rsa)
        let microsoft = try KeyPair.generate(rsa)
        let world = try World(google: google, microsoft: microsoft)

        // A TXT selector: the key is read from DNS.
        let tracked = try world.run([
            "track", "--domain", "example.org", "--provider", "google-workspace", "--selector", "google", "--owner", "it@example.org",
        ])
        #expect(tracked.status == 0, "\(tracked.standardOutput)\(tracked.standardError)")
        #expect(tracked.standardOutput == "tracking google._domainkey.example.org: google-workspace/default, owner it@example.org, rsa-2048 \(google.fingerprint)\n")

        // A CNAME selector: the target is recorded and followed into the provider's zone.
        let cname = try world.run([
            "track", "--domain", "example.org", "--provider", "microsoft-365", "--selector", "selector1", "--usage", "staff",
            "--format", "json",
        ])
        #expect(cname.status == 0, "\(cname.standardOutput)\(cname.standardError)")
        let cnameReport = try #require(try json(cname.standardOutput).first)
        let cnameKey = try #require(cnameReport["key"] as? [String: Any])
        #expect(cnameKey["cnameTarget"] as? String == Self.target && cnameKey["kind"] as? String == "external")
        #expect(cnameKey["fingerprint"] as? String == microsoft.fingerprint && cnameKey["usage"] as? String == "staff")
        #expect(cnameReport["change"] as? String == "tracked" && cnameReport["verdict"] as? String == "pass")
        #expect(cnameReport["warnings"] as? [String] == [])

        // Both are in the register with owner, kind and what was seen; the DNS proof applies to them.
        let listed = try json(try world.run(["list", "--format", "json"]).standardOutput)
        #expect(listed.map { $0["selector"] as? String ?? "" } == ["google", "selector1"])
        #expect(listed.map { $0["kind"] as? String ?? "" } == ["external", "external"])
        #expect(listed.map { $0["state"] as? String ?? "" } == ["active", "active"])
        #expect(listed.map { $0["owner"] as? String ?? "" } == ["it@example.org", "team@example.org"])
        #expect(listed[1]["cnameTarget"] as? String == Self.target && listed[0]["cnameTarget"] is NSNull)
        #expect(listed.allSatisfy { $0["privateKeyPath"] is NSNull && $0["lastSeenAt"] as? String == "2026-11-23T10:00:00Z" })
        let table = try world.run(["list"]).standardOutput
        #expect(table.contains("active (tracked)"))
        let shown = try world.run(["show", "selector1", "--domain", "example.org"]).standardOutput
        #expect(shown.contains("CNAME target:") && shown.contains(Self.target) && shown.contains("held by microsoft-365"), "\(shown)")
        #expect(shown.contains("key.tracked"))
        for selector in ["google", "selector1"] {
            let verified = try world.run(["verify", selector, "--domain", "example.org"])
            #expect(verified.status == 0, "\(verified.standardOutput)\(verified.standardError)")
            #expect(try world.registry().checks(forKey: world.key(selector).id, limit: 5).count >= 2)
        }

        // Nothing changed: nothing recorded but the time last seen.
        world.time.addTimeInterval(86400)
        let quiet = try world.run(["track", "--refresh"])
        #expect(quiet.status == 0)
        #expect(quiet.standardOutput == "unchanged google._domainkey.example.org: \(google.fingerprint)\nunchanged selector1._domainkey.example.org via CNAME \(Self.target): \(microsoft.fingerprint)\n")
        #expect(try world.key("google").lastSeenAt == world.time)

        // The providers rotate: Google's TXT changes in our zone, Microsoft's key changes behind the CNAME.
        let google2 = try KeyPair.generate(rsa)
        let microsoft2 = try KeyPair.generate(rsa)
        try world.update(zone: "example.org", [
            "update delete google._domainkey.example.org. TXT",
            "update add google._domainkey.example.org. 3600 TXT " + TXTRecordData(splitting: "v=DKIM1; k=rsa; p=" + google2.dkimPublicKey).quotedStrings.joined(separator: " "),
        ])
        try world.update(zone: "onmicrosoft.com", [
            "update delete \(Self.target). TXT",
            "update add \(Self.target). 3600 TXT " + TXTRecordData(splitting: "v=DKIM1; k=rsa; p=" + microsoft2.dkimPublicKey).quotedStrings.joined(separator: " "),
        ])
        // Until refreshed, the proof fails: DNS no longer serves the registered key.
        #expect(try world.run(["verify", "google", "--domain", "example.org"]).status != 0)
        world.time.addTimeInterval(86400)
        let rotated = try world.run(["track", "--refresh", "--format", "json"])
        #expect(rotated.status == 0, "\(rotated.standardOutput)\(rotated.standardError)")
        let changes = try json(rotated.standardOutput)
        #expect(changes.map { $0["change"] as? String ?? "" } == ["changed", "changed"])
        func fingerprint(_ change: [String: Any]) -> String? { (change["key"] as? [String: Any])?["fingerprint"] as? String }
        #expect(changes[0]["previousFingerprint"] as? String == google.fingerprint && fingerprint(changes[0]) == google2.fingerprint)
        #expect(changes[1]["previousFingerprint"] as? String == microsoft.fingerprint && fingerprint(changes[1]) == microsoft2.fingerprint)
        for (selector, before, after) in [("google", google, google2), ("selector1", microsoft, microsoft2)] {
            let key = try world.key(selector)
            #expect(key.fingerprint == after.fingerprint && key.publicKey == after.dkimPublicKey)
            let event = try #require(try world.registry().events(forKey: key.id).last)
            #expect(event.action == "key.external-changed")
            let details = try #require(try JSONSerialization.jsonObject(with: Data(event.details.utf8)) as? [String: String])
            #expect(details["previous_fingerprint"] == before.fingerprint && details["fingerprint"] == after.fingerprint)
            #expect(try world.run(["verify", selector, "--domain", "example.org"]).status == 0)
        }

        // Microsoft moves the CNAME to its second key: the new target is recorded.
        let target2 = Self.target.replacingOccurrences(of: "selector1-", with: "selector2-")
        try world.update(zone: "example.org", [
            "update delete selector1._domainkey.example.org. CNAME", "update add selector1._domainkey.example.org. 3600 CNAME \(target2).",
        ])
        world.time.addTimeInterval(86400)
        let moved = try world.run(["track", "--refresh", "--domain", "example.org"])
        #expect(moved.standardOutput.contains("changed selector1._domainkey.example.org: \(microsoft2.fingerprint) → \(microsoft.fingerprint) (CNAME \(Self.target) → \(target2))"), "\(moved.standardOutput)")
        #expect(try world.key("selector1").cnameTarget == target2)

        // The record disappears: attention (exit 3), the registered key is kept.
        try world.update(zone: "example.org", ["update delete google._domainkey.example.org. TXT"])
        let gone = try world.run(["track", "--refresh"])
        #expect(gone.status == 3)
        #expect(gone.standardOutput.contains("attention: google._domainkey.example.org: google._domainkey.example.org.: "), "\(gone.standardOutput)")
        #expect(try world.key("google").fingerprint == google2.fingerprint)

        // The chain still verifies after all of it.
        #expect(try world.registry().verifyEventChain().problems.isEmpty)
    }

    @Test func trackingRefusals() throws {
        let rsa = try KeySpecification(algorithm: .rsa, bits: 2048)
        let world = try World(google: try KeyPair.generate(rsa), microsoft: try KeyPair.generate(rsa))
        #expect(try world.run(["track", "--domain", "example.org", "--provider", "google-workspace", "--selector", "google"]).status == 0)
        let before = DirectorySnapshot(world.scratch.file("state"), ignoring: ["-shm"])

        let again = try world.run(["track", "--domain", "example.org", "--provider", "google-workspace", "--selector", "google"])
        #expect(again.status == 64)
        #expect(again.errorLines == ["dkimctl: error: selector 'google' of example.org is tracked already (provider google-workspace) ('dkimctl track --refresh' follows it)"])

        let missing = try world.run(["track", "--domain", "example.org", "--provider", "sendgrid", "--selector", "s1"])
        #expect(missing.status == 1)
        #expect(missing.errorLines.count == 1 && missing.standardError.contains("s1._domainkey.example.org.: "), "\(missing.standardError)")

        for command in [["activate"], ["retire"], ["revoke", "--immediately"]] {
            let refused = try world.run(command + ["google", "--domain", "example.org"])
            #expect(refused.status == 64, "\(command): \(refused.standardError)")
            #expect(refused.standardError.contains("key google of example.org is a tracked selector managed by google-workspace: "), "\(refused.standardError)")
        }
        let handoff = try world.run(["handoff", "google", "--domain", "example.org"])
        #expect(handoff.status == 64 && handoff.standardError.contains("the provider already holds its key"))
        #expect(DirectorySnapshot(world.scratch.file("state"), ignoring: ["-shm"]) == before)

        let incomplete = try world.run(["track", "--domain", "example.org", "--provider", "sendgrid"])
        #expect(incomplete.status == 64)
        #expect(incomplete.errorLines == ["dkimctl: error: track needs --domain, --provider and --selector (or --refresh)"])
    }
}
