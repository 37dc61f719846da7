import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// Every template rendered from a real registry and read by its real consumer
/// where one runs here: named-checkzone, nsupdate against BIND, opendkim-testkey,
/// systemd-analyze; JSON parsed field by field; hand-off scripts run against
/// stand-ins for curl and aws that capture what they were given.
@Suite(.serialized) struct TemplateTests {
    static let now = "2026-11-23T10:00:00Z"
    static let tsigName = "dkimctl-test"

    /// A state directory with keys: an RSA-2048 mailgun key (two strings), an RSA-4096
    /// self-hosted key (three strings) and an Ed25519 one, the self-hosted keys active.
    /// Built once by the real commands, then copied for each test (key files are stored
    /// by name, so a copied state directory works on its own keys).
    final class World {
        let scratch: TemporaryDirectory
        let dkimctl: DKIMCtlBinary

        /// The state directory every World starts from, built on first use.
        private static let prototype = Result<TemporaryDirectory, any Error> {
            let directory = try TemporaryDirectory("templates-prototype")
            let dkimctl = DKIMCtlBinary(stateDirectory: directory.file("state"), environment: ["DKIMCTL_NOW": TemplateTests.now])
            var commands = [
                ["init", "--owner", "team@example.org"],
                ["new", "--domain", "example.org", "--provider", "mailgun", "--usage", "notifications"],
                ["new", "--domain", "example.org", "--provider", "self-hosted", "--bits", "4096"],
                ["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "support", "--algorithm", "ed25519"],
                ["new", "--domain", "example.net", "--provider", "self-hosted", "--usage", "noreply"],
            ]
            for (selector, domain) in [
                ("self-hosted-default-20261123", "example.org"), ("self-hosted-support-20261123", "example.org"),
                ("self-hosted-noreply-20261123", "example.net"),
            ] {
                commands.append(["activate", selector, "--domain", domain, "--force", "--reason", "template test"])
            }
            for arguments in commands {
                let result = try dkimctl.run(arguments)
                guard result.status == 0 else { throw TestSupportError("\(arguments.joined(separator: " ")): \(result.standardError)") }
            }
            return directory
        }

        init() throws {
            scratch = try TemporaryDirectory("templates")
            let state = URL(fileURLWithPath: scratch.file("state")).standardizedFileURL.path
            let copied = try ProcessRunner.run("/bin/cp", ["-a", try World.prototype.get().file("state"), state])
            guard copied.status == 0 else { throw TestSupportError("cannot copy the template world: \(copied.standardError)") }
            dkimctl = DKIMCtlBinary(stateDirectory: state, environment: ["DKIMCTL_NOW": TemplateTests.now])
        }

        /// A file in the scratch directory, as dkimctl writes paths (no `//`).
        func path(_ name: String) -> String {
            URL(fileURLWithPath: scratch.file(name)).standardizedFileURL.path
        }

        @discardableResult
        func expectSuccess(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
            let result = try dkimctl.run(arguments)
            #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.standardError)", sourceLocation: sourceLocation)
            return result
        }

        func key(_ selector: String, _ domain: String = "example.org") throws -> RegisteredKey {
            let registry = try SQLRegistry.open(path: scratch.file("state/registry.sqlite"), create: false)
            let key = try #require(try registry.key(selector: Selector(selector), domain: DomainName(domain)))
            return try StateDirectory(path: scratch.file("state")).resolvingPrivateKeyFile(key)
        }

        func render(_ selector: String, _ format: String, domain: String = "example.org", extra: [String] = []) throws -> String {
            try expectSuccess(["record", selector, "--domain", domain, "--format", format] + extra).standardOutput
        }
    }

