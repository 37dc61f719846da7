import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// Slots defined in the registry (`dkimctl slot add|set|remove|list|import`): rotated like the
/// configuration file's against BIND, checked by the same rules, and as tamper-evident as keys.
@Suite struct SlotDefinitionTests {
    static let now = ["DKIMCTL_NOW": "2026-11-23T10:00:00Z"]

    func world() throws -> (TemporaryDirectory, DKIMCtlBinary) {
        let scratch = try TemporaryDirectory("slots")
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"), environment: Self.now)
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        return (scratch, dkimctl)
    }

    func listed(_ dkimctl: DKIMCtlBinary, _ extra: [String] = []) throws -> [[String: Any]] {
        let result = try dkimctl.run(["slot", "list", "--format", "json"] + extra)
        #expect(result.status == 0, "\(result.standardError)")
        return try result.standardOutput.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// Registry slots beside the file's, against BIND over simulated time: the file's domain lends its
    /// publisher, another domain uses `registrySlots:`, a slot named by both follows the file, the
    /// registry's own rotation drives the successor, and a removed slot stops rotating.
    @Test(arguments: RegistryBackend.allCases)
    func registrySlotsAreRotatedLikeTheFilesSlots(backend: RegistryBackend) throws {
        let world = try RotationWorld(domains: ["a.example", "b.example"], backend: backend)
        let dkimctl = world.dkimctl
        try world.writeConfiguration(.rfc2136)
        // b.example is not in the file: its slots publish through registrySlots:.
        var text = try String(contentsOfFile: world.configPath, encoding: .utf8)
        text = text.replacingOccurrences(of: "  b.example:\n    publisher: \(world.publisherYAML(.rfc2136, domain: "b.example"))\n    deploy: \"\(world.scratch.file("deploy.sh"))\"\n    slots:\n      - { provider: self-hosted, usage: notifications }\n", with: "")
        text += "registrySlots:\n  publisher: \(world.publisherYAML(.rfc2136, domain: "b.example"))\n  deploy: \"\(world.scratch.file("deploy.sh"))\"\n"
        try text.write(toFile: world.configPath, atomically: true, encoding: .utf8)
        #expect(!text.contains("b.example"), "b.example is the registry's alone")

        func slot(_ arguments: [String]) throws -> ProcessResult {
            try dkimctl.run(["slot"] + arguments + (arguments[0] == "remove" ? [] : ["--config", world.configPath]), environment: world.at(0))
        }
        for arguments in [
            ["add", "--domain", "a.example", "--provider", "self-hosted", "--usage", "support", "--rotation", "30d"],
            ["add", "--domain", "a.example", "--provider", "self-hosted", "--usage", "notifications", "--rotation", "60d"],
            ["add", "--domain", "b.example", "--provider", "self-hosted", "--usage", "noreply", "--owner", "ops@example.org"],
        ] {
            let added = try slot(arguments)
            #expect(added.status == 0, "\(added.standardError)")
        }
        #expect(try slot(["list"]).standardOutput.contains("the configuration file's policy applies"))
        #expect(try listed(dkimctl, ["--config", world.configPath]).map { $0["definedInFileToo"] as? Bool } == [true, false, false])

        let first = try world.rotate(at: 0)
        #expect(first.status == 0, "\(first.standardOutput)\(first.standardError)")
        let second = try world.rotate(at: 3600)
        #expect(second.status == 0, "\(second.standardOutput)\(second.standardError)")
        let activation = RotationWorld.start.addingTimeInterval(3600)
        func active(_ domain: String, _ usage: String) throws -> RegisteredKey? {
            try world.keys(domain).first { $0.usage.name == usage && $0.state == .active }
        }
        let support = try #require(try active("a.example", "support"))
        #expect(support.expiresAt == activation.addingTimeInterval(30 * 86400), "the registry's rotation")
        let notifications = try #require(try active("a.example", "notifications"))
        #expect(notifications.expiresAt == activation.addingTimeInterval(182 * 86400), "the file's slot wins over the registry's 60d")
        let noreply = try #require(try active("b.example", "noreply"))
        #expect(noreply.owner.address == "ops@example.org" && noreply.algorithm == .ed25519, "owner given, algorithm from defaults:")
        for (domain, key) in [("a.example", support), ("b.example", noreply)] {
            #expect(world.served(key.selector.name, in: domain) != nil, "\(key.selector) is served by BIND")
        }
        #expect(world.lines(world.deployLog).contains { $0.hasPrefix("activate \(noreply.selector)") }, "registrySlots' deploy hook ran")

        // Day 17: 30d - 14d lead has passed for support, not for the others.
        #expect(try world.rotate(at: 17 * 86400).status == 0)
        #expect(try world.keys("a.example").filter { $0.usage.name == "support" }.count == 2)
        #expect(try world.keys("a.example").filter { $0.usage.name == "notifications" }.count == 1)

        // Removing a slot whose key is active is refused, and allowed with --keep-keys.
        let refused = try slot(["remove", "--domain", "b.example", "--provider", "self-hosted", "--usage", "noreply"])
        #expect(refused.status == 64)
        #expect(refused.errorLines == [
            "dkimctl: error: slot b.example self-hosted/noreply has 1 key(s) pending, published or active: removing its definition would stop rotating them (retire or revoke them first, or keep them with 'dkimctl slot remove --domain DOMAIN --provider PROVIDER --usage USAGE --keep-keys')"
        ], "\(refused.standardError)")
        let kept = try slot(["remove", "--domain", "b.example", "--provider", "self-hosted", "--usage", "noreply", "--keep-keys"])
        #expect(kept.status == 0 && kept.standardOutput == "removed b.example self-hosted/noreply from the registry's slots\n")
        #expect(kept.standardError.contains("1 key(s) of the slot stay registered and no longer rotate"), "\(kept.standardError)")
        // Past its rotation date: nothing rotates a slot nobody defines any more.
        let late = try world.rotate(at: 200 * 86400)
        #expect(!late.standardOutput.contains("b.example self-hosted/noreply"), "\(late.standardOutput)")
        #expect(try world.keys("b.example").count == 1)
        #expect(try listed(dkimctl).count == 2)

