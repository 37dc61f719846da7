import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// The scheduler lease and its fence, on both stores: a leader's registry writes only while
/// its term is the current one, whoever began the next.
@Suite struct LeaderFencingTests {
    let actor = Actor("tester@test-host")
    let time = Timestamp.parse("2026-11-23T10:00:00Z")!

    func registration(_ selector: String) throws -> NewKeyRegistration {
        NewKeyRegistration(
            domain: try DomainName("example.org"), provider: try Provider("mailgun"), usage: try Usage("notifications"),
            owner: try Owner("team@example.org"), selector: try Selector(selector), algorithm: .rsa, bits: 2048,
            publicKey: "cHVibGlj", fingerprint: "sha256:00", privateKeyPath: "/keys/\(selector).pem", ttl: 1800,
            recordOptions: RecordOptions())
    }

    @Test(arguments: RegistryBackend.allCases)
    func aTermThatIsOverWritesNothing(backend: RegistryBackend) throws {
        let registry = try backend.freshRegistry()
        #expect(try registry.schedulerLease() == nil)

        let first = try registry.beginLeaderTerm(holder: "root@a pid 1", at: time, lease: 30)
        #expect(first.term == 1)
        #expect(first.holder == "root@a pid 1")
        #expect(first.expiresAt == time.addingTimeInterval(30))
        #expect(first.isCurrent(at: time.addingTimeInterval(29)))
        #expect(!first.isCurrent(at: time.addingTimeInterval(30)))
        let leaderA = registry.fenced(toTerm: first.term)
        _ = try leaderA.register(registration("a1"), actor: actor, at: time)
        let eventsWhileLeading = try registry.verifyEventChain().eventCount

        // Another scheduler begins term 2: everything A writes is refused, with nothing written.
        let second = try registry.beginLeaderTerm(holder: "root@b pid 2", at: time.addingTimeInterval(40), lease: 30)
        #expect(second.term == 2)
        #expect(second.since == time.addingTimeInterval(40))
        #expect(throws: DKIMError.self) { try leaderA.register(registration("a2"), actor: actor, at: time) }
        do {
            _ = try leaderA.register(registration("a3"), actor: actor, at: time)
        } catch let error as DKIMError {
            #expect(error.kind == .notLeader)
            #expect(error.message == "this scheduler's leadership (term 1) is over: root@b pid 2 leads since 2026-11-23T10:00:40Z (term 2); nothing was written")
        }
        #expect(try registry.keys().map(\.selector.name) == ["a1"])
        #expect(try registry.verifyEventChain().eventCount == eventsWhileLeading)
        // Reads go on; A's lease cannot be renewed; B's can.
        #expect(try leaderA.keys().count == 1)
        #expect(try !registry.renewLeaderTerm(1, at: time.addingTimeInterval(41), expiresAt: time.addingTimeInterval(71)))
        #expect(try registry.renewLeaderTerm(2, at: time.addingTimeInterval(41), expiresAt: time.addingTimeInterval(71)))
        #expect(try registry.schedulerLease()?.expiresAt == time.addingTimeInterval(71))
        let leaderB = registry.fenced(toTerm: 2)
        _ = try leaderB.register(registration("b1"), actor: actor, at: time)

        // A stale release does nothing; B's release ends the lease but keeps its term (the fence stays).
        try registry.releaseLeaderTerm(1, at: time.addingTimeInterval(50))
        #expect(try registry.schedulerLease()?.releasedAt == nil)
        try registry.recordLeaderTick(2, at: time.addingTimeInterval(50))
        try registry.releaseLeaderTerm(2, at: time.addingTimeInterval(51))
        let released = try #require(try registry.schedulerLease())
        #expect(released.releasedAt == time.addingTimeInterval(51))
        #expect(released.tickedAt == time.addingTimeInterval(50))
        #expect(!released.isCurrent(at: time.addingTimeInterval(52)))
        #expect(try !registry.renewLeaderTerm(2, at: time.addingTimeInterval(52), expiresAt: time.addingTimeInterval(82)))
        #expect(try registry.beginLeaderTerm(holder: "root@c pid 3", at: time.addingTimeInterval(60), lease: 30).term == 3)
        #expect(throws: DKIMError.self) { try leaderB.register(registration("b2"), actor: actor, at: time) }
        #expect(try registry.keys().map(\.selector.name).sorted() == ["a1", "b1"])
        #expect(try registry.verifyEventChain().problems.isEmpty)
    }
}