    static let selectors = ["mailgun-notifications-20261123", "self-hosted-default-20261123", "self-hosted-support-20261123"]

    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The zone fragment of every key, in one zone, passes named-checkzone; and BIND serves what it says.
    @Test func zoneFragmentsPassNamedCheckzone() throws {
        let world = try World()
        var records: [String] = []
        for selector in Self.selectors { records.append(try world.render(selector, "zone")) }
        let zone = ZoneText.zone("example.org", records: records)
        try zone.write(toFile: world.scratch.file("example.org.zone"), atomically: true, encoding: .utf8)
        let checkzone = try #require(ProcessRunner.which("named-checkzone"))
        let checked = try ProcessRunner.run(checkzone, ["-i", "full", "example.org", world.scratch.file("example.org.zone")])
        #expect(checked.status == 0, "\(checked.standardOutput)\(checked.standardError)")
        #expect(checked.standardOutput.contains("loaded serial 1"))
        // The 4096-bit key needs three strings, none longer than 255 octets.
        // (the first on the owner's line, each further one on a line of its own)
        #expect(records[1].components(separatedBy: "\n\t\"").count == 3, "\(records[1])")
        #expect(records[1].contains(" IN TXT ( \"v=DKIM1; k=rsa; p="))

        let named = try NamedServer(zones: [.init("example.org", zone)])
        for selector in Self.selectors {
            let verified = try world.dkimctl.run(["verify", selector, "--domain", "example.org", "--nameserver", "127.0.0.1:\(named.port)"])
            #expect(verified.status == 0, "\(selector): \(verified.standardOutput)\(verified.standardError)")
        }
    }

