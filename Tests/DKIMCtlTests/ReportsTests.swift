import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// `reports import` and `reports summary` on reports shaped as real reporters send them,
/// and on hostile files, through the built binary.
@Suite struct ReportsTests {
    static let now = "2026-11-23T12:00:00Z"
    static let ours = "self-hosted-noreply-20261123"

    /// A report: `rows` are (source IP, count, header_from, [(d=, selector or nil, result)]).
    static func report(
        reporter: String, id: String, begin: Int, adkim: String? = nil, namespace: String? = nil,
        rows: [(String, Int, String, [(String, String?, String)])], extra: String = ""
    ) -> String {
        let records = rows.map { ip, count, from, signatures -> String in
            let dkim = signatures.map { domain, selector, result -> String in
                "<dkim><domain>\(domain)</domain>\(selector.map { "<selector>\($0)</selector>" } ?? "")<result>\(result)</result></dkim>"
            }.joined()
            return """
                <record><row><source_ip>\(ip)</source_ip><count>\(count)</count><policy_evaluated><disposition>none</disposition>\
                <dkim>pass</dkim><spf>fail</spf></policy_evaluated></row><identifiers><header_from>\(from)</header_from></identifiers>\
                <auth_results>\(dkim)<spf><domain>\(from)</domain><result>pass</result></spf></auth_results></record>
                """
        }.joined(separator: "\n")
        return """
            <?xml version="1.0" encoding="UTF-8" ?>
            <feedback\(namespace.map { " xmlns=\"\($0)\"" } ?? "")>
              <report_metadata><org_name>\(reporter)</org_name><email>dmarc@\(reporter)</email><report_id>\(id)</report_id>
                <date_range><begin>\(begin)</begin><end>\(begin + 86399)</end></date_range></report_metadata>
              <policy_published><domain>example.org</domain>\(adkim.map { "<adkim>\($0)</adkim>" } ?? "")<aspf>r</aspf><p>none</p><pct>100</pct></policy_published>
              \(extra)
            \(records)
            </feedback>
            """
    }

    /// Writes `text` to `path` as given, gzip or a ZIP holding `entry`, with Debian's python3.
    static func write(_ text: String, to path: String, as format: String = "xml", entry: String = "report.xml") throws {
        let plain = path + ".plain"
        try text.write(toFile: plain, atomically: true, encoding: .utf8)
        let script = """
            import gzip, shutil, sys, zipfile, os
            plain, path, form, entry = sys.argv[1:5]
            if form == "gzip":
                with open(plain, "rb") as source, gzip.open(path, "wb") as target: shutil.copyfileobj(source, target)
            elif form == "zip":
                with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive: archive.write(plain, entry)
            else:
                shutil.copyfile(plain, path)
            os.remove(plain)
            """
        let result = try ProcessRunner.run("/usr/bin/python3", ["-c", script, plain, path, format, entry])
        guard result.status == 0 else { throw TestSupportError("writing \(path): \(result.standardError)") }
    }

