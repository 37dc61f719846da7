import DKIMKit
import Foundation

/// A real authoritative DNS server for tests: BIND's `named` on a loopback
/// address and a high port it binds itself, in its own temporary directory, started by
/// the test and stopped by its process id when the value goes away.
public final class NamedServer: @unchecked Sendable {
    // @unchecked Sendable: the fields are set once in init; stop() is idempotent.

    /// A zone this server is primary for.
    public struct Zone: Sendable {
        public let name: String
        /// The master file; nil to point BIND at a file that does not parse (the zone then answers SERVFAIL).
        public let text: String?
        /// A TSIG key name allowed to send DNS UPDATEs for the zone.
        public let updateKey: String?

        public init(_ name: String, _ text: String?, updateKey: String? = nil) {
            self.name = name
            self.text = text
            self.updateKey = updateKey
        }
    }

    public let address: String
    public let port: UInt16
    public let directory: TemporaryDirectory
    private let process: Process
    /// named's own log (it runs with -g): read it when a test needs to know why.
    public var logPath: String { directory.file("named.log") }
    private let log: FileHandle

    public var server: DNSServer { DNSServer(address: address, port: port) }

    /// Starts `named` and waits until it answers for its first zone.
    /// - Parameters:
    ///   - forwardZones: zones answered by recursion through another server (needs `recursion yes`).
    ///   - options: extra lines for the `options` block (e.g. `max-udp-size 512;`).
    ///   - keys: TSIG keys as `(name, algorithm, base64 secret)`.
    public init(
        zones: [Zone], address: String = "127.0.0.1", port: UInt16? = nil,
        forwardZones: [(zone: String, server: DNSServer)] = [], options: String = "",
        keys: [(name: String, algorithm: String, secret: String)] = []
    ) throws {
        guard let named = ProcessRunner.which("named") else {
            throw TestSupportError("BIND's named is not installed (apt-get install bind9)")
        }
        try NamedServer.ensureLoopbackAddress(address)
        self.address = address
        directory = try TemporaryDirectory("named")
        for zone in zones {
            try (zone.text ?? "this is not a zone file\n").write(toFile: directory.file("\(zone.name).zone"), atomically: true, encoding: .utf8)
        }
        // named binds the port itself: with no port given, a random one is tried and a start
        // that fails because the port is taken is tried again on another (nothing probes
        // a port and releases it for named to take later).
        var attempt = 0
        while true {
            attempt += 1
            let candidate = port ?? NamedServer.randomPort()
            do {
                (process, log) = try NamedServer.launch(
                    named, directory: directory, address: address, port: candidate, zones: zones, forwardZones: forwardZones,
                    options: options, keys: keys)
                self.port = candidate
                return
            } catch let error as TestSupportError where port == nil && attempt < 10 && error.isPortTaken {
                continue
            }
        }
    }

