import Foundation

/// Finds the zone that holds a name and the addresses of that zone's
/// authoritative servers, asking a recursive resolver (the system's, from
/// /etc/resolv.conf, or one named by the user). Answers are cached for the
/// life of the value, so checking 10,000 selectors of one domain looks the
/// zone up once.
public final class NameserverDiscovery: @unchecked Sendable {
    // @unchecked Sendable: the caches are only touched under `lock`.
    public let transport: any DNSTransport
    public let resolvers: [DNSServer]
    /// The port to reach discovered authoritative servers on (53 outside test setups).
    public let authoritativePort: UInt16

    private let lock = NSLock()
    private var zoneCache: [String: Result<String, DiscoveryError>] = [:]
    private var serverCache: [String: Result<[DNSServer], DiscoveryError>] = [:]

    public struct DiscoveryError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    public init(transport: any DNSTransport, resolvers: [DNSServer], authoritativePort: UInt16 = 53) {
        self.transport = transport
        self.resolvers = resolvers.isEmpty ? NameserverDiscovery.systemResolvers() : resolvers
        self.authoritativePort = authoritativePort
    }

    /// The `nameserver` lines of /etc/resolv.conf, or 127.0.0.1 when there are none.
    public static func systemResolvers(path: String = "/etc/resolv.conf") -> [DNSServer] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let servers = text.split(separator: "\n").compactMap { line -> DNSServer? in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { return nil }
            let address = String(fields[1].split(separator: "%").first ?? fields[1])
            return IPAddress.isValid(address) ? DNSServer(address: address) : nil
        }
        return servers.isEmpty ? [DNSServer(address: "127.0.0.1")] : servers
    }

    /// The apex of the zone holding `name` (absolute, lowercased).
    public func zone(of name: String) -> Result<String, DiscoveryError> {
        var candidate = absolute(name)
        while true {
            if let cached = cached(zone: candidate) { return cached }
            switch apexAnswer(for: candidate) {
            case .failure(let error):
                store(zone: .failure(error), for: candidate)
                return .failure(error)
            case .success(let apex?):
                store(zone: .success(apex), for: candidate)
                return .success(apex)
            case .success(nil):
                guard let dot = candidate.dropLast().firstIndex(of: ".") else {
                    return .failure(DiscoveryError(description: "no zone found above \(name)"))
                }
                candidate = String(candidate[candidate.index(after: dot)...])
            }
        }
    }

    /// The addresses of every nameserver in the zone's NS set.
    public func servers(of zone: String) -> Result<[DNSServer], DiscoveryError> {
        lock.lock()
        if let cached = serverCache[zone] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let result = lookUpServers(of: zone)
        lock.lock()
        serverCache[zone] = result
        lock.unlock()
        return result
    }

    /// At most this many NS hosts of one zone are looked up and asked.
    public static let maximumNameserverHosts = 16
    /// At most this many addresses of one zone's NS hosts are asked.
    public static let maximumNameserverAddresses = 32

    /// The zone's NS hosts and their addresses, looked up in parallel. A zone
    /// listing more hosts or addresses than the caps is a discovery failure:
    /// the work stays bounded and a partial proof is never a pass.
    private func lookUpServers(of zone: String) -> Result<[DNSServer], DiscoveryError> {
        let names: [String]
        switch ask(zone, .ns) {
        case .failure(let error): return .failure(error)
        case .success(let response):
            names = Set(response.answers(at: zone).compactMap { if case .ns(let host) = $0.data { return host } else { return nil } }).sorted()
        }
        if names.isEmpty { return .failure(DiscoveryError(description: "\(zone) has no NS records")) }
        if names.count > Self.maximumNameserverHosts {
            return .failure(DiscoveryError(
                description: "\(zone) lists \(names.count) nameserver hosts; at most \(Self.maximumNameserverHosts) are asked"))
        }
        let lookups = names.flatMap { host in [DNSRecordType.a, .aaaa].map { (host: host, type: $0) } }
        let answers = BlockingWorkers.map(lookups, threads: lookups.count) { [self] lookup in ask(lookup.host, lookup.type) }
        var servers: [DNSServer] = []
        for (lookup, answer) in zip(lookups, answers) {
            guard case .success(let response) = answer else { continue }
            for record in response.answer {
                switch record.data {
                case .a(let address), .aaaa(let address):
                    servers.append(DNSServer(name: lookup.host, address: address, port: authoritativePort))
                default: continue
                }
            }
        }
        if servers.isEmpty {
            return .failure(DiscoveryError(description: "no address found for the nameservers of \(zone) (\(names.joined(separator: ", ")))"))
        }
        if servers.count > Self.maximumNameserverAddresses {
            return .failure(DiscoveryError(
                description: "the nameservers of \(zone) have \(servers.count) addresses; at most \(Self.maximumNameserverAddresses) are asked"))
        }
        return .success(servers)
    }

    /// `apex` if `candidate`'s SOA answer names one, nil to keep walking up.
    private func apexAnswer(for candidate: String) -> Result<String?, DiscoveryError> {
        switch ask(candidate, .soa) {
        case .failure(let error): return .failure(error)
        case .success(let response):
            if response.answers(at: candidate).contains(where: \.isSOA) {
                return .success(candidate)
            }
            // Behind a CNAME the resolver chased the target: its SOA says nothing of this name's zone.
            let aliased = response.answers(at: candidate).contains { $0.isCNAME }
            if !aliased, let soa = response.authority.first(where: \.isSOA),
                candidate.hasSuffix("." + soa.owner) || soa.owner == "."
            {
                return .success(soa.owner)
            }
            return .success(nil)
        }
    }

    private func ask(_ name: String, _ type: DNSRecordType) -> Result<DNSResponse, DiscoveryError> {
        var reasons: [String] = []
        for resolver in resolvers {
            switch transport.query(name, type, server: resolver, recursionDesired: true) {
            case .response(let response) where response.rcode.isAnswer:
                return .success(response)
            case .response(let response):
                reasons.append("\(resolver): \(response.rcode)")
            case .failure(let reason):
                reasons.append("\(resolver): \(reason)")
            }
        }
        return .failure(DiscoveryError(description: "resolver could not look up \(type.rawValue) \(name) (\(reasons.joined(separator: "; ")))"))
    }

    private func cached(zone candidate: String) -> Result<String, DiscoveryError>? {
        lock.lock()
        defer { lock.unlock() }
        return zoneCache[candidate]
    }

    private func store(zone result: Result<String, DiscoveryError>, for candidate: String) {
        lock.lock()
        zoneCache[candidate] = result
        lock.unlock()
    }
}

func absolute(_ name: String) -> String {
    let lowered = name.lowercased()
    return lowered.hasSuffix(".") ? lowered : lowered + "."
}
