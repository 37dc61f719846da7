import Foundation

/// What one server's answer means for a key record: a pure function of the
/// reply, so every case is table-tested without a DNS server
/// (`ServerVerdictTests`); `PublicationChecker` asks, this decides.
enum ServerVerdict {
    /// Judges `response`, the server's reply to `TXT asked.name`, given what was already
    /// learnt from that server (`asked`: zone, server, SOA serial and negative TTL).
    static func classify(_ response: DNSResponse, asked: ServerCheck, expecting key: ExpectedKey) -> ServerCheck {
        var result = asked
        let name = asked.name
        let zone = asked.zone
        guard response.rcode.isAnswer else {
            result.detail = "\(response.rcode) from the server"
            return result
        }
        guard response.authoritative else {
            result.detail = "not authoritative for \(zone) (lame delegation)"
            return result
        }
        if result.serial == nil {
            result.detail = "no SOA for \(zone) on this server"
            return result
        }
        // A CNAME: either the target is in this zone and its records came along, or another zone must be asked.
        // Each owner is followed once: a loop inside the answer (a→a, a→b→a) is a
        // failure, never a spin.
        var owner = name
        var cnameTTL: UInt32?
        var chain = [name]
        while let cname = response.answers(at: owner).first(where: { $0.isCNAME }),
            case .cname(let target) = cname.data
        {
            cnameTTL = min(cnameTTL ?? cname.ttl, cname.ttl)
            chain.append(target)
            if chain.dropLast().contains(target) {
                result.status = .fail
                result.detail = "CNAME loop: " + chain.joined(separator: " → ")
                return result
            }
            if chain.count > PublicationChecker.maximumCNAMELinks + 1 {
                result.status = .fail
                result.detail = "more than \(PublicationChecker.maximumCNAMELinks) CNAME links in one answer from \(name)"
                return result
            }
            owner = target
        }
        let txt = response.answers(at: owner).compactMap { record -> (strings: [String], ttl: UInt32)? in
            if case .txt(let strings) = record.data { return (strings, record.ttl) } else { return nil }
        }
        if owner != name, txt.isEmpty, response.rcode == .noError {
            result.status = .pass
            result.ttl = cnameTTL
            result.cnameTarget = owner
            result.detail = "CNAME to \(owner)"
            return result
        }
        result.status = .fail
        if response.rcode == .nameError {
            result.detail = "NXDOMAIN: \(owner) does not exist"
            result.withdrawn = true
            return result
        }
        if txt.isEmpty {
            result.detail = "NODATA: no TXT record at \(owner)"
            result.withdrawn = true
            return result
        }
        let joined = txt.map { (text: $0.strings.joined(), ttl: $0.ttl) }
        var candidates = joined.filter { $0.text.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("v=DKIM1") }
        if candidates.isEmpty { candidates = joined }
        if candidates.count > 1 {
            result.detail = "\(candidates.count) DKIM records at \(owner); exactly one is allowed"
            return result
        }
        let candidate = candidates[0]
        result.ttl = min(candidate.ttl, cnameTTL ?? candidate.ttl)
        let record: DKIMKeyRecord
        do {
            record = try DKIMKeyRecord(parsing: candidate.text)
        } catch let error as RecordSyntaxError {
            result.detail = "syntax error: \(error.reason)"
            return result
        } catch {
            result.detail = "syntax error"
            return result
        }
        result.servedRecord = record
        result.servedOwner = owner
        PublicationChecker.judge(&result, against: key)
        return result
    }
}
