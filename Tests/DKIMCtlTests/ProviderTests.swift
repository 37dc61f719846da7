import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// Provider profiles: what `new` accepts and refuses for each provider, the
/// `providers` listing, and profiles described by the configuration.
@Suite struct ProviderTests {
    static let now = "2026-11-23T10:00:00Z"

    private func initialised() throws -> (TemporaryDirectory, DKIMCtlBinary) {
        let directory = try TemporaryDirectory()
        let dkimctl = DKIMCtlBinary(stateDirectory: directory.file("state"), environment: ["DKIMCTL_NOW": Self.now])
        let result = try dkimctl.run(["init", "--owner", "team@example.org"])
        #expect(result.status == 0, "init: \(result.standardError)")
        return (directory, dkimctl)
    }

    struct Combination: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        /// nil: accepted; else a fragment of the one-line error.
        let refusal: String?
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let combinations: [Combination] = [
        // Mailgun: RSA 1024 or 2048.
        .init(arguments: ["--provider", "mailgun"], refusal: nil),
        .init(arguments: ["--provider", "mailgun", "--bits", "1024"], refusal: nil),
        .init(arguments: ["--provider", "mailgun", "--bits", "4096"],
              refusal: "provider mailgun does not accept 4096-bit RSA keys (accepted: rsa 1024, 2048)"),
        .init(arguments: ["--provider", "mailgun", "--algorithm", "ed25519"],
              refusal: "provider mailgun does not accept ed25519 keys (accepted: rsa 1024, 2048)"),
        // Amazon SES BYODKIM: RSA 1024–2048, one label of 1–63 characters.
        .init(arguments: ["--provider", "amazon-ses", "--bits", "1024"], refusal: nil),
        .init(arguments: ["--provider", "amazon-ses", "--selector", String(repeating: "a", count: 63)], refusal: nil),
        .init(arguments: ["--provider", "amazon-ses", "--algorithm", "ed25519"],
              refusal: "provider amazon-ses does not accept ed25519 keys (accepted: rsa 1024, 2048)"),
        .init(arguments: ["--provider", "amazon-ses", "--bits", "3072"],
              refusal: "provider amazon-ses does not accept 3072-bit RSA keys (accepted: rsa 1024, 2048)"),
        .init(arguments: ["--provider", "amazon-ses", "--selector", "ses.2026"],
              refusal: "selector 'ses.2026' has dots, which provider amazon-ses does not accept (allowed: one label of letters, digits and hyphens)"),
        // Providers that generate their own keys.
        .init(arguments: ["--provider", "google-workspace"],
              refusal: "provider google-workspace generates its own DKIM keys and cannot take one from dkimctl; register its selector instead ('dkimctl track --domain DOMAIN --provider google-workspace --selector google')"),
        .init(arguments: ["--provider", "microsoft-365"], refusal: "--provider microsoft-365 --selector selector1"),
        .init(arguments: ["--provider", "brevo"], refusal: "--provider brevo --selector brevo1"),
        .init(arguments: ["--provider", "sendgrid"], refusal: "--provider sendgrid --selector s1"),
        .init(arguments: ["--provider", "postmark"], refusal: "--provider postmark --selector SELECTOR"),
        // Self-hosted and undescribed custom providers: every key dkimctl makes.
        .init(arguments: ["--provider", "self-hosted", "--bits", "4096"], refusal: nil),
        .init(arguments: ["--provider", "self-hosted", "--algorithm", "ed25519"], refusal: nil),
        .init(arguments: ["--provider", "custom:crm", "--algorithm", "ed25519"], refusal: nil),
    ]

    @Test(arguments: combinations)
    func newChecksWhatTheProviderAccepts(_ combination: Combination) throws {
        let (directory, dkimctl) = try initialised()
        let before = DirectorySnapshot(directory.path, ignoring: ["-shm"])
        let result = try dkimctl.run(["new", "--domain", "example.org", "--format", "json"] + combination.arguments)
        if let refusal = combination.refusal {
            #expect(result.status == 64)
            #expect(result.errorLines.count == 1 && result.errorLines[0].hasPrefix("dkimctl: error: "), "\(result.standardError)")
            #expect(result.standardError.contains(refusal), "\(result.standardError)")
            #expect(result.standardOutput.isEmpty)
            #expect(DirectorySnapshot(directory.path, ignoring: ["-shm"]) == before)
        } else {
            #expect(result.status == 0, "\(result.standardError)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            #expect(object["provider"] as? String == combination.arguments[1])
        }
    }