    /// Starts servers that must share one port (a zone's nameservers on several loopback
    /// addresses, reached through one port override): `start` starts every server on the
    /// port it is given; when one finds the port taken, the ones already started go away
    /// (and stop) with the closure, and all start again on another port.
    public static func onOnePort<Servers>(_ start: (UInt16) throws -> Servers) throws -> Servers {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try start(randomPort())
            } catch let error as TestSupportError where attempt < 10 && error.isPortTaken {
                continue
            }
        }
    }

    /// A port for a test server to bind, below Linux's ephemeral range (32768–60999) so that
    /// the kernel does not hand it to an outgoing socket meanwhile.
    static func randomPort() -> UInt16 { UInt16.random(in: 20_000...32_000) }

    /// Writes named.conf for `port`, starts named and waits until it answers for its first zone.
    private static func launch(
        _ named: String, directory: TemporaryDirectory, address: String, port: UInt16, zones: [Zone],
        forwardZones: [(zone: String, server: DNSServer)], options: String, keys: [(name: String, algorithm: String, secret: String)]
    ) throws -> (Process, FileHandle) {
        var configuration = """
            options {
                directory "\(directory.path)";
                pid-file "\(directory.file("named.pid"))";
                session-keyfile "\(directory.file("session.key"))";
                managed-keys-directory "\(directory.path)";
                listen-on port \(port) { \(address); };
                listen-on-v6 { none; };
                recursion \(forwardZones.isEmpty ? "no" : "yes");
                allow-recursion { any; };
                dnssec-validation no;
                allow-query { any; };
                notify no;
                \(options)
            };
            controls { };

            """
        for key in keys {
            configuration += "key \"\(key.name)\" { algorithm \(key.algorithm); secret \"\(key.secret)\"; };\n"
        }
        for zone in zones {
            let update = zone.updateKey.map { "allow-update { key \"\($0)\"; };" } ?? ""
            configuration += "zone \"\(zone.name)\" { type primary; file \"\(directory.file("\(zone.name).zone"))\"; \(update) };\n"
        }
        for forward in forwardZones {
            configuration += """
                zone "\(forward.zone)" { type forward; forward only; forwarders { \(forward.server.address) port \(forward.server.port); }; };

                """
        }
        try configuration.write(toFile: directory.file("named.conf"), atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: named)
        process.arguments = ["-g", "-n", "1", "-c", directory.file("named.conf")]
        let logPath = directory.file("named.log")
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        NamedServer.running.add(process.processIdentifier)

        // Ready when it answers for its first zone (a broken zone still answers SERVFAIL).
        let transport = LDNSTransport(options: DNSQueryOptions(timeout: 0.2, retries: 0))
        let probe = zones.first?.name ?? "."
        let server = DNSServer(address: address, port: port)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if !process.isRunning {
                NamedServer.running.remove(process.processIdentifier)
                let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw TestSupportError("named exited during start-up: \(output.suffix(2000))")
            }
            if case .response = transport.query(probe, .soa, server: server, recursionDesired: false) { return (process, log) }
            usleep(50_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        NamedServer.running.remove(process.processIdentifier)
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw TestSupportError("named did not answer on \(address):\(port) within 20 s: \(output.suffix(2000))")
    }

    deinit {
        stop()
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
    public func stop() {
        NamedServer.running.remove(process.processIdentifier)
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Every server still running, killed when the test process exits even if
    /// a test leaked its `NamedServer` (so no named outlives the test run).
    static let running = RunningServers()

    final class RunningServers: @unchecked Sendable {
        // @unchecked Sendable: `pids` is only touched under `lock`.
        private let lock = NSLock()
        private var pids: Set<Int32> = []
        private var hookInstalled = false

        func add(_ pid: Int32) {
            lock.lock()
            defer { lock.unlock() }
            pids.insert(pid)
            if !hookInstalled {
                hookInstalled = true
                atexit { NamedServer.running.killAll() }
            }
        }

        func remove(_ pid: Int32) {
            lock.lock()
            pids.remove(pid)
            lock.unlock()
        }

        func killAll() {
            lock.lock()
            defer { lock.unlock() }
            for pid in pids { kill(pid, SIGKILL) }
            pids.removeAll()
        }
    }

    /// BIND listens only on addresses configured on an interface: add
    /// 127.0.0.x aliases to `lo` when a test plays several servers.
    public static func ensureLoopbackAddress(_ address: String) throws {
        guard address.hasPrefix("127."), address != "127.0.0.1" else { return }
        guard let ip = ProcessRunner.which("ip") else {
            throw TestSupportError("the ip command (iproute2) is needed to add \(address) to lo")
        }
        let shown = try ProcessRunner.run(ip, ["-4", "addr", "show", "dev", "lo"])
        if shown.standardOutput.contains("inet \(address)/") { return }
        let added = try ProcessRunner.run(ip, ["addr", "add", "\(address)/32", "dev", "lo"])
        if added.status != 0, !added.standardError.contains("File exists") {
            throw TestSupportError("cannot add \(address) to lo (root needed): \(added.standardError)")
        }
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }

    /// A server could not bind its port: another process holds it.
    public var isPortTaken: Bool { description.contains("address in use") || description.contains("unable to listen") }
}

/// Master-file text for test zones.
public enum ZoneText {
    /// A zone with an SOA (given serial and negative TTL), NS records naming
    /// `ns1.<zone>` at `nameserverAddress`, and `records` (master-file lines, relative names).
    public static func zone(
        _ name: String, serial: UInt32 = 1, negativeTTL: Int = 300, nameserverAddress: String = "127.0.0.1",
        records: [String] = []
    ) -> String {
        ([
            "$ORIGIN \(name).", "$TTL 3600",
            "@ IN SOA ns1.\(name). hostmaster.\(name). \(serial) 3600 600 86400 \(negativeTTL)",
            "@ IN NS ns1.\(name).", "ns1 IN A \(nameserverAddress)",
        ] + records).joined(separator: "\n") + "\n"
    }

    /// A TXT record line with `value` split into ≤255-octet strings.
    public static func txt(_ owner: String, _ value: String, ttl: Int = 1800) -> String {
        "\(owner) \(ttl) IN TXT ( " + TXTRecordData(splitting: value).quotedStrings.joined(separator: " ") + " )"
    }
}
