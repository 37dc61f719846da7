import Foundation

/// Where a PostgreSQL registry lives and how to reach it, from a libpq-style URL:
/// `postgres://USER@HOST[:PORT]/DATABASE?sslmode=…&sslrootcert=…&passwordfile=…&host=/socket/dir`.
///
/// The password comes, first found: from the URL (discouraged: it shows in process
/// lists), from `passwordfile=` (a file only its owner can read), from `$PGPASSWORD`,
/// or from the pgpass file (`$PGPASSFILE`, else `~/.pgpass`; lines
/// `host:port:database:user:password`, `*` matching anything, mode 0600 as libpq requires).
public struct PostgresSettings: Sendable, Equatable {
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP (a socket, or a trusted network).
        case disable
        /// TLS if the server offers it, without checking its certificate.
        case prefer
        /// TLS, without checking the certificate (libpq's `require`).
        case require
        /// TLS, the certificate checked against `sslrootcert` (or the system's roots) and the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    /// A directory holding the server's socket (`host=/var/run/postgresql`), instead of TCP.
    public var socketDirectory: String?
    public var user: String
    public var database: String
    public var password: String?
    public var tls: TLSMode
    public var rootCertificate: String?
    public var connectTimeout: TimeInterval

    /// The URL without its password, for messages and the event log.
    public var redacted: String {
        let place = socketDirectory.map { "\($0) (socket)" } ?? "\(host):\(port)"
        return "postgres://\(user)@\(place)/\(database)"
    }

    /// Whether `text` names a PostgreSQL registry rather than a file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// - Throws: `DKIMError.invalidInput` naming the part of the URL at fault and what is allowed.
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw DKIMError(.invalidInput, "registry '\(Self.redact(text))' is not a postgres:// URL (e.g. postgres://dkimctl@db.example.org/dkimctl?sslmode=verify-full)")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard let value = item.value else { throw DKIMError(.invalidInput, "registry URL parameter '\(item.name)' has no value") }
            guard ["sslmode", "sslrootcert", "passwordfile", "host", "connect_timeout", "application_name"].contains(item.name) else {
                throw DKIMError(
                    .invalidInput,
                    "registry URL parameter '\(item.name)' is not known (allowed: sslmode, sslrootcert, passwordfile, host, connect_timeout)")
            }
            query[item.name] = value
        }
        socketDirectory = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw DKIMError(.invalidInput, "registry URL port \(port) is not a port (1-65535)") }
        user = components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding } ?? environment["PGUSER"] ?? environment["USER"] ?? "dkimctl"
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : (path.removingPercentEncoding ?? path)
        guard !database.contains("/") else { throw DKIMError(.invalidInput, "registry URL database '\(database)' is not a database name") }
        let mode = query["sslmode"] ?? (socketDirectory != nil || ["localhost", "127.0.0.1", "::1"].contains(host) ? "disable" : "verify-full")
        guard let tls = TLSMode(rawValue: mode) else {
            throw DKIMError(.invalidInput, "registry URL sslmode '\(mode)' is not known (allowed: \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.tls = tls
        rootCertificate = query["sslrootcert"]
        if let seconds = query["connect_timeout"] {
            guard let value = TimeInterval(seconds), value > 0, value <= 300 else {
                throw DKIMError(.invalidInput, "registry URL connect_timeout '\(seconds)' is not a number of seconds (1-300)")
            }
            connectTimeout = value
        } else {
            connectTimeout = 10
        }
        if let given = components.password, !given.isEmpty {
            password = given.removingPercentEncoding ?? given
        } else if let file = query["passwordfile"] {
            let data = try KeyEncryptionKeySource.readSecretFile(file, what: "registry password file", checkMode: true)
            password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        } else if let given = environment["PGPASSWORD"], !given.isEmpty {
            password = given
        } else {
            password = try Self.passwordFromPassfile(
                host: socketDirectory ?? host, port: port, database: database, user: user, environment: environment)
        }
    }

    /// The password of the first matching line of the pgpass file, if there is one.
    static func passwordFromPassfile(host: String, port: Int, database: String, user: String, environment: [String: String]) throws -> String? {
        let path = environment["PGPASSFILE"] ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.pgpass"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try KeyEncryptionKeySource.readSecretFile(path, what: "pgpass file", checkMode: true)
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            var fields: [String] = []
            var field = ""
            var escaped = false
            for character in line {
                if escaped {
                    field.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == ":" && fields.count < 4 {
                    fields.append(field)
                    field = ""
                } else {
                    field.append(character)
                }
            }
            fields.append(field)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    /// A URL with any password replaced, for error messages.
    static func redact(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "…"
        return components.string ?? "postgres://…"
    }
}
