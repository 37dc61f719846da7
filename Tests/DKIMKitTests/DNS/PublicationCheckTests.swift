import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// The publication check against real BIND servers: one for example.org
/// (also a resolver forwarding provider.test), one for provider.test on
/// another address, a stale copy of example.org, and one that truncates UDP.
@Suite(.serialized) final class PublicationCheckTests {
    let ours: KeyPair
    let other: KeyPair
    let port: UInt16
    let provider: NamedServer
    let primary: NamedServer
    let transport = LDNSTransport(options: DNSQueryOptions(timeout: 1, retries: 0))

    var value: String { "v=DKIM1; k=rsa; p=" + ours.dkimPublicKey }
    var expected: ExpectedKey { ExpectedKey(algorithm: .rsa, publicKey: ours.dkimPublicKey) }

    init() throws {
        ours = try KeyPair.generate(KeySpecification(algorithm: .rsa, bits: 1024))
        other = try KeyPair.generate(KeySpecification(algorithm: .rsa, bits: 1024))
        let value = "v=DKIM1; k=rsa; p=" + ours.dkimPublicKey
        let records = [
            ZoneText.txt("good._domainkey", value),
            ZoneText.txt("wrong._domainkey", "v=DKIM1; k=rsa; p=" + other.dkimPublicKey),
            ZoneText.txt("revoked._domainkey", "v=DKIM1; k=rsa; p="),
            ZoneText.txt("two._domainkey", value), ZoneText.txt("two._domainkey", "v=DKIM1; k=rsa; p=" + other.dkimPublicKey),
            "nodata._domainkey IN HINFO \"dkimctl\" \"test\"",
            "alias._domainkey 600 IN CNAME good._domainkey",
            "ext._domainkey 600 IN CNAME ext._domainkey.provider.test.",
            "quote._domainkey IN TXT \"v=DKIM1; k=rsa; p=\\\"MIGf\\\"\"",
            "badbase64._domainkey IN TXT \"v=DKIM1; k=rsa; p=MIG!\"",
            "nop._domainkey IN TXT \"v=DKIM1; k=rsa\"",
            ZoneText.txt("duplicate._domainkey", "v=DKIM1; k=rsa; k=rsa; p=" + ours.dkimPublicKey),
            ZoneText.txt("testing._domainkey", "v=DKIM1; k=rsa; t=y; p=" + ours.dkimPublicKey),
            ZoneText.txt("ktype._domainkey", "v=DKIM1; k=ed25519; p=" + ours.dkimPublicKey),
            ZoneText.txt("spf._domainkey", "v=spf1 -all"), ZoneText.txt("spf._domainkey", value),
        ]
        // Every server of these tests listens on one port (the discovery's port override).
        (port, provider, primary) = try NamedServer.onOnePort { port in
            let provider = try NamedServer(
                zones: [.init("provider.test", ZoneText.zone("provider.test", nameserverAddress: "127.0.0.2", records: [
                    ZoneText.txt("ext._domainkey", value, ttl: 900),
                ]))],
                address: "127.0.0.2", port: port)
            let primary = try NamedServer(
                zones: [
                    .init("example.org", ZoneText.zone("example.org", serial: 10, negativeTTL: 240, records: records)),
                    .init("broken.test", nil),
                ],
                address: "127.0.0.1", port: port, forwardZones: [(zone: "provider.test", server: provider.server)])
            return (port, provider, primary)
        }
    }

    /// A copy of example.org one serial behind, without the new records.
    private func staleServer() throws -> NamedServer {
        try NamedServer(
            zones: [.init("example.org", ZoneText.zone("example.org", serial: 9, negativeTTL: 240))],
            address: "127.0.0.3", port: port)
    }

    private func name(_ selector: String, _ domain: String = "example.org") throws -> KeyRecordName {
        try KeyRecordName(selector: Selector(selector), domain: DomainName(domain))
    }

    /// A checker that asks the given servers directly, like `--nameserver`.
    private func direct(_ servers: [NamedServer]) -> PublicationChecker {
        PublicationChecker(
            transport: transport,
            discovery: NameserverDiscovery(transport: transport, resolvers: [primary.server], authoritativePort: port),
            nameservers: servers.map(\.server))
    }

    /// A checker that discovers zones and nameservers through the primary as resolver.
    private var discovering: PublicationChecker {
        PublicationChecker(
            transport: transport,
            discovery: NameserverDiscovery(transport: transport, resolvers: [primary.server], authoritativePort: port))
    }

    @Test func aMatchingRecordPassesWithSerialAndTTLs() throws {
        let check = direct([primary]).check(try name("good"), expecting: expected)
        #expect(check.verdict == .pass)
        let result = try #require(check.results.first)
        #expect(result.status == .pass && result.zone == "example.org." && result.serial == 10)
        #expect(result.ttl == 1800 && result.negativeTTL == 240)
        #expect(check.recordTTL == 1800 && check.negativeTTL == 240)
    }

    @Test func discoveryFindsTheZoneAndItsServers() throws {
        let check = discovering.check(try name("good"), expecting: expected)
        #expect(check.verdict == .pass, "\(check)")
        #expect(check.results.map(\.server.name) == ["ns1.example.org."])
        #expect(check.results.first?.server.address == "127.0.0.1")
    }

