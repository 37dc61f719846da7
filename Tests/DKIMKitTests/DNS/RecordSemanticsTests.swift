import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// The served record must mean what the registry registered: every tag that
/// changes a verifier's decision is compared, not only `k=` and `p=`. Each row
/// is a TXT record served by a real BIND (master-file text, `\010` is LF and
/// `\013` CR), the `t=` flags the key was registered with, and the verdict a
/// verifier following RFC 6376 would reach.
@Suite(.serialized) final class RecordSemanticsTests {
    struct Row: Sendable, CustomStringConvertible {
        let selector: String
        /// The TXT string in master-file syntax; `KEY` stands for the registered public key.
        let served: String
        let registeredFlags: [String]
        let status: CheckStatus
        /// A fragment the server's detail must contain.
        let detail: String
        let reference: String
        var description: String { "\(selector) (\(reference))" }
    }

    static let rows: [Row] = [
        Row(selector: "plain", served: "v=DKIM1; k=ed25519; p=KEY", registeredFlags: [], status: .pass,
            detail: "p= matches", reference: "RFC 6376 §3.6.1"),
        Row(selector: "hsha256", served: "v=DKIM1; h=sha256; k=ed25519; p=KEY", registeredFlags: [], status: .pass,
            detail: "p= matches", reference: "RFC 6376 §3.6.1 h= allows sha256"),
        Row(selector: "hboth", served: "v=DKIM1; h=sha1:sha256; k=ed25519; p=KEY", registeredFlags: [], status: .pass,
            detail: "p= matches", reference: "RFC 6376 §3.6.1 h= is a list"),
        Row(selector: "hsha1", served: "v=DKIM1; h=sha1; k=ed25519; p=KEY", registeredFlags: [], status: .fail,
            detail: "h=sha1 does not allow sha256", reference: "RFC 6376 §3.6.1 h=, RFC 8301"),
        Row(selector: "hfuture", served: "v=DKIM1; h=sha512; k=ed25519; p=KEY", registeredFlags: [], status: .fail,
            detail: "h=sha512 does not allow sha256", reference: "RFC 6376 §3.6.1 unknown h= values are ignored"),
        Row(selector: "semail", served: "v=DKIM1; k=ed25519; s=email; p=KEY", registeredFlags: [], status: .pass,
            detail: "p= matches", reference: "RFC 6376 §3.6.1 s=email"),
        Row(selector: "sstar", served: "v=DKIM1; k=ed25519; s=*; p=KEY", registeredFlags: [], status: .pass,
            detail: "p= matches", reference: "RFC 6376 §3.6.1 s=*"),
        Row(selector: "sother", served: "v=DKIM1; k=ed25519; s=tlsrpt; p=KEY", registeredFlags: [], status: .fail,
            detail: "s=tlsrpt does not allow the email service type", reference: "RFC 6376 §3.6.1 s=, RFC 8460 §3"),
        Row(selector: "slist", served: "v=DKIM1; k=ed25519; s=tlsrpt:email; p=KEY", registeredFlags: [], status: .pass,
            detail: "p= matches", reference: "RFC 6376 §3.6.1 s= is a list"),
        Row(selector: "tyours", served: "v=DKIM1; k=ed25519; t=y; p=KEY", registeredFlags: ["y"], status: .pass,
            detail: "p= matches", reference: "RFC 6376 §3.6.1 t=y registered"),
        Row(selector: "tyadded", served: "v=DKIM1; k=ed25519; t=y; p=KEY", registeredFlags: [], status: .fail,
            detail: "t= flags differ: the server has t=y, the registry has none", reference: "RFC 6376 §3.6.1 t=y added"),
        Row(selector: "tsadded", served: "v=DKIM1; k=ed25519; t=s; p=KEY", registeredFlags: [], status: .fail,
            detail: "t= flags differ: the server has t=s", reference: "RFC 6376 §3.6.1 t=s added"),
        Row(selector: "tsdropped", served: "v=DKIM1; k=ed25519; p=KEY", registeredFlags: ["s"], status: .fail,
            detail: "the server has none, the registry has t=s", reference: "RFC 6376 §3.6.1 t=s removed"),
        Row(selector: "tunknown", served: "v=DKIM1; k=ed25519; t=x:y; p=KEY", registeredFlags: ["y"], status: .pass,
            detail: "p= matches", reference: "RFC 6376 §3.6.1 unrecognized flags MUST be ignored"),
        Row(selector: "unknowntag", served: "v=DKIM1; k=ed25519; xfuture=1; p=KEY", registeredFlags: [], status: .pass,
            detail: "p= matches", reference: "RFC 6376 §3.2 unrecognized tags MUST be ignored"),
        Row(selector: "folded", served: "v=DKIM1; k=ed25519;\\013\\010\\009p=KEY", registeredFlags: [], status: .pass,
            detail: "p= matches", reference: "RFC 6376 §2.8 CRLF WSP is FWS"),
        Row(selector: "barelf", served: "v=DKIM1; k=ed25519;\\010 p=KEY", registeredFlags: [], status: .fail,
            detail: "bare LF at octet 20", reference: "RFC 6376 §2.8 a bare LF is not FWS"),
        Row(selector: "barecr", served: "v=DKIM1;\\013 k=ed25519; p=KEY", registeredFlags: [], status: .fail,
            detail: "bare CR at octet 9", reference: "RFC 6376 §2.8 a bare CR is not FWS"),
        Row(selector: "crlfonly", served: "v=DKIM1; k=ed25519;\\013\\010p=KEY", registeredFlags: [], status: .fail,
            detail: "not followed by a space or tab", reference: "RFC 6376 §2.8 FWS needs WSP after CRLF"),
        Row(selector: "escape", served: "v=DKIM1; k=ed25519; \\027[31mred; p=KEY", registeredFlags: [], status: .fail,
            detail: "'\\x1B[31mred' is not a tag=value pair", reference: "control characters from DNS are shown escaped"),
        Row(selector: "lfinkey", served: "v=DKIM1; k=ed25519; p=KEY\\010", registeredFlags: [], status: .fail,
            detail: "bare LF", reference: "RFC 6376 §2.8 inside p="),
    ]

