@testable import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// `registry migrate`: a registry built by the real commands (rotation against BIND, registry
/// slots, sealed keys and their copies, DMARC reports) copied from SQLite into PostgreSQL, where
/// every row of every table and the chain are equal, and the commands go on there; and back.
@Suite struct RegistryMigrationTests {
    /// Every row of every table, values as stored, in copy order.
    func contents(_ registry: SQLRegistry) throws -> [String: [[SQLValue]]] {
        try registry.read { db in
            var tables: [String: [[SQLValue]]] = [:]
            for table in RegistryCopy.tables {
                tables[table.name] = try db.rows(sql: "SELECT * FROM \(table.name) ORDER BY \(table.order)").map(\.values)
            }
            return tables
        }
    }

    @Test func aRegistryBuiltByTheCommandsMovesToPostgreSQLRowForRow() throws {
        let world = try RotationWorld(domains: ["a.example"])
        try world.writeConfiguration(.rfc2136)
        let kek = world.scratch.file("kek")
        try String(repeating: "5c", count: 32).write(toFile: kek, atomically: true, encoding: .utf8)
        chmod(kek, 0o600)
        let text = try String(contentsOfFile: world.configPath, encoding: .utf8)
        try (text + "keyStore: registry\nkeyEncryptionKey:\n  file: \(kek)\n").write(toFile: world.configPath, atomically: true, encoding: .utf8)
        let dkimctl = world.dkimctl
        #expect(try dkimctl.run(
            ["slot", "add", "--domain", "a.example", "--provider", "self-hosted", "--usage", "support", "--rotation", "30d", "--config", world.configPath],
            environment: world.at(0)).status == 0)
        let offsets: [TimeInterval] = [0, 3600, 17 * 86400, 17 * 86400 + 3600]
        for offset in offsets {
            let ran = try world.rotate(at: offset)
            #expect(ran.status == 0, "\(ran.standardOutput)\(ran.standardError)")
        }
        #expect(try dkimctl.run(
            ["keys", "materialize", "--config", world.configPath, "--host-dir", world.scratch.file("mta")], environment: world.at(17 * 86400 + 3700)
        ).status == 0)
        let active = try #require(try world.keys("a.example").first { $0.state == .active })
        let report = world.scratch.file("report.xml")
        try ReportsTests.write(
            ReportsTests.report(
                reporter: "receiver.example", id: "r1", begin: Int(RotationWorld.start.timeIntervalSince1970) + 86400,
                rows: [("192.0.2.1", 12, "a.example", [("a.example", active.selector.name, "pass")])]),
            to: report)
        let imported = try dkimctl.run(["reports", "import", report], environment: world.at(2 * 86400))
        #expect(imported.status == 0, "\(imported.standardError)")

        let source = try world.registry()
        let before = try contents(source)
        #expect(before.values.allSatisfy { !$0.isEmpty }, "every table holds rows: \(before.filter { $0.value.isEmpty }.map(\.key))")

        let url = try PostgresServer.shared().createDatabase()
        let migrated = try dkimctl.run(["registry", "migrate", "--to", url], environment: world.at(18 * 86400))
        #expect(migrated.status == 0, "\(migrated.standardOutput)\(migrated.standardError)")
        let chain = try source.verifyEventChain()
        #expect(migrated.standardOutput.contains("\(chain.eventCount) events, head \(chain.headHash), verified"), "\(migrated.standardOutput)")
        let target = try SQLRegistry.open(postgres: PostgresSettings(url: url))
        let after = try contents(target)
        for table in RegistryCopy.tables {
            #expect(after[table.name] == before[table.name], "\(table.name) differs")
        }
        #expect(try target.verifyEventChain().headHash == chain.headHash)
        // What the commands print from either registry is the same.
        let onPostgres = ["DKIMCTL_REGISTRY": url]
        for command in [
            ["list", "--format", "json"], ["reports", "summary", "--format", "json"], ["audit", "--format", "json", "--config", world.configPath],
            ["audit", "events", "--format", "csv"], ["slot", "list", "--format", "json"], ["keys", "copies", "--format", "json"],
        ] {
            let fromSQLite = try dkimctl.run(command, environment: world.at(18 * 86400))
            let fromPostgres = try dkimctl.run(command, environment: world.at(18 * 86400).merging(onPostgres) { $1 })
            #expect(fromSQLite.status == fromPostgres.status && !fromSQLite.standardOutput.isEmpty, "\(command): \(fromPostgres.standardError)")
            #expect(fromSQLite.standardOutput == fromPostgres.standardOutput, "\(command) differs")
        }

        // The commands go on on PostgreSQL: the next ids follow the copied ones, the chain grows.
        let ran = try world.rotate(at: 31 * 86400, environment: onPostgres)
        #expect(ran.status == 0, "\(ran.standardOutput)\(ran.standardError)")
        let added = try dkimctl.run(
            ["slot", "add", "--domain", "b.example", "--provider", "self-hosted", "--usage", "news", "--config", world.configPath],
            environment: world.at(31 * 86400).merging(onPostgres) { $1 })
        #expect(added.status == 0, "\(added.standardError)")
        // registry: in the configuration file names it too (before the rest of the file is read).
        let named = world.scratch.file("registry.yaml")
        try "registry: \"\(url)\"\n".write(toFile: named, atomically: true, encoding: .utf8)
        let viaFile = try dkimctl.run(["slot", "list", "--format", "json", "--config", named], environment: world.at(18 * 86400))
        let viaEnvironment = try dkimctl.run(["slot", "list", "--format", "json"], environment: world.at(18 * 86400).merging(onPostgres) { $1 })
        #expect(viaFile.status == 0 && viaFile.standardOutput.contains("b.example"), "\(viaFile.standardOutput)\(viaFile.standardError)")
        #expect(viaFile.standardOutput == viaEnvironment.standardOutput)
        #expect(try !dkimctl.run(["slot", "list", "--format", "json"]).standardOutput.contains("b.example"), "the SQLite file does not have it")
        try "registry: /var/lib/dkimctl/registry.sqlite\n".write(toFile: named, atomically: true, encoding: .utf8)
        let notURL = try dkimctl.run(["config", "check", "--config", named])
        #expect(notURL.errorLines.count == 1 && notURL.standardError.contains("is not a postgres:// URL"), "\(notURL.standardError)")

        let verified = try dkimctl.run(["audit", "verify"], environment: onPostgres)
        #expect(verified.status == 0, "\(verified.standardOutput)\(verified.standardError)")
        #expect(try target.verifyEventChain().eventCount > chain.eventCount)
        #expect(try contents(source) == before, "the source is left as it was")

        // A second migration into the same database is refused; back to a new SQLite file works.
        let again = try dkimctl.run(["registry", "migrate", "--to", url])
        #expect(again.errorLines.count == 1 && again.standardError.contains("already holds a registry"), "\(again.standardError)")
        let file = world.scratch.file("back.sqlite")
        let back = try dkimctl.run(["registry", "migrate", "--to", file], environment: onPostgres)
        #expect(back.status == 0, "\(back.standardError)")
        #expect(try contents(SQLRegistry.open(path: file, create: false)) == (try contents(target)))
    }

    @Test func aTamperedSourceIsNotCopied() throws {
        let world = try RotationWorld(domains: ["a.example"])
        try world.writeConfiguration(.rfc2136)
        for offset in [0.0, 3600] { #expect(try world.rotate(at: offset).status == 0) }
        try RegistryTampering.run("UPDATE key SET ttl = 60", on: world.scratch.file("state/registry.sqlite"))
        let url = try PostgresServer.shared().createDatabase()
        let refused = try world.dkimctl.run(["registry", "migrate", "--to", url])
        #expect(refused.status != 0 && refused.errorLines.count == 1, "\(refused.standardError)")
        #expect(refused.standardError.contains("the register does not match the event log"), "\(refused.standardError)")
        let target = try SQLRegistry.open(postgres: PostgresSettings(url: url))
        #expect(try target.verifyEventChain().eventCount == 0, "nothing copied")
    }
}

