import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// The ldns transport against a real BIND started for the test.
@Suite(.serialized) struct LDNSTransportTests {
    let transport = LDNSTransport(options: DNSQueryOptions(timeout: 1, retries: 0))

    @Test func readsTXTStringsSOAAndCNAME() throws {
        let long = "v=DKIM1; k=rsa; p=" + String(repeating: "A", count: 600)
        let named = try NamedServer(zones: [
            .init("example.org", ZoneText.zone("example.org", serial: 7, negativeTTL: 120, records: [
                ZoneText.txt("s1._domainkey", long),
                "alias._domainkey 600 IN CNAME s1._domainkey",
            ])),
        ])
        guard case .response(let txt) = transport.query("s1._domainkey.example.org", .txt, server: named.server, recursionDesired: false) else {
            Issue.record("no answer")
            return
        }
        #expect(txt.rcode == "NOERROR" && txt.authoritative)
        let record = try #require(txt.answers(at: "s1._domainkey.example.org.").first)
        guard case .txt(let strings) = record.data else { Issue.record("not TXT"); return }
        #expect(strings.map(\.utf8.count) == [255, 255, 108])
        #expect(strings.joined() == long)
        #expect(record.ttl == 1800)

        guard case .response(let soa) = transport.query("example.org", .soa, server: named.server, recursionDesired: false),
            case .soa(_, let serial, let minimum) = soa.answer.first?.data
        else { Issue.record("no SOA"); return }
        #expect(serial == 7 && minimum == 120)

        guard case .response(let alias) = transport.query("alias._domainkey.example.org", .txt, server: named.server, recursionDesired: false) else {
            Issue.record("no answer")
            return
        }
        #expect(alias.answer.contains { $0.data == .cname("s1._domainkey.example.org.") })
        #expect(alias.answers(at: "s1._domainkey.example.org.").count == 1, "BIND adds the in-zone target")

        guard case .response(let missing) = transport.query("none._domainkey.example.org", .txt, server: named.server, recursionDesired: false) else {
            Issue.record("no answer")
            return
        }
        #expect(missing.rcode == "NXDOMAIN")
        #expect(missing.authority.contains { $0.isSOA })

        guard case .response(let refused) = transport.query("other.example", .txt, server: named.server, recursionDesired: false) else {
            Issue.record("no answer")
            return
        }
        #expect(refused.rcode == "REFUSED")
    }

    @Test func aTruncatedAnswerIsFetchedAgainOverTCP() throws {
        let value = "v=DKIM1; k=rsa; p=" + String(repeating: "B", count: 736)  // a 4096-bit key's length
        let named = try NamedServer(
            zones: [.init("example.org", ZoneText.zone("example.org", records: [ZoneText.txt("big._domainkey", value)]))],
            options: "max-udp-size 512;")
        guard case .response(let response) = transport.query("big._domainkey.example.org", .txt, server: named.server, recursionDesired: false),
            case .txt(let strings) = response.answer.first?.data
        else { Issue.record("no full answer"); return }
        #expect(strings.joined() == value)
    }

    @Test(.timeLimit(.minutes(1))) func aServerThatDoesNotAnswerIsAFailureNotAnAnswer() throws {
        let silent = try HeldPort()
        let outcome = transport.query("example.org", .soa, server: DNSServer(address: "127.0.0.1", port: silent.port), recursionDesired: false)
        guard case .failure(let reason) = outcome else { Issue.record("expected a failure, got \(outcome)"); return }
        #expect(!reason.isEmpty)
    }

    @Test func systemResolversComeFromResolvConf() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("resolv.conf")
        try """
            # generated
            search example.org
            nameserver 192.0.2.53
            nameserver fe80::1%eth0
            nameserver not-an-address
            options edns0
            """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(NameserverDiscovery.systemResolvers(path: path).map(\.address) == ["192.0.2.53", "fe80::1"])
        #expect(NameserverDiscovery.systemResolvers(path: directory.file("missing")).map(\.address) == ["127.0.0.1"])
    }

    @Test func nameserverArgumentsAreParsed() throws {
        #expect(try DNSServer(parsing: "192.0.2.53").description == "192.0.2.53")
        #expect(try DNSServer(parsing: "127.0.0.1:5300").port == 5300)
        #expect(try DNSServer(parsing: "[2001:db8::53]:5353").address == "2001:db8::53")
        #expect(try DNSServer(parsing: "2001:db8::53").port == 53)
        for bad in ["ns1.example.org", "127.0.0.1:0", "127.0.0.1:99999", "", "[::1]:x"] {
            #expect(throws: DKIMError.self) { try DNSServer(parsing: bad) }
        }
    }
}
