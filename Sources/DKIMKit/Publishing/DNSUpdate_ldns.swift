internal import CLDNS
import Foundation

// The thin wall around ldns for RFC 2136 UPDATE: with DNS/LDNSTransport_ldns.swift,
// the only files that import CLDNS.

/// Sends DNS UPDATE messages (RFC 2136) signed with TSIG (RFC 8945) through ldns.
public struct LDNSUpdater: Sendable {
    public let server: DNSServer
    public let key: TSIGKey
    public let timeout: Double

    public init(server: DNSServer, key: TSIGKey, timeout: Double) {
        self.server = server
        self.key = key
        self.timeout = timeout
    }

    /// Replaces the TXT RRset at `name` in `zone` by one record made of
    /// `strings` (nil: deletes the RRset). One message, applied atomically by
    /// the server.
    /// - Returns: the server's response code (`NOERROR` on success) or a failure reason.
    public func replaceTXT(zone: String, name: String, ttl: Int, strings: [String]?) -> Result<ResponseCode, DKIMError> {
        let absoluteName = name.hasSuffix(".") ? name : name + "."
        let absoluteZone = zone.hasSuffix(".") ? zone : zone + "."
        let resolver: UnsafeMutablePointer<ldns_resolver>
        switch newResolver(server: server, timeout: timeout, attempts: 1, recursionDesired: false) {
        case .failure(let failure): return .failure(DKIMError(.io, failure.reason))
        case .success(let made): resolver = made
        }
        defer { ldns_resolver_deep_free(resolver) }
        let keyName = key.name.hasSuffix(".") ? key.name : key.name + "."
        let algorithm = key.algorithm == "hmac-md5" ? "hmac-md5.sig-alg.reg.int." : key.algorithm + "."
        ldns_resolver_set_tsig_keyname(resolver, keyName)
        ldns_resolver_set_tsig_algorithm(resolver, algorithm)
        ldns_resolver_set_tsig_keydata(resolver, key.secret)

        guard let updates = ldns_rr_list_new() else { return .failure(DKIMError(.io, "cannot allocate an ldns list")) }
        defer { ldns_rr_list_deep_free(updates) }
        // RFC 2136 §2.5.2: class ANY, TTL 0, no RDATA deletes the whole RRset.
        guard let delete = ldns_rr_new(), let owner = ldns_dname_new_frm_str(absoluteName) else {
            return .failure(DKIMError(.invalidInput, "'\(name)' is not a domain name"))
        }
        ldns_rr_set_owner(delete, owner)
        ldns_rr_set_ttl(delete, 0)
        ldns_rr_set_type(delete, LDNS_RR_TYPE_TXT)
        ldns_rr_set_class(delete, LDNS_RR_CLASS_ANY)
        ldns_rr_list_push_rr(updates, delete)
        if let strings {
            let text = "\(absoluteName) \(ttl) IN TXT " + strings.map(Self.quoted).joined(separator: " ")
            var added: UnsafeMutablePointer<ldns_rr>?
            let status = ldns_rr_new_frm_str(&added, text, 0, nil, nil)
            guard status == LDNS_STATUS_OK, let added else {
                return .failure(DKIMError(.invalidInput, "ldns cannot build the TXT record for \(name): \(Self.describe(status))"))
            }
            ldns_rr_list_push_rr(updates, added)
        }
        guard let zoneName = ldns_dname_new_frm_str(absoluteZone) else {
            return .failure(DKIMError(.invalidInput, "'\(zone)' is not a zone name"))
        }
        // The packet takes ownership of the zone name and copies the lists.
        guard let packet = ldns_update_pkt_new(zoneName, LDNS_RR_CLASS_IN, nil, updates, nil) else {
            return .failure(DKIMError(.io, "ldns cannot build the UPDATE message"))
        }
        defer { ldns_pkt_free(packet) }
        let signing = ldns_update_pkt_tsig_add(packet, resolver)
        guard signing == LDNS_STATUS_OK else {
            return .failure(DKIMError(.invalidInput, "cannot sign the UPDATE with TSIG key \(key.name) (\(key.algorithm)): \(Self.describe(signing))"))
        }
        var answer: UnsafeMutablePointer<ldns_pkt>?
        let status = ldns_resolver_send_pkt(&answer, resolver, packet)
        defer { if let answer { ldns_pkt_free(answer) } }
        guard status == LDNS_STATUS_OK, let answer else {
            if status == LDNS_STATUS_CRYPTO_TSIG_BOGUS || status == LDNS_STATUS_CRYPTO_TSIG_ERR {
                return .failure(DKIMError(.io, "\(server) refused TSIG key \(key.name) (\(key.algorithm)): wrong secret, algorithm or key name"))
            }
            return .failure(DKIMError(.io, "no answer from \(server) to the UPDATE: \(Self.describe(status))"))
        }
        return .success(rcodeName(answer))
    }

    private static func quoted(_ string: String) -> String {
        "\"" + string.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    private static func describe(_ status: ldns_status) -> String {
        ldns_get_errorstr_by_id(status).map { String(cString: $0) } ?? "ldns status \(status.rawValue)"
    }
}