/// Writers from several processes at once on one PostgreSQL registry: every change lands,
/// none twice, and the event chain stays one line.
@Suite struct PostgresConcurrencyTests {
    @Test func concurrentWritersKeepTheChainLinear() throws {
        let scratch = try TemporaryDirectory("pg-writers")
        let url = try PostgresServer.shared().createDatabase()
        let environment = ["DKIMCTL_REGISTRY": url, "DKIMCTL_NOW": "2026-11-23T10:00:00Z"]
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"), environment: environment)
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        // 4 processes, each defining 15 slots one command at a time, all at once.
        let writers = try (0..<4).map { writer in
            try ProcessRunner.start("/bin/sh", ["-c", (0..<15).map { index in
                "\(dkimctl.path) slot add --state-dir \(scratch.file("state")) --domain w\(writer).example --provider self-hosted --usage u\(index) || exit 1"
            }.joined(separator: "\n")], environment: dkimctl.environment)
        }
        for writer in writers {
            let result = writer.wait(timeout: 120)
            #expect(result.status == 0, "\(result.standardError)")
        }
        let registry = try SQLRegistry.open(postgres: PostgresSettings(url: url))
        let chain = try registry.verifyEventChain()
        #expect(chain.firstBreak == nil, "\(chain.breaks)")
        var defined = 0
        var ids: [Int64] = []
        try registry.forEachEvent(since: nil) { event in
            ids.append(event.id)
            if event.action == "slot.defined" { defined += 1 }
        }
        #expect(defined == 60)
        #expect(ids == Array(1...Int64(ids.count)), "ids follow one another")
        #expect(try registry.slotDefinitions().count == 60)
        #expect(try registry.verifyRegister().problems.isEmpty)
    }
}

