import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

@Suite struct ConfigurationTests {
    private func error(_ yaml: String, checkEnvironment: Bool = false) -> String? {
        do {
            _ = try ConfigurationFile.parse(yaml, file: "test.yaml", checkEnvironment: checkEnvironment)
            return nil
        } catch let error as DKIMError {
            #expect(error.kind == .invalidInput || error.kind == .notFound || error.kind == .unsafePermissions)
            #expect(!error.message.contains("\n"))
            return error.message
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func defaultsApplyAndSlotsOverride() throws {
        let configuration = try ConfigurationFile.parse(
            """
            defaults: { owner: a@example.org, grace: 3d, revocation: delete }
            domains:
              Example.ORG.:
                slots:
                  - { provider: self-hosted, usage: noreply, grace: 10d, algorithm: ed25519 }
            """)
        let slot = try #require(configuration.slots.first)
        #expect(slot.domain.ascii == "example.org")
        #expect(slot.grace.seconds == 10 * 86400)
        #expect(slot.revocation == .delete)
        #expect(slot.specification.algorithm == .ed25519)
        #expect(configuration.domains[0].publisher == .manual)
    }

    @Test(arguments: [
        // (yaml, expected start of the message after "test.yaml:")
        ("defaults:\n  owner: a@example.org\n  rotaton: 90d\n", "3:3: defaults.rotaton: unknown key 'rotaton' (allowed: owner,"),
        ("defaults: { owner: a@example.org }\ndomains:\n  example.org:\n    slots:\n      - { provider: mailgun, bits: many }\n",
         "5:30: domains.example.org.slots[0].bits: wrong type (expected a whole number)"),
        ("defaults: { owner: a@example.org }\ndomains:\n  example.org:\n    slots:\n      - { provider: mailgum }\n",
         "5:11: domains.example.org.slots[0].provider: unknown provider 'mailgum' (allowed: mailgun,"),
        ("domains:\n  example.org:\n    slots:\n      - { provider: mailgun }\n",
         "4:9: domains.example.org.slots[0]: no owner: set defaults.owner"),
        ("defaults: { owner: a@example.org, lead: 200d }\ndomains:\n  example.org:\n    slots: [ { provider: mailgun } ]\n",
         "1:35: defaults.lead: lead 200d must be shorter than the rotation period 182d"),
        ("defaults: { owner: a@example.org }\ndomains:\n  example.org:\n    publisher: { type: ftp }\n",
         "4:18: domains.example.org.publisher.type: publisher type 'ftp' is not known (allowed: command, manual, rfc2136, zonefile)"),
        ("defaults: { owner: a@example.org }\ndomains:\n  example.org:\n    publisher: { type: manual, path: /x }\n",
         "4:32: domains.example.org.publisher.path: 'path' does not apply to publisher type manual"),
        ("defaults: { owner: a@example.org }\ndomains:\n  example.org:\n    publisher: { type: rfc2136, server: 192.0.2.1 }\n",
         "4:5: domains.example.org.publisher: publisher type rfc2136 needs 'tsig'"),
        ("defaults: { owner: a@example.org }\ndomains:\n  example.org:\n    slots:\n      - { provider: mailgun }\n      - { provider: mailgun }\n",
         "6:9: domains.example.org.slots[1]: slot mailgun/default is configured twice"),
        ("defaults: [1, 2]\n", "1:1: defaults: expected a mapping of keys"),
        ("defaults: { owner: a@example.org\n", "2:1: YAML syntax error"),
    ])
    func badConfigurationsNameLineAndKey(yaml: String, expected: String) {
        let message = error(yaml)
        #expect(message?.hasPrefix("test.yaml:" + expected) == true, "\(message ?? "no error")")
    }

    @Test func tsigSecretFilesAreCheckedForExistenceModeAndContent() throws {
        let scratch = try TemporaryDirectory()
        func yaml(_ file: String) -> String {
            "defaults: { owner: a@example.org }\ndomains:\n  example.org:\n    publisher: { type: rfc2136, server: \"127.0.0.1:53\", tsig: { name: k, secretFile: \(file) } }\n"
        }
        #expect(error(yaml(scratch.file("missing")), checkEnvironment: true)?.contains("TSIG secret file \(scratch.file("missing")) does not exist") == true)
        try "key \"k\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; };\n".write(toFile: scratch.file("key"), atomically: true, encoding: .utf8)
        chmod(scratch.file("key"), 0o644)
        #expect(error(yaml(scratch.file("key")), checkEnvironment: true)?.contains("has mode 644 (allowed: 600 or stricter; fix: chmod 600") == true)
        chmod(scratch.file("key"), 0o600)
        let configuration = try ConfigurationFile.parse(yaml(scratch.file("key")))
        guard case .rfc2136(let settings) = configuration.domains[0].publisher else {
            Issue.record("not an rfc2136 publisher")
            return
        }
        #expect(settings.key == TSIGKey(name: "k", algorithm: "hmac-sha256", secret: "c2VjcmV0"))
        try "not base64 !\n".write(toFile: scratch.file("bare"), atomically: true, encoding: .utf8)
        chmod(scratch.file("bare"), 0o600)
        #expect(error(yaml(scratch.file("bare")), checkEnvironment: true)?.contains("holds no base64 secret") == true)
    }

    @Test func hookCommandsMustExist() {
        let message = error(
            "defaults: { owner: a@example.org }\ndomains:\n  example.org:\n    deploy: \"/nonexistent/reload-mta --now\"\n",
            checkEnvironment: true)
        #expect(message == "test.yaml:4:5: domains.example.org.deploy: deploy command '/nonexistent/reload-mta' was not found (not an executable file)")
        let onPath = error(
            "defaults: { owner: a@example.org }\ndomains:\n  example.org:\n    publisher: { type: command, command: no-such-dkim-hook }\n",
            checkEnvironment: true)
        #expect(onPath?.hasSuffix("publisher command 'no-such-dkim-hook' was not found (not an executable file on PATH)") == true)
    }
}

/// Registry-defined slots merged into the file's configuration.
@Suite struct RegistrySlotMergeTests {
    func definition(_ domain: String, _ usage: String, _ options: SlotOptions = SlotOptions()) throws -> SlotDefinition {
        SlotDefinition(domain: try DomainName(domain), provider: try Provider("self-hosted"), usage: try Usage(usage), owner: try Owner("ops@example.org"), options: options)
    }

    @Test func registrySlotsJoinTheFilesDomainsOrGetTheRegistryPublisher() throws {
        let configuration = try ConfigurationFile.parse(
            """
            defaults: { owner: a@example.org, algorithm: ed25519, rotation: 90d }
            registrySlots:
              publisher: { type: zonefile, path: "/var/lib/dkim/{domain}.zone", reload: "rndc reload {domain}" }
            domains:
              example.org:
                publisher: { type: command, command: /bin/true }
                slots:
                  - { provider: self-hosted, usage: noreply, rotation: 30d }
            """, checkEnvironment: false)
        var rotation = SlotOptions()
        rotation.rotation = "60d"
        let merged = try configuration.including([
            try definition("example.org", "noreply", rotation), try definition("example.org", "support"), try definition("shop.example", "noreply"),
        ])
        #expect(merged.slotsDefinedTwice.map(\.label) == ["example.org self-hosted/noreply"])
        let example = try #require(merged.domain(try DomainName("example.org")))
        #expect(example.slots.map(\.usage.name) == ["noreply", "support"])
        #expect(example.slots[0].rotation.seconds == 30 * 86400, "the file's slot wins")
        #expect(example.slots[1].rotation.seconds == 90 * 86400 && example.slots[1].specification.algorithm == .ed25519, "defaults: apply")
        guard case .command = example.publisher else { Issue.record("the file's domain keeps its publisher"); return }
        let shop = try #require(merged.domain(try DomainName("shop.example")))
        guard case .zonefile(let path, let reload) = shop.publisher else { Issue.record("registrySlots' publisher"); return }
        #expect(path == "/var/lib/dkim/shop.example.zone" && reload == "rndc reload shop.example")
        #expect(merged.slots.count == 3)
    }

    @Test func aSharedZoneFragmentIsRefused() {
        #expect(throws: DKIMError.self) {
            _ = try ConfigurationFile.parse(
                "registrySlots:\n  publisher: { type: zonefile, path: /var/lib/dkim/all.zone }\n", checkEnvironment: false)
        }
        do {
            _ = try ConfigurationFile.parse("registrySlots:\n  publisher: { type: zonefile, path: /var/lib/dkim/all.zone }\n", checkEnvironment: false)
        } catch let error as DKIMError {
            #expect(error.message.contains("registrySlots.publisher.path: zone fragment '/var/lib/dkim/all.zone' would be shared by every domain"), "\(error.message)")
        } catch {}
    }

    @Test func anImpossibleRegistryValueNamesTheSlotAndTheOption() throws {
        var options = SlotOptions()
        options.lead = "200d"
        #expect {
            _ = try LifecycleConfiguration().including([try definition("example.org", "noreply", options)])
        } throws: { error in
            (error as? DKIMError)?.message == "registry slot example.org self-hosted/noreply: lead: lead 200d must be shorter than the rotation period 182d"
        }
    }
}
