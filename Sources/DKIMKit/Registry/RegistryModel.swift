import Foundation

/// The optional tags of a key record that a user chooses at generation time.
public struct RecordOptions: Sendable, Equatable {
    /// `h=`: hash algorithms the key may be used with (dkimctl only offers `sha256`).
    public var hashAlgorithms: [String]?
    /// `s=`: service types (`email` or `*`).
    public var serviceTypes: [String]?
    /// `t=`: flags `y` (testing) and `s` (strict: no subdomains in `i=`).
    public var flags: [String]
    /// `n=`: notes for people.
    public var notes: String?
    /// The longest `n=` accepted, in octets before quoted-printable encoding.
    public static let maximumNotesLength = 200

    public init(hashAlgorithms: [String]? = nil, serviceTypes: [String]? = nil, flags: [String] = [], notes: String? = nil) {
        self.hashAlgorithms = hashAlgorithms
        self.serviceTypes = serviceTypes
        self.flags = flags
        self.notes = notes
    }

    /// Refuses tag values dkimctl would not publish: unknown flags, hash
    /// algorithms other than sha256 (RFC 8301), service types other than
    /// `email` and `*`, notes with control characters.
    public func validate() throws {
        for flag in flags where !["y", "s"].contains(flag) {
            throw DKIMError.invalid("flag '\(flag)' is not a DKIM key flag (allowed: y, s)")
        }
        for algorithm in hashAlgorithms ?? [] where algorithm != "sha256" {
            throw DKIMError.invalid("hash algorithm '\(algorithm)' is not allowed (allowed: sha256; rsa-sha1 is obsolete per RFC 8301)")
        }
        for service in serviceTypes ?? [] where !["email", "*"].contains(service) {
            throw DKIMError.invalid("service type '\(service)' is not allowed (allowed: email, *)")
        }
        if let notes, notes.utf8.count > Self.maximumNotesLength {
            throw DKIMError.invalid("notes are \(notes.utf8.count) octets long (allowed: at most \(Self.maximumNotesLength); they are published in every DNS answer)")
        }
        if let notes, notes.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw DKIMError.invalid("notes '\(notes.debugDescription.dropFirst().dropLast())' contain a control character (allowed: printable text)")
        }
    }
}

/// A key as the registry knows it. Never holds private key material: only the
/// path of the file that does, or whether the registry keeps it sealed.
public struct RegisteredKey: Sendable, Equatable {
    public let id: Int64
    public let slotID: Int64
    public let domain: DomainName
    public let provider: Provider
    public let usage: Usage
    public let owner: Owner
    public let selector: Selector
    public let algorithm: KeyAlgorithm
    public let bits: Int
    public let state: KeyState
    /// The `p=` value, base64.
    public let publicKey: String
    /// `sha256:<hex>` of the decoded `p=` bytes.
    public let fingerprint: String
    /// As stored: a file name in the state directory's `keys/` (older registries: an absolute
    /// path). `StateDirectory.privateKeyFile(of:)` resolves and checks it.
    public internal(set) var privateKeyPath: String?
    /// Whether the registry keeps the private key, sealed (`keyStore: registry`), instead of a file.
    public let privateKeyInRegistry: Bool
    public let ttl: Int
    public let recordOptions: RecordOptions
    public let createdAt: Date
    public let publishedAt: Date?
    public let activatedAt: Date?
    public let expiresAt: Date?
    public let retiredAt: Date?
    public let revokedAt: Date?
    /// What was last pushed to DNS through a publisher; nil if nothing was.
    public let publication: RecordPublication?
    /// A deploy hook still owed for this key (set with the state change, cleared once the hook succeeded).
    public let pendingDeploy: DeployAction?
    /// What became of the private key file after revocation, and when.
    public let privateKeyDisposal: PrivateKeyDisposal?
    public let privateKeyDisposedAt: Date?
    public let revocationReason: String?
    /// `local` (we generated it) or `external` (a provider-managed selector we track).
    public let kind: KeyKind
    /// For a tracked selector delegated by CNAME: where it points.
    public let cnameTarget: String?
    /// For a tracked selector: when DNS last served this key.
    public let lastSeenAt: Date?

