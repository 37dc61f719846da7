import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// The publication check against a DNS server that lies: every forgery is
/// ignored (the query waits for the real reply, else times out), loops end as
/// failures, oversized NS sets are refused, slow servers cost one timeout.
@Suite(.serialized) final class HostileDNSTests {
    let key: KeyPair
    let hostile: HostileDNSServer
    let transport = LDNSTransport(options: DNSQueryOptions(timeout: 1, retries: 0))

    init() throws {
        key = try KeyPair.generate(KeySpecification(algorithm: .ed25519))
        hostile = try HostileDNSServer(
            zone: "example.org", slowAddresses: (11...16).map { "127.0.0.\($0)" })
        try hostile.setKeyRecord("v=DKIM1; k=ed25519; p=" + key.dkimPublicKey)
    }

    private var expected: ExpectedKey { ExpectedKey(algorithm: .ed25519, publicKey: key.dkimPublicKey, flags: []) }

    /// Asks the hostile server directly, like `--nameserver`.
    private var direct: PublicationChecker {
        PublicationChecker(
            transport: transport, discovery: NameserverDiscovery(transport: transport, resolvers: [hostile.server]),
            nameservers: [hostile.server])
    }

    /// Discovers zones and servers with the hostile server as the recursive resolver.
    private var discovering: PublicationChecker {
        PublicationChecker(
            transport: transport,
            discovery: NameserverDiscovery(transport: transport, resolvers: [hostile.server], authoritativePort: hostile.port))
    }

    private func name(_ selector: String, _ domain: String = "example.org") throws -> KeyRecordName {
        try KeyRecordName(selector: Selector(selector), domain: DomainName(domain))
    }

    @Test(arguments: [
        ("honest-a", CheckStatus.pass, "p= matches"),
        ("caseflip-a", .pass, "p= matches"),
        ("wrongid-a", .temperror, "ignored 1 reply that did not match the query"),
        ("wrongidthen-a", .fail, "NXDOMAIN"),
        ("wrongname-a", .temperror, "ignored 1 reply"),
        ("wrongtype-a", .temperror, "ignored 1 reply"),
        ("notqr-a", .temperror, "ignored 1 reply"),
        ("otheraddr-a", .temperror, "no answer (timeout)"),
        ("tcpwrongid-a", .temperror, "no answer over TCP"),
        ("slow-a", .temperror, "no answer (timeout)"),
        ("loop-a", .fail, "CNAME loop: loop-a._domainkey.example.org. → loop-a-b._domainkey.example.org. → loop-a._domainkey.example.org."),
        ("loop3-a", .fail, "CNAME loop"),
        ("selfloop-a", .fail, "CNAME loop: selfloop-a._domainkey.example.org. → selfloop-a._domainkey.example.org."),
    ])
    func forgedRepliesAreIgnoredAndLoopsFail(selector: String, verdict: CheckStatus, detail: String) throws {
        let check = direct.check(try name(selector), expecting: expected)
        let result = try #require(check.results.first)
        #expect(check.verdict == verdict, "\(selector): \(result.detail)")
        #expect(result.detail.contains(detail), "\(selector): \(result.detail)")
        // Each question asked once (over UDP, then TCP if truncated), never again and again:
        // a forgery or a loop costs at most the query's one timeout.
        let asked = hostile.questions(for: try name(selector).absolute).filter { $0.hasPrefix("TXT@") }
        #expect((1...2).contains(asked.count), "\(selector): \(asked)")
    }

    @Test func aZoneWithThreeHundredNameserverHostsIsRefusedNotAsked() throws {
        let check = discovering.check(try name("honest-a", "manyhosts.test"), expecting: expected)
        #expect(check.verdict == .temperror)
        #expect(check.results.isEmpty)
        #expect(check.problems == [.discovery("manyhosts.test. lists 300 nameserver hosts; at most 16 are asked")])
    }

    @Test func aZoneWithThreeHundredNameserverAddressesIsRefusedNotAsked() throws {
        let check = discovering.check(try name("honest-a", "manyaddresses.test"), expecting: expected)
        #expect(check.verdict == .temperror)
        #expect(check.results.isEmpty)
        #expect(check.problems == [.discovery("the nameservers of manyaddresses.test. have 300 addresses; at most 32 are asked")])
    }

    @Test func slowServersOfOneZoneAreEachATemporaryError() throws {
        let check = discovering.check(try name("honest-a", "slowzone.test"), expecting: expected)
        #expect(check.verdict == .temperror)
        #expect(check.results.count == 6)
        #expect(check.results.allSatisfy { $0.status == .temperror && $0.detail.contains("no answer") })
    }

    /// The six servers of rendezvous.test answer a round of questions only once all six were
    /// asked it: they all pass only if the check asks them side by side (one after another,
    /// none would answer), so six slow servers cost one timeout, not six. No clock is read.
    @Test func theServersOfOneZoneAreAskedSideBySide() throws {
        let record = try name("side-by-side", "rendezvous.test")
        let check = discovering.check(record, expecting: expected)
        #expect(check.results.count == 6)
        #expect(check.verdict == .pass, "\(check.results.map { "\($0.server): \($0.detail)" })")
        let asked = Set(hostile.questions(for: record.absolute).filter { $0.hasPrefix("TXT@") })
        #expect(asked == Set(hostile.slowServers.map { "TXT@\($0.address)" }), "\(hostile.questions(for: record.absolute))")
    }
}