    /// The nsupdate script, applied with nsupdate to a BIND open to TSIG-signed UPDATE, publishes
    /// the record; the DNS client reads it back. The server line comes from the rfc2136 publisher.
    @Test func nsupdateScriptAppliedToBIND() throws {
        let world = try World()
        let secret = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let keyFile = world.scratch.file("tsig.key")
        try "key \"\(Self.tsigName)\" { algorithm hmac-sha256; secret \"\(secret)\"; };\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        chmod(keyFile, 0o600)
        let named = try NamedServer(
            zones: [.init("example.org", ZoneText.zone("example.org"), updateKey: Self.tsigName)],
            keys: [(Self.tsigName, "hmac-sha256", secret)])
        let config = world.scratch.file("dkimctl.yaml")
        try """
            domains:
              example.org:
                publisher: { type: rfc2136, server: "127.0.0.1:\(named.port)", tsig: { name: \(Self.tsigName), secretFile: \(keyFile) } }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let nsupdate = try #require(ProcessRunner.which("nsupdate"))
        for selector in Self.selectors {
            let script = try world.render(selector, "nsupdate", extra: ["--config", config])
            #expect(script.contains("\nserver 127.0.0.1 \(named.port)\n"), "\(script)")
            try script.write(toFile: world.scratch.file("\(selector).nsupdate"), atomically: true, encoding: .utf8)
            let applied = try ProcessRunner.run(nsupdate, ["-k", keyFile, world.scratch.file("\(selector).nsupdate")])
            #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")
            #expect(applied.standardOutput.contains("status: NOERROR"), "\(applied.standardOutput)")
            let verified = try world.dkimctl.run(["verify", selector, "--domain", "example.org", "--nameserver", "127.0.0.1:\(named.port)"])
            #expect(verified.status == 0, "\(selector): \(verified.standardOutput)\(verified.standardError)")
        }
        // Without a configured publisher the script says how to choose the server.
        let bare = try world.render(Self.selectors[0], "nsupdate")
        #expect(!bare.contains("\nserver ") && bare.contains("; Add a line 'server ADDRESS [PORT]'"))
    }

    /// Route 53 wants each string quoted and at most 255 octets; Cloudflare takes the whole value.
    @Test func providerAPIPayloadsParse() throws {
        let world = try World()
        for selector in Self.selectors {
            let key = try world.key(selector)
            let value = key.record.text
            let route53 = try json(try world.render(selector, "route53"))
            let change = try #require((route53["Changes"] as? [[String: Any]])?.first)
            #expect(change["Action"] as? String == "UPSERT")
            let set = try #require(change["ResourceRecordSet"] as? [String: Any])
            #expect(set["Name"] as? String == "\(selector)._domainkey.example.org.")
            #expect(set["Type"] as? String == "TXT" && set["TTL"] as? Int == 1800)
            let records = try #require(set["ResourceRecords"] as? [[String: Any]])
            #expect(records.count == 1)
            let quoted = try #require(records[0]["Value"] as? String)
            // "part" "part" …: every part quoted, at most 255 octets, together the record value.
            let parts = quoted.components(separatedBy: "\" \"")
            #expect(quoted.hasPrefix("\"") && quoted.hasSuffix("\""))
            let unquoted = parts.enumerated().map { index, part in
                var part = Substring(part)
                if index == 0 { part = part.dropFirst() }
                if index == parts.count - 1 { part = part.dropLast() }
                return String(part)
            }
            #expect(unquoted.allSatisfy { $0.utf8.count <= 255 && !$0.isEmpty })
            #expect(unquoted.joined() == value)
            #expect(unquoted.count == (value.utf8.count + 254) / 255)

            let cloudflare = try json(try world.render(selector, "cloudflare"))
            #expect(cloudflare["type"] as? String == "TXT")
            #expect(cloudflare["name"] as? String == "\(selector)._domainkey.example.org")
            #expect(cloudflare["content"] as? String == value)
            #expect(cloudflare["ttl"] as? Int == 1800)
            #expect((cloudflare["comment"] as? String)?.contains(key.owner.address) == true)
        }
    }

    /// Terraform: one resource each, the Route 53 one split with \"\" into ≤255-octet strings.
    @Test func terraformResources() throws {
        let world = try World()
        let selector = "self-hosted-default-20261123"
        let value = try world.key(selector).record.text
        let route53 = try world.render(selector, "terraform-route53")
        #expect(route53.contains("resource \"aws_route53_record\" \"self_hosted_default_20261123__domainkey_example_org\" {"))
        #expect(route53.contains("\n  name    = \"\(selector)._domainkey.example.org\"\n  type    = \"TXT\"\n  ttl     = 1800\n"))
        let recordsLine = try #require(route53.split(separator: "\n").first { $0.hasPrefix("  records = [\"") })
        let literal = recordsLine.dropFirst("  records = [\"".count).dropLast("\"]".count)
        let chunks = literal.components(separatedBy: "\\\"\\\"")
        #expect(chunks.count == 3 && chunks.allSatisfy { $0.utf8.count <= 255 })
        #expect(chunks.joined() == value)
        let cloudflare = try world.render(selector, "terraform-cloudflare")
        #expect(cloudflare.contains("resource \"cloudflare_record\" \"self_hosted_default_20261123__domainkey_example_org\" {"))
        #expect(cloudflare.contains("\n  content = \"\(value)\"\n"))
        // The one-line web-form value.
        #expect(try world.render(selector, "value") == value + "\n")
    }

    /// OpenDKIM reads the exported KeyTable and finds each key in the test BIND: "key OK".
    /// Needs opendkim-tools (scripts/install-dependencies.sh --tests installs it).
    @Test func openDKIMTestkeyAcceptsTheExportedTables() throws {
        let world = try World()
        var records: [String] = []
        for (selector, domain) in [
            ("self-hosted-default-20261123", "example.org"), ("self-hosted-support-20261123", "example.org"),
            ("self-hosted-noreply-20261123", "example.net"),
        ] {
            records.append(try world.render(selector, "zone", domain: domain))
        }
        let named = try NamedServer(zones: [
            .init("example.org", ZoneText.zone("example.org", records: Array(records[0...1]))),
            .init("example.net", ZoneText.zone("example.net", records: [records[2]])),
        ])
        // opendkim-testkey reads RSA keys only (EVP_PKEY_get1_RSA): the Ed25519 key leaves the table.
        try world.expectSuccess(["revoke", "self-hosted-support-20261123", "--domain", "example.org", "--immediately", "--reason", "RSA only"])
        let output = world.path("opendkim")
        let exported = try world.expectSuccess(["export", "mta", "--format", "opendkim", "--output", output])
        #expect(exported.standardError.contains("wrote \(output)/KeyTable"))
        let keyTable = try String(contentsOfFile: output + "/KeyTable", encoding: .utf8)
        let keyLines = keyTable.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(keyLines.count == 2, "only the active self-hosted keys: \(keyTable)")
        #expect(!keyTable.contains("mailgun") && !keyTable.contains("support"))
        func signingTable() throws -> [Substring] {
            try String(contentsOfFile: output + "/SigningTable", encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        }
        #expect(try signingTable() == [
            "*@example.net self-hosted-noreply-20261123._domainkey.example.net",
            "*@example.org self-hosted-default-20261123._domainkey.example.org",
        ])
        let snippet = try String(contentsOfFile: output + "/opendkim.conf", encoding: .utf8)
        #expect(snippet.contains("KeyTable\tfile:\(output)/KeyTable") && snippet.contains("SigningTable\trefile:\(output)/SigningTable"))
        #expect(mode(output + "/KeyTable") == 0o644)

        // opendkim-testkey resolves through libunbound, pointed at the test BIND.
        try """
            server:
              do-not-query-localhost: no
              module-config: "iterator"
            stub-zone:
              name: "example.org"
              stub-addr: 127.0.0.1@\(named.port)
            stub-zone:
              name: "example.net"
              stub-addr: 127.0.0.1@\(named.port)
            """.write(toFile: world.scratch.file("unbound.conf"), atomically: true, encoding: .utf8)
        let conf = world.scratch.file("opendkim-test.conf")
        try (snippet + "ResolverConfiguration \(world.scratch.file("unbound.conf"))\n").write(toFile: conf, atomically: true, encoding: .utf8)
        let testkey = try #require(ProcessRunner.which("opendkim-testkey"))
        let tested = try ProcessRunner.run(testkey, ["-x", conf, "-vvv"])
        let report = tested.standardOutput + tested.standardError
        #expect(tested.status == 0, "\(report)")
        for name in ["self-hosted-default-20261123._domainkey.example.org", "self-hosted-noreply-20261123._domainkey.example.net"] {
            #expect(report.contains("key \(name): OK"), "\(report)")
        }
        #expect(report.contains("2 keys checked; 2 pass, 0 fail"), "\(report)")

        // The check can fail: a key whose record is not served.
        try world.expectSuccess(["new", "--domain", "example.org", "--provider", "self-hosted", "--usage", "alerts", "--selector", "unpublished"])
        try world.expectSuccess(["activate", "unpublished", "--domain", "example.org", "--force", "--reason", "negative control"])
        try world.expectSuccess(["export", "mta", "--format", "opendkim", "--output", output])
        #expect(try signingTable().first == "alerts@example.org unpublished._domainkey.example.org", "addresses before *@domain")
        // opendkim-testkey exits 0 whatever it found: its summary says.
        let failing = try ProcessRunner.run(testkey, ["-x", conf, "-vvv"])
        let failure = failing.standardOutput + failing.standardError
        #expect(failure.contains("key unpublished._domainkey.example.org: 'unpublished._domainkey.example.org' record not found"), "\(failure)")
        #expect(failure.contains("3 keys checked; 2 pass, 1 fail"), "\(failure)")
    }

    /// rspamd and Exim get one key per domain; every path is a readable key file of that selector.
    @Test func rspamdAndEximMaps() throws {
        let world = try World()
        let rspamd = world.path("rspamd")
        try world.expectSuccess(["export", "mta", "--format", "rspamd", "--output", rspamd])
        func entries(_ path: String, separator: String) throws -> [String: String] {
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
            var map: [String: String] = [:]
            for line in lines {
                let parts = line.components(separatedBy: separator)
                #expect(parts.count == 2, "\(line)")
                map[parts[0]] = parts[1]
            }
            return map
        }
        let expectedSelectors = ["example.org": "self-hosted-default-20261123", "example.net": "self-hosted-noreply-20261123"]
        #expect(try entries(rspamd + "/dkim_selectors.map", separator: " ") == expectedSelectors)
        let paths = try entries(rspamd + "/dkim_paths.map", separator: " ")
        for (domain, selector) in expectedSelectors {
            #expect(paths[domain] == (try world.key(selector, domain)).privateKeyPath)
            #expect(FileManager.default.isReadableFile(atPath: paths[domain] ?? ""))
        }
        let conf = try String(contentsOfFile: rspamd + "/dkim_signing.conf", encoding: .utf8)
        #expect(conf.contains("selector_map = \"\(rspamd)/dkim_selectors.map\";") && conf.contains("path_map = \"\(rspamd)/dkim_paths.map\";"))

        let exim = world.path("exim")
        try world.expectSuccess(["export", "mta", "--format", "exim", "--output", exim])
        #expect(try entries(exim + "/dkim_selectors", separator: ": ") == expectedSelectors)
        #expect(try entries(exim + "/dkim_keys", separator: ": ") == paths)
        let transport = try String(contentsOfFile: exim + "/dkim.conf", encoding: .utf8)
        #expect(transport.contains("dkim_private_key = ${lookup{$sender_address_domain}lsearch{\(exim)/dkim_keys}{$value}{false}}"))

        // Unknown formats are refused with what exists, and nothing is written.
        let unknown = try world.dkimctl.run(["export", "mta", "--format", "postfix", "--output", world.path("none")])
        #expect(unknown.status == 64)
        #expect(unknown.errorLines == ["dkimctl: error: mta format 'postfix' is not known (allowed: exim, opendkim, rspamd)"])
        #expect(!FileManager.default.fileExists(atPath: world.path("none")))
    }

    /// The scheduler units, rendered with this binary and state directory, pass systemd-analyze verify.
    @Test(.enabled(if: ProcessRunner.which("systemd-analyze") != nil, "systemd-analyze is not installed"))
    func systemdUnitsVerify() throws {
        let world = try World()
        let units = world.path("units")
        try world.expectSuccess(["export", "units", "--format", "systemd", "--output", units, "--interval", "30m"])
        let files = try FileManager.default.contentsOfDirectory(atPath: units).sorted()
        #expect(files == [
            "dkimctl-rotate.service", "dkimctl-rotate.timer", "dkimctl-scheduler.service", "dkimctl-track-refresh.service",
            "dkimctl-track-refresh.timer",
        ])
        let service = try String(contentsOfFile: units + "/dkimctl-rotate.service", encoding: .utf8)
        let execStart = try #require(service.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        let binary = String(execStart.dropFirst("ExecStart=\"".count).split(separator: "\"")[0])
        #expect(FileManager.default.isExecutableFile(atPath: binary))
        #expect(execStart.hasSuffix(" rotate --state-dir \"\(world.dkimctl.stateDirectory)\""))
        #expect(try String(contentsOfFile: units + "/dkimctl-scheduler.service", encoding: .utf8).contains(" scheduler --interval 30m "))
        let verified = try ProcessRunner.run(
            try #require(ProcessRunner.which("systemd-analyze")), ["verify"] + files.map { units + "/" + $0 })
        #expect(verified.status == 0)
        // Unknown keys are only warnings to systemd-analyze: any output is a failure here.
        #expect(verified.standardOutput.isEmpty && verified.standardError.isEmpty, "\(verified.standardOutput)\(verified.standardError)")

        // cron: two entries, five time fields, the user, then this binary.
        let cron = try world.expectSuccess(["export", "units", "--format", "cron"]).standardOutput
        let entries = cron.split(separator: "\n").filter { $0.first?.isNumber == true }
        #expect(entries.count == 2)
        for (entry, command) in zip(entries, ["rotate", "track --refresh"]) {
            let fields = entry.split(separator: " ", maxSplits: 6)
            #expect(fields.count == 7 && fields[5] == "root" && fields[6].hasPrefix("'\(binary)' \(command) --state-dir "), "\(entry)")
        }
    }

    /// Hand-offs run against stand-ins for curl and aws: the key they receive is the registered
    /// key (its public half matches), and the printed text never holds the private key.
    @Test func handoffScriptsGiveTheProviderTheKey() throws {
        let world = try World()
        try world.expectSuccess(["new", "--domain", "example.org", "--provider", "amazon-ses", "--usage", "noreply"])
        let bin = world.scratch.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let capture = world.scratch.file("capture")
        // curl: keep the arguments and what came on standard input (the -F pem=@- upload).
        try "#!/bin/sh\nprintf '%s\\n' \"$@\" > \(capture).args\ncat > \(capture).pem\necho '{\"message\": \"ok\"}'\n"
            .write(toFile: bin + "/curl", atomically: true, encoding: .utf8)
        // aws: keep the arguments and the JSON input file it was pointed at.
        try """
            #!/bin/sh
            printf '%s\\n' "$@" > \(capture).args
            for argument in "$@"; do case "$argument" in file://*) cp "${argument#file://}" \(capture).json ;; esac; done
            """.write(toFile: bin + "/aws", atomically: true, encoding: .utf8)
        chmod(bin + "/curl", 0o755)
        chmod(bin + "/aws", 0o755)
        let environment = ["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"), "MAILGUN_API_KEY": "key-test"]
        let openssl = try #require(ProcessRunner.which("openssl"))

        /// The DKIM p= of a PEM private key, through the openssl command line.
        func publicKey(ofPEM pem: String) throws -> String {
            try pem.write(toFile: world.scratch.file("received.pem"), atomically: true, encoding: .utf8)
            let der = try ProcessRunner.run(openssl, ["pkey", "-in", world.scratch.file("received.pem"), "-pubout", "-outform", "DER", "-out", world.scratch.file("received.der")])
            #expect(der.status == 0, "\(der.standardError)")
            return try Data(contentsOf: URL(fileURLWithPath: world.scratch.file("received.der"))).base64EncodedString()
        }

        let mailgunKey = try world.key("mailgun-notifications-20261123")
        let privatePEM = try String(contentsOfFile: try #require(mailgunKey.privateKeyPath), encoding: .utf8)
        let mailgun = try world.expectSuccess(["handoff", "mailgun-notifications-20261123", "--domain", "example.org"]).standardOutput
        #expect(!mailgun.contains("PRIVATE KEY") && !mailgun.contains(String(privatePEM.split(separator: "\n")[1])))
        try mailgun.write(toFile: world.scratch.file("mailgun.sh"), atomically: true, encoding: .utf8)
        let ranMailgun = try ProcessRunner.run("/bin/sh", [world.scratch.file("mailgun.sh")], environment: environment)
        #expect(ranMailgun.status == 0, "\(ranMailgun.standardError)")
        let curlArguments = try String(contentsOfFile: capture + ".args", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(curlArguments.contains("https://api.mailgun.net/v1/dkim/keys"))
        #expect(curlArguments.contains("api:key-test"))
        #expect(curlArguments.contains("signing_domain=example.org") && curlArguments.contains("selector=mailgun-notifications-20261123"))
        let uploaded = try String(contentsOfFile: capture + ".pem", encoding: .utf8)
        #expect(uploaded.hasPrefix("-----BEGIN RSA PRIVATE KEY-----"), "Mailgun takes PKCS #1")
        #expect(try publicKey(ofPEM: uploaded) == mailgunKey.publicKey)

        let sesKey = try world.key("amazon-ses-noreply-20261123")
        let ses = try world.expectSuccess(["handoff", "amazon-ses-noreply-20261123", "--domain", "example.org"]).standardOutput
        #expect(!ses.contains("PRIVATE KEY"))
        try ses.write(toFile: world.scratch.file("ses.sh"), atomically: true, encoding: .utf8)
        let ranSES = try ProcessRunner.run("/bin/sh", [world.scratch.file("ses.sh")], environment: environment)
        #expect(ranSES.status == 0, "\(ranSES.standardError)")
        let awsArguments = try String(contentsOfFile: capture + ".args", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(Array(awsArguments.prefix(6)) == [
            "sesv2", "put-email-identity-dkim-signing-attributes", "--email-identity", "example.org",
            "--signing-attributes-origin", "EXTERNAL",
        ])
        let attributes = try json(try String(contentsOfFile: capture + ".json", encoding: .utf8))
        #expect(attributes["DomainSigningSelector"] as? String == "amazon-ses-noreply-20261123")
        let body = try #require(attributes["DomainSigningPrivateKey"] as? String)
        #expect(!body.contains("-----") && !body.contains("\n") && Data(base64Encoded: body) != nil)
        let rewrapped = "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----\n"
        #expect(try publicKey(ofPEM: rewrapped) == sesKey.publicKey)
        // The temporary input file is gone.
        let temporaryFile = try #require(awsArguments.first { $0.hasPrefix("file://") }).dropFirst("file://".count)
        #expect(!FileManager.default.fileExists(atPath: String(temporaryFile)))

        // No hand-off for a self-hosted key, and none for a provider that generates its keys.
        let none = try world.dkimctl.run(["handoff", "self-hosted-default-20261123", "--domain", "example.org"])
        #expect(none.status == 64)
        #expect(none.errorLines == ["dkimctl: error: provider self-hosted has no hand-off: your MTA reads the key file ('dkimctl export mta') (hand-offs exist for: mailgun, amazon-ses)"])
    }

    /// The defaults are inside the binary: a copy elsewhere, run from elsewhere, renders them all.
    @Test func aCopiedBinaryCarriesItsTemplates() throws {
        let world = try World()
        let copy = world.path("elsewhere/dkimctl")
        try FileManager.default.createDirectory(atPath: world.path("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: DKIMCtlBinary.locate(), toPath: copy)
        let listed = try ProcessRunner.run(copy, ["templates", "list", "--format", "json", "--state-dir", world.dkimctl.stateDirectory])
        #expect(listed.status == 0, "\(listed.standardError)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [[String: Any]])
        let sourceTemplates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Templates").path
        let files = (FileManager.default.enumerator(atPath: sourceTemplates)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".mustache") }.map { String($0.dropLast(".mustache".count)) }.sorted()
        #expect(entries.map { $0["name"] as? String ?? "" } == files)
        #expect(entries.allSatisfy { $0["origin"] as? String == "embedded" })
        let route53 = try ProcessRunner.run(
            "/bin/sh", ["-c", "cd / && \(copy) record mailgun-notifications-20261123 --domain example.org --format route53 --state-dir \(world.dkimctl.stateDirectory)"])
        #expect(route53.status == 0 && route53.standardOutput.contains("\"Action\": \"UPSERT\""), "\(route53.standardError)")
    }

    /// A user directory replaces one template; the others still come from the embedded defaults.
    /// A broken user template is reported with its file, line and column.
    @Test func userTemplatesOverrideByNameAndBrokenOnesAreLocated() throws {
        let world = try World()
        let user = world.path("my-templates")
        try FileManager.default.createDirectory(atPath: user + "/record", withIntermediateDirectories: true)
        try "{{fqdn}} IN TXT <{{value}}> & {{owner}}\n".write(toFile: user + "/record/value.mustache", atomically: true, encoding: .utf8)
        try "{{selector}} {{bits}}\n".write(toFile: user + "/record/short.mustache", atomically: true, encoding: .utf8)
        let selector = "mailgun-notifications-20261123"
        let key = try world.key(selector)
        let overridden = try world.render(selector, "value", extra: ["--templates", user])
        // Plain text: no HTML escaping of <, > or &, even without the pragma.
        #expect(overridden == "\(selector)._domainkey.example.org. IN TXT <\(key.record.text)> & team@example.org\n")
        #expect(try world.render(selector, "short", extra: ["--templates", user]) == "\(selector) 2048\n")
        // An unknown format is refused with the ones that exist, the user's included.
        let unknown = try world.dkimctl.run(["record", selector, "--domain", "example.org", "--format", "bind9", "--templates", user])
        #expect(unknown.status == 64)
        #expect(unknown.errorLines == [
            "dkimctl: error: record format 'bind9' is not known (allowed: json, cloudflare, nsupdate, route53, short, terraform-cloudflare, terraform-route53, value, zone)"
        ])
        // Others still embedded.
        #expect(try world.render(selector, "zone", extra: ["--templates", user]) == (try world.render(selector, "zone")))

        let listed = try world.expectSuccess(["templates", "list", "--templates", user, "--format", "json"]).standardOutput
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
        func entry(_ name: String) -> [String: Any]? { entries.first { $0["name"] as? String == name } }
        #expect(entry("record/value")?["origin"] as? String == "user" && entry("record/value")?["overridesDefault"] as? Bool == true)
        #expect(entry("record/value")?["file"] as? String == user + "/record/value.mustache")
        #expect(entry("record/short")?["origin"] as? String == "user" && entry("record/short")?["overridesDefault"] as? Bool == false)
        #expect(entry("record/zone")?["origin"] as? String == "embedded")
        #expect(entries.count == 25)

        // The configuration's 'templates:' does the same.
        try "templates: \(user)\n".write(toFile: world.scratch.file("state/dkimctl.yaml"), atomically: true, encoding: .utf8)
        #expect(try world.render(selector, "short") == "\(selector) 2048\n")
        try FileManager.default.removeItem(atPath: world.scratch.file("state/dkimctl.yaml"))

        try "; {{comment}}\n{{fqdn}} {{ttl}} IN TXT (\n{{#strings}}\n\t{{quoted}}\n{{/string}}\n\t)\n"
            .write(toFile: user + "/record/zone.mustache", atomically: true, encoding: .utf8)
        let broken = try world.dkimctl.run(["record", selector, "--domain", "example.org", "--templates", user])
        #expect(broken.status == 64)
        #expect(broken.errorLines.count == 1)
        #expect(broken.standardError.hasPrefix("dkimctl: error: \(user)/record/zone.mustache:5:4: template error: the closing tag does not match the open section"), "\(broken.standardError)")
        #expect(broken.standardOutput.isEmpty)
    }
}

private func mode(_ path: String) -> mode_t {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
}
