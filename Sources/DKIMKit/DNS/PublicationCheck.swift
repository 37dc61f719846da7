import Foundation

/// How one server, or a whole check, came out (after RFC 8601's results).
public enum CheckStatus: String, Sendable, Codable, CaseIterable {
    /// The server serves exactly our record.
    case pass
    /// The server answers, and the answer is wrong: missing, revoked, another key, several records, bad syntax, lagging serial.
    case fail
    /// No usable answer: timeout, unreachable, SERVFAIL, REFUSED, not authoritative.
    case temperror
}

/// What one authoritative server said about a key record.
public struct ServerCheck: Sendable, Equatable {
    /// The zone apex this server was asked about.
    public let zone: String
    /// The name asked for (the record name, or a CNAME target).
    public let name: String
    public let server: DNSServer
    public var status: CheckStatus
    /// The zone's SOA serial on this server.
    public var serial: UInt32?
    /// The TTL of the record (or of the CNAME) as served.
    public var ttl: UInt32?
    /// The zone's negative-caching TTL: min(SOA minimum, SOA TTL), RFC 2308 §5.
    public var negativeTTL: UInt32?
    public var detail: String
    public var warnings: [String]
    /// The CNAME target when this server delegates the name elsewhere.
    public var cnameTarget: String?
    /// The key record this server serves (at the end of any CNAME chain), when one parsed.
    public var servedRecord: DKIMKeyRecord?
    /// The name that record is at (the asked name, or an in-zone CNAME target).
    public var servedOwner: String?
    /// The server does not serve the expected key: the name does not exist, has
    /// no TXT record, an empty `p=`, or another key (what a revocation must show).
    public var withdrawn = false

    public init(
        zone: String, name: String, server: DNSServer, status: CheckStatus, serial: UInt32? = nil, ttl: UInt32? = nil,
        negativeTTL: UInt32? = nil, detail: String, warnings: [String] = [], cnameTarget: String? = nil
    ) {
        self.zone = zone
        self.name = name
        self.server = server
        self.status = status
        self.serial = serial
        self.ttl = ttl
        self.negativeTTL = negativeTTL
        self.detail = detail
        self.warnings = warnings
        self.cnameTarget = cnameTarget
    }
}

/// Why a check could not ask every server it should have: each makes the verdict `temperror`.
public enum CheckProblem: Sendable, Equatable, CustomStringConvertible {
    /// The zone or its servers could not be found (resolver failures, too many NS hosts or addresses).
    case discovery(String)
    /// The servers of one zone serve different CNAME targets for the same name.
    case cnameTargetsDisagree(name: String, targets: [String])
    /// The CNAME chain is longer than dkimctl follows.
    case tooManyCNAMELinks(from: String, limit: Int)

    public var description: String {
        switch self {
        case .discovery(let reason): reason
        case .cnameTargetsDisagree(let name, let targets): "servers disagree on the CNAME target of \(name): \(targets.joined(separator: ", "))"
        case .tooManyCNAMELinks(let from, let limit): "more than \(limit) CNAME links from \(from)"
        }
    }
}

/// Every server's answer for one key record, and the verdict.
public struct PublicationCheck: Sendable, Equatable {
    /// The record name, absolute.
    public let name: String
    public let results: [ServerCheck]
    /// Problems that kept servers from being asked at all (discovery failures).
    public let problems: [CheckProblem]

    public init(name: String, results: [ServerCheck], problems: [CheckProblem] = []) {
        self.name = name
        self.results = results
        self.problems = problems
    }

    /// pass only if every server passes; fail if any fails; temperror otherwise.
    public var verdict: CheckStatus {
        if results.contains(where: { $0.status == .fail }) { return .fail }
        if !problems.isEmpty || results.isEmpty || results.contains(where: { $0.status == .temperror }) { return .temperror }
        return .pass
    }

    /// The longest record TTL any server gave.
    public var recordTTL: UInt32? { results.compactMap(\.ttl).max() }
    /// The longest negative-caching TTL of the zones involved.
    public var negativeTTL: UInt32? { results.compactMap(\.negativeTTL).max() }

    /// Every server was asked and none serves the expected key any more.
    public var isWithdrawn: Bool { !results.isEmpty && problems.isEmpty && results.allSatisfy(\.withdrawn) }

    /// The same answers judged against another key, without asking DNS again (the key
    /// `track` has just read from these answers). Lagging servers still fail.
    public func judged(against key: ExpectedKey) -> PublicationCheck {
        var results = results
        for index in results.indices where results[index].servedRecord != nil {
            PublicationChecker.judge(&results[index], against: key)
        }
        PublicationChecker.failLaggingServers(&results)
        return PublicationCheck(name: name, results: results, problems: problems)
    }
}

