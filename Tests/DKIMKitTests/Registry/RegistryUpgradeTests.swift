@testable import DKIMKit
import DKIMTestSupport
import Foundation
import GRDB
import Testing

/// A registry written before register snapshots (schema v4) is anchored when opened:
/// one baseline event per slot and key and one digest of the DNS evidence so far.
@Suite struct RegistryUpgradeTests {
    @Test func aVersionFourRegistryIsAnchoredOnUpgradeAndEditsAfterItAreFound() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("registry.sqlite")
        let queue = try DatabaseQueue(path: path)
        try RegistrySchema.migrator.migrate(queue, upTo: "v4-external-selectors")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO slot (domain, provider, usage, owner, created_at)
                  VALUES ('example.org', 'mailgun', 'default', 'team@example.org', '2026-01-01 00:00:00.000');
                INSERT INTO key (slot_id, domain, selector, algorithm, bits, state, public_key, fingerprint, ttl, created_at)
                  VALUES (1, 'example.org', 's1', 'ed25519', 256, 'pending', 'cHVibGlj', 'SHA256:x', 1800, '2026-01-01 00:00:00.000');
                INSERT INTO dns_check (key_id, checked_at, actor, verdict, problems) VALUES (1, '2026-01-02 00:00:00.000', 'a', 'fail', '');
                INSERT INTO dns_check_server (check_id, zone, name, server, address, port, status, detail)
                  VALUES (1, 'example.org.', 's1._domainkey.example.org.', 'ns1', '192.0.2.1', 53, 'fail', 'NXDOMAIN');
                """)
        }
        try queue.close()

        let registry = try SQLRegistry.open(path: path, create: false)
        let upgraded = try registry.verifyRegister()
        #expect(upgraded.isIntact, "\(upgraded.problems)")
        #expect(upgraded.rowsChecked == 2 && upgraded.checksAnchored == 1)
        var actions: [String] = []
        try registry.forEachEvent(since: nil) { actions.append($0.action) }
        #expect(actions == ["slot.baseline", "key.baseline", "dns.checks-recorded"])
        #expect(try registry.verifyEventChain().isIntact)

        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE slot SET owner = 'mallory@example.net'")
        }
        let edited = try registry.verifyRegister()
        #expect(edited.problems == [
            "slot row 1 (mailgun default of example.org): owner is 'mallory@example.net' but the event log says 'team@example.org' (event 2)",
        ])
    }
}
