import Foundation

/// A server to ask directly: an IP address and a port, and the name it is known by.
public struct DNSServer: Sendable, Hashable, CustomStringConvertible {
    /// The nameserver's host name (from the NS set), or the address when given by hand.
    public let name: String
    /// An IPv4 or IPv6 address.
    public let address: String
    public let port: UInt16

    public init(name: String? = nil, address: String, port: UInt16 = 53) {
        self.name = name ?? address
        self.address = address
        self.port = port
    }

    /// Parses `HOST[:PORT]`, `[v6]:PORT` or a bare IPv6 address.
    /// - Throws: `DKIMError.invalidInput` for anything else.
    public init(parsing text: String, defaultPort: UInt16 = 53) throws {
        var host = text
        var port = defaultPort
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let value = UInt16(rest.dropFirst()), value > 0 else {
                    throw DKIMError.invalid("nameserver '\(text)' has an invalid port (allowed: 1–65535)")
                }
                port = value
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let value = UInt16(text[text.index(after: colon)...]), value > 0 else {
                throw DKIMError.invalid("nameserver '\(text)' has an invalid port (allowed: 1–65535)")
            }
            port = value
        }
        guard IPAddress.isValid(host) else {
            throw DKIMError.invalid("nameserver '\(text)' is not an IP address with an optional port (e.g. 192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53)")
        }
        self.init(address: host, port: port)
    }

    public var description: String {
        let host = address.contains(":") ? "[\(address)]" : address
        return port == 53 ? host : "\(host):\(port)"
    }
}

/// The record types dkimctl asks for.
public enum DNSRecordType: String, Sendable, CaseIterable {
    case a = "A", aaaa = "AAAA", ns = "NS", soa = "SOA", txt = "TXT", cname = "CNAME"
}

/// One resource record of an answer or authority section.
public struct DNSResourceRecord: Sendable, Equatable {
    public enum Data: Sendable, Equatable {
        /// The character-strings, in order, as raw text (RFC 1035 §3.3.14).
        case txt([String])
        case cname(String)
        case ns(String)
        case a(String)
        case aaaa(String)
        /// Primary server, serial and the negative-caching TTL (RFC 2308 §4).
        case soa(primary: String, serial: UInt32, minimum: UInt32)
        case other(String)
    }

    /// The owner name, lowercased, absolute (with trailing dot).
    public let owner: String
    public let ttl: UInt32
    public let data: Data

    public init(owner: String, ttl: UInt32, data: Data) {
        self.owner = owner
        self.ttl = ttl
        self.data = data
    }

    public var isSOA: Bool {
        if case .soa = data { return true }
        return false
    }

    public var isCNAME: Bool {
        if case .cname = data { return true }
        return false
    }
}

/// A DNS response code (RFC 1035 §4.1.1, RFC 6895 §2.3) by its mnemonic.
public struct ResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue.uppercased() }
    public init(stringLiteral value: String) { self.init(rawValue: value) }

    public static let noError = ResponseCode(rawValue: "NOERROR")
    public static let formatError = ResponseCode(rawValue: "FORMERR")
    public static let serverFailure = ResponseCode(rawValue: "SERVFAIL")
    public static let nameError = ResponseCode(rawValue: "NXDOMAIN")
    public static let notImplemented = ResponseCode(rawValue: "NOTIMPL")
    public static let refused = ResponseCode(rawValue: "REFUSED")

    /// NOERROR or NXDOMAIN: the server answered the question, positively or negatively.
    public var isAnswer: Bool { self == .noError || self == .nameError }

    public var description: String { rawValue }
}

/// A reply from a server, whatever its response code.
public struct DNSResponse: Sendable, Equatable {
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`, `REFUSED`, …
    public let rcode: ResponseCode
    /// The AA bit: the server answered for a zone it holds.
    public let authoritative: Bool
    public let answer: [DNSResourceRecord]
    public let authority: [DNSResourceRecord]

    public init(rcode: ResponseCode, authoritative: Bool, answer: [DNSResourceRecord], authority: [DNSResourceRecord]) {
        self.rcode = rcode
        self.authoritative = authoritative
        self.answer = answer
        self.authority = authority
    }

    /// Records of the answer section at `owner`.
    public func answers(at owner: String) -> [DNSResourceRecord] {
        answer.filter { $0.owner == owner }
    }
}

/// The outcome of one query: a reply, or why there was none. Never an exception:
/// a server that does not answer is a result to report.
public enum DNSOutcome: Sendable, Equatable {
    case response(DNSResponse)
    /// Timeout, unreachable, connection refused, malformed reply…
    case failure(String)
}

/// Something that can ask one server one question and wait for the answer.
public protocol DNSTransport: Sendable {
    func query(_ name: String, _ type: DNSRecordType, server: DNSServer, recursionDesired: Bool) -> DNSOutcome
}

/// Why a DNS question got no usable answer.
public struct DNSFailure: Error, Sendable {
    public let reason: String
}

extension DNSTransport {
    /// The apex of the zone holding `name` (absolute), asking an authoritative
    /// server directly: SOA at the name, else the SOA in the authority section,
    /// else the parent. Behind a CNAME the authority section speaks of the
    /// target's zone, so the parent is asked instead.
    /// - Returns: the zone, or why it could not be found.
    public func zone(of name: String, askingAuthoritative server: DNSServer) -> Result<String, DNSFailure> {
        var candidate = name
        while true {
            let response: DNSResponse
            switch query(candidate, .soa, server: server, recursionDesired: false) {
            case .failure(let reason):
                return .failure(DNSFailure(reason: "no answer from \(server): \(reason)"))
            case .response(let reply):
                response = reply
            }
            guard response.rcode.isAnswer else {
                return .failure(DNSFailure(reason: "\(response.rcode) from \(server) for SOA \(candidate)"))
            }
            if response.answers(at: candidate).contains(where: \.isSOA) {
                return .success(candidate)
            }
            if !response.answers(at: candidate).contains(where: \.isCNAME), let soa = response.authority.first(where: \.isSOA) {
                return .success(soa.owner)
            }
            guard let dot = candidate.dropLast().firstIndex(of: ".") else {
                return .failure(DNSFailure(reason: "\(server) names no zone above \(name)"))
            }
            candidate = String(candidate[candidate.index(after: dot)...])
        }
    }
}

/// Query settings: per-query timeout and retries. A truncated UDP answer is
/// always asked again over TCP (RFC 7766).
public struct DNSQueryOptions: Sendable, Hashable {
    public var timeout: Double
    public var retries: Int

    /// The defaults, for `--timeout`/`--retries` and the configuration's `dns:` alike.
    public static let defaultTimeout: Double = 2
    public static let defaultRetries = 2

    public init(timeout: Double = defaultTimeout, retries: Int = defaultRetries) {
        self.timeout = timeout
        self.retries = retries
    }

    /// Why `timeout` (seconds) is refused, or nil: more than 0, at most 60.
    public static func problem(timeout: Double) -> String? {
        timeout > 0 && timeout <= 60 ? nil : "timeout \(timeout) is out of range (allowed: more than 0, at most 60 seconds)"
    }

    /// Why `retries` is refused, or nil: 0 to 10.
    public static func problem(retries: Int) -> String? {
        (0...10).contains(retries) ? nil : "retries \(retries) is out of range (allowed: 0–10)"
    }
}

enum IPAddress {
    static func isValid(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    static func isIPv6(_ text: String) -> Bool { text.contains(":") }
}
