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
        let started = Date()
        let check = direct.check(try name(selector), expecting: expected)
        let elapsed = Date().timeIntervalSince(started)
        let result = try #require(check.results.first)
        #expect(check.verdict == verdict, "\(selector): \(result.detail)")
        #expect(result.detail.contains(detail), "\(selector): \(result.detail)")
        // One timeout of 1 s per server and question at most, never a spin.
        #expect(elapsed < 5, "\(selector) took \(elapsed) s")
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

    @Test func slowServersOfOneZoneCostOneTimeoutNotOnePerServer() throws {
        let started = Date()
        let check = discovering.check(try name("honest-a", "slowzone.test"), expecting: expected)
        let elapsed = Date().timeIntervalSince(started)
        #expect(check.verdict == .temperror)
        #expect(check.results.count == 6)
        #expect(check.results.allSatisfy { $0.status == .temperror && $0.detail.contains("no answer") })
        // Asked one after another, six servers would take at least 6 s.
        #expect(elapsed < 4, "took \(elapsed) s")
    }
}
