import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// `audit seal` anchors the head outside the registry: a whole chain rewritten
/// with recomputed hashes passes the chain check but breaks the seals, and an
/// auditor checks a seal with `openssl pkeyutl -verify` alone.
@Suite struct AuditSealTests {
    private func registry() throws -> (TemporaryDirectory, DKIMCtlBinary) {
        let directory = try TemporaryDirectory("seal")
        let dkimctl = DKIMCtlBinary(stateDirectory: directory.file("state"), environment: ["DKIMCTL_NOW": "2026-11-23T10:00:00Z"])
        for arguments in [
            ["init", "--owner", "team@example.org"],
            ["new", "--domain", "example.org", "--provider", "self-hosted", "--algorithm", "ed25519", "--selector", "s1"],
        ] {
            let result = try dkimctl.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.standardError)")
        }
        return (directory, dkimctl)
    }

    /// Rewrites event 2's actor and recomputes every hash after it (the algorithm of
    /// runbooks/audit-event-chain.md), as an attacker who read the runbook would.
    private func rewriteWholeChain(_ dkimctl: DKIMCtlBinary) throws {
        let script = """
            import hashlib, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                db.execute('DROP TRIGGER "%s"' % name)
            previous = "0" * 64
            rows = db.execute("SELECT id, time, actor, key_id, domain, selector, action, from_state, to_state, details FROM event ORDER BY id").fetchall()
            for row in rows:
                row = list(row)
                if row[0] == 2:
                    row[2] = "mallory@elsewhere"
                fields = [("id", str(row[0])), ("time", row[1]), ("actor", row[2]), ("key_id", None if row[3] is None else str(row[3])),
                          ("domain", row[4]), ("selector", row[5]), ("action", row[6]), ("from_state", row[7]), ("to_state", row[8]),
                          ("details", row[9]), ("previous_hash", previous)]
                text = "dkimctl-event-v1\\n" + "".join(
                    "%s=null\\n" % name if value is None else "%s=%d:%s\\n" % (name, len(value.encode()), value) for name, value in fields)
                digest = hashlib.sha256(text.encode()).hexdigest()
                db.execute("UPDATE event SET actor = ?, previous_hash = ?, hash = ? WHERE id = ?", (row[2], previous, digest, row[0]))
                previous = digest
            db.execute("UPDATE registry_meta SET value = ? WHERE name = 'event_head_hash'", (previous,))
            db.commit()
            """
        let result = try ProcessRunner.run("/usr/bin/python3", ["-c", script, dkimctl.stateDirectory + "/registry.sqlite"])
        #expect(result.status == 0, "\(result.standardError)")
    }

    /// The auditor's check from runbooks/audit-event-chain.md: openssl alone.
    private func opensslVerifies(line: String, publicKey: String, in directory: TemporaryDirectory) throws -> Bool {
        let separator = try #require(line.range(of: " sig="))
        try Data(line[..<separator.lowerBound].utf8).write(to: URL(fileURLWithPath: directory.file("message")))
        try #require(Data(base64Encoded: String(line[separator.upperBound...]))).write(to: URL(fileURLWithPath: directory.file("signature")))
        let openssl = try #require(ProcessRunner.which("openssl"))
        let result = try ProcessRunner.run(
            openssl,
            ["pkeyutl", "-verify", "-pubin", "-inkey", publicKey, "-rawin", "-in", directory.file("message"), "-sigfile", directory.file("signature")])
        return result.status == 0 && result.standardOutput.contains("Signature Verified Successfully")
    }

    @Test func aWholeChainRewriteWithRecomputedHashesIsCaughtOnlyByTheSeal() throws {
        let (scratch, dkimctl) = try registry()
        let outside = try TemporaryDirectory("audit-key")
        let keyPath = outside.file("seal.pem")
        let created = try dkimctl.run(["audit", "seal", "--init-key", keyPath])
        #expect(created.status == 0, "\(created.standardError)")
        let publicKey = outside.file("seal-public.pem")
        try created.standardOutput.write(toFile: publicKey, atomically: true, encoding: .utf8)
        var info = stat()
        #expect(stat(keyPath, &info) == 0 && info.st_mode & 0o777 == 0o600)

        let sealed = try dkimctl.run(["audit", "seal", "--key", keyPath])
        #expect(sealed.status == 0, "\(sealed.standardError)")
        let line = sealed.standardOutput.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("dkimctl-seal-v1 event=4 hash="))
        #expect(try String(contentsOfFile: dkimctl.stateDirectory + "/seals.log", encoding: .utf8) == line + "\n")
        #expect(try opensslVerifies(line: line, publicKey: publicKey, in: scratch))
        #expect(try dkimctl.run(["audit", "verify", "--seals", "--public-key", publicKey]).status == 0)

        try rewriteWholeChain(dkimctl)
        // The chain and the register alone cannot tell: every hash was recomputed.
        let unsealed = try dkimctl.run(["audit", "verify"])
        #expect(unsealed.status == 0, "\(unsealed.standardOutput)")
        let checked = try dkimctl.run(["audit", "verify", "--seals", "--public-key", publicKey, "--format", "json"])
        #expect(checked.status == 1, "\(checked.standardOutput)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(checked.standardOutput.utf8)) as? [String: Any])
        let problems = try #require((report["seals"] as? [String: Any])?["problems"] as? [String])
        #expect(problems.count == 1)
        #expect(problems.first?.contains("event 4 now has hash") == true && problems.first?.contains("the chain was rewritten at or before it") == true, "\(problems)")
        // The seal itself still verifies with openssl: it is the chain that changed.
        #expect(try opensslVerifies(line: line, publicKey: publicKey, in: scratch))
    }

    @Test func anEditedSealOrAnotherSignerIsCaught() throws {
        let (scratch, dkimctl) = try registry()
        let outside = try TemporaryDirectory("audit-key")
        let created = try dkimctl.run(["audit", "seal", "--init-key", outside.file("seal.pem")])
        try created.standardOutput.write(toFile: outside.file("public.pem"), atomically: true, encoding: .utf8)
        let line = try dkimctl.run(["audit", "seal", "--key", outside.file("seal.pem")]).standardOutput.trimmingCharacters(in: .newlines)

        let edited = line.replacingOccurrences(of: " keys=1 ", with: " keys=7 ")
        try (edited + "\n").write(toFile: dkimctl.stateDirectory + "/seals.log", atomically: true, encoding: .utf8)
        #expect(try !opensslVerifies(line: edited, publicKey: outside.file("public.pem"), in: scratch))
        let verified = try dkimctl.run(["audit", "verify", "--seals"])  // the state directory's copy of the public key
        #expect(verified.status == 1)
        #expect(verified.standardOutput.contains("the signature does not verify: the line was edited"), "\(verified.standardOutput)")

        // A seal signed by another key than the auditor's.
        #expect(try dkimctl.run(["audit", "seal", "--init-key", outside.file("other.pem")]).status == 0)
        try "".write(toFile: dkimctl.stateDirectory + "/seals.log", atomically: true, encoding: .utf8)
        #expect(try dkimctl.run(["audit", "seal", "--key", outside.file("other.pem")]).status == 0)
        let foreign = try dkimctl.run(["audit", "verify", "--seals", "--public-key", outside.file("public.pem")])
        #expect(foreign.status == 1)
        #expect(foreign.standardOutput.contains("not by a given public key"), "\(foreign.standardOutput)")
    }

    @Test func sealingRefusesABrokenRegisterAKeyInsideTheStateAndAMissingKey() throws {
        let (scratch, dkimctl) = try registry()
        defer { withExtendedLifetime(scratch) {} }
        let inside = try dkimctl.run(["audit", "seal", "--init-key", dkimctl.stateDirectory + "/keys/../audit.pem"])
        #expect(inside.status == 64)
        #expect(inside.errorLines.first?.contains("is inside the state directory") == true, "\(inside.standardError)")
        // A symbolic link planted outside that leads inside is resolved.
        let link = scratch.file("innocent")
        #expect(symlink(dkimctl.stateDirectory, link) == 0)
        #expect(try dkimctl.run(["audit", "seal", "--init-key", link + "/audit.pem"]).status == 64)
        #expect(!FileManager.default.fileExists(atPath: dkimctl.stateDirectory + "/audit.pem"))

        let missing = try dkimctl.run(["audit", "seal"])
        #expect(missing.status == 64)
        #expect(missing.errorLines == ["dkimctl: error: no audit key: pass --key FILE (create one with 'dkimctl audit seal --init-key FILE', outside the state directory)"])

        let outside = try TemporaryDirectory("audit-key")
        #expect(try dkimctl.run(["audit", "seal", "--init-key", outside.file("seal.pem")]).status == 0)
        try RegistryTampering.run("UPDATE slot SET owner = 'mallory@example.net';", on: dkimctl.stateDirectory + "/registry.sqlite")
        let refused = try dkimctl.run(["audit", "seal", "--key", outside.file("seal.pem")])
        #expect(refused.status == 1)
        #expect(refused.errorLines.first?.contains("the register differs from the event log") == true, "\(refused.standardError)")
        #expect(!FileManager.default.fileExists(atPath: dkimctl.stateDirectory + "/seals.log"))
    }
}
