import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// A test world for `rotate`: a BIND serving some zones (open to TSIG-signed
/// UPDATE), a state directory, a configuration, hooks that log what they were given.
final class RotationWorld {
    enum PublisherKind: String, CaseIterable, CustomStringConvertible {
        case rfc2136, zonefile, command
        var description: String { rawValue }
    }

    static let start = Timestamp.parse("2026-11-23T03:00:00Z")!
    static let tsigName = "dkimctl-test"

    let scratch: TemporaryDirectory
    let named: NamedServer
    let secret: String
    let dkimctl: DKIMCtlBinary
    let domains: [String]

    var keyFile: String { scratch.file("tsig.key") }
    var deployLog: String { scratch.file("deploy.log") }
    var publishLog: String { scratch.file("publish.log") }
    var configPath: String { scratch.file("dkimctl.yaml") }
    var nameserver: String { "127.0.0.1:\(named.port)" }
    func fragment(_ domain: String) -> String { scratch.file("\(domain).dkim.zone") }

    /// - Parameter zonefileDomains: domains whose zone `$INCLUDE`s a fragment (zonefile publisher).
    /// The PostgreSQL registry's URL when the world runs on PostgreSQL (`DKIMCTL_REGISTRY`).
    let registryURL: String?

    init(domains: [String], zonefileDomains: Set<String> = [], backend: RegistryBackend = .sqlite) throws {
        scratch = try TemporaryDirectory("rotation")
        registryURL = backend == .postgres ? try PostgresServer.shared().createDatabase() : nil
        self.domains = domains
        secret = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try "key \"\(Self.tsigName)\" { algorithm hmac-sha256; secret \"\(secret)\"; };\n"
            .write(toFile: scratch.file("tsig.key"), atomically: true, encoding: .utf8)
        chmod(scratch.file("tsig.key"), 0o600)
        var zones: [NamedServer.Zone] = []
        for domain in domains {
            var records: [String] = []
            if zonefileDomains.contains(domain) {
                FileManager.default.createFile(atPath: scratch.file("\(domain).dkim.zone"), contents: Data())
                records.append("$INCLUDE \(scratch.file("\(domain).dkim.zone"))")
            }
            // A zone open to UPDATE is dynamic: BIND would not reload it from its file.
            zones.append(.init(
                domain, ZoneText.zone(domain, serial: 1, negativeTTL: 300, records: records),
                updateKey: zonefileDomains.contains(domain) ? nil : Self.tsigName))
        }
        named = try NamedServer(zones: zones, keys: [(Self.tsigName, "hmac-sha256", secret)])
        dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"), environment: registryURL.map { ["DKIMCTL_REGISTRY": $0] } ?? [:])
        let initialised = try dkimctl.run(["init", "--owner", "team@example.org"], environment: at(0))
        #expect(initialised.status == 0, "\(initialised.standardError)")
        // The deploy hook logs what it was given, and whether the private key file was still there.
        try """
            #!/bin/sh
            if [ -f "$DKIM_PRIVATE_KEY_PATH" ]; then present=key-present; else present=key-absent; fi
            echo "$DKIM_ACTION $DKIM_SELECTOR $present" >> \(deployLog)
            """.write(toFile: scratch.file("deploy.sh"), atomically: true, encoding: .utf8)
        chmod(scratch.file("deploy.sh"), 0o755)
        // The command publisher: nsupdate, fed from the DKIM_* variables.
        try """
            #!/bin/sh
            set -e
            strings=$(python3 -c 'import json, os; print(" ".join(json.dumps(s) for s in json.loads(os.environ["DKIM_STRINGS_JSON"])))')
            {
              echo "server 127.0.0.1 \(named.port)"
              echo "zone $DKIM_DOMAIN"
              echo "update delete $DKIM_NAME. TXT"
              if [ "$DKIM_ACTION" != delete ]; then echo "update add $DKIM_NAME. $DKIM_TTL TXT $strings"; fi
              echo send
            } | nsupdate -k \(keyFile)
            echo "$DKIM_ACTION $DKIM_NAME $DKIM_TTL" >> \(publishLog)
            echo "updated $DKIM_NAME"
            """.write(toFile: scratch.file("publish.sh"), atomically: true, encoding: .utf8)
        chmod(scratch.file("publish.sh"), 0o755)
    }

    func at(_ offset: TimeInterval) -> [String: String] {
        ["DKIMCTL_NOW": Timestamp.iso8601(Self.start.addingTimeInterval(offset))]
    }

    func publisherYAML(_ kind: PublisherKind, domain: String) -> String {
        switch kind {
        case .rfc2136:
            "{ type: rfc2136, server: \"\(nameserver)\", tsig: { name: \(Self.tsigName), algorithm: hmac-sha256, secretFile: \(keyFile) } }"
        case .zonefile:
            // BIND reloads a zone only if a file's modification time is in a later second than the
            // last load's; these simulated days are milliseconds apart, so the reload waits a second.
            "{ type: zonefile, path: \(fragment(domain)), reload: \"sleep 1 && touch $DKIM_ZONE_FILE && kill -HUP $(cat \(named.directory.file("named.pid"))) && sleep 0.3\" }"
        case .command:
            "{ type: command, command: \"\(scratch.file("publish.sh"))\" }"
        }
    }