        let verified = try dkimctl.run(["audit", "verify"])
        #expect(verified.status == 0, "\(verified.standardOutput)\(verified.standardError)")
        let events = try dkimctl.run(["audit", "events", "--format", "csv"]).standardOutput
        for action in ["slot.defined", "slot.removed"] { #expect(events.contains(action)) }
    }

    @Test func setChangesOnlyWhatIsGivenAndLogsBeforeAndAfter() throws {
        let (scratch, dkimctl) = try world()
        defer { withExtendedLifetime(scratch) {} }
        let name = ["--domain", "example.org", "--provider", "mailgun", "--usage", "notifications"]
        #expect(try dkimctl.run(["slot", "add"] + name + ["--rotation", "90d", "--from-domain", "example.org", "--from-domain", "news.example.org"]).status == 0)
        let changed = try dkimctl.run(["slot", "set"] + name + ["--grace", "14d", "--unset", "rotation", "--owner", "ops@example.org"])
        #expect(changed.status == 0, "\(changed.standardError)")
        #expect(changed.standardOutput == "changed example.org mailgun/notifications: owner team@example.org → ops@example.org, rotation 90d → (default), grace (default) → 14d\n")
        let row = try #require(try listed(dkimctl).first)
        #expect(row["rotation"] == nil && row["grace"] as? String == "14d" && row["owner"] as? String == "ops@example.org")
        #expect(row["fromDomains"] as? [String] == ["example.org", "news.example.org"])
        let again = try dkimctl.run(["slot", "set"] + name + ["--grace", "14d"])
        #expect(again.standardOutput == "example.org mailgun/notifications unchanged\n")
        let events = try dkimctl.run(["audit", "events", "--format", "json"]).standardOutput
        let change = try #require(events.split(separator: "\n").first { $0.contains("\"slot.changed\"") })
        for fragment in ["\\\"grace\\\":\\\"14d\\\"", "\\\"previous_rotation\\\":\\\"90d\\\"", "\\\"rotation\\\":\\\"(default)\\\""] {
            #expect(change.contains(fragment.replacingOccurrences(of: "\\\\", with: "\\")), "\(change)")
        }
        #expect(try dkimctl.run(["audit", "verify"]).status == 0)
    }

