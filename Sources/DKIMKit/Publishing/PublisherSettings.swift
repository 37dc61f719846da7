import Foundation

/// How a domain's records reach DNS.
public enum PublisherConfiguration: Sendable, Equatable {
    /// Records are written to `<state-dir>/outbox/<domain>/` for a person to publish.
    case manual
    /// A zone fragment kept at `path`, then `reload` run (e.g. `rndc reload example.org`).
    case zonefile(path: String, reload: String?)
    /// A hook run for every change with `DKIM_*` variables.
    case command(String)
    /// DNS UPDATE signed with TSIG.
    case rfc2136(RFC2136Settings)

    public var typeName: String {
        switch self {
        case .manual: "manual"
        case .zonefile: "zonefile"
        case .command: "command"
        case .rfc2136: "rfc2136"
        }
    }
}

/// Where and how to send DNS UPDATE messages.
public struct RFC2136Settings: Sendable, Equatable {
    public var server: DNSServer
    /// The zone to update; nil to ask the server for the zone holding each name.
    public var zone: String?
    public var key: TSIGKey
    public var timeout: Double

    public init(server: DNSServer, zone: String?, key: TSIGKey, timeout: Double = 5) {
        self.server = server
        self.zone = zone
        self.key = key
        self.timeout = timeout
    }
}

/// A TSIG key (RFC 8945): its name, algorithm and base64 secret.
public struct TSIGKey: Sendable, Equatable {
    public static let algorithms = ["hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1", "hmac-md5"]

    public let name: String
    public let algorithm: String
    /// Base64, as in BIND's `secret "…";`. Never printed.
    public let secret: String

    public init(name: String, algorithm: String, secret: String) {
        self.name = name
        self.algorithm = algorithm
        self.secret = secret
    }
}
