import ArgumentParser
import DKIMKit

/// How `verify`, `activate` and the lifecycle commands reach DNS. Unset
/// options fall back to the configuration's `dns:` section, then to the defaults.
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
        help: ArgumentHelp("Port of discovered authoritative servers (default 53; other values are for test setups).", valueName: "port"))
    var authoritativePort: UInt16?

    @Option(help: ArgumentHelp("Seconds to wait for each answer (default 2).", valueName: "seconds"))
    var timeout: Double?

    @Option(help: "Retries after a timeout (default 2).")
    var retries: Int?

    @Option(help: "Keys checked at once by --all.")
    var concurrency: Int = 32

    func checker(defaults: DNSSettings = DNSSettings()) throws -> PublicationChecker {
        let timeout = self.timeout ?? defaults.timeout
        let retries = self.retries ?? defaults.retries
        let authoritativePort = self.authoritativePort ?? defaults.authoritativePort
        if let problem = DNSQueryOptions.problem(timeout: timeout) { throw DKIMError(.invalidInput, problem) }
        if let problem = DNSQueryOptions.problem(retries: retries) { throw DKIMError(.invalidInput, problem) }
        guard (1...256).contains(concurrency) else {
            throw DKIMError(.invalidInput, "concurrency \(concurrency) is out of range (allowed: 1–256)")
        }
        guard authoritativePort > 0 else {
            throw DKIMError(.invalidInput, "authoritative port 0 is not allowed (allowed: 1–65535)")
        }
        let resolvers = self.resolvers.isEmpty ? defaults.resolvers : try self.resolvers.map { try DNSServer(parsing: $0) }
        let nameservers = self.nameservers.isEmpty ? defaults.nameservers : try self.nameservers.map { try DNSServer(parsing: $0) }
        let transport = LDNSTransport(options: DNSQueryOptions(timeout: timeout, retries: retries))
        let discovery = NameserverDiscovery(transport: transport, resolvers: resolvers, authoritativePort: authoritativePort)
        return PublicationChecker(transport: transport, discovery: discovery, nameservers: nameservers)
    }
}