    @Test func providersListsEveryProfile() throws {
        let (scratch, dkimctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let result = try dkimctl.run(["providers", "--format", "json"])
        #expect(result.status == 0, "\(result.standardError)")
        let profiles = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]])
        #expect(profiles.map { $0["provider"] as? String ?? "" } == Provider.builtInIdentifiers)
        func profile(_ name: String) -> [String: Any] { profiles.first { $0["provider"] as? String == name } ?? [:] }
        let ses = try #require(profile("amazon-ses")["localKeys"] as? [String: Any])
        #expect(ses["algorithms"] as? [String] == ["rsa"] && ses["rsaBits"] as? [Int] == [1024, 2048])
        #expect(ses["maximumSelectorLength"] as? Int == 63 && ses["singleLabelSelector"] as? Bool == true)
        #expect(ses["handoff"] as? String == "handoff/amazon-ses")
        #expect((profile("mailgun")["localKeys"] as? [String: Any])?["rsaBits"] as? [Int] == [1024, 2048])
        #expect(profile("google-workspace")["localKeys"] is NSNull)
        #expect(profile("google-workspace")["keyGeneration"] as? [String] == ["provider"])
        let microsoft = try #require((profile("microsoft-365")["managed"] as? [[String: Any]])?.first)
        #expect(microsoft["style"] as? String == "cname" && microsoft["selectors"] as? [String] == ["selector1", "selector2"])
        #expect(profile("self-hosted")["signsOnOwnMTA"] as? Bool == true)
        #expect(profile("mailgun")["keyGeneration"] as? [String] == ["local", "provider"])

        let table = try dkimctl.run(["providers"])
        #expect(table.standardOutput.contains("amazon-ses (Amazon SES)\n  keys:    local or provider\n  accepts: rsa 1024, 2048\n"))
    }

    /// A configuration's slot must be one its provider can take; `providers:` describes custom ones.
    @Test func configurationProfilesAndSlotChecks() throws {
        let (directory, dkimctl) = try initialised()
        let refused = directory.file("refused.yaml")
        try """
            defaults: { owner: team@example.org }
            domains:
              example.org:
                slots:
                  - { provider: amazon-ses, usage: noreply, algorithm: ed25519 }
            """.write(toFile: refused, atomically: true, encoding: .utf8)
        let checked = try dkimctl.run(["config", "check", "--config", refused])
        #expect(checked.status == 64)
        #expect(checked.errorLines == [
            "dkimctl: error: \(refused):5:49: domains.example.org.slots[0].algorithm: provider amazon-ses does not accept ed25519 keys (accepted: rsa 1024, 2048)"
        ], "\(checked.standardError)")

        let custom = directory.file("custom.yaml")
        try """
            providers:
              relay:
                name: Partner relay
                algorithms: [rsa]
                bits: [2048]
                maxSelectorLength: 20
                notes: the partner's relay imports keys by hand
            domains: {}
            """.write(toFile: custom, atomically: true, encoding: .utf8)
        let big = try dkimctl.run(["new", "--config", custom, "--domain", "example.org", "--provider", "custom:relay", "--bits", "4096"])
        #expect(big.status == 64)
        #expect(big.standardError.contains("provider custom:relay does not accept 4096-bit RSA keys (accepted: rsa 2048)"), "\(big.standardError)")
        let long = try dkimctl.run(["new", "--config", custom, "--domain", "example.org", "--provider", "custom:relay", "--usage", "notifications"])
        #expect(long.status == 64)
        #expect(long.standardError.contains("selector 'relay-notifications-20261123' is 28 characters long; provider custom:relay accepts 1–20"), "\(long.standardError)")
        let fits = try dkimctl.run(["new", "--config", custom, "--domain", "example.org", "--provider", "custom:relay", "--selector", "relay2026"])
        #expect(fits.status == 0, "\(fits.standardError)")
        let listing = try dkimctl.run(["providers", "--config", custom])
        #expect(listing.standardOutput.contains("custom:relay (Partner relay)\n  keys:    local\n  accepts: rsa 2048\n  selector: 1–20 characters\n"), "\(listing.standardOutput)")

        let redefined = directory.file("redefined.yaml")
        try "providers:\n  mailgun: { bits: [4096] }\n".write(toFile: redefined, atomically: true, encoding: .utf8)
        let again = try dkimctl.run(["config", "check", "--config", redefined])
        #expect(again.status == 64)
        #expect(again.standardError.contains("\(redefined):2:3: providers.mailgun: built-in provider 'mailgun' cannot be redefined"), "\(again.standardError)")
    }
}