    @Test(arguments: [
        (["add", "--domain", "exa_mple.org", "--provider", "mailgun"], "dkimctl: error: domain 'exa_mple.org'"),
        (["add", "--domain", "example.org", "--provider", "mailchimp"], "dkimctl: error: unknown provider 'mailchimp' (allowed: mailgun,"),
        (["add", "--domain", "example.org", "--provider", "mailgun", "--rotation", "1x"], "dkimctl: error: --rotation: duration '1x' is not valid"),
        (["add", "--domain", "example.org", "--provider", "mailgun", "--lead", "200d"], "dkimctl: error: --lead: lead 200d must be shorter than the rotation period 182d"),
        (["add", "--domain", "example.org", "--provider", "mailgun", "--bits", "512"], "dkimctl: error: --bits: "),
        (["add", "--domain", "example.org", "--provider", "amazon-ses", "--algorithm", "ed25519"], "dkimctl: error: --algorithm: "),
        (["add", "--domain", "example.org", "--provider", "mailgun", "--ttl", "5"], "dkimctl: error: --ttl: "),
        (["add", "--domain", "example.org", "--provider", "mailgun", "--revocation", "maybe"], "dkimctl: error: --revocation: revocation 'maybe' is not known (allowed: "),
        (["add", "--domain", "example.org", "--provider", "mailgun", "--from-domain", "bad_domain"], "dkimctl: error: --from-domain: "),
        (["add", "--domain", "example.org", "--provider", "mailgun", "--revoke-after-unused", "1h"], "dkimctl: error: --revoke-after-unused: revokeAfterUnused 1h is shorter than the day"),
        (["add", "--domain", "defined.example", "--provider", "mailgun"], "dkimctl: error: slot defined.example mailgun/default is already defined in the registry"),
        (["set", "--domain", "example.org", "--provider", "mailgun", "--grace", "1d"], "dkimctl: error: slot example.org mailgun/default is not defined in the registry (see 'dkimctl slot list')"),
        (["set", "--domain", "defined.example", "--provider", "mailgun", "--unset", "provider"], "dkimctl: error: --unset 'provider' is not an option a slot sets (allowed: algorithm, bits, rotation,"),
        (["set", "--domain", "defined.example", "--provider", "mailgun", "--rotation", "0d"], "dkimctl: error: --rotation: "),
        (["remove", "--domain", "example.org", "--provider", "mailgun"], "dkimctl: error: slot example.org mailgun/default is not defined in the registry"),
    ])
    func badInputIsOneLineAndWritesNothing(_ arguments: [String], _ message: String) throws {
        let (scratch, dkimctl) = try world()
        defer { withExtendedLifetime(scratch) {} }
        #expect(try dkimctl.run(["slot", "add", "--domain", "defined.example", "--provider", "mailgun"]).status == 0)
        let before = DirectorySnapshot(scratch.file("state"), ignoring: ["-shm"])
        let result = try dkimctl.run(["slot"] + arguments)
        #expect(result.status == 64 || result.status == 1, "\(result.standardOutput)\(result.standardError)")
        #expect(result.errorLines.count == 1 && result.errorLines.first?.hasPrefix(message) == true, "\(result.standardError)")
        #expect(DirectorySnapshot(scratch.file("state"), ignoring: ["-shm"]) == before)
    }

