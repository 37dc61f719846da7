import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// A registry damaged by hand (a value of the wrong type, an unparseable date,
/// an unknown state) gives a one-line error naming the table, row and column,
/// exit 1 — never a crash.
@Suite struct DamagedRegistryTests {
    private func registry() throws -> (TemporaryDirectory, DKIMCtlBinary) {
        let directory = try TemporaryDirectory("damaged")
        let dkimctl = DKIMCtlBinary(stateDirectory: directory.file("state"), environment: ["DKIMCTL_NOW": "2026-11-23T10:00:00Z"])
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        #expect(try dkimctl.run(["new", "--domain", "example.org", "--provider", "self-hosted", "--algorithm", "ed25519", "--selector", "s1"]).status == 0)
        return (directory, dkimctl)
    }

    private func damage(_ dkimctl: DKIMCtlBinary, _ sql: String) throws {
        try RegistryTampering.run(sql, on: dkimctl.stateDirectory + "/registry.sqlite", ignoringChecks: true)
    }

    @Test(arguments: [
        ("UPDATE key SET bits = 'abc';", "registry table key, row 1, column bits: 'abc' is not an integer"),
        ("UPDATE key SET created_at = 'yesterday';", "registry table key, row 1, column created_at: 'yesterday' is not a date"),
        ("UPDATE key SET published_at = 42;", "registry table key, row 1, column published_at: 42 is not a date"),
        ("UPDATE key SET state = 'bogus';", "registry table key, row 1, column state: 'bogus' is not a known KeyState"),
        ("UPDATE key SET public_key = x'00ff';", "registry table key, row 1, column public_key: a 2-octet blob is not text"),
        ("UPDATE slot SET owner = x'6869';", "registry table key, row 1, column owner: a 2-octet blob is not text"),
    ])
    func aDamagedValueIsAOneLineErrorNotACrash(sql: String, message: String) throws {
        let (scratch, dkimctl) = try registry()
        defer { withExtendedLifetime(scratch) {} }
        try damage(dkimctl, sql)
        for arguments in [["list"], ["show", "s1", "--domain", "example.org"], ["audit", "--no-dns"], ["metrics"]] {
            let result = try dkimctl.run(arguments)
            #expect(result.status == 1, "\(arguments): \(result.status) \(result.standardError)")
            #expect(result.errorLines.count == 1, "\(arguments): \(result.standardError)")
            #expect(result.errorLines.first?.hasPrefix("dkimctl: error: " + message) == true, "\(arguments): \(result.standardError)")
        }
        // The auditor's tools still run and name the change.
        let verify = try dkimctl.run(["audit", "verify"])
        #expect(verify.status == 1, "\(verify.standardOutput)\(verify.standardError)")
        #expect(verify.standardOutput.contains("register DIFFERS"), "\(verify.standardOutput)")
    }

    @Test func aDamagedEventIsABreakInTheChainNotACrash() throws {
        let (scratch, dkimctl) = try registry()
        defer { withExtendedLifetime(scratch) {} }
        try damage(dkimctl, "UPDATE event SET key_id = 'one' WHERE id = 3;")
        let verify = try dkimctl.run(["audit", "verify"])
        #expect(verify.status == 1)
        #expect(verify.standardOutput.contains("registry table event, row 3, column key_id: 'one' is not an integer"), "\(verify.standardOutput)")
    }
}
