import ArgumentParser
import DKIMKit

/// How `verify` and `activate` reach DNS.
struct DNSOptions: ParsableArguments {
    @Option(
        name: .customLong("nameserver"),
        help: ArgumentHelp(
            "Ask this server (IP[:PORT]) instead of discovering the zone's authoritative servers; repeatable.",
            valueName: "ip[:port]"))
    var nameservers: [String] = []

    @Option(
        name: .customLong("resolver"),
        help: ArgumentHelp("Recursive resolver used to find zones and nameservers (default: /etc/resolv.conf); repeatable.", valueName: "ip[:port]"))
    var resolvers: [String] = []

    @Option(
        name: .customLong("authoritative-port"),
        help: ArgumentHelp("Port of discovered authoritative servers (53; other values are for test setups).", valueName: "port"))
    var authoritativePort: UInt16 = 53

    @Option(help: ArgumentHelp("Seconds to wait for each answer.", valueName: "seconds"))
    var timeout: Double = 2

    @Option(help: "Retries after a timeout.")
    var retries: Int = 2

    @Option(help: "Keys checked at once by --all.")
    var concurrency: Int = 32

    func checker() throws -> PublicationChecker {
        guard timeout > 0, timeout <= 60 else {
            throw DKIMError(.invalidInput, "timeout \(timeout) is out of range (allowed: more than 0, at most 60 seconds)")
        }
        guard (0...10).contains(retries) else {
            throw DKIMError(.invalidInput, "retries \(retries) is out of range (allowed: 0–10)")
        }
        guard (1...256).contains(concurrency) else {
            throw DKIMError(.invalidInput, "concurrency \(concurrency) is out of range (allowed: 1–256)")
        }
        guard authoritativePort > 0 else {
            throw DKIMError(.invalidInput, "authoritative port 0 is not allowed (allowed: 1–65535)")
        }
        let transport = LDNSTransport(options: DNSQueryOptions(timeout: timeout, retries: retries))
        let discovery = NameserverDiscovery(
            transport: transport, resolvers: try resolvers.map { try DNSServer(parsing: $0) },
            authoritativePort: authoritativePort)
        return PublicationChecker(
            transport: transport, discovery: discovery, nameservers: try nameservers.map { try DNSServer(parsing: $0) })
    }
}
