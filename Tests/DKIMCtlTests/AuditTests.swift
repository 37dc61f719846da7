import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// `audit verify` and `audit events`: tampering is found and named, and the
/// exported events re-verify with an independent implementation (Python).
@Suite struct AuditChainTests {
    /// A registry with a few events, built by the real commands (events 1–7).
    private func registry() throws -> (TemporaryDirectory, DKIMCtlBinary) {
        let directory = try TemporaryDirectory("audit")
        let dkimctl = DKIMCtlBinary(stateDirectory: directory.file("state"), environment: ["DKIMCTL_NOW": "2026-11-23T10:00:00Z"])
        for arguments in [
            ["init", "--owner", "team@example.org"],
            ["new", "--domain", "example.org", "--provider", "self-hosted", "--algorithm", "ed25519"],
            ["new", "--domain", "example.org", "--provider", "custom:crm", "--usage", "support", "--owner", "help@example.org", "--algorithm", "ed25519"],
            ["activate", "self-hosted-default-20261123", "--domain", "example.org", "--force", "--reason", "audit test"],
        ] {
            let result = try dkimctl.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.standardError)")
        }
        return (directory, dkimctl)
    }

    /// Runs SQL on the registry with the append-only triggers dropped, as an attacker with file access would.
    private func tamper(_ dkimctl: DKIMCtlBinary, _ sql: String) throws {
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.executescript("DROP TRIGGER event_append_only_update; DROP TRIGGER event_append_only_delete;" + sys.argv[2])
            db.commit()
            """
        let result = try ProcessRunner.run(
            try #require(ProcessRunner.which("python3")), ["-c", script, dkimctl.stateDirectory + "/registry.sqlite", sql])
        #expect(result.status == 0, "\(result.standardError)")
    }

    struct Tampering: Sendable, CustomTestStringConvertible {
        let name: String
        let sql: String
        /// The event the report must name first (nil: the end of the log).
        let firstEvent: Int?
        let problem: String
        var testDescription: String { name }
    }

    static let tamperings: [Tampering] = [
        .init(name: "edited field", sql: "UPDATE event SET actor = 'someone-else@host' WHERE id = 5;", firstEvent: 5,
              problem: "was altered: its stored hash does not match its content"),
        .init(name: "deleted event", sql: "DELETE FROM event WHERE id = 5;", firstEvent: 6,
              problem: "event ids jump from 4 to 6: 1 event(s) before event 6 were removed"),
        .init(
            name: "two events reordered",
            sql: """
                CREATE TEMP TABLE a AS SELECT * FROM event WHERE id = 4; CREATE TEMP TABLE b AS SELECT * FROM event WHERE id = 5;
                UPDATE event SET time = (SELECT time FROM b), actor = (SELECT actor FROM b), key_id = (SELECT key_id FROM b),
                  domain = (SELECT domain FROM b), selector = (SELECT selector FROM b), action = (SELECT action FROM b),
                  from_state = (SELECT from_state FROM b), to_state = (SELECT to_state FROM b), details = (SELECT details FROM b),
                  previous_hash = (SELECT previous_hash FROM b), hash = 'x' || (SELECT hash FROM b) WHERE id = 4;
                UPDATE event SET time = (SELECT time FROM a), actor = (SELECT actor FROM a), key_id = (SELECT key_id FROM a),
                  domain = (SELECT domain FROM a), selector = (SELECT selector FROM a), action = (SELECT action FROM a),
                  from_state = (SELECT from_state FROM a), to_state = (SELECT to_state FROM a), details = (SELECT details FROM a),
                  previous_hash = (SELECT previous_hash FROM a), hash = (SELECT hash FROM a) WHERE id = 5;
                UPDATE event SET hash = substr(hash, 2) WHERE id = 4;
                """,
            firstEvent: 4, problem: "was altered: its stored hash does not match its content"),
        .init(name: "truncated tail", sql: "DELETE FROM event WHERE id >= (SELECT max(id) - 1 FROM event);", firstEvent: nil,
              problem: "events were removed from the end"),
    ]

    @Test func anUntouchedLogVerifies() throws {
        let (scratch, dkimctl) = try registry()
        defer { withExtendedLifetime(scratch) {} }
        let result = try dkimctl.run(["audit", "verify", "--format", "json"])
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(report["intact"] as? Bool == true && report["firstBreak"] is NSNull)
        let count = try #require(report["eventCount"] as? Int)
        #expect(count >= 7 && report["headId"] as? Int == count)
        let head = try #require(report["headHash"] as? String)
        // The head kept from this audit proves the next one continues it.
        #expect(try dkimctl.run(["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "alerts", "--algorithm", "ed25519"]).status == 0)
        let next = try dkimctl.run(["audit", "verify", "--expect-head", head])
        #expect(next.status == 0)
        #expect(next.standardOutput.contains("the head kept from the last audit (\(head)) is event \(count): the log continues it"))
        let bad = try dkimctl.run(["audit", "verify", "--expect-head", "nothex"])
        #expect(bad.status == 64 && bad.errorLines == ["dkimctl: error: head hash 'nothex' is not a SHA-256 (allowed: 64 hexadecimal digits)"])
    }

    @Test(arguments: tamperings)
    func tamperingIsFoundAndNamed(_ tampering: Tampering) throws {
        let (scratch, dkimctl) = try registry()
        defer { withExtendedLifetime(scratch) {} }
        let head = try #require(try SQLRegistry.open(path: dkimctl.stateDirectory + "/registry.sqlite", create: false).verifyEventChain().headHash)
        try tamper(dkimctl, tampering.sql)
        let result = try dkimctl.run(["audit", "verify", "--format", "json"])
        #expect(result.status == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(report["intact"] as? Bool == false)
        let first = try #require(report["firstBreak"] as? [String: Any])
        #expect(first["eventId"] as? Int == tampering.firstEvent, "\(first)")
        #expect((first["problem"] as? String)?.contains(tampering.problem) == true, "\(first)")
        let text = try dkimctl.run(["audit", "verify", "--expect-head", head])
        #expect(text.status == 1)
        #expect(text.standardOutput.hasPrefix("event chain BROKEN: "), "\(text.standardOutput)")
    }

    /// The README's description of the hash, implemented in Python over the CSV export.
    static let pythonVerifier = """
        import csv, hashlib, sys
        rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
        header, rows = rows[0], rows[1:]
        # A value that starts with ' had one put in front of it (formula neutralisation): remove it.
        rows = [[value[1:] if value.startswith("'") else value for value in row] for row in rows]
        fields = header[:-1]
        previous = rows[0][header.index("previous_hash")] if len(sys.argv) > 2 else "0" * 64
        for row in rows:
            text = "dkimctl-event-v1\\n"
            for name, value in zip(fields, row):
                # An empty field is NULL: dkimctl never stores an empty string in the nullable columns.
                text += f"{name}=null\\n" if value == "" else f"{name}={len(value.encode())}:{value}\\n"
            if row[header.index("previous_hash")] != previous:
                print("broken link at event", row[0]); sys.exit(1)
            if hashlib.sha256(text.encode()).hexdigest() != row[-1]:
                print("altered event", row[0]); sys.exit(1)
            previous = row[-1]
        print("ok", len(rows), previous)
        """

    @Test func exportedEventsReverifyIndependently() throws {
        let (scratch, dkimctl) = try registry()
        let csv = scratch.file("events.csv")
        let exported = try dkimctl.run(["audit", "events", "--format", "csv", "--output", csv])
        #expect(exported.status == 0, "\(exported.standardError)")
        try Self.pythonVerifier.write(toFile: scratch.file("verify.py"), atomically: true, encoding: .utf8)
        let python = try #require(ProcessRunner.which("python3"))
        let verified = try ProcessRunner.run(python, [scratch.file("verify.py"), csv])
        let chain = try SQLRegistry.open(path: dkimctl.stateDirectory + "/registry.sqlite", create: false).verifyEventChain()
        #expect(verified.status == 0, "\(verified.standardOutput)\(verified.standardError)")
        #expect(verified.standardOutput == "ok \(chain.eventCount) \(chain.headHash)\n")

        // The runbook's own version of the check agrees.
        let runbook = try String(contentsOfFile: RunbookTests.runbooks + "/audit-event-chain.md", encoding: .utf8)
        let documented = try #require(
            runbook.components(separatedBy: "```python\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
                .first { $0.contains("csv.reader") })
        let byRunbook = try ProcessRunner.run(python, ["-c", documented, csv])
        #expect(byRunbook.status == 0 && byRunbook.standardOutput == "ok \(chain.eventCount) events, head \(chain.headHash)\n", "\(byRunbook.standardOutput)\(byRunbook.standardError)")

        // The same script catches an edit made to the export.
        let text = try String(contentsOfFile: csv, encoding: .utf8)
        try text.replacingOccurrences(of: "\"help@example.org\"", with: "\"h3lp@example.org\"")
            .write(toFile: scratch.file("edited.csv"), atomically: true, encoding: .utf8)
        let edited = try ProcessRunner.run(python, [scratch.file("verify.py"), scratch.file("edited.csv")])
        #expect(edited.status == 1 && edited.standardOutput.hasPrefix("altered event "), "\(edited.standardOutput)")

        // --since: the tail still verifies from its first previous_hash; JSON Lines carry the same values.
        let since = try dkimctl.run(["audit", "events", "--since", "2026-11-23"])
        try since.standardOutput.write(toFile: scratch.file("since.csv"), atomically: true, encoding: .utf8)
        #expect(try ProcessRunner.run(python, [scratch.file("verify.py"), scratch.file("since.csv"), "--tail"]).status == 0)
        let lines = try dkimctl.run(["audit", "events", "--format", "json"]).standardOutput.split(separator: "\n")
        #expect(lines.count == chain.eventCount)
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
        #expect(last["hash"] as? String == chain.headHash && last["id"] as? Int == chain.eventCount)
        let later = try dkimctl.run(["audit", "events", "--since", "2027-01-01"])
        #expect(later.standardOutput == EventReport.csvHeader)
        let wrong = try dkimctl.run(["audit", "events", "--since", "last week"])
        #expect(wrong.status == 64 && wrong.errorLines == ["dkimctl: error: time 'last week' is not a date (allowed: YYYY-MM-DD or ISO 8601, e.g. 2026-05-01T00:00:00Z)"])
    }
}

/// `dkimctl audit` over a registry built by the real commands with a crafted history,
/// against a BIND serving some of its records and one key nobody registered.
@Suite struct ComplianceAuditTests {
    static let start = Timestamp.parse("2026-01-10T09:00:00Z")!
    static func at(_ days: Double) -> [String: String] {
        ["DKIMCTL_NOW": Timestamp.iso8601(start.addingTimeInterval(days * 86400))]
    }

    /// Every finding expected, as (rule, selector).
    static let expected: Set<String> = [
        "rotation-overdue overdue", "ttl-not-raised overdue", "rotation-due-soon duesoon", "ttl-not-raised duesoon",
        "weak-key weak", "no-owner ownerless", "unknown-selector-live s1", "revoked-still-live gone", "testing-flag testing",
        "private-key-missing lost", "retired-still-published old", "private-key-unsafe exposed",
    ]

    @Test func craftedHistoryGivesEveryFindingAndNothingElse() throws {
        let scratch = try TemporaryDirectory("compliance")
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"))
        func run(_ arguments: [String], day: Double, status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
            let result = try dkimctl.run(arguments, environment: Self.at(day))
            #expect(result.status == status, "\(arguments): \(result.standardError)", sourceLocation: sourceLocation)
            return result
        }
        try run(["init", "--owner", "team@example.org"], day: 0)
        let ed = ["--algorithm", "ed25519"]
        let new = ["new", "--domain", "example.org", "--provider", "self-hosted"]
        try run(new + ["--usage", "overdue", "--selector", "overdue"] + ed, day: 0)
        try run(new + ["--usage", "duesoon", "--selector", "duesoon"] + ed, day: 0)
        try run(["new", "--domain", "example.org", "--provider", "amazon-ses", "--bits", "1024", "--selector", "weak"], day: 0)
        try run(new + ["--usage", "ownerless", "--selector", "ownerless", "--owner", "unknown@example.org"] + ed, day: 0)
        try run(new + ["--usage", "gone", "--selector", "gone"] + ed, day: 0)
        try run(new + ["--usage", "testing", "--selector", "testing", "--testing"] + ed, day: 50)
        try run(new + ["--usage", "lost", "--selector", "lost"] + ed, day: 50)
        try run(new + ["--usage", "good", "--selector", "good"] + ed, day: 50)
        try run(new + ["--usage", "rolled", "--selector", "old"] + ed, day: 0)
        try run(new + ["--usage", "exposed", "--selector", "exposed"] + ed, day: 50)
        try run(new + ["--usage", "rolled", "--selector", "successor"] + ed, day: 49)
        let force = ["--domain", "example.org", "--force", "--reason", "crafted history"]
        try run(["activate", "overdue", "--rotation", "30d"] + force, day: 1)
        try run(["activate", "duesoon", "--rotation", "70d"] + force, day: 1)
        for selector in ["testing", "lost", "good"] { try run(["activate", selector] + force, day: 55) }
        try run(["activate", "old"] + force, day: 1)
        try run(["activate", "successor"] + force, day: 50)  // retires old: grace over at day 57
        try run(["revoke", "gone", "--domain", "example.org", "--reason", "crafted history"], day: 2)
        try FileManager.default.removeItem(atPath: dkimctl.stateDirectory + "/keys/lost._domainkey.example.org.pem")

        // DNS serves the revoked key's record, the good key's, and a key nobody registered under s1.
        var records: [String] = []
        for selector in ["gone", "good", "old", "successor"] {
            records.append(try run(["record", selector, "--domain", "example.org"], day: 60).standardOutput)
        }
        let stranger = try KeyPair.generate(try KeySpecification(algorithm: .rsa))
        records.append(ZoneText.txt("s1._domainkey", "v=DKIM1; k=rsa; p=" + stranger.dkimPublicKey))
        let named = try NamedServer(zones: [.init("example.org", ZoneText.zone("example.org", records: records))])
        let dns = ["--nameserver", "127.0.0.1:\(named.port)", "--timeout", "1"]

        chmod(dkimctl.stateDirectory + "/keys/exposed._domainkey.example.org.pem", 0o644)
        // Other commands refuse such a state directory; the audit reports the file.
        #expect(try dkimctl.run(["list"]).status == 1)
        let audit = try run(["audit", "--format", "json"] + dns, day: 60, status: 3)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(audit.standardOutput.utf8)) as? [String: Any])
        let findings = try #require(report["findings"] as? [[String: Any]])
        let found = Set(findings.map { "\($0["rule"] as? String ?? "") \($0["selector"] as? String ?? "")" })
        #expect(found == Self.expected)
        #expect(findings.count == Self.expected.count)
        for finding in findings {
            let rule = try #require(AuditRule(rawValue: finding["rule"] as? String ?? ""))
            let severity = finding["selector"] as? String == "weak" ? "error" : rule.severity.rawValue
            #expect(finding["severity"] as? String == severity)
            #expect(finding["domain"] as? String == "example.org")
            #expect((finding["message"] as? String)?.isEmpty == false && finding["source"] as? String == rule.source)
        }
        let summary = try #require(report["summary"] as? [String: Any])
        #expect(summary["keys"] as? Int == 11 && summary["error"] as? Int == 8 && summary["warning"] as? Int == 4)
        #expect(report["dnsChecked"] as? Bool == true)
        let keys = try #require(report["keys"] as? [[String: Any]])
        let overdue = try #require(keys.first { $0["selector"] as? String == "overdue" })
        #expect(overdue["state"] as? String == "active" && overdue["owner"] as? String == "team@example.org")
        #expect(overdue["activatedAt"] as? String == "2026-01-11T09:00:00Z" && overdue["expiresAt"] as? String == "2026-02-10T09:00:00Z")
        #expect(overdue["algorithm"] as? String == "ed25519" && overdue["bits"] as? Int == 256 && overdue["privateKey"] as? String == "present (0600)")
        let good = try #require(keys.first { $0["selector"] as? String == "good" })
        #expect((good["findings"] as? [Any])?.isEmpty == true)
        // The manual publisher: the revoked key's file waits until DNS shows the record withdrawn.
        #expect(keys.first { $0["selector"] as? String == "gone" }?["privateKey"] as? String == "present (0600) until DNS shows the record withdrawn")
        #expect(keys.first { $0["selector"] as? String == "lost" }?["privateKey"] as? String == "missing")
        #expect(keys.first { $0["selector"] as? String == "exposed" }?["privateKey"] as? String == "unsafe mode 0644")
        #expect((report["unknownSelectors"] as? [[String: Any]])?.map { $0["selector"] as? String } == ["s1"])

        // CSV, parsed back column by column.
        let csvOutput = scratch.file("audit.csv")
        let written = try run(["audit", "--format", "csv", "--output", csvOutput] + dns, day: 60, status: 3)
        #expect(written.standardOutput.isEmpty && written.standardError.contains("wrote \(csvOutput)"))
        let rows = CSV.parse(try String(contentsOfFile: csvOutput, encoding: .utf8))
        #expect(rows[0] == AuditReport.csvColumns)
        #expect(rows.count == 1 + 11 + 1 && rows.allSatisfy { $0.count == rows[0].count })
        func column(_ row: [String], _ name: String) -> String { row[rows[0].firstIndex(of: name)!] }
        let weak = try #require(rows.first { $0[1] == "weak" })
        #expect(column(weak, "provider") == "amazon-ses" && column(weak, "algorithm") == "rsa" && column(weak, "bits") == "1024")
        #expect(column(weak, "state") == "pending" && column(weak, "findings") == "error:weak-key")
        #expect(column(weak, "created_at") == "2026-01-10T09:00:00Z" && column(weak, "activated_at") == "")
        let overdueRow = try #require(rows.first { $0[1] == "overdue" })
        #expect(column(overdueRow, "findings") == "error:rotation-overdue; warning:ttl-not-raised")
        #expect(column(overdueRow, "expires_at") == "2026-02-10T09:00:00Z" && column(overdueRow, "kind") == "local")
        let unknownRow = try #require(rows.last)
        #expect(unknownRow[1] == "s1" && column(unknownRow, "kind") == "unknown" && column(unknownRow, "findings") == "error:unknown-selector-live")
        let goodRow = try #require(rows.first { $0[1] == "good" })
        #expect(column(goodRow, "findings") == "" && column(goodRow, "usage") == "good")

        // Without DNS, only the DNS rules go; Markdown and the table carry the same findings.
        let offline = try run(["audit", "--no-dns", "--format", "json"], day: 60, status: 3)
        let offlineFindings = try #require((try JSONSerialization.jsonObject(with: Data(offline.standardOutput.utf8)) as? [String: Any])?["findings"] as? [[String: Any]])
        #expect(Set(offlineFindings.map { "\($0["rule"] as? String ?? "") \($0["selector"] as? String ?? "")" })
            == Self.expected.subtracting(["unknown-selector-live s1", "revoked-still-live gone", "retired-still-published old"]))
        let markdown = try run(["audit", "--format", "markdown"] + dns, day: 60, status: 3).standardOutput
        #expect(markdown.hasPrefix("# DKIM compliance audit\n"))
        #expect(markdown.contains("- **error** `unknown-selector-live` — `s1._domainkey.example.org`"))
        let table = try run(["audit"] + dns, day: 60, status: 3).standardOutput
        #expect(table.contains("  error [rotation-overdue] overdue._domainkey.example.org: active past its rotation date 2026-02-10"))
        #expect(table.hasSuffix("11 key(s), 8 error(s), 4 warning(s)\n"))

        // --since leaves out keys revoked before it; a domain with nothing wrong exits 0.
        let since = try run(["audit", "--no-dns", "--since", "2026-01-20", "--format", "json"], day: 60, status: 3)
        let sinceKeys = try #require((try JSONSerialization.jsonObject(with: Data(since.standardOutput.utf8)) as? [String: Any])?["keys"] as? [[String: Any]])
        #expect(sinceKeys.count == 10 && !sinceKeys.contains { $0["selector"] as? String == "gone" })
        chmod(dkimctl.stateDirectory + "/keys/exposed._domainkey.example.org.pem", 0o600)
        try run(["new", "--domain", "example.net", "--provider", "self-hosted"] + ed, day: 60)
        let clean = try run(["audit", "--domain", "example.net"] + dns, day: 60, status: 0)
        #expect(clean.standardOutput.contains("Findings:\n  none\n"))
    }
}

/// `dkimctl doctor` finds each planted problem and says how to fix it.
@Suite struct DoctorTests {
    private func world() throws -> (TemporaryDirectory, DKIMCtlBinary) {
        let scratch = try TemporaryDirectory("doctor")
        let dkimctl = DKIMCtlBinary(
            stateDirectory: URL(fileURLWithPath: scratch.file("state")).standardizedFileURL.path, environment: ["DKIMCTL_NOW": "2026-11-23T10:00:00Z"])
        for arguments in [
            ["init", "--owner", "team@example.org"],
            ["new", "--domain", "example.org", "--provider", "self-hosted", "--algorithm", "ed25519", "--selector", "kept"],
            ["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "lost", "--algorithm", "ed25519", "--selector", "lost"],
            ["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "open", "--algorithm", "ed25519", "--selector", "open"],
        ] {
            let result = try dkimctl.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.standardError)")
        }
        return (scratch, dkimctl)
    }

    private func checks(_ result: ProcessResult) throws -> [[String: Any]] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        return try #require(object["checks"] as? [[String: Any]])
    }

    @Test func plantedProblemsAreFoundWithTheirFix() throws {
        let (scratch, dkimctl) = try world()
        let named = try NamedServer(zones: [.init("example.org", ZoneText.zone("example.org"))])
        try """
            defaults: { owner: team@example.org }
            dns: { nameservers: ["127.0.0.1:\(named.port)"], timeout: 1, retries: 0 }
            domains:
              example.org: { slots: [ { provider: self-hosted } ] }
              example.net: { slots: [ { provider: self-hosted } ] }
            """.write(toFile: dkimctl.stateDirectory + "/dkimctl.yaml", atomically: true, encoding: .utf8)

        let healthy = try dkimctl.run(["doctor", "--format", "json"])
        let before = try checks(healthy)
        // Only example.net, which the server does not serve, is wrong so far.
        #expect(before.filter { $0["ok"] as? Bool == false }.map { $0["message"] as? String ?? "" }.allSatisfy { $0.hasPrefix("example.net: ") }, "\(before)")
        #expect(before.contains { $0["name"] as? String == "dns" && $0["ok"] as? Bool == true && ($0["message"] as? String)?.hasPrefix("example.org: zone example.org.") == true })

        let keys = dkimctl.stateDirectory + "/keys/"
        try FileManager.default.removeItem(atPath: keys + "lost._domainkey.example.org.pem")
        try FileManager.default.copyItem(atPath: keys + "kept._domainkey.example.org.pem", toPath: keys + "stray._domainkey.example.org.pem")
        chmod(keys + "open._domainkey.example.org.pem", 0o640)
        chmod(dkimctl.stateDirectory + "/registry.sqlite", 0o644)
        try "defaults: { owner: team@example.org, rotaton: 90d }\n".write(toFile: dkimctl.stateDirectory + "/dkimctl.yaml", atomically: true, encoding: .utf8)

        let result = try dkimctl.run(["doctor", "--format", "json", "--no-dns"])
        #expect(result.status == 1)
        let problems = try checks(result).filter { $0["ok"] as? Bool == false }
        func problem(_ name: String) -> [String: Any]? { problems.first { $0["name"] as? String == name } }
        #expect(Set(problems.map { $0["name"] as? String ?? "" }) == ["registry-file", "key-file-mode", "orphan-key-file", "missing-key-file", "configuration"], "\(problems)")
        #expect(problem("registry-file")?["fix"] as? String == "chmod 600 \(dkimctl.stateDirectory)/registry.sqlite")
        #expect((problem("key-file-mode")?["fix"] as? String)?.hasPrefix("chmod 600 \(keys)open._domainkey.example.org.pem") == true)
        #expect((problem("orphan-key-file")?["message"] as? String)?.hasPrefix("\(keys)stray._domainkey.example.org.pem is a key file no registry row references") == true)
        #expect((problem("orphan-key-file")?["fix"] as? String)?.contains("shred -u \(keys)stray._domainkey.example.org.pem") == true)
        #expect(problem("missing-key-file")?["message"] as? String == "key lost of example.org is pending but its file \(keys)lost._domainkey.example.org.pem is gone")
        #expect(problem("missing-key-file")?["fix"] as? String == "dkimctl revoke lost --domain example.org --immediately --reason 'key file lost'")
        #expect((problem("configuration")?["message"] as? String)?.contains("defaults.rotaton: unknown key 'rotaton'") == true)
        #expect((problem("configuration")?["fix"] as? String)?.hasPrefix("fix the line named; dkimctl config check") == true)

        // Text: each problem on its line, its fix under it.
        let text = try dkimctl.run(["doctor", "--no-dns"])
        #expect(text.standardOutput.contains("PROBLEM  registry-file: registry \(dkimctl.stateDirectory)/registry.sqlite has mode 0644 (expected 0600 at most)\n         fix: chmod 600 "))
        #expect(text.standardOutput.hasSuffix("5 problem(s) found\n"))
        withExtendedLifetime(scratch) {}
    }

    @Test func aCorruptedRegistryIsReported() throws {
        let (scratch, dkimctl) = try world()
        defer { withExtendedLifetime(scratch) {} }
        // Overwrite the middle of the file: pages SQLite will find broken.
        try RegistryTampering.damage(dkimctl.stateDirectory + "/registry.sqlite", offset: 4096, count: 8192)
        let result = try dkimctl.run(["doctor", "--format", "json", "--no-dns"])
        #expect(result.status == 1)
        let integrity = try #require(try checks(result).first { $0["name"] as? String == "registry-integrity" })
        #expect(integrity["ok"] as? Bool == false)
        #expect((integrity["fix"] as? String)?.contains("runbooks/recovery.md") == true)
        #expect((integrity["fix"] as? String)?.contains(".recover") == true)
        // Other commands refuse such a registry; the doctor still runs and reports.
        #expect(try dkimctl.run(["list"]).status != 0)
    }
}
