import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// `dkimctl alignment` against DMARC records served by BIND: relaxed and strict,
/// subdomains found by the tree walk, organisational domains from the PSL, sp= and np=.
@Suite(.serialized) final class AlignmentTests {
    let named: NamedServer
    let scratch: TemporaryDirectory
    let dkimctl: DKIMCtlBinary

    init() throws {
        named = try NamedServer(zones: [
            .init("example.org", ZoneText.zone("example.org", records: [
                ZoneText.txt("_dmarc", "v=DMARC1; p=reject; sp=quarantine; adkim=s; rua=mailto:rua@example.org"),
                "news IN A 192.0.2.10",
            ])),
            .init("relaxed.test", ZoneText.zone("relaxed.test", records: [ZoneText.txt("_dmarc", "v=DMARC1; p=none; rua=mailto:r@relaxed.test")])),
            .init("example.co.uk", ZoneText.zone("example.co.uk", records: [
                ZoneText.txt("_dmarc", "v=DMARC1; p=quarantine; np=reject"), "shop IN MX 10 mx.example.net.",
            ])),
            .init("nodmarc.test", ZoneText.zone("nodmarc.test")),
        ])
        scratch = try TemporaryDirectory("alignment")
        dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"), environment: ["DKIMCTL_NOW": "2026-11-23T12:00:00Z"])
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        try """
            domains:
              example.org:
                slots:
                  - { provider: self-hosted, usage: noreply, fromDomains: [example.org, news.example.org] }
            """.write(toFile: scratch.file("state/dkimctl.yaml"), atomically: true, encoding: .utf8)
    }

    func check(_ arguments: [String]) throws -> (status: Int32, rows: [[String: Any]]) {
        let result = try dkimctl.run(["alignment", "--format", "json", "--resolver", "127.0.0.1:\(named.port)", "--timeout", "1"] + arguments)
        let rows = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]]
        #expect(rows != nil, "\(result.standardOutput)\(result.standardError)")
        return (result.status, rows ?? [])
    }

    @Test func theConfiguredSlotUnderStrictAlignment() throws {
        let (status, rows) = try check(["--domain", "example.org"])
        #expect(status == 3, "news.example.org does not align under adkim=s")
        #expect(rows.count == 2)
        guard rows.count == 2 else { return }
        #expect(rows[0]["slot"] as? String == "self-hosted/noreply" && rows[0]["fromDomain"] as? String == "example.org")
        #expect(rows[0]["aligned"] as? Bool == true && rows[0]["strict"] as? Bool == true && rows[0]["policy"] as? String == "p=reject")
        #expect(rows[0]["dmarcRecordAt"] as? String == "_dmarc.example.org" && rows[0]["rua"] as? [String] == ["mailto:rua@example.org"])
        // The subdomain has no record of its own: the walk finds the parent's, whose sp= applies.
        #expect(rows[1]["fromDomain"] as? String == "news.example.org" && rows[1]["dmarcRecordAt"] as? String == "_dmarc.example.org")
        #expect(rows[1]["policy"] as? String == "sp=quarantine" && rows[1]["adkim"] as? String == "s")
        #expect(rows[1]["relaxed"] as? Bool == true && rows[1]["strict"] as? Bool == false && rows[1]["aligned"] as? Bool == false)
        #expect(rows[1]["reason"] as? String == "adkim=s: d=example.org is not the From domain news.example.org (they would align under adkim=r)")
    }

    @Test(arguments: [
        // d=, From, aligned, relaxed, strict, record found at, policy, reason
        ("mail.relaxed.test", "relaxed.test", true, true, false, "_dmarc.relaxed.test", "p=none",
         "d=mail.relaxed.test and relaxed.test share the organisational domain relaxed.test (adkim=r)"),
        ("mail.example.co.uk", "shop.example.co.uk", true, true, false, "_dmarc.example.co.uk", "sp=quarantine",
         "d=mail.example.co.uk and shop.example.co.uk share the organisational domain example.co.uk (adkim=r)"),
        // A From subdomain that does not exist (NXDOMAIN): np= applies (RFC 9989); shop exists (an MX only).
        ("mail.example.co.uk", "gone.example.co.uk", true, true, false, "_dmarc.example.co.uk", "np=reject",
         "d=mail.example.co.uk and gone.example.co.uk share the organisational domain example.co.uk (adkim=r)"),
        ("other.co.uk", "example.co.uk", false, false, false, "_dmarc.example.co.uk", "p=quarantine",
         "d=other.co.uk and example.co.uk have different organisational domains (other.co.uk, example.co.uk)"),
    ])
    func fromDomainsGivenOnTheCommandLine(
        _ d: String, _ from: String, _ aligned: Bool, _ relaxed: Bool, _ strict: Bool, _ recordAt: String, _ policy: String, _ reason: String
    ) throws {
        let (status, rows) = try check(["--domain", d, "--from", from])
        #expect(status == (aligned ? 0 : 3))
        let row = try #require(rows.first)
        #expect(row["slot"] as? String == "(no slot)")
        #expect(row["aligned"] as? Bool == aligned && row["relaxed"] as? Bool == relaxed && row["strict"] as? Bool == strict)
        #expect(row["dmarcRecordAt"] as? String == recordAt && row["policy"] as? String == policy)
        #expect(row["reason"] as? String == reason)
    }

    @Test func noDMARCRecordIsSaid() throws {
        let (status, rows) = try check(["--domain", "nodmarc.test"])
        #expect(status == 0)
        let row = try #require(rows.first)
        #expect(row["dmarcRecordAt"] is NSNull && row["policy"] is NSNull)
        #expect(row["reason"] as? String == "d=nodmarc.test is the From domain; no DMARC record applies to nodmarc.test, so receivers apply no DMARC policy")
        let table = try dkimctl.run(["alignment", "--domain", "nodmarc.test", "--resolver", "127.0.0.1:\(named.port)"])
        #expect(table.standardOutput.contains("none") && table.standardOutput.contains("yes"), "\(table.standardOutput)")
    }

    /// The audit applies the same rule to the configured slots (with DNS): `slot-not-aligned`.
    @Test func theAuditFindsASlotThatDoesNotAlign() throws {
        #expect(try dkimctl.run(["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "noreply", "--algorithm", "ed25519"]).status == 0)
        let result = try dkimctl.run([
            "audit", "report", "--format", "json", "--resolver", "127.0.0.1:\(named.port)", "--nameserver", "127.0.0.1:\(named.port)",
            "--timeout", "1",
        ])
        #expect(result.status == 3, "\(result.standardError)")
        let audit = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let findings = (audit?["findings"] as? [[String: Any]] ?? []).filter { $0["rule"] as? String == "slot-not-aligned" }
        #expect(findings.map { $0["message"] as? String } == [
            "From news.example.org: adkim=s: d=example.org is not the From domain news.example.org (they would align under adkim=r)",
        ], "\(result.standardOutput)")
    }
}
