import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// Values are escaped for the format they land in: JSON, Markdown, CSV read by
/// spreadsheets, systemd units and crontab lines.
@Suite struct OutputHardeningTests {
    private func world(_ name: String = "state") throws -> (TemporaryDirectory, DKIMCtlBinary) {
        let scratch = try TemporaryDirectory("hardening")
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file(name), environment: ["DKIMCTL_NOW": "2026-11-23T10:00:00Z"])
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        return (scratch, dkimctl)
    }

    @Test func anOwnerWithABackslashRoundTripsThroughTheRoute53JSON() throws {
        let (scratch, dkimctl) = try world()
        defer { withExtendedLifetime(scratch) {} }
        let owner = #"ops\team@example.org"#
        #expect(try dkimctl.run(["new", "--domain", "example.org", "--provider", "self-hosted", "--algorithm", "ed25519", "--selector", "s1", "--owner", owner]).status == 0)
        let rendered = try dkimctl.run(["record", "s1", "--domain", "example.org", "--format", "route53"])
        #expect(rendered.status == 0, "\(rendered.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(rendered.standardOutput.utf8)) as? [String: Any])
        #expect((object["Comment"] as? String)?.contains("owner " + owner) == true, "\(rendered.standardOutput)")
    }

    @Test func markdownShowsMarkupAsText() throws {
        let (scratch, dkimctl) = try world()
        defer { withExtendedLifetime(scratch) {} }
        #expect(try dkimctl.run(["new", "--domain", "example.org", "--provider", "self-hosted", "--algorithm", "ed25519", "--owner", "<img/src=x/onerror=alert(1)>@example.org"]).status == 0)
        let markdown = try dkimctl.run(["audit", "--no-dns", "--format", "markdown"]).standardOutput
        #expect(markdown.contains("&lt;img/src=x/onerror=alert(1)&gt;@example.org"), "\(markdown)")
        #expect(!markdown.contains("<img"))
    }

    @Test func exportedEventsNeutraliseFormulasAndStillReverify() throws {
        let (scratch, dkimctl) = try world()
        let formula = "=HYPERLINK(\"http://attacker.example\",\"x\")"
        #expect(try dkimctl.run(["new", "--domain", "example.org", "--provider", "self-hosted", "--algorithm", "ed25519"], environment: ["DKIMCTL_ACTOR": formula]).status == 0)
        let csv = scratch.file("events.csv")
        #expect(try dkimctl.run(["audit", "events", "--format", "csv", "--output", csv]).status == 0)
        let text = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(text.contains("\"'=HYPERLINK(\"\"http://attacker.example\"\",\"\"x\"\")\""), "\(text)")
        #expect(!text.contains(",\"=HYPERLINK"))
        try AuditChainTests.pythonVerifier.write(toFile: scratch.file("verify.py"), atomically: true, encoding: .utf8)
        let verified = try ProcessRunner.run(try #require(ProcessRunner.which("python3")), [scratch.file("verify.py"), csv])
        #expect(verified.status == 0 && verified.standardOutput.hasPrefix("ok "), "\(verified.standardOutput)\(verified.standardError)")
    }

    @Test func notesHaveALengthLimit() throws {
        let (scratch, dkimctl) = try world()
        defer { withExtendedLifetime(scratch) {} }
        let long = try dkimctl.run(["new", "--domain", "example.org", "--provider", "self-hosted", "--algorithm", "ed25519", "--notes", String(repeating: "n", count: 201)])
        #expect(long.status == 64)
        #expect(long.errorLines.last == "dkimctl: error: notes are 201 octets long (allowed: at most 200; they are published in every DNS answer)")
    }

    @Test func unitsQuoteAStateDirectoryWithSpacesAndPercentAndRefuseBadValues() throws {
        let (scratch, dkimctl) = try world("state dir 100% $HOME")
        defer { withExtendedLifetime(scratch) {} }
        let state = URL(fileURLWithPath: dkimctl.stateDirectory).standardizedFileURL.path
        if let analyze = ProcessRunner.which("systemd-analyze") {
            let units = scratch.file("units")
            #expect(try dkimctl.run(["export", "units", "--format", "systemd", "--output", units]).status == 0)
            let files = try FileManager.default.contentsOfDirectory(atPath: units).sorted().map { units + "/" + $0 }
            let verified = try ProcessRunner.run(analyze, ["verify"] + files)
            #expect(verified.status == 0 && verified.standardError.isEmpty, "\(verified.standardError)")
            let service = try String(contentsOfFile: units + "/dkimctl-rotate.service", encoding: .utf8)
            let quoted = "--state-dir \"" + state.replacingOccurrences(of: "%", with: "%%").replacingOccurrences(of: "$", with: "$$") + "\""
            #expect(service.contains(quoted), "\(service) \(quoted)")
        }
        // cron: the words of the rotate line, after cron's % handling, reach the program intact.
        let cron = try dkimctl.run(["export", "units", "--format", "cron"]).standardOutput
        let entry = try #require(cron.split(separator: "\n").first { $0.first?.isNumber == true && $0.contains(" rotate ") })
        let command = String(entry.split(separator: " ", maxSplits: 6)[6])
        let words = String(command[..<command.range(of: " > ")!.lowerBound]).replacingOccurrences(of: "\\%", with: "%")
        let printed = try ProcessRunner.run("/bin/sh", ["-c", "printf '%s\\n' " + words])
        let arguments = printed.standardOutput.split(separator: "\n").map(String.init)
        #expect(arguments.count == 6 && arguments[1] == "rotate" && arguments[2] == "--state-dir" && arguments[3] == state, "\(arguments) \(state)")

        for (options, message) in [
            (["--user", "root\nevil"], "user 'root\\nevil' is not a user name"),
            (["--user", "Root;rm"], "user 'Root;rm' is not a user name"),
            (["--interval", "soon"], "interval 'soon' is not a duration"),
        ] {
            let refused = try dkimctl.run(["export", "units", "--format", "cron"] + options)
            #expect(refused.status == 64)
            #expect(refused.errorLines.first?.contains(message) == true, "\(refused.standardError)")
        }
    }
}