    /// `<selector>._domainkey.<domain>`; valid by construction (checked at registration).
    public var recordName: KeyRecordName {
        // The registry only stores names that passed `KeyRecordName`'s checks.
        try! KeyRecordName(selector: selector, domain: domain)
    }

    /// The key record this key publishes.
    public var record: DKIMKeyRecord {
        DKIMKeyRecord(
            hashAlgorithms: recordOptions.hashAlgorithms, keyType: algorithm.rawValue,
            notes: recordOptions.notes, publicKey: publicKey,
            serviceTypes: recordOptions.serviceTypes, flags: recordOptions.flags)
    }

    /// The same key with `privateKeyPath` replaced (by the resolved file, for templates and messages).
    public func withPrivateKeyPath(_ path: String?) -> RegisteredKey {
        var copy = self
        copy.privateKeyPath = path
        return copy
    }

    public var publishedRecord: PublishedRecord {
        PublishedRecord(name: recordName, ttl: ttl, record: record)
    }
}

/// Whose key a registry row describes.
public enum KeyKind: String, Sendable, Equatable, CaseIterable {
    /// Generated by dkimctl; its private key file is ours and the lifecycle drives it.
    case local
    /// A provider-managed selector (`dkimctl track`): its key is read from DNS, never held.
    case external
}

/// Where a new key goes: its slot (domain, provider, usage, owner) and its selector.
public protocol KeyPlacement: Sendable {
    var domain: DomainName { get }
    var provider: Provider { get }
    var usage: Usage { get }
    var owner: Owner { get }
    var selector: Selector { get }
}

/// A provider-managed selector to track, with the key DNS serves for it now.
public struct ExternalKeyRegistration: KeyPlacement {
    public var domain: DomainName
    public var provider: Provider
    public var usage: Usage
    public var owner: Owner
    public var selector: Selector
    public var observation: ExternalKeyObservation

    public init(domain: DomainName, provider: Provider, usage: Usage, owner: Owner, selector: Selector, observation: ExternalKeyObservation) {
        self.domain = domain
        self.provider = provider
        self.usage = usage
        self.owner = owner
        self.selector = selector
        self.observation = observation
    }
}

/// What DNS serves for a tracked selector: the key record and, if delegated, the CNAME target.
public struct ExternalKeyObservation: Sendable, Equatable {
    public var record: DKIMKeyRecord
    public var algorithm: KeyAlgorithm
    public var bits: Int
    public var fingerprint: String
    public var cnameTarget: String?
    public var ttl: Int

    public init(record: DKIMKeyRecord, algorithm: KeyAlgorithm, bits: Int, fingerprint: String, cnameTarget: String?, ttl: Int) {
        self.record = record
        self.algorithm = algorithm
        self.bits = bits
        self.fingerprint = fingerprint
        self.cnameTarget = cnameTarget
        self.ttl = ttl
    }
}

/// What a caller asks the registry to record for a freshly generated key.
public struct NewKeyRegistration: KeyPlacement {
    public var domain: DomainName
    public var provider: Provider
    public var usage: Usage
    public var owner: Owner
    public var selector: Selector
    public var algorithm: KeyAlgorithm
    public var bits: Int
    public var publicKey: String
    public var fingerprint: String
    /// The key file's name in `keys/`; nil when the registry keeps the key sealed.
    public var privateKeyPath: String?
    /// The private key sealed for the registry (`keyStore: registry`), stored with the key.
    public var sealedPrivateKey: SealedPrivateKey?
    public var ttl: Int
    public var recordOptions: RecordOptions

    public init(
        domain: DomainName, provider: Provider, usage: Usage, owner: Owner, selector: Selector,
        algorithm: KeyAlgorithm, bits: Int, publicKey: String, fingerprint: String,
        privateKeyPath: String?, sealedPrivateKey: SealedPrivateKey? = nil, ttl: Int, recordOptions: RecordOptions
    ) {
        self.sealedPrivateKey = sealedPrivateKey
        self.domain = domain
        self.provider = provider
        self.usage = usage
        self.owner = owner
        self.selector = selector
        self.algorithm = algorithm
        self.bits = bits
        self.publicKey = publicKey
        self.fingerprint = fingerprint
        self.privateKeyPath = privateKeyPath
        self.ttl = ttl
        self.recordOptions = recordOptions
    }
}

