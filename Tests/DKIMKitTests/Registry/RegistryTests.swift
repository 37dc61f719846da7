import DKIMKit
import DKIMTestSupport
import Foundation
import GRDB
import Testing

@Suite struct RegistryTests {
    let actor = Actor("tester@test-host")
    let time = Timestamp.parse("2026-11-23T10:00:00Z")!

    private func registration(
        _ selector: String, domain: String = "example.org", provider: String = "mailgun",
        usage: String = "notifications", owner: String = "team@example.org"
    ) throws -> NewKeyRegistration {
        NewKeyRegistration(
            domain: try DomainName(domain), provider: try Provider(provider), usage: try Usage(usage),
            owner: try Owner(owner), selector: try Selector(selector), algorithm: .rsa, bits: 2048,
            publicKey: "cHVibGlj", fingerprint: "sha256:00", privateKeyPath: "/keys/\(selector).pem", ttl: 1800,
            recordOptions: RecordOptions(flags: ["y"]))
    }

    @Test func migratesFromEmptyAndRegistersPendingKeys() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("registry.sqlite")
        let registry = try SQLRegistry.open(path: path, create: true)
        let key = try registry.register(registration("s1"), actor: actor, at: time)
        #expect(key.state == .pending)
        #expect(key.createdAt == time)
        #expect(key.recordOptions.flags == ["y"])
        #expect(key.record.text == "v=DKIM1; k=rsa; t=y; p=cHVibGlj")