/// The key a record must carry, and the flags it was registered with.
public struct ExpectedKey: Sendable, Equatable {
    public let algorithm: KeyAlgorithm
    /// The registry's `p=` value.
    public let publicKey: String
    /// The registered `t=` flags that change a verifier's decision (`y`, `s`); nil when
    /// the record is not ours to dictate (a provider-managed selector): then any flags pass.
    public let flags: Set<String>?

    public init(algorithm: KeyAlgorithm, publicKey: String, flags: [String]? = nil) {
        self.algorithm = algorithm
        self.publicKey = publicKey
        self.flags = flags.map { Set($0).intersection(DKIMKeyRecord.knownFlags) }
    }
}

/// Proves (or disproves) that a key record is published: asks every
/// authoritative server of the zone directly, without recursion, follows
/// CNAMEs (at most 8) into other zones and their own servers, and compares
/// what each serves with the registered key.
public struct PublicationChecker: Sendable {
    public static let maximumCNAMELinks = 8

    public let transport: any DNSTransport
    public let discovery: NameserverDiscovery
    /// Servers to ask for the record's own zone instead of discovering them (`--nameserver`).
    public let nameservers: [DNSServer]
    /// Each server's SOA for each zone, asked once per checker (one `verify --all` run).
    private let soaCache = SOACache()

    public init(transport: any DNSTransport, discovery: NameserverDiscovery, nameservers: [DNSServer] = []) {
        self.transport = transport
        self.discovery = discovery
        self.nameservers = nameservers
    }

    /// SOA answers by server and zone; a failed query is not cached, so it is asked again.
    private final class SOACache: @unchecked Sendable {
        // @unchecked Sendable: `entries` is only touched under `lock`.
        private let lock = NSLock()
        private var entries: [String: DNSResourceRecord?] = [:]

        func value(_ server: DNSServer, _ zone: String, orAsk ask: () -> DNSOutcome) -> Result<DNSResourceRecord?, DNSFailure> {
            let key = "\(server) \(zone)"
            lock.lock()
            if let cached = entries[key] {
                lock.unlock()
                return .success(cached)
            }
            lock.unlock()
            switch ask() {
            case .failure(let reason):
                return .failure(DNSFailure(reason: reason))
            case .response(let response):
                let soa = response.answers(at: zone).first(where: \.isSOA)
                lock.lock()
                entries[key] = .some(soa)
                lock.unlock()
                return .success(soa)
            }
        }
    }

    public func check(_ name: KeyRecordName, expecting key: ExpectedKey) -> PublicationCheck {
        var results: [ServerCheck] = []
        var problems: [CheckProblem] = []
        var current = name.absolute.lowercased()
        var visited: Set<String> = []
        var firstZone: String?
        for hop in 0...Self.maximumCNAMELinks {
            visited.insert(current)
            // The servers to ask for this hop, and the zone they serve.
            let useOverride = hop == 0 || firstZone.map({ current.hasSuffix("." + $0) || current == $0 }) == true
            let zone: String
            let servers: [DNSServer]
            switch authoritativeServers(for: current, useOverride: useOverride) {
            case .success(let found):
                (zone, servers) = found
            case .failure(.overrideUnanswered(let failure)):
                results += nameservers.map {
                    ServerCheck(
                        zone: "?", name: current, server: $0, status: .temperror,
                        detail: "cannot find the zone of \(current): \(failure.reason)")
                }
                return PublicationCheck(name: name.absolute, results: results, problems: problems)
            case .failure(.discovery(let error)):
                problems.append(.discovery(error.description))
                return PublicationCheck(name: name.absolute, results: results, problems: problems)
            }
            if hop == 0 { firstZone = zone }

            // A zone's servers are asked at once: one slow or hostile server costs one timeout.
            let hopName = current
            var hopResults = BlockingWorkers.map(servers, threads: servers.count) { checkServer($0, zone: zone, name: hopName, expecting: key) }
            Self.failLaggingServers(&hopResults)
            results += hopResults

            let targets = Set(hopResults.compactMap(\.cnameTarget))
            guard let target = targets.first else { break }
            if targets.count > 1 {
                problems.append(.cnameTargetsDisagree(name: current, targets: targets.sorted()))
                break
            }
            for index in results.indices where results[index].name == current && results[index].cnameTarget == nil && results[index].status == .pass {
                results[index].status = .fail
                results[index].detail = "serves a TXT record where other servers serve a CNAME to \(target)"
                results[index].servedOwner = nil  // stays failed whatever key it is judged against
            }
            if visited.contains(target) {
                // A loop across zones (a → b in one zone, b → a in another) fails like one inside an answer.
                for index in results.indices where results[index].name == current && results[index].cnameTarget == target {
                    results[index].status = .fail
                    results[index].detail = "CNAME loop: \(current) → \(target), which was already followed"
                }
                break
            }
            if hop == Self.maximumCNAMELinks {
                problems.append(.tooManyCNAMELinks(from: name.absolute, limit: Self.maximumCNAMELinks))
                break
            }
            current = target
        }
        return PublicationCheck(name: name.absolute, results: results, problems: problems)
    }

