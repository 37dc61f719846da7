import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// `activate` against a DNS server that forges the proof: a reply with the
/// right key but a wrong ID, a wrong question, no QR bit or from another
/// address never makes a pending key published or active.
@Suite(.serialized) struct ForgedDNSTests {
    static let start = Timestamp.parse("2026-11-23T12:00:00Z")!
    let environment = ["DKIMCTL_NOW": Timestamp.iso8601(start.addingTimeInterval(7200))]

    @Test func activateNeverAcceptsAForgedPass() throws {
        let scratch = try TemporaryDirectory()
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"))
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"], environment: environment).status == 0)
        let hostile = try HostileDNSServer(zone: "example.org")
        let nameserver = ["--nameserver", "127.0.0.1:\(hostile.port)", "--timeout", "1", "--retries", "1"]

        // scenario → exit status of activate (2: temporary DNS error, 1: the check failed)
        let cases: [(scenario: String, status: Int32)] = [
            ("wrongid", 2), ("wrongidthen", 1), ("wrongname", 2), ("wrongtype", 2), ("notqr", 2), ("otheraddr", 2),
            ("tcpwrongid", 2), ("loop", 1),
            // The control: the honest server proves the key (4: published, activation after the propagation window).
            ("honest", 4),
        ]
        for (scenario, status) in cases {
            let selector = "\(scenario)-k1"
            let created = try dkimctl.run(
                ["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", scenario, "--algorithm", "ed25519",
                 "--selector", selector, "--format", "json"],
                environment: environment)
            #expect(created.status == 0, "\(created.standardError)")
            let value = try #require(
                (try JSONSerialization.jsonObject(with: Data(created.standardOutput.utf8)) as? [String: Any])?["value"] as? String)
            try hostile.setKeyRecord(value)

            let activated = try dkimctl.run(
                ["activate", selector, "--domain", "example.org", "--min-propagation", "0s"] + nameserver, environment: environment)
            #expect(activated.status == status, "\(scenario): \(activated.standardOutput)\(activated.standardError)")
            let shown = try dkimctl.run(["show", selector, "--domain", "example.org", "--format", "json"])
            let key = try #require((try JSONSerialization.jsonObject(with: Data(shown.standardOutput.utf8)) as? [String: Any])?["key"] as? [String: Any])
            let expectedState = scenario == "honest" ? "published" : "pending"
            #expect(key["state"] as? String == expectedState, "\(scenario): \(key["state"] ?? "-")")
        }
    }
}