    @Test func importDefinesAllOrNothingAndReadsWhatListWrites() throws {
        let (scratch, dkimctl) = try world()
        defer { withExtendedLifetime(scratch) {} }
        let good = """
            {"domain": "a.example", "provider": "mailgun", "usage": "notifications", "rotation": "90d"}

            {"domain": "b.example", "provider": "self-hosted", "algorithm": "ed25519", "reveal": true, "ttl": 600, "fromDomains": ["b.example"]}
            """
        for (name, bad, message) in [
            ("unknown", "{\"domain\": \"c.example\", \"provider\": \"mailgun\", \"graze\": \"7d\"}", ":4: unknown key 'graze' (allowed: domain, provider,"),
            ("type", "{\"domain\": \"c.example\", \"provider\": \"mailgun\", \"ttl\": \"600\"}", ":4: ttl: expected a whole number"),
            ("rule", "{\"domain\": \"c.example\", \"provider\": \"mailgun\", \"rotation\": \"2x\"}", ":4: rotation: duration '2x' is not valid"),
            ("twice", "{\"domain\": \"a.example\", \"provider\": \"mailgun\", \"usage\": \"notifications\"}", ":4: slot a.example mailgun/notifications is already on line 1"),
            ("not json", "domain=c.example", ":4: not a JSON object"),
        ] {
            let file = scratch.file("\(name).jsonl")
            try (good + "\n" + bad + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let before = DirectorySnapshot(scratch.file("state"), ignoring: ["-shm"])
            let result = try dkimctl.run(["slot", "import", file])
            #expect(result.status == 64, "\(name): \(result.standardError)")
            #expect(result.errorLines.count == 1 && result.errorLines.first?.hasPrefix("dkimctl: error: \(file)\(message)") == true, "\(name): \(result.standardError)")
            #expect(DirectorySnapshot(scratch.file("state"), ignoring: ["-shm"]) == before, "\(name): nothing written")
        }
        try good.write(toFile: scratch.file("good.jsonl"), atomically: true, encoding: .utf8)
        let imported = try dkimctl.run(["slot", "import", scratch.file("good.jsonl")])
        #expect(imported.status == 0 && imported.standardOutput == "defined 2 slot(s)\n", "\(imported.standardError)")
        let again = try dkimctl.run(["slot", "import", scratch.file("good.jsonl")])
        #expect(again.errorLines == ["dkimctl: error: slot a.example mailgun/notifications is already defined in the registry"])

        // --update: a changed line changes its slot, an unchanged one is left, a new one is defined.
        let sync = good.replacingOccurrences(of: "\"rotation\": \"90d\"", with: "\"rotation\": \"60d\"")
            + "\n{\"domain\": \"c.example\", \"provider\": \"mailgun\"}\n"
        try sync.write(toFile: scratch.file("sync.jsonl"), atomically: true, encoding: .utf8)
        let updated = try dkimctl.run(["slot", "import", "--update", scratch.file("sync.jsonl")])
        #expect(updated.status == 0 && updated.standardOutput == "defined 1 slot(s), changed 1, unchanged 1\n", "\(updated.standardOutput)\(updated.standardError)")
        let changes = try dkimctl.run(["audit", "events", "--format", "json"]).standardOutput.split(separator: "\n").filter { $0.contains("\"slot.changed\"") }
        #expect(changes.count == 1 && changes.first?.contains("previous_rotation") == true, "\(changes)")
        #expect(try listed(dkimctl).first?["rotation"] as? String == "60d")
        #expect(try dkimctl.run(["slot", "import", "--update", scratch.file("sync.jsonl")]).standardOutput == "defined 0 slot(s), changed 0, unchanged 3\n")

        // What list writes, import reads: a second registry ends up with the same slots.
        let exported = try dkimctl.run(["slot", "list", "--format", "json"]).standardOutput
        try exported.write(toFile: scratch.file("exported.jsonl"), atomically: true, encoding: .utf8)
        let other = DKIMCtlBinary(stateDirectory: scratch.file("other"), environment: ["DKIMCTL_NOW": "2026-12-01T00:00:00Z"])
        #expect(try other.run(["init", "--owner", "someone@example.net"]).status == 0)
        #expect(try other.run(["slot", "import", scratch.file("exported.jsonl")]).status == 0)
        let csv = { (binary: DKIMCtlBinary) in
            try binary.run(["slot", "list", "--format", "csv"]).standardOutput.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(5).joined(separator: ",") }
        }
        #expect(try csv(other) == (try csv(dkimctl)))
        #expect(try csv(dkimctl).contains("b.example,self-hosted,default,team@example.org,algorithm=ed25519 ttl=600 reveal=true fromDomains=b.example"))
    }

