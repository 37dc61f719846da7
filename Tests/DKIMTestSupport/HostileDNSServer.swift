import DKIMKit
import Foundation

/// A misbehaving DNS server (`hostile_dns.py`, Python with dnspython): forged
/// replies with a wrong ID, a wrong question, the QR bit clear, from another
/// address; CNAME loops; 300 NS hosts or addresses; servers that never answer.
/// What it does depends on the selector asked (see the script's header). It is
/// started by the test and killed when the value goes away.
public final class HostileDNSServer: @unchecked Sendable {
    // @unchecked Sendable: the fields are set once in init; stop() is idempotent.
    public let zone: String
    public let port: UInt16
    public let address: String
    /// Addresses where it listens and never answers (the NS of `slowzone.test`).
    public let slowAddresses: [String]
    /// The address it sends `otheraddr-*` forgeries from.
    public let spoofAddress: String
    public let directory: TemporaryDirectory
    private let process: Process

    public var server: DNSServer { DNSServer(address: address, port: port) }
    public var slowServers: [DNSServer] { slowAddresses.map { DNSServer(address: $0, port: port) } }
    public var keyFile: String { directory.file("key.json") }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("hostile_dns.py").path

    public init(zone: String, address: String = "127.0.0.1", slowAddresses: [String] = [], spoofAddress: String = "127.0.0.9") throws {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestSupportError("Debian's python3 is needed for the hostile DNS server (apt-get install python3 python3-dnspython)")
        }
        self.zone = zone
        self.address = address
        self.slowAddresses = slowAddresses
        self.spoofAddress = spoofAddress
        for extra in [address, spoofAddress] + slowAddresses { try NamedServer.ensureLoopbackAddress(extra) }
        directory = try TemporaryDirectory("hostile-dns")
        process = Process()
        try Self.writeKeyRecord("v=DKIM1; k=rsa; p=", to: directory.file("key.json"))
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments =
            [Self.script, "--zone", zone, "--port", "0", "--spoof-from", spoofAddress, "--key-file", directory.file("key.json"), "--listen", address]
            + slowAddresses.flatMap { ["--slow", $0] }
        let output = Pipe()
        let log = directory.file("server.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        NamedServer.running.add(process.processIdentifier)
        // "ready PORT" once every socket is bound: the server chose the port and holds it.
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard line.hasPrefix("ready "), let bound = UInt16(line.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            process.waitUntilExit()
            NamedServer.running.remove(process.processIdentifier)
            let reason = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw TestSupportError("the hostile DNS server did not start: \(reason.suffix(2000))")
        }
        port = bound
    }

    /// The questions the server received for `name` (any case, with or without the final
    /// dot), as `TYPE@ADDRESS`, in the order they came: how often a client asked, not how long.
    public func questions(for name: String) -> [String] {
        let wanted = (name.hasSuffix(".") ? name : name + ".").lowercased()
        let log = (try? String(contentsOfFile: directory.file("server.log"), encoding: .utf8)) ?? ""
        return log.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 4, fields[0] == "query", fields[2] == wanted else { return nil }
            return "\(fields[3])@\(fields[1])"
        }
    }

    /// The key record the server serves or forges (a TXT value).
    public func setKeyRecord(_ value: String) throws {
        try Self.writeKeyRecord(value, to: keyFile)
    }

    private static func writeKeyRecord(_ value: String, to keyFile: String) throws {
        let data = try JSONSerialization.data(withJSONObject: ["value": value])
        try data.write(to: URL(fileURLWithPath: keyFile + ".tmp"))
        _ = rename(keyFile + ".tmp", keyFile)
    }

    deinit { stop() }

    public func stop() {
        NamedServer.running.remove(process.processIdentifier)
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