    /// A configuration with one ed25519 slot per domain.
    func writeConfiguration(_ kind: PublisherKind, revocation: String = "empty-p", reveal: Bool = false, deploy: Bool = true) throws {
        var text = """
            defaults:
              owner: team@example.org
              algorithm: ed25519
              rotation: 182d
              lead: 14d
              grace: 7d
              ttl: 1800
              stableTTL: 86400
              revocation: \(revocation)
              reveal: \(reveal)
            dns:
              nameservers: ["\(nameserver)"]
              timeout: 1
              retries: 1
            domains:

            """
        for domain in domains {
            text += "  \(domain):\n    publisher: \(publisherYAML(kind, domain: domain))\n"
            if deploy { text += "    deploy: \"\(scratch.file("deploy.sh"))\"\n" }
            text += "    slots:\n      - { provider: self-hosted, usage: notifications }\n"
        }
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// The rfc2136 configuration with `keyStore: STORE` and a new random KEK file (0600); returns the KEK's path.
    @discardableResult
    func writeSealingConfiguration(store: String = "registry") throws -> String {
        try writeConfiguration(.rfc2136)
        let kek = scratch.file("kek")
        try (Data((0..<32).map { _ in UInt8.random(in: 0...255) }).map { String(format: "%02x", $0) }.joined() + "\n")
            .write(toFile: kek, atomically: true, encoding: .utf8)
        chmod(kek, 0o600)
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        try (text + "keyStore: \(store)\nkeyEncryptionKey:\n  file: \(kek)\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        return kek
    }

    @discardableResult
    func rotate(at offset: TimeInterval, _ extra: [String] = [], environment: [String: String] = [:]) throws -> ProcessResult {
        try dkimctl.run(["rotate", "--config", configPath] + extra, environment: at(offset).merging(environment) { $1 })
    }

    func registry() throws -> SQLRegistry {
        if let registryURL { return try SQLRegistry.open(postgres: PostgresSettings(url: registryURL)) }
        return try SQLRegistry.open(path: scratch.file("state/registry.sqlite"), create: false)
    }

    /// The domain's keys, their private key paths resolved to the files in the state directory.
    func keys(_ domain: String) throws -> [RegisteredKey] {
        let state = StateDirectory(path: scratch.file("state"))
        return try registry().keys(matching: KeyFilter(domain: try DomainName(domain))).sorted { $0.id < $1.id }
            .map(state.resolvingPrivateKeyFile)
    }

    /// The TXT strings DNS serves at `selector`, joined; nil when the name has no TXT record.
    func served(_ selector: String, in domain: String) -> (value: String, ttl: UInt32)? {
        let transport = LDNSTransport(options: DNSQueryOptions(timeout: 1, retries: 1))
        guard case .response(let response) = transport.query(
            "\(selector)._domainkey.\(domain).", .txt, server: named.server, recursionDesired: false)
        else { return nil }
        for record in response.answers(at: "\(selector)._domainkey.\(domain).") {
            if case .txt(let strings) = record.data { return (strings.joined(), record.ttl) }
        }
        return nil
    }

    /// Registry-wide facts that must hold after any run, crashed or not.
    func checkInvariants(_ domain: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let registry = try registry()
        let keys = try self.keys(domain)
        #expect(keys.filter { $0.state == .active }.count <= 1, "two active keys", sourceLocation: sourceLocation)
        for key in keys where key.state != .revoked {
            let kept = key.privateKeyInRegistry
                ? (try? registry.storedPrivateKey(keyID: key.id)).map { if case .sealed = $0 { true } else { false } } ?? false
                : FileManager.default.fileExists(atPath: key.privateKeyPath ?? "")
            #expect(kept, "\(key.selector) lost its private key", sourceLocation: sourceLocation)
        }
        for key in keys where key.state == .active {
            #expect(try registry.checks(forKey: key.id, limit: 100).contains { $0.verdict == .pass }, "\(key.selector) active without a DNS proof", sourceLocation: sourceLocation)
        }
        let chain = try registry.verifyEventChain()
        #expect(chain.problems.isEmpty, "\(chain.problems)", sourceLocation: sourceLocation)
    }

    /// Everything that makes up the registry's content, to compare two moments.
    func registryFingerprint() throws -> String {
        let registry = try registry()
        let chain = try registry.verifyEventChain()
        var text = "events \(chain.eventCount) \(chain.headHash)\n"
        for key in try registry.keys() {
            text += "\(key)\n"
            text += "checks \(try registry.checks(forKey: key.id, limit: 10_000).count)\n"
        }
        return text
    }

    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