        // Reopening applies no migration twice and sees the same data.
        let reopened = try SQLRegistry.open(path: path, create: false)
        #expect(try reopened.key(selector: Selector("s1"), domain: DomainName("example.org")) == key)
        let journal = try DatabaseQueue(path: path).read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
    }

    @Test func aMissingRegistryIsNotCreatedUnlessAsked() throws {
        let directory = try TemporaryDirectory()
        let error = try #require(throws: DKIMError.self) {
            try SQLRegistry.open(path: directory.file("none.sqlite"), create: false)
        }
        #expect(error.kind == .notInitialized)
        #expect(!FileManager.default.fileExists(atPath: directory.file("none.sqlite")))
    }

    @Test(arguments: RegistryBackend.allCases)
    func selectorsAreUniquePerDomain(backend: RegistryBackend) throws {
        let registry = try backend.freshRegistry()
        _ = try registry.register(registration("s1"), actor: actor, at: time)
        let error = try #require(throws: DKIMError.self) {
            try registry.register(registration("s1", provider: "brevo"), actor: actor, at: time)
        }
        #expect(error.kind == .conflict)
        // The same selector in another domain is fine.
        _ = try registry.register(registration("s1", domain: "example.net"), actor: actor, at: time)
        #expect(try registry.keys().count == 2)
        #expect(try registry.selectors(of: DomainName("example.org"), startingWith: "s") == ["s1"])
        #expect(try registry.selectors(of: DomainName("example.org"), startingWith: "s_").isEmpty, "LIKE wildcards are escaped")
    }

    @Test(arguments: RegistryBackend.allCases)
    func filtersCombine(backend: RegistryBackend) throws {
        let registry = try backend.freshRegistry()
        _ = try registry.register(registration("a", usage: "support", owner: "help@example.org"), actor: actor, at: time)
        _ = try registry.register(registration("b", provider: "brevo"), actor: actor, at: time)
        _ = try registry.register(registration("c", domain: "example.net"), actor: actor, at: time)
        let byOwner = try registry.keys(matching: KeyFilter(owner: "HELP@example.org"))
        #expect(byOwner.map(\.selector.name) == ["a"])
        let byProvider = try registry.keys(matching: KeyFilter(domain: DomainName("example.org"), provider: Provider("mailgun")))
        #expect(byProvider.map(\.selector.name) == ["a"])
        #expect(try registry.keys(matching: KeyFilter(states: [.active])).isEmpty)
        #expect(try registry.keys(matching: KeyFilter(states: [.pending])).count == 3)
        #expect(try registry.keys(matching: KeyFilter(expiringBefore: time.addingTimeInterval(86400))).isEmpty, "pending keys have no expiry yet")
    }

    @Test(arguments: RegistryBackend.allCases)
    func theSlotKeepsOneOwnerAndOwnerChangesAreLogged(backend: RegistryBackend) throws {
        let registry = try backend.freshRegistry()
        _ = try registry.register(registration("s1"), actor: actor, at: time)
        let second = try registry.register(registration("s2", owner: "new-team@example.org"), actor: actor, at: time)
        #expect(second.owner.address == "new-team@example.org")
        #expect(try registry.key(selector: Selector("s1"), domain: DomainName("example.org"))?.owner.address == "new-team@example.org")
        #expect(try registry.verifyEventChain().eventCount == 4)  // slot.created, key.created, slot.owner-changed, key.created
    }

    @Test(arguments: RegistryBackend.allCases)
    func theDefaultOwnerIsStoredOnceAndEveryChangeIsAnEvent(backend: RegistryBackend) throws {
        let registry = try backend.freshRegistry()
        #expect(try registry.defaultOwner() == nil)
        #expect(try registry.setDefaultOwner(Owner("a@example.org"), actor: actor, at: time))
        #expect(try !registry.setDefaultOwner(Owner("a@example.org"), actor: actor, at: time))
        #expect(try registry.defaultOwner()?.address == "a@example.org")
        try registry.recordInitialisation(actor: actor, at: time, details: [:])
        try registry.recordInitialisation(actor: actor, at: time, details: [:])
        #expect(try registry.verifyEventChain().eventCount == 2)
    }

    @Test(arguments: RegistryBackend.allCases)
    func activationKeepsOneActiveKeyPerSlotAndNeedsAProofUnlessForced(backend: RegistryBackend) throws {
        let registry = try backend.freshRegistry()
        let first = try registry.register(registration("s1"), actor: actor, at: time)
        let second = try registry.register(registration("s2"), actor: actor, at: time)
        let rotation = TimeSpan(seconds: 182 * 86400)
        let unproved = try #require(throws: DKIMError.self) {
            try registry.activate(keyID: first.id, rotationPeriod: rotation, forcedReason: nil, actor: actor, at: time)
        }
        #expect(unproved.message.contains("pending"))

        let name = first.recordName.absolute
        let pass = PublicationCheck(name: name, results: [
            ServerCheck(zone: "example.org.", name: name, server: DNSServer(address: "192.0.2.1"), status: .pass, serial: 1, ttl: 1800, negativeTTL: 300, detail: "ok"),
        ])
        let fail = PublicationCheck(name: name, results: [
            ServerCheck(zone: "example.org.", name: name, server: DNSServer(address: "192.0.2.1"), status: .fail, detail: "NXDOMAIN"),
        ])
        let afterFail = try registry.recordChecks([(key: first, check: fail)], actor: actor, at: time)
        #expect(afterFail.first?.state == .pending)
        let afterPass = try registry.recordChecks([(key: first, check: pass)], actor: actor, at: time.addingTimeInterval(60))
        #expect(afterPass.first?.state == .published && afterPass.first?.publishedAt == time.addingTimeInterval(60))
        // A later pass does not move published_at: it records the first full pass.
        _ = try registry.recordChecks([(key: first, check: pass)], actor: actor, at: time.addingTimeInterval(120))
        #expect(try registry.key(selector: first.selector, domain: first.domain)?.publishedAt == time.addingTimeInterval(60))
        #expect(try registry.checks(forKey: first.id, limit: 10).map(\.verdict) == [.pass, .pass, .fail])

        let (active, retiredNone) = try registry.activate(keyID: first.id, rotationPeriod: rotation, forcedReason: nil, actor: actor, at: time.addingTimeInterval(3600))
        #expect(active.state == .active && retiredNone == nil)
        #expect(active.expiresAt == time.addingTimeInterval(3600 + 182 * 86400))
        let (successor, retired) = try registry.activate(keyID: second.id, rotationPeriod: rotation, forcedReason: "test", actor: actor, at: time.addingTimeInterval(7200))
        #expect(successor.state == .active && retired?.id == first.id && retired?.state == .retired)
        #expect(try registry.keys(matching: KeyFilter(states: [.active])).map(\.selector.name) == ["s2"])
        let again = try #require(throws: DKIMError.self) {
            try registry.activate(keyID: first.id, rotationPeriod: rotation, forcedReason: "x", actor: actor, at: time)
        }
        #expect(again.message.contains("retired"))
        #expect(try registry.keys(matching: KeyFilter(expiringBefore: time.addingTimeInterval(183 * 86400))).count == 2)
        #expect(try registry.keys(matching: KeyFilter(states: [.active], expiringBefore: time.addingTimeInterval(183 * 86400))).count == 1)
        #expect(try registry.keys(matching: KeyFilter(expiringBefore: time.addingTimeInterval(86400))).isEmpty)
        #expect(try registry.verifyEventChain().isIntact)
    }

    // MARK: The event chain

    /// A registry file with five events, and a raw connection that can tamper with it.
    private func chainFixture() throws -> (TemporaryDirectory, SQLRegistry, DatabaseQueue) {
        let directory = try TemporaryDirectory()
        let path = directory.file("registry.sqlite")
        let registry = try SQLRegistry.open(path: path, create: true)
        try registry.recordInitialisation(actor: actor, at: time, details: ["v": "1"])
        _ = try registry.register(registration("s1"), actor: actor, at: time)
        _ = try registry.register(registration("s2"), actor: actor, at: time.addingTimeInterval(1))
        let verification = try registry.verifyEventChain()
        #expect(verification.isIntact, "\(verification.problems)")
        #expect(verification.eventCount == 4)
        return (directory, registry, try DatabaseQueue(path: path))
    }

    @Test func theEventLogRefusesUpdatesAndDeletes() throws {
        let (_, _, raw) = try chainFixture()
        #expect(throws: DatabaseError.self) { try raw.write { db in try db.execute(sql: "UPDATE event SET actor = 'x'") } }
        #expect(throws: DatabaseError.self) { try raw.write { db in try db.execute(sql: "DELETE FROM event") } }
        #expect(throws: DatabaseError.self) { try raw.write { db in try db.execute(sql: "DELETE FROM key") } }
    }

    @Test func editingAnEventBreaksTheChain() throws {
        let (_, registry, raw) = try chainFixture()
        try raw.write { db in
            try db.execute(sql: "DROP TRIGGER event_append_only_update")
            try db.execute(sql: "UPDATE event SET actor = 'someone-else@elsewhere' WHERE id = 2")
        }
        let verification = try registry.verifyEventChain()
        #expect(!verification.isIntact)
        #expect(verification.problems.contains { $0.contains("event 2") && $0.contains("altered") })
        #expect(verification.firstBreak?.kind == .altered && verification.firstBreak?.eventID == 2)
    }

    @Test func rehashingAnEditedEventStillBreaksTheNextLink() throws {
        let (_, registry, raw) = try chainFixture()
        try raw.write { db in
            try db.execute(sql: "DROP TRIGGER event_append_only_update")
            try db.execute(sql: "UPDATE event SET details = '{}', hash = 'f00d' WHERE id = 2")
        }
        let verification = try registry.verifyEventChain()
        #expect(verification.problems.contains { $0.contains("event 3") && $0.contains("does not link") })
        #expect(verification.breaks.contains { $0.kind == .unlinked && $0.eventID == 3 })
    }

    @Test func deletingAnEventInTheMiddleBreaksTheChain() throws {
        let (_, registry, raw) = try chainFixture()
        try raw.write { db in
            try db.execute(sql: "DROP TRIGGER event_append_only_delete")
            try db.execute(sql: "DELETE FROM event WHERE id = 3")
        }
        let verification = try registry.verifyEventChain()
        #expect(verification.problems.contains { $0.contains("event 4") && $0.contains("does not link") })
        #expect(verification.breaks.map(\.kind) == [.removed, .unlinked])
    }

    @Test func deletingTheLastEventIsDetectedThroughTheRecordedHead() throws {
        let (_, registry, raw) = try chainFixture()
        try raw.write { db in
            try db.execute(sql: "DROP TRIGGER event_append_only_delete")
            try db.execute(sql: "DELETE FROM event WHERE id = 4")
        }
        let verification = try registry.verifyEventChain()
        #expect(verification.eventCount == 3)
        #expect(verification.problems.contains { $0.contains("removed from the end") })
        #expect(verification.breaks.map(\.kind) == [.truncated])
    }

    @Test func aRegistryFromANewerVersionIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("registry.sqlite")
        _ = try SQLRegistry.open(path: path, create: true)
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        let error = try #require(throws: DKIMError.self) { try SQLRegistry.open(path: path, create: false) }
        #expect(error.message.contains("newer dkimctl"))
    }

    @Test func aCorruptFileIsAReadableErrorAndIsLeftAlone() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("registry.sqlite")
        let garbage = Data(repeating: 0x5A, count: 8192)
        try garbage.write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: DKIMError.self) { try SQLRegistry.open(path: path, create: false) }
        #expect(error.kind == .registry)
        #expect(error.message.contains(path))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }
}