    @Test(arguments: [
        ("wrong", "another key"), ("revoked", "revoked"), ("two", "2 DKIM records"), ("nodata", "NODATA"),
        ("absent", "NXDOMAIN"), ("quote", "syntax error: p= is not valid base64"),
        ("badbase64", "syntax error: p= is not valid base64"), ("nop", "syntax error: the required tag 'p' is missing"),
        ("duplicate", "syntax error: tag 'k' appears more than once"), ("ktype", "k=ed25519"),
    ])
    func wrongRecordsFail(selector: String, reason: String) throws {
        let check = direct([primary]).check(try name(selector), expecting: expected)
        #expect(check.verdict == .fail)
        #expect(check.results.first?.status == .fail)
        #expect(check.results.first?.detail.contains(reason) == true, "\(check.results.first?.detail ?? "-")")
    }

    @Test func nonDKIMRecordsBesideTheKeyAreIgnoredAndTestingIsAWarning() throws {
        #expect(direct([primary]).check(try name("spf"), expecting: expected).verdict == .pass)
        let registeredTesting = ExpectedKey(algorithm: .rsa, publicKey: ours.dkimPublicKey, flags: ["y"])
        let testing = direct([primary]).check(try name("testing"), expecting: registeredTesting)
        #expect(testing.verdict == .pass)
        #expect(testing.results.first?.warnings.first?.contains("t=y") == true)
        // Registered without t=y, the same record means something else: it fails.
        let unregistered = direct([primary]).check(try name("testing"), expecting: ExpectedKey(algorithm: .rsa, publicKey: ours.dkimPublicKey, flags: []))
        #expect(unregistered.verdict == .fail)
    }

    @Test func aStaleServerFailsTheWholeCheck() throws {
        let stale = try staleServer()
        let check = direct([primary, stale]).check(try name("good"), expecting: expected)
        #expect(check.verdict == .fail)
        #expect(check.results.map(\.status) == [.pass, .fail])
        #expect(check.results[1].detail.contains("serial 9 lags behind 10"))
    }

    @Test func aCNAMEInsideTheZoneIsFollowed() throws {
        let check = direct([primary]).check(try name("alias"), expecting: expected)
        #expect(check.verdict == .pass)
        #expect(check.results.first?.detail.contains("via CNAME to good._domainkey.example.org.") == true)
        #expect(check.results.first?.ttl == 600, "the shorter of the CNAME's and the record's TTL")
    }

    @Test func aCNAMEIntoAnotherZoneIsCheckedOnThatZonesOwnServers() throws {
        for checker in [discovering, direct([primary])] {
            let check = checker.check(try name("ext"), expecting: expected)
            #expect(check.verdict == .pass, "\(check)")
            #expect(check.results.count == 2)
            #expect(check.results[0].cnameTarget == "ext._domainkey.provider.test.")
            #expect(check.results[1].zone == "provider.test." && check.results[1].server.address == "127.0.0.2")
            #expect(check.results[1].serial == 1 && check.results[1].ttl == 900)
        }
    }

    @Test func aLargeRecordComesOverTCPAfterTruncation() throws {
        let big = try KeyPair.generate(KeySpecification(algorithm: .rsa, bits: 4096))
        let truncating = try NamedServer(
            zones: [.init("example.org", ZoneText.zone("example.org", records: [
                ZoneText.txt("big._domainkey", "v=DKIM1; k=rsa; p=" + big.dkimPublicKey),
            ]))],
            address: "127.0.0.4", port: port, options: "max-udp-size 512;")
        let check = direct([truncating]).check(try name("big"), expecting: ExpectedKey(algorithm: .rsa, publicKey: big.dkimPublicKey))
        #expect(check.verdict == .pass, "\(check)")
    }

    @Test func serversThatDoNotAnswerAreNeverAPass() throws {
        let silent = try HeldPort()
        let dead = DNSServer(address: "127.0.0.1", port: silent.port)
        let checker = PublicationChecker(
            transport: transport, discovery: NameserverDiscovery(transport: transport, resolvers: [primary.server]),
            nameservers: [primary.server, dead])
        let check = checker.check(try name("good"), expecting: expected)
        #expect(check.verdict == .temperror)
        #expect(check.results.map(\.status) == [.pass, .temperror])

        let alone = PublicationChecker(
            transport: transport, discovery: NameserverDiscovery(transport: transport, resolvers: [dead]), nameservers: [dead])
        #expect(alone.check(try name("good"), expecting: expected).verdict == .temperror)
    }

    @Test func servfailAndRefusedAreTemporaryErrors() throws {
        let servfail = direct([primary]).check(try name("s1", "broken.test"), expecting: expected)
        #expect(servfail.verdict == .temperror)
        let stale = try staleServer()
        let refused = direct([stale]).check(try name("s1", "provider.test"), expecting: expected)
        #expect(refused.verdict == .temperror)
        #expect(refused.results.allSatisfy { $0.status == .temperror })
    }
}
