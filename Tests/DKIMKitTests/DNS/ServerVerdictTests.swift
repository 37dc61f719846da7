@testable import DKIMKit
import Foundation
import Testing

/// What a server's reply means, decided without any DNS server: every branch of
/// the classifier from a reply built by hand (BIND tests remain the end-to-end proof).
@Suite struct ServerVerdictTests {
    static let name = "s1._domainkey.example.org."
    static let ours = Data(repeating: 7, count: 32).base64EncodedString()
    static let theirs = Data(repeating: 9, count: 32).base64EncodedString()
    static let expected = ExpectedKey(algorithm: .ed25519, publicKey: ours, flags: [])

    static func txt(_ owner: String, _ value: String, ttl: UInt32 = 1800) -> DNSResourceRecord {
        DNSResourceRecord(owner: owner, ttl: ttl, data: .txt([value]))
    }

    static func cname(_ owner: String, _ target: String, ttl: UInt32 = 600) -> DNSResourceRecord {
        DNSResourceRecord(owner: owner, ttl: ttl, data: .cname(target))
    }

    static func reply(_ answer: [DNSResourceRecord], rcode: ResponseCode = .noError, authoritative: Bool = true) -> DNSResponse {
        DNSResponse(rcode: rcode, authoritative: authoritative, answer: answer, authority: [])
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let label: String
        let response: DNSResponse
        var serial: UInt32? = 10
        let status: CheckStatus
        let detail: String
        var withdrawn = false
        var cnameTarget: String?
        var ttl: UInt32?
        var testDescription: String { label }
    }

    static let key = "v=DKIM1; k=ed25519; p=" + ours
    static let b = "b._domainkey.example.org."
    static let c = "c._domainkey.example.org."

    static let rows: [Row] = [
        Row(label: "the registered key", response: reply([txt(name, key)]), status: .pass, detail: "p= matches the registered key", ttl: 1800),
        Row(label: "SERVFAIL", response: reply([], rcode: "SERVFAIL"), status: .temperror, detail: "SERVFAIL from the server"),
        Row(label: "REFUSED", response: reply([], rcode: "REFUSED"), status: .temperror, detail: "REFUSED from the server"),
        Row(label: "no AA bit", response: reply([txt(name, key)], authoritative: false), status: .temperror, detail: "not authoritative for example.org."),
        Row(label: "no SOA on the server", response: reply([txt(name, key)]), serial: nil, status: .temperror, detail: "no SOA for example.org."),
        Row(label: "NXDOMAIN", response: reply([], rcode: "NXDOMAIN"), status: .fail, detail: "NXDOMAIN: \(name) does not exist", withdrawn: true),
        Row(label: "NODATA", response: reply([]), status: .fail, detail: "NODATA: no TXT record at \(name)", withdrawn: true),
        Row(label: "two DKIM records", response: reply([txt(name, key), txt(name, "v=DKIM1; k=ed25519; p=" + theirs)]), status: .fail, detail: "2 DKIM records"),
        Row(label: "SPF beside the key", response: reply([txt(name, "v=spf1 -all"), txt(name, key)]), status: .pass, detail: "p= matches"),
        Row(label: "revoked", response: reply([txt(name, "v=DKIM1; k=ed25519; p=")]), status: .fail, detail: "revoked", withdrawn: true),
        Row(label: "another key", response: reply([txt(name, "v=DKIM1; k=ed25519; p=" + theirs)]), status: .fail, detail: "p= is another key", withdrawn: true),
        Row(label: "syntax error", response: reply([txt(name, "v=DKIM1; k=ed25519; p=" + ours + "; ;")]), status: .fail, detail: "syntax error: empty tag"),
        Row(label: "CNAME out of the zone", response: reply([cname(name, "s1.provider.test.")]), status: .pass, detail: "CNAME to s1.provider.test.",
            cnameTarget: "s1.provider.test.", ttl: 600),
        Row(label: "CNAME within the zone", response: reply([cname(name, b, ttl: 300), txt(b, key)]), status: .pass,
            detail: "(via CNAME to \(b))", ttl: 300),
        Row(label: "CNAME to itself", response: reply([cname(name, name)]), status: .fail, detail: "CNAME loop: \(name) → \(name)"),
        Row(label: "CNAME loop back to the name", response: reply([cname(name, b), cname(b, name)]), status: .fail, detail: "CNAME loop: \(name) → \(b) → \(name)"),
        Row(label: "CNAME loop further on", response: reply([cname(name, b), cname(b, c), cname(c, b)]), status: .fail, detail: "CNAME loop: \(name) → \(b) → \(c) → \(b)"),
        Row(label: "ten CNAME links", response: reply([cname(name, "l1.example.org.")] + (1...9).map { cname("l\($0).example.org.", "l\($0 + 1).example.org.") }),
            status: .fail, detail: "more than 8 CNAME links in one answer"),
    ]

    @Test(arguments: rows)
    func aReplyMeans(_ row: Row) {
        let asked = ServerCheck(
            zone: "example.org.", name: Self.name, server: DNSServer(address: "192.0.2.53"), status: .temperror,
            serial: row.serial, negativeTTL: row.serial == nil ? nil : 300, detail: "")
        let result = ServerVerdict.classify(row.response, asked: asked, expecting: Self.expected)
        #expect(result.status == row.status, "\(row.label): \(result.detail)")
        #expect(result.detail.contains(row.detail), "\(row.label): \(result.detail)")
        #expect(result.withdrawn == row.withdrawn, "\(row.label)")
        #expect(result.cnameTarget == row.cnameTarget, "\(row.label)")
        if let ttl = row.ttl { #expect(result.ttl == ttl, "\(row.label)") }
    }
}