    /// A definition edited with sqlite3 is named by `audit verify`; a value no slot may have is a
    /// one-line error naming the registry slot, for every command that reads the slots.
    @Test(arguments: [
        ("UPDATE slot_definition SET rotation = '3650d';",
         "slot_definition row 1 (slot 1): rotation is '3650d' but the event log says '90d'"),
        ("UPDATE slot_definition SET removed_at = '2026-11-23 11:00:00.000';",
         "slot_definition row 1 (slot 1): removed_at is '2026-11-23 11:00:00.000' but the event log says NULL"),
        ("DELETE FROM slot_definition;", "slot_definition row 1 is in the event log but no longer in the register: it was deleted"),
        ("INSERT INTO slot (domain, provider, usage, owner, created_at) VALUES ('evil.example', 'mailgun', 'default', 'x@evil.example', '2026-11-23 10:00:00.000');"
            + " INSERT INTO slot_definition (slot_id, defined_at, changed_at) VALUES (2, '2026-11-23 10:00:00.000', '2026-11-23 10:00:00.000');",
         "slot row 2 (mailgun default of evil.example) is recorded by no event: it was inserted outside dkimctl"),
    ])
    func anEditedDefinitionIsNamed(_ sql: String, _ problem: String) throws {
        let (scratch, dkimctl) = try world()
        defer { withExtendedLifetime(scratch) {} }
        #expect(try dkimctl.run(["slot", "add", "--domain", "example.org", "--provider", "mailgun", "--rotation", "90d"]).status == 0)
        try RegistryTampering.run(sql, on: scratch.file("state/registry.sqlite"))
        let verify = try dkimctl.run(["audit", "verify", "--format", "json"])
        #expect(verify.status == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(verify.standardOutput.utf8)) as? [String: Any])
        let problems = try #require((report["register"] as? [String: Any])?["problems"] as? [String])
        #expect(problems.first == problem || problems.first?.hasPrefix(problem) == true, "\(problems)")
    }

    @Test(arguments: [
        ("UPDATE slot_definition SET rotation = 'soon';", "dkimctl: error: registry slot example.org mailgun/default: rotation: duration 'soon' is not valid"),
        ("UPDATE slot_definition SET bits = 'many';", "dkimctl: error: registry table slot_definition, row 1, column bits: 'many' is not an integer"),
        ("UPDATE slot SET domain = 'bad_domain';", "dkimctl: error: registry table slot_definition, row 1: domain 'bad_domain'"),
    ])
    func aDefinitionNoSlotMayHaveIsAOneLineErrorNamingIt(_ sql: String, _ message: String) throws {
        let (scratch, dkimctl) = try world()
        defer { withExtendedLifetime(scratch) {} }
        #expect(try dkimctl.run(["slot", "add", "--domain", "example.org", "--provider", "mailgun", "--rotation", "90d"]).status == 0)
        try RegistryTampering.run(sql, on: scratch.file("state/registry.sqlite"))
        for command in [["rotate", "--dry-run"], ["audit", "--no-dns"], ["metrics"]] {
            let result = try dkimctl.run(command)
            #expect(result.status != 0)
            #expect(result.errorLines.count == 1 && result.errorLines.first?.hasPrefix(message) == true, "\(command): \(result.standardError)")
        }
    }
}