    func world() throws -> (TemporaryDirectory, DKIMCtlBinary) {
        let scratch = try TemporaryDirectory("reports")
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"), environment: ["DKIMCTL_NOW": Self.now])
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        let created = try dkimctl.run(["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "noreply", "--algorithm", "ed25519"])
        #expect(created.status == 0, "\(created.standardError)")
        try FileManager.default.createDirectory(atPath: scratch.file("inbox/sub"), withIntermediateDirectories: true)
        return (scratch, dkimctl)
    }

    func summary(_ dkimctl: DKIMCtlBinary, _ extra: [String] = []) throws -> [[String: Any]] {
        let result = try dkimctl.run(["reports", "summary", "--format", "json"] + extra)
        #expect(result.status == 0, "\(result.standardError)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]])
    }

    @Test func reportsAsReportersSendThemAreCountedOnce() throws {
        let (scratch, dkimctl) = try world()
        // Google: a ZIP holding one XML, here named .gz (mislabeled); relaxed alignment.
        try Self.write(
            Self.report(reporter: "google.com", id: "1001", begin: 1_795_132_800, adkim: "r", rows: [
                ("192.0.2.1", 10, "example.org", [("example.org", Self.ours, "pass")]),
                ("192.0.2.2", 5, "example.org", [("example.org", Self.ours, "fail")]),
            ]), to: scratch.file("inbox/google.com!example.org!1795132800.gz"), as: "zip", entry: "google.com!example.org.xml")
        // Microsoft: gzip named .xml; strict alignment; two signatures in one row, mixed-case results.
        try Self.write(
            Self.report(reporter: "Outlook.com", id: "ms-77", begin: 1_795_219_200, adkim: "s", rows: [
                ("198.51.100.7", 3, "example.org", [("mail.example.org", "Selector2", "PASS"), ("example.org", Self.ours, "Pass")]),
            ]), to: scratch.file("inbox/sub/outlook.xml"), as: "gzip")
        // Yahoo: RFC 9990's namespace, a signature without a selector, stray elements.
        try Self.write(
            Self.report(
                reporter: "Yahoo", id: "y-1", begin: 1_795_305_600, namespace: "urn:ietf:params:xml:ns:dmarc-2.0",
                rows: [("203.0.113.4", 7, "example.org", [("example.org", nil, "pass")])],
                extra: "<extension><anything>1</anything></extension>"),
            to: scratch.file("inbox/yahoo.report"))

        let imported = try dkimctl.run(["reports", "import", scratch.file("inbox")])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(imported.standardOutput.hasSuffix("3 file(s), 3 report(s): 3 imported (4 row(s), 25 message(s)), 0 already imported or past retention, 0 refused\n"), "\(imported.standardOutput)")

        // Worked out by hand from the reports above; unknown selectors first.
        func check(_ rows: [[String: Any]]) {
            #expect(rows.map { "\($0["dkimDomain"]!)/\($0["selector"]!)" } == ["example.org/", "mail.example.org/selector2", "example.org/\(Self.ours)"])
            guard rows.count == 3 else { return }
            let (unnamed, theirs, ours) = (rows[0], rows[1], rows[2])
            #expect(unnamed["known"] as? Bool == false && unnamed["messages"] as? Int == 7 && unnamed["passingMessages"] as? Int == 7)
            #expect(unnamed["alignedMessages"] as? Int == 7 && unnamed["firstSeen"] as? String == "2026-11-22")
            #expect(theirs["known"] as? Bool == false && theirs["messages"] as? Int == 3 && theirs["passingMessages"] as? Int == 3)
            #expect(theirs["alignedMessages"] as? Int == 0, "strict: mail.example.org is not example.org")
            #expect(ours["known"] as? Bool == true && ours["messages"] as? Int == 18 && ours["passingMessages"] as? Int == 13)
            #expect(ours["alignedMessages"] as? Int == 18 && ours["reporters"] as? Int == 2)
            #expect(ours["firstSeen"] as? String == "2026-11-20" && ours["lastSeen"] as? String == "2026-11-21")
        }
        check(try summary(dkimctl))

        // Again: nothing counted twice, and nothing new in the event log.
        let events = try dkimctl.run(["audit", "events", "--format", "json"]).standardOutput
        let again = try dkimctl.run(["reports", "import", scratch.file("inbox")])
        #expect(again.status == 0)
        #expect(again.standardOutput.hasSuffix("3 file(s), 3 report(s): 0 imported (0 row(s), 0 message(s)), 3 already imported or past retention, 0 refused\n"), "\(again.standardOutput)")
        check(try summary(dkimctl))
        #expect(try dkimctl.run(["audit", "events", "--format", "json"]).standardOutput == events)
        #expect(try dkimctl.run(["audit", "verify"]).status == 0)

        // The key's last sighting: the end of the latest report period that shows it.
        let shown = try dkimctl.run(["show", Self.ours, "--domain", "example.org"])
        #expect(shown.standardOutput.contains("Seen signing:") && shown.standardOutput.contains("until 2026-11-21T23:59:59Z (DMARC aggregate reports)"), "\(shown.standardOutput)")
        let json = try JSONSerialization.jsonObject(with: Data(try dkimctl.run(["show", Self.ours, "--domain", "example.org", "--format", "json"]).standardOutput.utf8)) as? [String: Any]
        #expect((json?["key"] as? [String: Any])?["lastSeenSigning"] as? String == "2026-11-21T23:59:59Z")

        // Metrics: the last day's sightings (since 2026-11-22), the unknown signer, the newest report's age.
        let metrics = try dkimctl.run(["metrics"]).standardOutput
        for line in [
            "dkimctl_dmarc_selector_messages{dkim_domain=\"example.org\",selector=\"\",known=\"no\"} 7",
            "dkimctl_dmarc_selector_pass_ratio{dkim_domain=\"example.org\",selector=\"\",known=\"no\"} 1",
            "dkimctl_dmarc_unknown_selectors 1", "dkimctl_dmarc_newest_report_age_seconds 43201",
        ] {
            #expect(metrics.contains("\n" + line + "\n"), "\(line)\n\(metrics)")
        }
        #expect(!metrics.contains("selector=\"\(Self.ours)\""), "only days since yesterday count")

        // The sighting in the register: list (JSON and CSV) and the audit.
        let listed = try JSONSerialization.jsonObject(with: Data(try dkimctl.run(["list", "--format", "json"]).standardOutput.utf8)) as? [[String: Any]]
        #expect(listed?.first?["lastSeenSigning"] as? String == "2026-11-21T23:59:59Z")
        let register = try dkimctl.run(["list", "--format", "csv"]).standardOutput
        #expect(register.split(whereSeparator: \.isNewline).first?.hasSuffix(",last_seen_at,last_seen_signing") == true)
        #expect(register.contains(",2026-11-21T23:59:59Z\r\n"), "\(register)")
        let audit = try JSONSerialization.jsonObject(with: Data(try dkimctl.run(["audit", "report", "--no-dns", "--format", "json"]).standardOutput.utf8)) as? [String: Any]
        #expect((audit?["keys"] as? [[String: Any]])?.first?["lastSeenSigning"] as? String == "2026-11-21T23:59:59Z", "\(String(describing: audit))")
        let findings = (audit?["findings"] as? [[String: Any]])?.compactMap { $0["rule"] as? String } ?? []
        #expect(findings.contains("unknown-selector-signing"), "\(findings)")
        // In the CSV, a selector only reports show is not said to be served in DNS.
        let auditCSV = try dkimctl.run(["audit", "report", "--no-dns", "--format", "csv"]).standardOutput
        #expect(auditCSV.contains("\r\nexample.org,,,,,unknown,,,seen-signing,"), "\(auditCSV)")

        // Filters and formats.
        #expect(try summary(dkimctl, ["--since", "2026-11-22"]).map { $0["selector"] as? String } == [""])
        #expect(try summary(dkimctl, ["--domain", "other.example"]).isEmpty)
        let csv = try dkimctl.run(["reports", "summary", "--format", "csv"]).standardOutput
        #expect(csv.hasPrefix("dkim_domain,selector,known,first_seen,last_seen,messages,pass_rate,reporters,aligned_share\r\n"))
        #expect(csv.contains("\r\nexample.org,\(Self.ours),yes,2026-11-20,2026-11-21,18,0.7222,2,1.0000\r\n"), "\(csv)")
        let table = try dkimctl.run(["reports", "summary"]).standardOutput
        #expect(table.contains("(not named)") && table.contains("UNKNOWN") && table.contains("72.2%"), "\(table)")
        // Retention: a week, a week after the first report began: its day and the report go, and
        // importing it again does not bring it back.
        try "reports: { retention: 7d }\n".write(toFile: scratch.file("state/dkimctl.yaml"), atomically: true, encoding: .utf8)
        let later = try dkimctl.run(["reports", "import", scratch.file("inbox")], environment: ["DKIMCTL_NOW": "2026-11-28T00:00:00Z"])
        #expect(later.status == 0, "\(later.standardError)")
        #expect(later.standardError.contains("retention 7d: removed 1 report(s) and 2 daily sum(s) from before 2026-11-21"), "\(later.standardError)")
        #expect(later.standardOutput.contains("google.com report 1001 began before 2026-11-21 (reports.retention 7d)"), "\(later.standardOutput)")
        let kept = try summary(dkimctl)
        #expect(kept.first { $0["selector"] as? String == Self.ours }?["messages"] as? Int == 3)
        #expect(kept.first { $0["selector"] as? String == Self.ours }?["firstSeen"] as? String == "2026-11-21")
        try FileManager.default.removeItem(atPath: scratch.file("state/dkimctl.yaml"))

        let refused = try dkimctl.run(["reports", "summary", "--since", "yesterday"])
        #expect(refused.status == 64 && refused.errorLines == ["dkimctl: error: time 'yesterday' is not a date (allowed: YYYY-MM-DD or ISO 8601, e.g. 2026-05-01T00:00:00Z)"])
    }

    /// Hostile files: each refused with its reason, nothing of it stored; the good one imported.
    /// parsedmarc (PyPI, installed by `scripts/install-dependencies.sh --tests` in its own
    /// environment under .build/) reads the same files: the same messages and passing
    /// messages for every selector. The corpus has what real reporters vary in.
    @Test func totalsPerSelectorAgreeWithParsedmarc() throws {
        let (scratch, dkimctl) = try world()
        var files: [String] = []
        func add(_ text: String, _ name: String, as format: String = "xml") throws {
            try Self.write(text, to: scratch.file("inbox/" + name), as: format)
            files.append(scratch.file("inbox/" + name))
        }
        // Google: a ZIP named .gz; Microsoft: gzip named .xml, two signatures in a row, mixed case.
        try add(Self.report(reporter: "google.com", id: "g-1", begin: 1_795_132_800, adkim: "r", rows: [
            ("192.0.2.1", 10, "example.org", [("example.org", Self.ours, "pass")]),
            ("192.0.2.2", 5, "example.org", [("example.org", Self.ours, "fail")]),
            ("192.0.2.3", 2, "example.org", [("example.org", "google", "pass")]),
        ]), "google.gz", as: "zip")
        try add(Self.report(reporter: "Outlook.com", id: "ms-1", begin: 1_795_219_200, adkim: "s", rows: [
            ("198.51.100.7", 3, "example.org", [("mail.example.org", "Selector2", "PASS"), ("Example.ORG", Self.ours, "Pass")]),
            ("198.51.100.8", 4, "example.org", [("example.org", Self.ours, "TempError")]),
        ]), "outlook.xml", as: "gzip")
        // Yahoo: RFC 9990's namespace, a signature without a selector, stray elements.
        try add(Self.report(
            reporter: "Yahoo", id: "y-1", begin: 1_795_305_600, namespace: "urn:ietf:params:xml:ns:dmarc-2.0",
            rows: [("203.0.113.4", 7, "example.org", [("example.org", nil, "pass")]), ("203.0.113.5", 1, "example.org", [("example.org", "s1", "neutral")])],
            extra: "<extension><anything>1</anything></extension>"), "yahoo.report")
        // A week in one report; an empty selector element; three signatures in a row;
        // a signature with no result; one with no domain (nothing to count it for).
        let week = Self.report(reporter: "mail.ru", id: "week-1", begin: 1_794_700_800, rows: [
            ("192.0.2.9", 6, "example.org", [("example.org", Self.ours, "pass"), ("example.org", "s1", "permerror"), ("example.net", "other", "pass")]),
            ("192.0.2.10", 9, "example.org", [("example.org", Self.ours, "fail")]),
        ])
            .replacingOccurrences(of: "<end>1794787199</end>", with: "<end>1795305599</end>")
            .replacingOccurrences(of: "<dkim><domain>example.org</domain><selector>\(Self.ours)</selector><result>fail</result></dkim>",
                                  with: "<dkim><domain>example.org</domain><selector></selector><result>fail</result></dkim><dkim><domain>example.org</domain><selector>s1</selector></dkim><dkim><selector>s2</selector><result>pass</result></dkim>")
        #expect(week.contains("<selector></selector>") && week.contains("<end>1795305599</end>"), "the corpus is what it says")
        try add(week, "week.xml")
        // A message whose gzip attachment is labelled as something else.
        try Self.write(Self.report(reporter: "gmx.net", id: "m-1", begin: 1_795_132_800, rows: [
            ("192.0.2.20", 12, "example.org", [("example.org", Self.ours, "pass")]),
        ]), to: scratch.file("attachment"), as: "gzip")
        try Self.message(subject: "Report m-1", attachment: try Data(contentsOf: URL(fileURLWithPath: scratch.file("attachment"))),
                         name: "gmx.net!example.org.xml.gz", type: "application/pdf")
            .write(toFile: scratch.file("inbox/gmx.eml"), atomically: true, encoding: .utf8)
        files.append(scratch.file("inbox/gmx.eml"))

        // The same report twice in one run (files are read side by side, stored in order): counted once.
        try FileManager.default.copyItem(atPath: scratch.file("inbox/google.gz"), toPath: scratch.file("inbox/google-copy.zip"))
        let imported = try dkimctl.run(["reports", "import", scratch.file("inbox")])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(imported.standardOutput.contains("\nalready imported \(scratch.file("inbox/google.gz")): google.com report g-1\n"), "\(imported.standardOutput)")
        #expect(imported.standardOutput.hasSuffix("6 file(s), 6 report(s): 5 imported (10 row(s), 59 message(s)), 1 already imported or past retention, 0 refused\n"), "\(imported.standardOutput)")
        var ours: [String: [Int]] = [:]
        for row in try summary(dkimctl) {
            let key = "\(row["dkimDomain"] as? String ?? "?")/\(row["selector"] as? String ?? "?")"
            ours[key] = [row["messages"] as? Int ?? -1, row["passingMessages"] as? Int ?? -1]
        }

        let python = Self.packageRoot + "/.build/test-tools/parsedmarc/bin/python3"
        try #require(FileManager.default.isExecutableFile(atPath: python), "parsedmarc is missing: run scripts/install-dependencies.sh --tests")
        let script = Self.packageRoot + "/Tests/DKIMTestSupport/parsedmarc_totals.py"
        let theirs = try ProcessRunner.run(python, [script] + files, timeout: 120)
        #expect(theirs.status == 0, "\(theirs.standardError)")
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(theirs.standardOutput.utf8)) as? [String: [Int]])
        #expect(reference.count >= 6, "\(reference)")
        #expect(ours == reference, "dkimctl \(ours.sorted { $0.key < $1.key })\nparsedmarc \(reference.sorted { $0.key < $1.key })")
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func hostileFilesAreRefusedOneByOneAndTheRestImported() throws {
        let (scratch, dkimctl) = try world()
        let good = Self.report(reporter: "google.com", id: "good", begin: 1_795_132_800, rows: [("192.0.2.1", 4, "example.org", [("example.org", Self.ours, "pass")])])
        try Self.write(good, to: scratch.file("inbox/good.xml"))
        try Self.write(
            "<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><feedback>&x;</feedback>",
            to: scratch.file("inbox/xxe.xml"))
        let laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
            + (1...9).map { "<!ENTITY lol\($0) \"" + String(repeating: "&lol\($0 == 1 ? "" : String($0 - 1));", count: 10) + "\">" }.joined()
            + "]><feedback>&lol9;</feedback>"
        try Self.write(laughs, to: scratch.file("inbox/laughs.xml"))
        // Another report (a truncated copy of one imported before would only be "already imported").
        let other = good.replacingOccurrences(of: "<report_id>good</report_id>", with: "<report_id>cut</report_id>")
        try Self.write(String(other.prefix(other.count / 2)), to: scratch.file("inbox/truncated.xml"))
        try Self.write("hello", to: scratch.file("inbox/word.xml.gz"), as: "gzip")
        let bombs = """
            import gzip, sys, zipfile
            zeros = b"\\0" * (1 << 20)
            with gzip.open(sys.argv[1], "wb") as target:
                target.write(b"<feedback>")
                for _ in range(100): target.write(zeros)
            with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as archive:
                with archive.open("report.xml", "w") as entry:
                    for _ in range(100): entry.write(zeros)
            # The same bomb, lying about its size in the central directory.
            data = bytearray(open(sys.argv[2], "rb").read())
            central = data.rindex(b"PK\\x01\\x02")
            data[central + 24:central + 28] = (1000).to_bytes(4, "little")
            open(sys.argv[3], "wb").write(data)
            """
        let made = try ProcessRunner.run("/usr/bin/python3", ["-c", bombs, scratch.file("inbox/bomb.xml.gz"), scratch.file("inbox/bomb.zip"), scratch.file("inbox/liar.zip")])
        #expect(made.status == 0, "\(made.standardError)")

        let result = try dkimctl.run(["reports", "import", scratch.file("inbox")])
        #expect(result.status == 1)
        #expect(result.standardOutput.hasSuffix("8 file(s), 8 report(s): 1 imported (1 row(s), 4 message(s)), 0 already imported or past retention, 7 refused\n"), "\(result.standardOutput)")
        func reason(_ file: String) -> String? {
            result.errorLines.first { $0.hasPrefix("dkimctl: error: \(scratch.file("inbox/" + file)): ") }
        }
        #expect(reason("xxe.xml")?.contains("DTDs and entity declarations are refused") == true, "\(result.standardError)")
        #expect(reason("laughs.xml")?.contains("DTDs and entity declarations are refused") == true)
        #expect(reason("truncated.xml")?.contains("truncated") == true, "\(result.standardError)")
        #expect(reason("word.xml.gz")?.contains("not XML, gzip or ZIP (it begins 'hello')") == true, "\(result.standardError)")
        #expect(reason("bomb.xml.gz")?.contains("inflates to more than") == true, "\(result.standardError)")
        #expect(reason("bomb.zip")?.contains("report.xml inflates to 104857600 bytes (allowed: at most 67108864)") == true, "\(result.standardError)")
        #expect(reason("liar.zip")?.contains("inflates to more than") == true, "\(result.standardError)")
        #expect(result.errorLines.count == 7)
        let rows = try summary(dkimctl)
        #expect(rows.count == 1 && rows.first?["messages"] as? Int == 4)
    }

    @Test func aPathThatIsNotThereIsAOneLineError() throws {
        let (scratch, dkimctl) = try world()
        let before = DirectorySnapshot(scratch.file("state"), ignoring: ["-shm"])
        let result = try dkimctl.run(["reports", "import", scratch.file("nowhere")])
        #expect(result.status == 1 && result.errorLines == ["dkimctl: error: \(scratch.file("nowhere")) does not exist or cannot be read"])
        #expect(DirectorySnapshot(scratch.file("state"), ignoring: ["-shm"]) == before)
    }

    /// A MIME message with a text part and one base64 attachment whose content type lies.
    static func message(subject: String, attachment: Data, name: String, type: String) -> String {
        let encoded = attachment.base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
        return """
            Return-Path: <dmarc@reporter.example>
            From: DMARC Reports <dmarc@reporter.example>
            To: rua@example.org
            Subject: \(subject)
            MIME-Version: 1.0
            Content-Type: multipart/mixed;
             boundary="b1"

            --b1
            Content-Type: text/plain; charset=utf-8

            This is an aggregate report from reporter.example.
            --b1
            Content-Type: \(type); name="\(name)"
            Content-Disposition: attachment; filename="\(name)"
            Content-Transfer-Encoding: base64

            \(encoded)
            --b1--

            """
    }

    /// Reports as they land on a mail server: a Maildir (tmp/ skipped) and an mbox.
    @Test func reportsAttachedToMailAreImported() throws {
        let (scratch, dkimctl) = try world()
        for folder in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(atPath: scratch.file("Maildir/\(folder)"), withIntermediateDirectories: true)
        }
        let report = { (id: String, count: Int) in
            Self.report(reporter: "google.com", id: id, begin: 1_795_132_800, rows: [("192.0.2.1", count, "example.org", [("example.org", Self.ours, "pass")])])
        }
        try Self.write(report("m1", 2), to: scratch.file("gz"), as: "gzip")
        try Self.write(report("m2", 3), to: scratch.file("zip"), as: "zip")
        let gz = try Data(contentsOf: URL(fileURLWithPath: scratch.file("gz")))
        let zip = try Data(contentsOf: URL(fileURLWithPath: scratch.file("zip")))
        try Self.message(subject: "Report m1", attachment: gz, name: "google.com!example.org!1.xml.gz", type: "application/octet-stream")
            .write(toFile: scratch.file("Maildir/new/1795132800.M1.host"), atomically: true, encoding: .utf8)
        try Self.message(subject: "Report m2", attachment: zip, name: "google.com!example.org!2.zip", type: "application/gzip")
            .write(toFile: scratch.file("Maildir/cur/1795132801.M2.host:2,S"), atomically: true, encoding: .utf8)
        try "half a message being delivered".write(toFile: scratch.file("Maildir/tmp/1795132802.M3.host"), atomically: true, encoding: .utf8)
        let maildir = try dkimctl.run(["reports", "import", scratch.file("Maildir")])
        #expect(maildir.status == 0, "\(maildir.standardError)")
        #expect(maildir.standardOutput.contains("imported \(scratch.file("Maildir/new/1795132800.M1.host")) (google.com!example.org!1.xml.gz): google.com report m1, 1 row(s), 2 message(s)"), "\(maildir.standardOutput)")
        #expect(maildir.standardOutput.hasSuffix("2 file(s), 2 report(s): 2 imported (2 row(s), 5 message(s)), 0 already imported or past retention, 0 refused\n"), "\(maildir.standardOutput)")

        // An mbox: the first message again (counted once), a new one as plain XML, and one with no report.
        let plain = Self.message(subject: "Report m3", attachment: Data(report("m3", 4).utf8), name: "m3.xml", type: "text/xml")
        let mbox = "From dmarc@reporter.example Fri Nov 20 00:00:00 2026\n"
            + Self.message(subject: "Report m1", attachment: gz, name: "again.gz", type: "application/gzip")
            + "\nFrom dmarc@reporter.example Sat Nov 21 00:00:00 2026\n" + plain
            + "\nFrom someone@example.net Sat Nov 21 01:00:00 2026\nFrom: someone@example.net\nSubject: hello\n\n>From the desk of someone: no report here.\n"
        try mbox.write(toFile: scratch.file("dmarc.mbox"), atomically: true, encoding: .utf8)
        let boxed = try dkimctl.run(["reports", "import", scratch.file("dmarc.mbox")])
        #expect(boxed.status == 1)
        #expect(boxed.standardOutput.contains("already imported \(scratch.file("dmarc.mbox")) (message 1, again.gz): google.com report m1"), "\(boxed.standardOutput)")
        #expect(boxed.standardOutput.contains("imported \(scratch.file("dmarc.mbox")) (message 2, m3.xml): google.com report m3, 1 row(s), 4 message(s)"))
        #expect(boxed.errorLines == ["dkimctl: error: \(scratch.file("dmarc.mbox")) (message 3): a message with no aggregate report in it"], "\(boxed.standardError)")
        let rows = try summary(dkimctl)
        #expect(rows.count == 1 && rows.first?["messages"] as? Int == 9)
    }
}
