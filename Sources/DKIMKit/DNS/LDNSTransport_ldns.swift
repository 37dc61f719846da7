internal import CLDNS
import Foundation

// The thin wall around NLnet Labs ldns for queries: with Publishing/DNSUpdate_ldns.swift,
// the only files that import CLDNS.

/// Asks one server directly: ldns builds the query and parses the reply,
/// `DNSSocket` carries it (UDP with EDNS0 and a 1,232-octet buffer, TCP when the
/// reply is truncated), with the given timeout and retries.
///
/// A reply is believed only when it answers the query that was sent: same
/// message ID (random per attempt), QR set, standard query opcode, the same
/// single question (name compared case-insensitively, type, class), from the
/// server's address and port (the socket is connected; its source port is
/// random per attempt). Anything else is ignored and the query keeps waiting
/// for the real reply, then times out (RFC 5452 §9.1). `ldns_resolver_send`
/// is not used for queries: it cannot say which of these checks it makes.
///
/// Calls block; callers run them on dedicated threads (`BlockingWorkers`),
/// never on Swift concurrency's cooperative pool.
public struct LDNSTransport: DNSTransport {
    public let options: DNSQueryOptions

    public init(options: DNSQueryOptions = DNSQueryOptions()) {
        self.options = options
    }

    public func query(_ name: String, _ type: DNSRecordType, server: DNSServer, recursionDesired: Bool) -> DNSOutcome {
        let absolute = name.hasSuffix(".") ? name : name + "."
        let attempts = max(1, options.retries + 1)
        let timeout = max(options.timeout, 0.05)
        var ignored = 0
        var lastFailure: String?
        for _ in 0..<attempts {
            let query: Query
            switch Query.make(absolute, Self.type(type), recursionDesired: recursionDesired) {
            case .failure(let failure): return .failure(failure.reason)
            case .success(let made): query = made
            }
            let deadline = Date(timeIntervalSinceNow: timeout)
            switch DNSSocket.udp(query.wire, to: server, deadline: deadline, accept: query.accept) {
            case .reply(let reply) where !reply.truncated:
                return .response(reply.response)
            case .reply:
                // RFC 7766 §5: a truncated answer is asked again over TCP, checked the same way.
                switch DNSSocket.tcp(query.wire, to: server, deadline: Date(timeIntervalSinceNow: timeout), accept: query.accept) {
                case .reply(let reply): return .response(reply.response)
                case .timeout(let count):
                    ignored += count
                    lastFailure = "no answer over TCP within \(Self.seconds(timeout))"
                case .failure(let reason): lastFailure = reason
                }
            case .timeout(let count):
                ignored += count
                lastFailure = nil
            case .failure(let reason):
                return .failure(reason)
            }
        }
        var reason = lastFailure ?? "no answer (timeout) from \(server) after \(attempts) attempt\(attempts == 1 ? "" : "s") of \(Self.seconds(timeout))"
        if ignored > 0 {
            reason += "; ignored \(ignored) repl\(ignored == 1 ? "y" : "ies") that did not match the query (ID, question or flags)"
        }
        return .failure(reason)
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    /// One query message on the wire and the checks its reply must pass.
    private struct Query {
        let wire: [UInt8]
        let id: UInt16
        let name: String
        let type: ldns_rr_type

        static func make(_ name: String, _ type: ldns_rr_type, recursionDesired: Bool) -> Result<Query, DNSFailure> {
            guard let owner = ldns_dname_new_frm_str(name) else { return .failure(DNSFailure(reason: "'\(name)' is not a domain name")) }
            // The packet takes ownership of the owner name.
            guard let packet = ldns_pkt_query_new(owner, type, LDNS_RR_CLASS_IN, UInt16(recursionDesired ? LDNS_RD : 0)) else {
                return .failure(DNSFailure(reason: "ldns cannot build a query for \(name)"))
            }
            defer { ldns_pkt_free(packet) }
            let id = UInt16.random(in: 0...UInt16.max)
            ldns_pkt_set_id(packet, id)
            ldns_pkt_set_edns_udp_size(packet, 1232)
            var bytes: UnsafeMutablePointer<UInt8>?
            var size = 0
            guard ldns_pkt2wire(&bytes, packet, &size) == LDNS_STATUS_OK, let bytes else {
                return .failure(DNSFailure(reason: "ldns cannot encode a query for \(name)"))
            }
            defer { free(bytes) }
            return .success(Query(wire: Array(UnsafeBufferPointer(start: bytes, count: size)), id: id, name: name, type: type))
        }

        struct Reply {
            let response: DNSResponse
            let truncated: Bool
        }

        /// The reply, when `bytes` parse as a DNS message answering this query; nil otherwise.
        func accept(_ bytes: [UInt8]) -> Reply? {
            guard bytes.count >= 12, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == id else { return nil }
            var parsed: UnsafeMutablePointer<ldns_pkt>?
            guard bytes.withUnsafeBufferPointer({ ldns_wire2pkt(&parsed, $0.baseAddress, $0.count) }) == LDNS_STATUS_OK,
                let packet = parsed
            else { return nil }
            defer { ldns_pkt_free(packet) }
            guard ldns_pkt_qr(packet), ldns_pkt_get_opcode(packet) == LDNS_PACKET_QUERY, ldns_pkt_qdcount(packet) == 1,
                let questions = ldns_pkt_question(packet), ldns_rr_list_rr_count(questions) == 1,
                let question = ldns_rr_list_rr(questions, 0),
                ldns_rr_get_type(question) == type, ldns_rr_get_class(question) == LDNS_RR_CLASS_IN,
                let asked = ldns_dname_new_frm_str(name)
            else { return nil }
            defer { ldns_rdf_deep_free(asked) }
            // ldns_dname_compare orders names canonically: case-insensitive (RFC 4034 §6.1).
            guard let owner = ldns_rr_owner(question), ldns_dname_compare(owner, asked) == 0 else { return nil }
            return Reply(response: LDNSTransport.response(from: packet), truncated: ldns_pkt_tc(packet))
        }
    }

    private static func type(_ type: DNSRecordType) -> ldns_rr_type {
        switch type {
        case .a: return LDNS_RR_TYPE_A
        case .aaaa: return LDNS_RR_TYPE_AAAA
        case .ns: return LDNS_RR_TYPE_NS
        case .soa: return LDNS_RR_TYPE_SOA
        case .txt: return LDNS_RR_TYPE_TXT
        case .cname: return LDNS_RR_TYPE_CNAME
        }
    }

    private static func response(from packet: UnsafeMutablePointer<ldns_pkt>) -> DNSResponse {
        DNSResponse(
            rcode: rcodeName(packet), authoritative: ldns_pkt_aa(packet),
            answer: records(ldns_pkt_answer(packet)), authority: records(ldns_pkt_authority(packet)))
    }

    private static func records(_ list: UnsafeMutablePointer<ldns_rr_list>?) -> [DNSResourceRecord] {
        guard let list else { return [] }
        var records: [DNSResourceRecord] = []
        for index in 0..<ldns_rr_list_rr_count(list) {
            guard let rr = ldns_rr_list_rr(list, index) else { continue }
            let owner = (text(ldns_rr_owner(rr)) ?? "").lowercased()
            let ttl = ldns_rr_ttl(rr)
            let data: DNSResourceRecord.Data
            switch ldns_rr_get_type(rr) {
            case LDNS_RR_TYPE_TXT:
                // Each character-string is one rdf: a length octet, then the octets.
                var strings: [String] = []
                for field in 0..<ldns_rr_rd_count(rr) {
                    guard let rdf = ldns_rr_rdf(rr, field), let bytes = ldns_rdf_data(rdf) else { continue }
                    let size = ldns_rdf_size(rdf)
                    guard size >= 1 else { continue }
                    let length = Int(bytes[0])
                    let buffer = UnsafeBufferPointer(start: bytes + 1, count: min(length, size - 1))
                    strings.append(String(decoding: buffer, as: UTF8.self))
                }
                data = .txt(strings)
            case LDNS_RR_TYPE_CNAME: data = .cname((field(rr, 0) ?? "").lowercased())
            case LDNS_RR_TYPE_NS: data = .ns((field(rr, 0) ?? "").lowercased())
            case LDNS_RR_TYPE_A: data = .a(field(rr, 0) ?? "")
            case LDNS_RR_TYPE_AAAA: data = .aaaa(field(rr, 0) ?? "")
            case LDNS_RR_TYPE_SOA:
                data = .soa(
                    primary: (field(rr, 0) ?? "").lowercased(),
                    serial: UInt32(field(rr, 2) ?? "") ?? 0,
                    minimum: UInt32(field(rr, 6) ?? "") ?? 0)
            default: data = .other("type \(ldns_rr_get_type(rr).rawValue)")
            }
            records.append(DNSResourceRecord(owner: owner, ttl: ttl, data: data))
        }
        return records
    }

    private static func field(_ rr: UnsafeMutablePointer<ldns_rr>, _ index: Int) -> String? {
        guard index < ldns_rr_rd_count(rr) else { return nil }
        return text(ldns_rr_rdf(rr, index))
    }

    private static func text(_ rdf: UnsafeMutablePointer<ldns_rdf>?) -> String? {
        guard let rdf, let cString = ldns_rdf2str(rdf) else { return nil }
        defer { free(cString) }
        return String(cString: cString)
    }
}

/// The packet's response code by name (`NOERROR`, `REFUSED`…).
func rcodeName(_ packet: UnsafeMutablePointer<ldns_pkt>) -> ResponseCode {
    guard let text = ldns_pkt_rcode2str(ldns_pkt_get_rcode(packet)) else { return ResponseCode(rawValue: "RCODE\(ldns_pkt_get_rcode(packet).rawValue)") }
    defer { free(text) }
    return ResponseCode(rawValue: String(cString: text))
}

/// An ldns resolver that asks only `server`: no search list, EDNS0 with a
/// 1,232-octet buffer, TCP after truncation, the given timeout and attempts.
func newResolver(
    server: DNSServer, timeout: Double, attempts: Int, recursionDesired: Bool
) -> Result<UnsafeMutablePointer<ldns_resolver>, DNSFailure> {
    guard let resolver = ldns_resolver_new() else { return .failure(DNSFailure(reason: "cannot allocate an ldns resolver")) }
    let addressType = IPAddress.isIPv6(server.address) ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A
    guard let address = ldns_rdf_new_frm_str(addressType, server.address) else {
        ldns_resolver_deep_free(resolver)
        return .failure(DNSFailure(reason: "'\(server.address)' is not an IP address"))
    }
    defer { ldns_rdf_deep_free(address) }
    guard ldns_resolver_push_nameserver(resolver, address) == LDNS_STATUS_OK else {
        ldns_resolver_deep_free(resolver)
        return .failure(DNSFailure(reason: "cannot use \(server.address) as a nameserver"))
    }
    ldns_resolver_set_port(resolver, server.port)
    ldns_resolver_set_recursive(resolver, recursionDesired)
    ldns_resolver_set_edns_udp_size(resolver, 1232)
    ldns_resolver_set_fallback(resolver, true)
    ldns_resolver_set_defnames(resolver, false)
    ldns_resolver_set_dnsrch(resolver, false)
    ldns_resolver_set_random(resolver, false)
    let seconds = max(timeout, 0.05)
    ldns_resolver_set_timeout(resolver, timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000)))
    ldns_resolver_set_retry(resolver, UInt8(clamping: attempts))
    ldns_resolver_set_retrans(resolver, 1)
    return .success(resolver)
}