/// Which keys a listing wants; nil fields match everything.
public struct KeyFilter: Sendable, Equatable {
    public var domain: DomainName?
    public var provider: Provider?
    public var usage: Usage?
    public var owner: String?
    public var states: [KeyState]
    /// Only keys whose `expires_at` is at or before this instant.
    public var expiringBefore: Date?
    /// Only keys of these kinds; empty for all.
    public var kinds: [KeyKind]

    public init(
        domain: DomainName? = nil, provider: Provider? = nil, usage: Usage? = nil, owner: String? = nil,
        states: [KeyState] = [], expiringBefore: Date? = nil, kinds: [KeyKind] = []
    ) {
        self.kinds = kinds
        self.domain = domain
        self.provider = provider
        self.usage = usage
        self.owner = owner
        self.states = states
        self.expiringBefore = expiringBefore
    }
}

/// Who did something, as the event log records it: `user@host`.
public struct Actor: Sendable, Equatable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) { self.name = name }

    /// The effective user and the host name, or `DKIMCTL_ACTOR` when set
    /// (for automation that acts on a person's behalf).
    public static func current(environment: (String) -> String? = ProcessEnvironment.value) -> Actor {
        if let name = environment("DKIMCTL_ACTOR"), !name.isEmpty { return Actor(name) }
        var user = "uid\(geteuid())"
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { user = String(cString: name) }
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Actor("\(user)@\(hostName.isEmpty ? "localhost" : hostName)")
    }

    public var description: String { name }
}

/// A DNS check as stored in the registry.
public struct StoredCheck: Sendable, Equatable {
    public let id: Int64
    public let checkedAt: Date
    public let actor: String
    public let verdict: CheckStatus
    public let recordTTL: Int?
    public let negativeTTL: Int?
    public let problems: [String]
    public let servers: [StoredServerCheck]
}

/// A stored check in brief: when, the verdict, how many servers answered for it.
public struct CheckSummary: Sendable, Equatable {
    public let checkedAt: Date
    public let verdict: CheckStatus
    public let servers: Int
}

/// One server's answer within a stored check.
public struct StoredServerCheck: Sendable, Equatable {
    public let zone: String
    public let name: String
    public let server: String
    public let address: String
    public let port: Int
    public let status: CheckStatus
    public let serial: Int?
    public let ttl: Int?
    public let detail: String
}

extension RegisteredKey {
    /// Refuses, for a tracked provider-managed selector, what only dkimctl's own keys can do.
    /// - Parameter what: the refused action, e.g. "it cannot be activated by dkimctl".
    public func requireLocal(_ what: String) throws {
        guard kind == .local else {
            throw DKIMError(
                .conflict,
                "key \(selector) of \(domain) is a tracked selector managed by \(provider): \(what)")
        }
    }
}

extension ExpectedKey {
    /// What `key` must serve: its own record's flags for dkimctl's keys, any for tracked ones.
    public init(_ key: RegisteredKey) {
        self.init(algorithm: key.algorithm, publicKey: key.publicKey, flags: key.kind == .local ? key.recordOptions.flags : nil)
    }
}

extension RecordOptions {
    /// The `hash_algorithms`, `service_types`, `flags` and `notes` columns as stored: lists
    /// joined with `:`, no flags as NULL. The one encoder; `decodeKey` reads them back.
    var columnValues: [any SQLBindable] {
        [hashAlgorithms?.joined(separator: ":"), serviceTypes?.joined(separator: ":"), flags.isEmpty ? nil : flags.joined(separator: ":"), notes]
    }
}

extension DKIMKeyRecord {
    /// The record's optional tags, as the registry stores them for a key.
    var options: RecordOptions {
        RecordOptions(hashAlgorithms: hashAlgorithms, serviceTypes: serviceTypes, flags: flags, notes: notes)
    }
}