    let key: KeyPair
    let named: NamedServer
    let transport = LDNSTransport(options: DNSQueryOptions(timeout: 1, retries: 0))

    init() throws {
        key = try KeyPair.generate(KeySpecification(algorithm: .ed25519))
        let publicKey = key.dkimPublicKey
        let records = Self.rows.map { row in
            "\(row.selector)._domainkey IN TXT \"" + row.served.replacingOccurrences(of: "KEY", with: publicKey) + "\""
        }
        named = try NamedServer(zones: [.init("example.org", ZoneText.zone("example.org", records: records))])
    }

    @Test(arguments: rows)
    func theServedRecordIsJudgedByEveryTagThatChangesAVerifiersDecision(_ row: Row) throws {
        let checker = PublicationChecker(
            transport: transport, discovery: NameserverDiscovery(transport: transport, resolvers: [named.server]),
            nameservers: [named.server])
        let name = try KeyRecordName(selector: Selector(row.selector), domain: DomainName("example.org"))
        let expected = ExpectedKey(algorithm: .ed25519, publicKey: key.dkimPublicKey, flags: row.registeredFlags)
        let check = checker.check(name, expecting: expected)
        let result = try #require(check.results.first)
        #expect(check.verdict == row.status, "\(row): \(result.detail)")
        #expect(result.detail.contains(row.detail), "\(row): \(result.detail)")
    }

    @Test func aProviderManagedSelectorMayCarryAnyFlags() throws {
        let checker = PublicationChecker(
            transport: transport, discovery: NameserverDiscovery(transport: transport, resolvers: [named.server]),
            nameservers: [named.server])
        let name = try KeyRecordName(selector: Selector("tsadded"), domain: DomainName("example.org"))
        let check = checker.check(name, expecting: ExpectedKey(algorithm: .ed25519, publicKey: key.dkimPublicKey, flags: nil))
        #expect(check.verdict == .pass, "\(check.results.first?.detail ?? "-")")
    }
}