    /// Why the servers for a name could not be found.
    public enum ServerLookupError: Error, Sendable {
        /// The `--nameserver` override did not say which zone holds the name.
        case overrideUnanswered(DNSFailure)
        /// Discovery through the resolver failed.
        case discovery(NameserverDiscovery.DiscoveryError)
    }

    /// The zone holding `name` and the servers to ask for it: the `--nameserver` override when
    /// `useOverride` and one is set (asked for the zone by SOA), else the zone's discovered
    /// authoritative servers.
    public func authoritativeServers(for name: String, useOverride: Bool = true) -> Result<(zone: String, servers: [DNSServer]), ServerLookupError> {
        if useOverride, let first = nameservers.first {
            return transport.zone(of: name, askingAuthoritative: first)
                .map { (zone: $0, servers: nameservers) }.mapError { .overrideUnanswered($0) }
        }
        return discovery.zone(of: name).flatMap { zone in discovery.servers(of: zone).map { (zone: zone, servers: $0) } }
            .mapError { .discovery($0) }
    }

    /// A server whose zone serial is behind another's serves stale data: it fails.
    static func failLaggingServers(_ results: inout [ServerCheck]) {
        guard let newest = results.compactMap(\.serial).max() else { return }
        for index in results.indices {
            guard let serial = results[index].serial, serial < newest, results[index].status != .temperror else { continue }
            results[index].status = .fail
            results[index].detail = "zone serial \(serial) lags behind \(newest) on another server; " + results[index].detail
        }
    }

    /// Asks one server for the TXT RRset at `name` and the zone's SOA.
    func checkServer(_ server: DNSServer, zone: String, name: String, expecting key: ExpectedKey) -> ServerCheck {
        var result = ServerCheck(zone: zone, name: name, server: server, status: .temperror, detail: "")
        // The zone's serial and negative-caching TTL.
        switch soaCache.value(server, zone, orAsk: { transport.query(zone, .soa, server: server, recursionDesired: false) }) {
        case .failure(let failure):
            result.detail = "no answer: \(failure.reason)"
            return result
        case .success(let soa):
            if let soa, case .soa(_, let serial, let minimum) = soa.data {
                result.serial = serial
                result.negativeTTL = min(minimum, soa.ttl)
            }
        }
        let response: DNSResponse
        switch transport.query(name, .txt, server: server, recursionDesired: false) {
        case .failure(let reason):
            result.detail = "no answer: \(reason)"
            return result
        case .response(let reply):
            response = reply
        }
        return ServerVerdict.classify(response, asked: result, expecting: key)
    }

    /// Sets a server's status and detail from the record it served, compared with `key`.
    static func judge(_ result: inout ServerCheck, against key: ExpectedKey) {
        guard let record = result.servedRecord, let owner = result.servedOwner else { return }
        result.status = .fail
        result.withdrawn = false
        result.warnings.removeAll { $0.hasPrefix("t=y") }
        if record.isRevoked {
            result.detail = "revoked: the record has an empty p="
            result.withdrawn = true
            return
        }
        if record.keyType != key.algorithm.rawValue {
            result.detail = "k=\(record.keyType) but the registered key is \(key.algorithm.rawValue)"
            return
        }
        if record.publicKey != key.publicKey {
            let served = record.publicKeyBytes.map(PublicKeyFingerprint.of) ?? "undecodable"
            result.detail = "p= is another key (\(served)), not the registered one"
            result.withdrawn = true
            return
        }
        // RFC 6376 §3.6.1: tags that change a verifier's decision must allow what dkimctl registered.
        if let hashes = record.hashAlgorithms, !hashes.contains(where: { $0.lowercased() == "sha256" }) {
            result.detail = "h=\(hashes.joined(separator: ":")) does not allow sha256, the only hash dkimctl signs with"
            return
        }
        if let services = record.serviceTypes, !services.contains(where: { $0 == "*" || $0.lowercased() == "email" }) {
            result.detail = "s=\(services.joined(separator: ":")) does not allow the email service type"
            return
        }
        if let registered = key.flags {
            let served = Set(record.flags).intersection(DKIMKeyRecord.knownFlags)
            if served != registered {
                let show = { (flags: Set<String>) in flags.isEmpty ? "none" : "t=" + flags.sorted().joined(separator: ":") }
                result.detail = "t= flags differ: the server has \(show(served)), the registry has \(show(registered))"
                return
            }
        }
        if record.isTesting { result.warnings.append("t=y: the domain is in DKIM testing mode") }
        result.status = .pass
        result.detail = owner == result.name ? "p= matches the registered key" : "p= matches the registered key (via CNAME to \(owner))"
    }
}
