import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// Runs the built `dkimctl` binary as a user would, and checks what it prints and writes.
@Suite struct EndToEndTests {
    static let now = "2026-11-23T12:00:00Z"
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    private func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        _ = stat(path, &info)
        return info.st_mode & 0o7777
    }

    /// An initialised state directory with a default owner.
    private func initialised(owner: String? = "team@example.org") throws -> (TemporaryDirectory, DKIMCtlBinary) {
        let directory = try TemporaryDirectory()
        let dkimctl = DKIMCtlBinary(stateDirectory: directory.file("state"), environment: ["DKIMCTL_NOW": Self.now])
        let result = try dkimctl.run(["init"] + (owner.map { ["--owner", $0] } ?? []))
        #expect(result.status == 0, "init: \(result.standardError)")
        return (directory, dkimctl)
    }

    /// `list` shows `keys` keys (CSV, after its header line) and `audit verify` passes.
    private func expectListedAndVerified(_ dkimctl: DKIMCtlBinary, keys: Int) throws {
        let listed = try dkimctl.run(["list", "--format", "csv"])
        #expect(listed.standardOutput.split(whereSeparator: \.isNewline).count == keys + 1, "\(listed.standardOutput)\(listed.standardError)")
        #expect(try dkimctl.run(["audit", "verify"]).status == 0)
    }

    @Test func initNewListShowRecord() throws {
        let (scratch, dkimctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let state = StateDirectory(path: dkimctl.stateDirectory)
        #expect(mode(state.path) == 0o700)
        #expect(mode(state.keysPath) == 0o700)
        #expect(mode(state.registryPath) == 0o600)
        // init is idempotent.
        let again = try dkimctl.run(["init", "--owner", "team@example.org"])
        #expect(again.status == 0 && again.standardOutput.contains("already initialised"))

        // RSA, the default, as JSON.
        let first = try dkimctl.run(["new", "--domain", "Example.ORG.", "--provider", "mailgun", "--usage", "notifications", "--format", "json"])
        #expect(first.status == 0, "\(first.standardError)")
        let object = try #require(try json(first.standardOutput) as? [String: Any])
        for key in ["domain", "selector", "provider", "usage", "owner", "algorithm", "bits", "state", "name", "ttl", "value", "strings", "zone", "privateKeyPath", "fingerprint"] {
            #expect(object[key] != nil, "new --format json has '\(key)'")
        }
        #expect(object["domain"] as? String == "example.org")
        #expect(object["selector"] as? String == "mailgun-notifications-20261123")
        #expect(object["owner"] as? String == "team@example.org")
        #expect(object["bits"] as? Int == 2048)
        #expect(object["state"] as? String == "pending")
        #expect(object["name"] as? String == "mailgun-notifications-20261123._domainkey.example.org.")
        #expect(object["ttl"] as? Int == 1800)
        let value = try #require(object["value"] as? String)
        let strings = try #require(object["strings"] as? [String])
        #expect(strings.joined() == value && strings.allSatisfy { $0.utf8.count <= 255 } && strings.count == 2)
        let keyPath = try #require(object["privateKeyPath"] as? String)
        #expect(keyPath.hasPrefix(state.keysPath + "/"))
        #expect(mode(keyPath) == 0o600)
        // The p= in the record is the public half of the key file, as openssl derives it.
        let openssl = try #require(ProcessRunner.which("openssl"))
        let der = try ProcessRunner.run("/bin/sh", ["-c", "\(openssl) pkey -in '\(keyPath)' -pubout -outform DER | base64 -w0"])
        #expect(value.hasSuffix("p=" + der.standardOutput))
        #expect(!first.standardOutput.contains("PRIVATE KEY"))

        // Same slot, same day: the selector gets a letter.
        let second = try dkimctl.run(["new", "--domain", "example.org", "--provider", "mailgun", "--usage", "notifications"])
        #expect(second.status == 0)
        #expect(second.standardOutput.contains("mailgun-notifications-20261123b._domainkey.example.org. 1800 IN TXT ("))
        #expect(second.errorLines.contains { $0.contains("private key written to") && $0.contains("mode 0600") })

        let ed = try dkimctl.run([
            "new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "support",
            "--owner", "helpdesk@example.org", "--algorithm", "ed25519", "--format", "json",
        ])
        #expect(ed.status == 0)
        let edObject = try #require(try json(ed.standardOutput) as? [String: Any])
        #expect(edObject["bits"] as? Int == 256 && edObject["algorithm"] as? String == "ed25519")
        #expect((edObject["value"] as? String)?.hasPrefix("v=DKIM1; k=ed25519; p=") == true)

        let small = try dkimctl.run(["new", "--domain", "example.org", "--provider", "amazon-ses", "--usage", "noreply", "--bits", "1024"])
        #expect(small.status == 0)
        #expect(small.errorLines.contains { $0.hasPrefix("dkimctl: warning:") && $0.contains("RFC 8301") })

        let custom = try dkimctl.run([
            "new", "--domain", "example.net", "--provider", "custom:crm", "--selector", "crm2026",
            "--testing", "--notes", "CRM campaigns", "--format", "value", "--ttl", "3600",
        ])
        #expect(custom.status == 0)
        #expect(custom.standardOutput.split(separator: "\n").count == 1)
        #expect(custom.standardOutput.hasPrefix("v=DKIM1; k=rsa; t=y; n=CRM=20campaigns; p=MII"))

        // A day later the date in the selector moves on.
        let tomorrow = try dkimctl.run(
            ["new", "--domain", "example.org", "--provider", "custom:crm", "--format", "value"],
            environment: ["DKIMCTL_NOW": "2026-11-24T00:00:01Z"])
        #expect(tomorrow.status == 0)
        #expect(tomorrow.errorLines.contains { $0.contains("crm-default-20261124") })

        // list: JSON
        let listed = try dkimctl.run(["list", "--format", "json"])
        #expect(listed.status == 0)
        let array = try #require(try json(listed.standardOutput) as? [[String: Any]])
        #expect(array.count == 6)
        #expect(array.allSatisfy { $0["zone"] == nil && $0["value"] != nil && $0["fingerprint"] != nil })
        #expect(array.map { $0["selector"] as? String ?? "" } == [
            "crm2026", "amazon-ses-noreply-20261123", "crm-default-20261124", "mailgun-notifications-20261123",
            "mailgun-notifications-20261123b", "self-hosted-support-20261123",
        ])
        #expect(array.first { $0["selector"] as? String == "self-hosted-support-20261123" }?["owner"] as? String == "helpdesk@example.org")

        // list: CSV with every field
        let csv = try dkimctl.run(["list", "--format", "csv"])
        let rows = CSV.parse(csv.standardOutput)
        #expect(rows.count == 7)
        #expect(rows[0].prefix(8) == ["domain", "selector", "provider", "usage", "owner", "algorithm", "bits", "state"])
        #expect(rows.allSatisfy { $0.count == rows[0].count })
        let crm = try #require(rows.first { $0[1] == "crm2026" })
        #expect(crm[rows[0].firstIndex(of: "ttl")!] == "3600")
        #expect(crm[rows[0].firstIndex(of: "value")!] == custom.standardOutput.trimmingCharacters(in: .newlines))

        // list: table and filters
        let table = try dkimctl.run(["list"])
        #expect(table.standardOutput.hasPrefix("DOMAIN"))
        #expect(table.standardOutput.split(separator: "\n").count == 7)
        let mailgun = try dkimctl.run(["list", "--provider", "mailgun", "--format", "json"])
        #expect((try json(mailgun.standardOutput) as? [Any])?.count == 2)
        let helpdesk = try dkimctl.run(["list", "--owner", "helpdesk@example.org", "--state", "pending", "--format", "json"])
        #expect((try json(helpdesk.standardOutput) as? [Any])?.count == 1)
        let none = try dkimctl.run(["list", "--state", "active", "--format", "json"])
        let noneArray = try json(none.standardOutput) as? [Any]
        #expect(none.status == 0 && noneArray?.isEmpty == true)

        // show and record
        let shown = try dkimctl.run(["show", "mailgun-notifications-20261123", "--domain", "example.org", "--format", "json"])
        #expect(shown.status == 0)
        let showObject = try #require(try json(shown.standardOutput) as? [String: Any])
        let events = try #require(showObject["events"] as? [[String: Any]])
        #expect(events.map { $0["action"] as? String } == ["key.created"])
        #expect(events[0]["toState"] as? String == "pending")
        #expect((events[0]["details"] as? [String: Any])?["fingerprint"] as? String == object["fingerprint"] as? String)
        let text = try dkimctl.run(["show", "mailgun-notifications-20261123", "--domain", "example.org"])
        #expect(text.standardOutput.contains("Events:") && text.standardOutput.contains("tester@test-host"))

        let zone = try dkimctl.run(["record", "mailgun-notifications-20261123", "--domain", "example.org"])
        #expect(zone.standardOutput == object["zone"] as? String)
        let line = try dkimctl.run(["record", "mailgun-notifications-20261123", "--domain", "example.org", "--format", "value"])
        #expect(line.standardOutput == value + "\n")

        // Nothing printed a private key, and the event log is intact.
        for output in [listed, csv, table, shown, text, zone, line, ed, custom] {
            #expect(!output.standardOutput.contains("PRIVATE KEY") && !output.standardError.contains("PRIVATE KEY"))
        }
        let chain = try SQLRegistry.open(path: state.registryPath, create: false).verifyEventChain()
        #expect(chain.isIntact, "\(chain.problems)")
        // registry.initialized, default-owner-set, then per key slot.created (new slots) and key.created.
        #expect(chain.eventCount == 2 + 6 + 5)

        // The auditors' runbook checks the same chain without dkimctl, from the documented hash format.
        let runbook = try String(contentsOfFile: Self.repositoryRoot + "/runbooks/audit-event-chain.md", encoding: .utf8)
        let blocks = runbook.components(separatedBy: "```python\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
        let script = try #require(blocks.first { $0.contains("sqlite3") })
        let python = try #require(ProcessRunner.which("python3"))
        let audit = try ProcessRunner.run(python, ["-c", script, state.registryPath])
        #expect(audit.status == 0, "\(audit.standardError)")
        #expect(audit.standardOutput == "head \(chain.headHash) recorded \(chain.headHash) problems 0\n")
    }

    struct BadInput: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let mentions: String
        var environment: [String: String] = [:]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badInputs: [BadInput] = [
        BadInput(arguments: ["new", "--domain", "exa_mple.org", "--provider", "mailgun"], mentions: "'exa_mple.org'"),
        BadInput(arguments: ["new", "--domain", String(repeating: "l", count: 64) + ".org", "--provider", "mailgun"], mentions: "64 octets"),
        BadInput(arguments: ["new", "--domain", "", "--provider", "mailgun"], mentions: "domain '' is empty"),
        BadInput(arguments: ["new", "--domain", "☃☃.example", "--provider", "mailgun"], mentions: "'☃☃.example'"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--selector", "bad_selector"], mentions: "'bad_selector'"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--selector", String(repeating: "s", count: 64)], mentions: "at most 63"),
        BadInput(
            arguments: ["new", "--domain", String(repeating: "d", count: 63) + "." + String(repeating: "e", count: 63) + ".org", "--provider", "mailgun",
                        "--selector", String(repeating: "s", count: 60) + "." + String(repeating: "t", count: 60)],
            mentions: "at most 253"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailchimp"], mentions: "'mailchimp'"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--bits", "512"], mentions: "RSA key size 512"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--algorithm", "ed25519", "--bits", "2048"], mentions: "ed25519"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--algorithm", "dsa"], mentions: "'dsa'"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--ttl", "5"], mentions: "TTL 5"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--usage", "no reply"], mentions: "'no reply'"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--selector-pattern", "{provider}-{week}"], mentions: "{week}"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--format", "yaml"], mentions: "'yaml'"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--owner", "a@b@c"], mentions: "'a@b@c'"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--selector", "existing"], mentions: "'existing' already exists"),
        BadInput(arguments: ["new", "--provider", "mailgun"], mentions: "--domain"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun", "--notes", "tab\there"], mentions: "control character"),
        BadInput(arguments: ["new", "--domain", "example.org", "--provider", "mailgun"], mentions: "DKIMCTL_NOW 'yesterday'", environment: ["DKIMCTL_NOW": "yesterday"]),
        BadInput(arguments: ["list", "--state", "bogus"], mentions: "'bogus'"),
        BadInput(arguments: ["list", "--expiring-within", "3y"], mentions: "'3y'"),
        BadInput(arguments: ["show", "nosuch", "--domain", "example.org"], mentions: "'nosuch'"),
        BadInput(arguments: ["record", "existing", "--domain", "example.org", "--format", "pdf"], mentions: "'pdf'"),
    ]

    @Test(arguments: badInputs)
    func badInputIsOneLineNonZeroAndWritesNothing(_ bad: BadInput) throws {
        let (directory, dkimctl) = try initialised()
        #expect(try dkimctl.run(["new", "--domain", "example.org", "--provider", "self-hosted", "--selector", "existing", "--algorithm", "ed25519"]).status == 0)
        let before = DirectorySnapshot(directory.path, ignoring: ["-shm"])
        let result = try dkimctl.run(bad.arguments, environment: bad.environment)
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1, "exactly one line on stderr: \(result.standardError)")
        #expect(result.errorLines.first?.hasPrefix("dkimctl: error: ") == true)
        #expect(result.standardError.contains(bad.mentions), "names the bad value: \(result.standardError)")
        #expect(result.standardOutput.isEmpty)
        #expect(DirectorySnapshot(directory.path, ignoring: ["-shm"]) == before)
    }

    /// A new key costs three syncs, each named: the key file, the key directory (the file's
    /// name), and the registry's one commit (its WAL). No checkpoint when the registry closes.
    @Test func newSyncsTheKeyFileItsDirectoryAndOneCommit() throws {
        let (directory, dkimctl) = try initialised()
        for usage in ["noreply", "support"] {
            let trace = directory.file("strace-\(usage).txt")
            let traced = try ProcessRunner.run(
                "/usr/bin/strace",
                ["-f", "-qq", "-y", "-e", "trace=fsync,fdatasync,syncfs,sync_file_range,sync,msync", "-o", trace, dkimctl.path,
                 "new", "--provider", "self-hosted", "--domain", "example.org", "--usage", usage, "--algorithm", "ed25519",
                 "--state-dir", dkimctl.stateDirectory],
                environment: dkimctl.environment)
            #expect(traced.status == 0, "\(traced.standardError)")
            let calls = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").filter { !$0.contains("resumed>") }
            let state = URL(fileURLWithPath: dkimctl.stateDirectory).resolvingSymlinksInPath().path
            #expect(calls.count <= 3, "\(usage): \(calls.count) syncs:\n\(calls.joined(separator: "\n"))")
            #expect(calls.contains { $0.contains("<\(state)/keys/") && $0.contains(".pem") }, "\(calls)")
            #expect(calls.contains { $0.contains("<\(state)/keys>") }, "\(calls)")
            #expect(calls.contains { $0.contains("<\(state)/registry.sqlite-wal>") }, "\(calls)")
        }
        // What was committed to the WAL alone is there for the next command.
        try expectListedAndVerified(dkimctl, keys: 2)
    }

    /// Each process rebuilds SQLite's index of the WAL, so SQLite alone would never let the
    /// log start over after a checkpoint: it grew by every command (~60 KB per `new`) and
    /// every command read all of it. A commit that finds it past 1 MiB folds it back.
    @Test func theRegistryLogStaysSmallAcrossCommands() throws {
        let (scratch, dkimctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let log = dkimctl.stateDirectory + "/registry.sqlite-wal"
        var sizes: [Int] = []
        for index in 0..<45 {
            let result = try dkimctl.run(["new", "--provider", "self-hosted", "--domain", "example.org", "--usage", "u\(index)",
                                          "--algorithm", "ed25519", "--format", "value"])
            #expect(result.status == 0, "\(result.standardError)")
            sizes.append((try? FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0)
        }
        let limit = (1 << 20) + 256 * 1024  // the documented 1 MiB, plus one command's commit
        #expect(sizes.allSatisfy { $0 <= limit }, "WAL sizes after each new: \(sizes)")
        #expect(zip(sizes, sizes.dropFirst()).contains { $0 > $1 }, "the WAL was never folded: \(sizes)")
        try expectListedAndVerified(dkimctl, keys: 45)
    }

    /// A slot's keys of one day take the dated selector, then 'b' … 'z'; a name that holds a
    /// key file nobody registered is passed over (never overwritten); the 27th key is refused.
    @Test func sameDayKeysTakeTheNextFreeSuffixUntilZ() throws {
        let (scratch, dkimctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let state = StateDirectory(path: dkimctl.stateDirectory)
        let planted = state.keysPath + "/self-hosted-support-20261123c._domainkey.example.org.pem"
        #expect(FileManager.default.createFile(atPath: planted, contents: Data("not a key".utf8), attributes: [.posixPermissions: 0o600]))
        var selectors: [String] = []
        for _ in 0..<25 {
            let result = try dkimctl.run(["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "support",
                                          "--algorithm", "ed25519", "--format", "json"])
            #expect(result.status == 0, "\(result.standardError)")
            selectors.append(try #require(try json(result.standardOutput) as? [String: Any])["selector"] as? String ?? "?")
        }
        let expected = ["self-hosted-support-20261123"] + "bdefghijklmnopqrstuvwxyz".map { "self-hosted-support-20261123\($0)" }
        #expect(selectors == expected)
        #expect(try String(contentsOfFile: planted, encoding: .utf8) == "not a key")
        let before = DirectorySnapshot(scratch.path, ignoring: ["-shm"])
        let refused = try dkimctl.run(["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "support",
                                       "--algorithm", "ed25519"])
        #expect(refused.status == 64)
        #expect(refused.errorLines.filter { $0.hasPrefix("dkimctl: error: ") } == [
            "dkimctl: error: no free selector left for self-hosted/support in example.org today (self-hosted-support-20261123…self-hosted-support-20261123z are all taken)",
        ])
        #expect(DirectorySnapshot(scratch.path, ignoring: ["-shm"]) == before)
    }

    @Test func aMissingOwnerIsRefused() throws {
        let (directory, dkimctl) = try initialised(owner: nil)
        let before = DirectorySnapshot(directory.path, ignoring: ["-shm"])
        let result = try dkimctl.run(["new", "--domain", "example.org", "--provider", "mailgun"])
        #expect(result.status == 64)
        #expect(result.errorLines == ["dkimctl: error: no owner for the new key: pass --owner ADDR, or record a default with 'dkimctl init --owner ADDR'"])
        #expect(DirectorySnapshot(directory.path, ignoring: ["-shm"]) == before)
    }

    @Test func unsafeOrBrokenStateIsRefusedAndLeftAlone() throws {
        let (directory, dkimctl) = try initialised()
        let state = StateDirectory(path: dkimctl.stateDirectory)
        #expect(try dkimctl.run(["new", "--domain", "example.org", "--provider", "mailgun"]).status == 0)
        let newKey = ["new", "--domain", "example.org", "--provider", "custom:crm"]

        func expectRefusal(_ arguments: [String], mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let before = DirectorySnapshot(directory.path, ignoring: ["-shm"])
            let result = try dkimctl.run(arguments)
            #expect(result.status == 1, sourceLocation: sourceLocation)
            #expect(result.errorLines.count == 1, "\(result.standardError)", sourceLocation: sourceLocation)
            #expect(result.standardError.contains(fragment), "\(result.standardError)", sourceLocation: sourceLocation)
            #expect(DirectorySnapshot(directory.path, ignoring: ["-shm"]) == before, sourceLocation: sourceLocation)
        }

        chmod(state.path, 0o777)
        try expectRefusal(newKey, mentioning: "fix with: chmod 700 \(state.path)")
        try expectRefusal(["list"], mentioning: "writable by group or others")
        try expectRefusal(["init"], mentioning: "chmod 700")
        chmod(state.path, 0o700)

        chmod(state.keysPath, 0o733)
        try expectRefusal(newKey, mentioning: "key directory \(state.keysPath)")
        chmod(state.keysPath, 0o700)

        let keyFile = try #require(try FileManager.default.contentsOfDirectory(atPath: state.keysPath).first)
        chmod(state.keysPath + "/" + keyFile, 0o644)
        try expectRefusal(newKey, mentioning: "fix with: chmod 600 \(state.keysPath)/\(keyFile)")
        chmod(state.keysPath + "/" + keyFile, 0o600)

        // A registry that is not a database (its WAL gone with it): reported, never "repaired".
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: state.registryPath + suffix) }
        try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: state.registryPath))
        try expectRefusal(newKey, mentioning: "registry \(state.registryPath) cannot be opened")
        try expectRefusal(["list"], mentioning: "cannot be opened")

        // No state at all, and a state directory that cannot be created.
        let elsewhere = DKIMCtlBinary(stateDirectory: directory.file("missing"))
        let missing = try elsewhere.run(["list"])
        #expect(missing.status == 1 && missing.standardError.contains("run 'dkimctl init' first"))
        try Data("file".utf8).write(to: URL(fileURLWithPath: directory.file("plain-file")))
        let blocked = DKIMCtlBinary(stateDirectory: directory.file("plain-file/state"))
        let refused = try blocked.run(["init"])
        #expect(refused.status == 1 && refused.errorLines.count == 1, "\(refused.standardError)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("missing")))
    }

    @Test func helpHasExamplesAndVersionIsPrinted() throws {
        let dkimctl = DKIMCtlBinary(stateDirectory: "/nonexistent")
        for command in ["init", "new", "list", "show", "record"] {
            let help = try ProcessRunner.run(dkimctl.path, [command, "--help"])
            #expect(help.status == 0)
            #expect(help.standardOutput.contains("Examples:"), "\(command) --help shows examples")
            #expect(help.standardOutput.contains("--state-dir"))
        }
        let version = try ProcessRunner.run(dkimctl.path, ["--version"])
        #expect(version.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == DKIMKitVersion.current)
    }
}

/// A small RFC 4180 reader, so the test does not trust the writer's own escaping.
enum CSV {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        field.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"": quoted = true
            case ",":
                row.append(field)
                field = ""
            case "\r\n", "\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            default: field.append(character)
            }
        }
        if !field.isEmpty || !row.isEmpty { rows.append(row + [field]) }
        return rows
    }
}