/// The registry's TLS modes against a server with a self-signed certificate.
@Suite struct PostgresTLSTests {
    func usesTLS(_ url: String) throws -> Bool {
        let registry = try SQLRegistry.open(postgres: PostgresSettings(url: url))
        return try registry.read { db in
            try db.int64(sql: "SELECT count(*) FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl") ?? 0
        } == 1
    }

    @Test func verifyFullChecksTheCertificateAndRequireEncrypts() throws {
        let server = try PostgresServer.shared()
        let plain = try server.createDatabase()
        let database = try #require(URLComponents(string: plain)?.path.dropFirst().description)
        let base = "postgres://\(server.user):\(server.password)@localhost:\(server.port)/\(database)"
        #expect(try usesTLS(base + "?sslmode=verify-full&sslrootcert=\(server.certificatePath)"))
        #expect(try usesTLS(base + "?sslmode=require"))
        #expect(try !usesTLS(plain), "sslmode=disable stays plain")

        // Another authority's certificate: verify-full refuses the server, in one line.
        let scratch = try TemporaryDirectory("tls")
        let other = scratch.file("other.pem")
        let made = try ProcessRunner.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", scratch.file("other.key"), "-out", other, "-days", "2", "-subj", "/CN=other",
        ])
        #expect(made.status == 0)
        let dkimctl = DKIMCtlBinary(
            stateDirectory: scratch.file("state"), environment: ["DKIMCTL_REGISTRY": base + "?sslmode=verify-full&sslrootcert=\(other)"])
        let refused = try dkimctl.run(["init"])
        #expect(refused.status != 0 && refused.errorLines.count == 1, "\(refused.standardError)")
        #expect(refused.standardError.contains("cannot be reached") && !refused.standardError.contains(server.password), "\(refused.standardError)")
        #expect(refused.standardError.contains("CERTIFICATE_VERIFY_FAILED"), "\(refused.standardError)")
    }
}
