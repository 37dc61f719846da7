import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// `verify` and `activate` run as a user would, against a real BIND started by the test.
@Suite(.serialized) struct DNSEndToEndTests {
    static let start = Timestamp.parse("2026-11-23T12:00:00Z")!

    private func at(_ offset: TimeInterval) -> [String: String] {
        ["DKIMCTL_NOW": Timestamp.iso8601(Self.start.addingTimeInterval(offset))]
    }

    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// example.org served with the given key records (selector → value), at `serial`.
    private func zone(serial: UInt32, records: [String: String]) -> NamedServer.Zone {
        .init("example.org", ZoneText.zone(
            "example.org", serial: serial, negativeTTL: 300,
            records: records.sorted { $0.key < $1.key }.map { ZoneText.txt("\($0.key)._domainkey", $0.value) }))
    }

    private func key(_ dkimctl: DKIMCtlBinary, _ selector: String) throws -> [String: Any] {
        let shown = try dkimctl.run(["show", selector, "--domain", "example.org", "--format", "json"])
        return try #require(try json(shown.standardOutput)["key"] as? [String: Any])
    }

    /// An initialised state directory with one pending Ed25519 key of self-hosted/notifications:
    /// its selector and record value.
    private func stateWithOneKey(_ scratch: TemporaryDirectory) throws -> (DKIMCtlBinary, selector: String, value: String) {
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"))
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"], environment: at(0)).status == 0)
        let created = try dkimctl.run(
            ["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "notifications", "--algorithm", "ed25519", "--format", "json"],
            environment: at(0))
        let object = try json(created.standardOutput)
        return (dkimctl, try #require(object["selector"] as? String), try #require(object["value"] as? String))
    }

    /// `verify` and `activate` take their DNS settings from the configuration's `dns:` section,
    /// and `activate` the slot's configured rotation and propagation, unless options say otherwise.
    @Test func verifyAndActivateFollowTheConfiguration() throws {
        let scratch = try TemporaryDirectory()
        let (dkimctl, selector, value) = try stateWithOneKey(scratch)
        let named = try NamedServer(zones: [zone(serial: 1, records: [selector: value])])
        let configuration = scratch.file("dkimctl.yaml")
        try """
            defaults:
              algorithm: ed25519
              rotation: 90d
              propagation: 1h
            dns:
              nameservers: ["127.0.0.1:\(named.port)"]
              timeout: 1
              retries: 0
            domains:
              example.org:
                publisher: { type: manual }
                slots:
                  - { provider: self-hosted, usage: notifications }
            """.write(toFile: configuration, atomically: true, encoding: .utf8)

        // No --nameserver: the configuration's servers are asked (discovery would find no example.org here).
        let verified = try dkimctl.run(["verify", selector, "--domain", "example.org", "--config", configuration], environment: at(10))
        #expect(verified.status == 0, "\(verified.standardOutput)\(verified.standardError)")
        #expect(verified.standardOutput.contains("127.0.0.1:\(named.port)"))
        // The configured propagation (1h) outlasts the TTLs (1800 s record, 300 s negative).
        let early = try dkimctl.run(["activate", selector, "--domain", "example.org", "--config", configuration], environment: at(1900))
        #expect(early.status == 4, "\(early.standardOutput)\(early.standardError)")
        let activated = try dkimctl.run(["activate", selector, "--domain", "example.org", "--config", configuration], environment: at(3700))
        #expect(activated.status == 0, "\(activated.standardOutput)\(activated.standardError)")
        let key = try self.key(dkimctl, selector)
        #expect(key["expiresAt"] as? String == Timestamp.iso8601(Self.start.addingTimeInterval(3700 + 90 * 86400)))
    }

    @Test func publicationIsProvedBeforeActivationAndRotationRetiresThePredecessor() throws {
        let scratch = try TemporaryDirectory()
        let (dkimctl, firstSelector, firstValue) = try stateWithOneKey(scratch)

        var named = try NamedServer(zones: [zone(serial: 1, records: [:])])
        let port = named.port
        let nameserver = ["--nameserver", "127.0.0.1:\(port)", "--timeout", "1", "--retries", "0"]

        // Not in DNS yet: no activation, the check is kept as evidence.
        let early = try dkimctl.run(["activate", firstSelector, "--domain", "example.org"] + nameserver, environment: at(5))
        #expect(early.status == 1)
        #expect(early.standardOutput.contains("NXDOMAIN"))
        #expect(early.errorLines == ["dkimctl: error: \(firstSelector) was not activated: DNS does not prove its record (fail)"])
        #expect(try key(dkimctl, firstSelector)["state"] as? String == "pending")

        // Published: verify proves it on the server and the key becomes published.
        named.stop()
        named = try NamedServer(zones: [zone(serial: 2, records: [firstSelector: firstValue])], port: port)
        let verified = try dkimctl.run(["verify", firstSelector, "--domain", "example.org", "--format", "json"] + nameserver, environment: at(10))
        #expect(verified.status == 0, "\(verified.standardOutput)\(verified.standardError)")
        let report = try json(verified.standardOutput)
        #expect(report["verdict"] as? String == "pass")
        let checked = try #require((report["keys"] as? [[String: Any]])?.first)
        #expect(checked["previousState"] as? String == "pending" && checked["state"] as? String == "published")
        let server = try #require((checked["servers"] as? [[String: Any]])?.first)
        #expect(server["status"] as? String == "pass" && server["serial"] as? Int == 2 && server["ttl"] as? Int == 1800)
        #expect(try key(dkimctl, firstSelector)["publishedAt"] as? String == Timestamp.iso8601(Self.start.addingTimeInterval(10)))

        // Within the propagation window (TTL 1800 > negative TTL 300): not yet.
        let waiting = try dkimctl.run(["activate", firstSelector, "--domain", "example.org"] + nameserver, environment: at(20))
        #expect(waiting.status == 4)
        #expect(waiting.standardError.contains("activation possible in 29m 50s"))
        #expect(try key(dkimctl, firstSelector)["state"] as? String == "published")

        let activated = try dkimctl.run(["activate", firstSelector, "--domain", "example.org"] + nameserver, environment: at(1811))
        #expect(activated.status == 0, "\(activated.standardError)")
        let active = try key(dkimctl, firstSelector)
        #expect(active["state"] as? String == "active")
        #expect(active["expiresAt"] as? String == Timestamp.iso8601(Self.start.addingTimeInterval(1811 + 182 * 86400)))

        // A successor for the same slot: proved, promoted after its window, predecessor retired.
        let day = 86400.0
        let successor = try json(try dkimctl.run(
            ["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "notifications", "--algorithm", "ed25519", "--format", "json"],
            environment: at(day)).standardOutput)
        let secondSelector = try #require(successor["selector"] as? String)
        named.stop()
        named = try NamedServer(
            zones: [zone(serial: 3, records: [firstSelector: firstValue, secondSelector: try #require(successor["value"] as? String)])], port: port)
        #expect(try dkimctl.run(["activate", secondSelector, "--domain", "example.org"] + nameserver, environment: at(day + 10)).status == 4)
        let promoted = try dkimctl.run(["activate", secondSelector, "--domain", "example.org"] + nameserver, environment: at(day + 1900))
        #expect(promoted.status == 0)
        #expect(promoted.standardOutput.contains("\(firstSelector) is retired"))
        #expect(try key(dkimctl, secondSelector)["state"] as? String == "active")
        let retired = try key(dkimctl, firstSelector)
        #expect(retired["state"] as? String == "retired")
        #expect(retired["retiredAt"] as? String == Timestamp.iso8601(Self.start.addingTimeInterval(day + 1900)))

        // --force: no DNS at all, and the event log says so.
        let forcedKey = try json(try dkimctl.run(
            ["new", "--domain", "example.org", "--provider", "custom:crm", "--algorithm", "ed25519", "--format", "json"], environment: at(day)).standardOutput)
        let forcedSelector = try #require(forcedKey["selector"] as? String)
        let forced = try dkimctl.run(
            ["activate", forcedSelector, "--domain", "example.org", "--force", "--reason", "provider console only"] + nameserver,
            environment: at(day + 5))
        #expect(forced.status == 0)
        #expect(forced.errorLines.first?.hasPrefix("dkimctl: warning: activating \(forcedSelector) without a DNS proof") == true)
        let shown = try json(try dkimctl.run(["show", forcedSelector, "--domain", "example.org", "--format", "json"]).standardOutput)
        let activation = try #require((shown["events"] as? [[String: Any]])?.first { $0["action"] as? String == "key.activated" })
        let details = try #require(activation["details"] as? [String: Any])
        #expect(details["forced"] as? String == "true" && details["forced_reason"] as? String == "provider console only")
        #expect((shown["checks"] as? [Any])?.isEmpty == true)

        // verify --all: the forced key is not in DNS, so the run fails; evidence is listed by show.
        let all = try dkimctl.run(["verify", "--all", "--format", "json"] + nameserver, environment: at(day + 2000))
        #expect(all.status == 1)
        let verdicts = try #require(try json(all.standardOutput)["keys"] as? [[String: Any]]).map { $0["verdict"] as? String ?? "" }
        #expect(verdicts.sorted() == ["fail", "pass", "pass"])
        let history = try dkimctl.run(["show", firstSelector, "--domain", "example.org"])
        #expect(history.standardOutput.contains("DNS checks (latest first):"))
        #expect(history.standardOutput.contains("pass  ns1.example.org.") || history.standardOutput.contains("pass  127.0.0.1"))

        // A server that does not answer: temporary error, exit 2, never a pass.
        named.stop()
        let unreachable = try dkimctl.run(["verify", secondSelector, "--domain", "example.org"] + nameserver, environment: at(day + 3000))
        #expect(unreachable.status == 2, "\(unreachable.standardOutput)")
        #expect(unreachable.standardOutput.contains("temperror"))

        let chain = try SQLRegistry.open(path: StateDirectory(path: dkimctl.stateDirectory).registryPath, create: false).verifyEventChain()
        #expect(chain.isIntact, "\(chain.problems)")
    }

    @Test func verifyAllShowsProgressOnATerminalOnly() throws {
        let scratch = try TemporaryDirectory()
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"))
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        var records: [String: String] = [:]
        for usage in ["noreply", "support"] {
            let made = try json(try dkimctl.run(
                ["new", "--domain", "example.org", "--provider", "custom:crm", "--usage", usage, "--algorithm", "ed25519", "--format", "json"]
            ).standardOutput)
            records[try #require(made["selector"] as? String)] = try #require(made["value"] as? String)
        }
        let named = try NamedServer(zones: [zone(serial: 1, records: records)])
        let arguments = ["verify", "--all", "--nameserver", "127.0.0.1:\(named.port)", "--state-dir", dkimctl.stateDirectory]

        let piped = try dkimctl.run(arguments)
        #expect(piped.status == 0 && !piped.standardError.contains("checked"))

        // util-linux `script` gives the command a pseudo-terminal, as a person's shell would.
        let script = try #require(ProcessRunner.which("script"))
        let command = ([dkimctl.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let onTerminal = try ProcessRunner.run(script, ["-qec", command, "/dev/null"], environment: dkimctl.environment)
        #expect(onTerminal.status == 0, "\(onTerminal.standardOutput)")
        #expect(onTerminal.standardOutput.contains("checked 2/2"))
        #expect(onTerminal.standardOutput.contains("2 keys: 2 pass, 0 fail, 0 temperror"))
    }

    @Test func badDNSArgumentsAreRefused() throws {
        let scratch = try TemporaryDirectory()
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"))
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        for (arguments, fragment) in [
            (["verify"], "SELECTOR"),
            (["verify", "s1"], "--domain"),
            (["verify", "s1", "--domain", "example.org", "--all"], "not both"),
            (["verify", "--all", "--nameserver", "ns1.example.org"], "'ns1.example.org'"),
            (["verify", "--all", "--timeout", "0"], "timeout 0"),
            (["activate", "s1", "--domain", "example.org", "--reason", "x"], "--reason only applies"),
            (["activate", "s1", "--domain", "example.org", "--rotation", "2h"], "too short"),
        ] {
            let result = try dkimctl.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.standardError)")
            #expect(result.errorLines.count == 1 && result.standardError.contains(fragment), "\(result.standardError)")
        }
    }
}
