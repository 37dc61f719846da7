import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// The register is as tamper-evident as the log: rows edited with sqlite3
/// (append-only triggers dropped first, as an attacker with the file would)
/// make `audit verify` and `doctor` fail, naming the row and the field.
@Suite struct RegisterTamperingTests {
    static let environment = ["DKIMCTL_NOW": "2026-11-23T10:00:00Z"]

    /// A registry built by the real commands: one Ed25519 key, proved by `verify` against BIND (checks 1 and 2).
    private func registry() throws -> (TemporaryDirectory, DKIMCtlBinary) {
        let directory = try TemporaryDirectory("tamper")
        let dkimctl = DKIMCtlBinary(stateDirectory: directory.file("state"), environment: Self.environment)
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        let created = try dkimctl.run(
            ["new", "--domain", "example.org", "--provider", "self-hosted", "--algorithm", "ed25519", "--selector", "s1", "--format", "json"])
        #expect(created.status == 0, "\(created.standardError)")
        let value = try #require(
            (try JSONSerialization.jsonObject(with: Data(created.standardOutput.utf8)) as? [String: Any])?["value"] as? String)
        let named = try NamedServer(zones: [.init("example.org", ZoneText.zone("example.org", records: [ZoneText.txt("s1._domainkey", value)]))])
        let nameserver = ["--nameserver", "127.0.0.1:\(named.port)", "--timeout", "1", "--retries", "0"]
        for _ in 0..<2 {
            let verified = try dkimctl.run(["verify", "s1", "--domain", "example.org"] + nameserver)
            #expect(verified.status == 0, "\(verified.standardOutput)\(verified.standardError)")
        }
        return (directory, dkimctl)
    }

    /// Runs SQL on the registry with every protective trigger dropped.
    private func tamper(_ dkimctl: DKIMCtlBinary, _ sql: String) throws {
        try RegistryTampering.run(sql, on: dkimctl.stateDirectory + "/registry.sqlite")
    }

    struct Tampering: Sendable, CustomTestStringConvertible {
        let name: String
        let sql: String
        /// What `audit verify` must say first.
        let problem: String
        var testDescription: String { name }
    }

    static let tamperings: [Tampering] = [
        .init(name: "slot owner", sql: "UPDATE slot SET owner = 'mallory@example.net';",
              problem: "slot row 1 (self-hosted default of example.org): owner is 'mallory@example.net' but the event log says 'team@example.org'"),
        .init(name: "key bits", sql: "UPDATE key SET bits = 4096;",
              problem: "key row 1 (s1 of example.org): bits is '4096' but the event log says '256'"),
        .init(name: "key algorithm", sql: "UPDATE key SET algorithm = 'rsa';",
              problem: "key row 1 (s1 of example.org): algorithm is 'rsa' but the event log says 'ed25519'"),
        .init(name: "created_at", sql: "UPDATE key SET created_at = '2020-01-01 00:00:00.000';",
              problem: "key row 1 (s1 of example.org): created_at is '2020-01-01 00:00:00.000' but the event log says '2026-11-23 10:00:00.000'"),
        .init(name: "state", sql: "UPDATE key SET state = 'active', activated_at = published_at;",
              problem: "key row 1 (s1 of example.org): state is 'active' but the event log says 'published'"),
        .init(name: "key path", sql: "UPDATE key SET private_key_path = '/etc/shadow';",
              problem: "key row 1 (s1 of example.org): private_key_path is '/etc/shadow' but the event log says"),
        .init(name: "public key", sql: "UPDATE key SET public_key = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';",
              problem: "key row 1 (s1 of example.org): public_key_sha256 is"),
        .init(name: "evidence row edited", sql: "UPDATE dns_check_server SET detail = 'p= matches the registered key (edited)' WHERE id = 2;",
              problem: "DNS evidence of checks 2–2 no longer matches event"),
        .init(name: "evidence verdict edited", sql: "UPDATE dns_check SET verdict = 'fail' WHERE id = 1;",
              problem: "DNS evidence of checks 1–1 no longer matches event"),
        .init(name: "evidence row deleted", sql: "DELETE FROM dns_check_server WHERE id = 1;",
              problem: "DNS evidence of checks 1–1 no longer matches event 6 (1 server rows recorded, 0 now)"),
        .init(name: "evidence row added",
              sql: "INSERT INTO dns_check (key_id, checked_at, actor, verdict, problems) VALUES (1, '2026-11-23 09:00:00.000', 'x', 'pass', '');",
              problem: "1 DNS check row is anchored by no event (first: dns_check 3): added outside dkimctl"),
        .init(name: "key row added",
              sql: """
                  INSERT INTO key (slot_id, domain, selector, algorithm, bits, state, public_key, fingerprint, ttl, created_at)
                  SELECT slot_id, domain, 's2', algorithm, bits, 'active', public_key, fingerprint, ttl, created_at FROM key WHERE id = 1;
                  """,
              problem: "key row 2 (s2 of example.org) is recorded by no event: it was inserted outside dkimctl"),
        .init(name: "key row deleted", sql: "DELETE FROM dns_check_server; DELETE FROM dns_check; DELETE FROM key;",
              problem: "key row 1 is in the event log but no longer in the register: it was deleted"),
    ]

    @Test func anUntouchedRegisterMatchesItsLog() throws {
        let (scratch, dkimctl) = try registry()
        defer { withExtendedLifetime(scratch) {} }
        let result = try dkimctl.run(["audit", "verify", "--format", "json"])
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let register = try #require(report["register"] as? [String: Any])
        #expect(register["intact"] as? Bool == true)
        #expect(register["rowsChecked"] as? Int == 2)
        #expect(register["checksAnchored"] as? Int == 2)
        #expect(try dkimctl.run(["doctor"]).standardOutput.contains("register"))
    }

    @Test(arguments: tamperings)
    func anEditedRowIsNamedByAuditVerifyAndDoctor(_ tampering: Tampering) throws {
        let (scratch, dkimctl) = try registry()
        defer { withExtendedLifetime(scratch) {} }
        try tamper(dkimctl, tampering.sql)
        let verify = try dkimctl.run(["audit", "verify", "--format", "json"])
        #expect(verify.status == 1, "\(verify.standardOutput)\(verify.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(verify.standardOutput.utf8)) as? [String: Any])
        #expect(report["intact"] as? Bool == false)
        #expect(report["chainIntact"] as? Bool == true, "the events themselves were not touched")
        let problems = try #require((report["register"] as? [String: Any])?["problems"] as? [String])
        #expect(problems.first?.hasPrefix(tampering.problem) == true, "\(problems)")

        let doctor = try dkimctl.run(["doctor"])
        #expect(doctor.status != 0, "\(doctor.standardOutput)")
        #expect(doctor.standardOutput.contains(tampering.problem), "\(doctor.standardOutput)")
    }
}

extension RegisterTamperingTests {
    @Test func theAuditReadsAlgorithmAndSizeFromTheStoredPublicKeyNotFromColumns() throws {
        let (scratch, dkimctl) = try registry()
        defer { withExtendedLifetime(scratch) {} }
        try tamper(dkimctl, "UPDATE key SET algorithm = 'rsa', bits = 4096;")
        let audit = try dkimctl.run(["audit", "--format", "json"])
        #expect(audit.status == 3, "\(audit.standardOutput)\(audit.standardError)")  // 3: an error finding
        let report = try #require(try JSONSerialization.jsonObject(with: Data(audit.standardOutput.utf8)) as? [String: Any])
        let key = try #require((report["keys"] as? [[String: Any]])?.first)
        #expect(key["algorithm"] as? String == "ed25519")
        #expect(key["bits"] as? Int == 256)
        let findings = try #require(key["findings"] as? [[String: Any]])
        #expect(findings.contains {
            $0["rule"] as? String == "key-facts-mismatch"
                && ($0["message"] as? String)?.contains("the register says rsa-4096 but the stored public key is ed25519-256") == true
        }, "\(findings)")
    }
}
