import Foundation

/// A real PostgreSQL server for the tests: a cluster `initdb`'d in a temporary directory as
/// the unprivileged `postgres` user (the tests run as root, which PostgreSQL refuses), listening
/// on 127.0.0.1 on a free port with password (SCRAM) authentication, and stopped by the PID of
/// its postmaster. One server serves a test process; each test takes a database of its own.
public final class PostgresServer: @unchecked Sendable {
    // @unchecked Sendable: every property is set once in init; the counter is locked.
    public let port: UInt16
    public let user = "dkimctl"
    public let password: String
    public let directory: TemporaryDirectory
    /// The server's self-signed TLS certificate (CN and DNS name localhost, IP 127.0.0.1), for `sslrootcert=`.
    public var certificatePath: String { directory.file("certificate.pem") }
    let binaries: String
    let server: RunningProcess
    /// The postmaster's PID.
    public var pid: pid_t { server.pid }
    private let lock = NSLock()
    private var databases = 0

    /// The server of this test process, started on first use and stopped when the process exits.
    public static func shared() throws -> PostgresServer {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let server = sharedServer { return server }
        let server = try PostgresServer()
        sharedServer = server
        atexit { PostgresServer.stopShared() }
        return server
    }

    nonisolated(unsafe) private static var sharedServer: PostgresServer?
    private static let sharedLock = NSLock()

    private static func stopShared() {
        sharedServer?.stop()
    }

    /// The directory of the newest installed PostgreSQL's programs (Debian: /usr/lib/postgresql/N/bin).
    public static func binaryDirectory() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        guard let newest = versions.last, FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/initdb") else {
            throw TestSupportError("PostgreSQL is not installed (no \(root)/N/bin/initdb): apt-get install postgresql")
        }
        return "\(root)/\(newest)/bin"
    }

    /// Runs `arguments` as the `postgres` user when the tests run as root.
    static func unprivileged(_ arguments: [String]) -> (String, [String]) {
        guard geteuid() == 0 else { return (arguments[0], Array(arguments.dropFirst())) }
        return ("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + arguments)
    }

    public init() throws {
        binaries = try Self.binaryDirectory()
        directory = try TemporaryDirectory("postgres")
        password = (0..<24).map { _ in String("abcdefghijkmnopqrstuvwxyz23456789".randomElement()!) }.joined()
        // The postgres user must reach its data directory.
        chmod(directory.path, 0o711)
        let data = directory.file("data")
        let socket = directory.file("socket")
        for path in [data, socket] {
            mkdir(path, 0o700)
            if geteuid() == 0 {
                guard let account = getpwnam("postgres") else { throw TestSupportError("there is no postgres user to run PostgreSQL as") }
                chown(path, account.pointee.pw_uid, account.pointee.pw_gid)
            }
        }
        // TLS on (clients may still connect without): a self-signed certificate for localhost and 127.0.0.1.
        let made = try ProcessRunner.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory.file("socket/server.key"),
            "-out", directory.file("certificate.pem"), "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        guard made.status == 0 else { throw TestSupportError("openssl req failed: \(made.standardError)") }
        chmod(directory.file("socket/server.key"), 0o600)
        chmod(directory.file("certificate.pem"), 0o644)
        if geteuid() == 0, let account = getpwnam("postgres") {
            chown(directory.file("socket/server.key"), account.pointee.pw_uid, account.pointee.pw_gid)
        }
        let passwordFile = directory.file("socket/password")
        try password.write(toFile: passwordFile, atomically: false, encoding: .utf8)
        if geteuid() == 0, let account = getpwnam("postgres") { chown(passwordFile, account.pointee.pw_uid, account.pointee.pw_gid) }
        let (program, arguments) = Self.unprivileged([
            "\(binaries)/initdb", "-D", data, "-U", user, "--pwfile=\(passwordFile)", "--auth=scram-sha-256", "-E", "UTF8",
            "--locale=C", "--no-sync",
        ])
        let initialised = try ProcessRunner.run(program, arguments)
        guard initialised.status == 0 else { throw TestSupportError("initdb failed: \(initialised.standardError)") }
        unlink(passwordFile)

        // The postmaster runs in the foreground, a child of the tests (pg_ctl would leave it
        // holding the runner's pipes); it is ready when pg_isready says so.
        var lastError = ""
        for _ in 0..<5 {
            let port = UInt16.random(in: 33_000...43_000)
            let (program, arguments) = Self.unprivileged([
                "\(binaries)/postgres", "-D", data, "-p", String(port), "-k", socket, "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=60",
                "-c", "ssl=on", "-c", "ssl_cert_file=\(directory.file("certificate.pem"))", "-c", "ssl_key_file=\(socket)/server.key",
            ])
            let server = try ProcessRunner.start(program, arguments)
            for _ in 0..<300 {
                if !server.process.isRunning { break }
                let ready = try ProcessRunner.run("\(binaries)/pg_isready", ["-h", "127.0.0.1", "-p", String(port), "-t", "1"])
                if ready.status == 0 {
                    self.port = port
                    self.server = server
                    return
                }
                usleep(50_000)
            }
            server.signal(SIGKILL)
            lastError = server.wait(timeout: 5).standardError
        }
        throw TestSupportError("PostgreSQL did not start: \(lastError)")
    }

    /// A new, empty database; returns its URL (password included, TLS off: loopback).
    public func createDatabase() throws -> String {
        lock.lock()
        databases += 1
        let name = "registry_\(databases)_\(UInt32.random(in: 0...UInt32.max))"
        lock.unlock()
        try psql("CREATE DATABASE \(name)")
        return url(database: name)
    }

    public func url(database: String, withPassword: Bool = true) -> String {
        "postgres://\(user)\(withPassword ? ":\(password)" : "")@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Runs SQL through psql as the superuser (to tamper, to inspect, to kill sessions).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let result = try ProcessRunner.run(
            "\(binaries)/psql",
            ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            environment: ["PGPASSWORD": password])
        guard result.status == 0 else { throw TestSupportError("psql failed: \(result.standardError)") }
        return result.standardOutput
    }

    /// Stops the server: SIGINT to the postmaster (fast shutdown), then waits for it to go.
    public func stop() {
        guard server.process.isRunning else { return }
        server.signal(SIGINT)
        if server.wait(timeout: 10).status != 0, server.process.isRunning { server.signal(SIGKILL) }
    }
}
