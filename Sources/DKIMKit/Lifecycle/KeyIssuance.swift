import Foundation

/// Everything `dkimctl new` asks for, already validated into domain types.
public struct KeyRequest: Sendable {
    public var domain: DomainName
    public var provider: Provider
    public var usage: Usage
    public var owner: Owner
    public var specification: KeySpecification
    /// An explicit selector; nil to name one from `pattern` and today's date.
    public var selector: Selector?
    public var pattern: SelectorPattern
    public var ttl: Int
    public var recordOptions: RecordOptions
    /// What the provider accepts; the key and its selector are checked against it.
    public var profile: ProviderProfile

    /// - Parameter profile: the provider's profile, from the configuration's catalogue
    ///   (custom providers included): there is no default that could silently skip them.
    public init(
        domain: DomainName, provider: Provider, usage: Usage = .default, owner: Owner,
        specification: KeySpecification, selector: Selector? = nil, pattern: SelectorPattern = .default,
        ttl: Int = PublishedRecord.defaultTTL, recordOptions: RecordOptions = RecordOptions(), profile: ProviderProfile
    ) {
        self.profile = profile
        self.domain = domain
        self.provider = provider
        self.usage = usage
        self.owner = owner
        self.specification = specification
        self.selector = selector
        self.pattern = pattern
        self.ttl = ttl
        self.recordOptions = recordOptions
    }
}

/// Generates, stores and registers new keys.
public struct KeyIssuer: Sendable {
    public let registry: any KeyRegistry
    public let state: StateDirectory
    public let actor: Actor
    /// Where the private keys go: files in `keys/`, or sealed in the registry.
    public let store: PrivateKeyStore

    public init(registry: any KeyRegistry, state: StateDirectory, actor: Actor, store: PrivateKeyStore = .files) {
        self.registry = registry
        self.state = state
        self.actor = actor
        self.store = store
    }

    /// Generates a keypair for `request`, writes its private key file, then
    /// registers it as `pending`, in that order: a crash in between leaves at
    /// most an unreferenced file, never a row without its key. With the registry
    /// store, the sealed key is stored with its row, in the same transaction.
    ///
    /// Nothing is written when any check fails; a key file whose registration
    /// fails is removed again.
    /// - Throws: `DKIMError` (`.invalidInput`, `.conflict`, `.crypto`, `.io`, `.registry`).
    public func issue(_ request: KeyRequest, at time: Date) throws -> RegisteredKey {
        try issue(request, keyPair: nil, adoptingOrphans: false, at: time)
    }

    /// Checks a request without generating anything (`rotate` checks before
    /// generating keys in parallel).
    public func validate(_ request: KeyRequest) throws {
        try request.profile.check(request.specification)
        if let selector = request.selector { try request.profile.check(selector) }
        try PublishedRecord.validateTTL(request.ttl)
        try request.recordOptions.validate()
    }

    /// - Parameters:
    ///   - keyPair: a keypair generated beforehand (`rotate` generates many in parallel); nil to generate one.
    ///   - adoptingOrphans: register a key file that an interrupted run left under
    ///     the pattern's name today (written, never registered) instead of a new
    ///     key, so that a crashed `rotate` resumes exactly where it stopped.
    public func issue(_ request: KeyRequest, keyPair given: KeyPair?, adoptingOrphans: Bool, at time: Date) throws -> RegisteredKey {
        try validate(request)
        let explicit = request.selector
        var candidates: SelectorCandidates
        if let explicit {
            try checkFree(explicit, in: request.domain)
            candidates = SelectorCandidates(explicit: explicit)
        } else {
            if adoptingOrphans, let adopted = try adoptOrphan(for: request, at: time) { return adopted }
            candidates = try freeCandidates(for: request, at: time)
        }

        let keyPair = try given ?? KeyPair.generate(request.specification)
        let pem = try keyPair.pkcs8PEM()
        if store.kind == .registry {
            return try issueSealed(request, pem: pem, keyPair: keyPair, candidates: candidates, explicit: explicit, at: time)
        }

        // Another process may take the same automatic name meanwhile: the
        // registry's unique constraint decides, and the next free name is tried.
        while let selector = try candidates.next() {
            try request.profile.check(selector)
            let name = try KeyRecordName(selector: selector, domain: request.domain)
            let path = state.privateKeyPath(for: name)
            do {
                try PrivateKeyFile.write(pem, to: path)
            } catch let error as DKIMError where error.kind == .conflict && explicit == nil {
                continue
            }
            FaultInjection.point("key-file-written")
            do {
                return try register(request, selector: selector, keyPair: keyPair, path: path, at: time)
            } catch let error as DKIMError where error.kind == .conflict && explicit == nil {
                PrivateKeyFile.discard(path)
                continue
            } catch {
                PrivateKeyFile.discard(path)
                throw error
            }
        }
        throw Self.noFreeSelector(request)
    }

    private static func noFreeSelector(_ request: KeyRequest) -> DKIMError {
        DKIMError(.conflict, "no free selector left for \(request.provider)/\(request.usage) in \(request.domain) today (tried up to the suffix 'z')")
    }

    /// The registry store: no file; the key is sealed for its record name and registered with it.
    private func issueSealed(
        _ request: KeyRequest, pem: Data, keyPair: KeyPair, candidates: SelectorCandidates, explicit: Selector?, at time: Date
    ) throws -> RegisteredKey {
        let kek = try store.kek(for: "sealing the private key of a new \(request.provider)/\(request.usage) key")
        var candidates = candidates
        while let selector = try candidates.next() {
            try request.profile.check(selector)
            let name = try KeyRecordName(selector: selector, domain: request.domain)
            let sealed = try KeyEnvelope.seal(pem, recordName: name.relative, fingerprint: keyPair.fingerprint, under: kek)
            do {
                return try register(request, selector: selector, keyPair: keyPair, path: nil, sealed: sealed, at: time)
            } catch let error as DKIMError where error.kind == .conflict && explicit == nil {
                continue
            }
        }
        throw Self.noFreeSelector(request)
    }

    private func register(
        _ request: KeyRequest, selector: Selector, keyPair: KeyPair, path: String?, sealed: SealedPrivateKey? = nil, at time: Date
    ) throws -> RegisteredKey {
        try registry.register(
            NewKeyRegistration(
                domain: request.domain, provider: request.provider, usage: request.usage,
                owner: request.owner, selector: selector, algorithm: keyPair.algorithm,
                bits: keyPair.bits, publicKey: keyPair.dkimPublicKey, fingerprint: keyPair.fingerprint,
                privateKeyPath: path.map { ($0 as NSString).lastPathComponent }, sealedPrivateKey: sealed,
                ttl: request.ttl, recordOptions: request.recordOptions),
            actor: actor, at: time)
    }

    /// A key file under today's pattern name that no registry row references,
    /// holding a key of the requested algorithm and size with mode 0600: registered as is.
    private func adoptOrphan(for request: KeyRequest, at time: Date) throws -> RegisteredKey? {
        let base = try request.pattern.selector(provider: request.provider, usage: request.usage, date: time)
        let taken = try registry.selectors(of: request.domain, startingWith: base.name)
        for suffix in SelectorPattern.sameDaySuffixes {
            let selector = try Selector(base.name + suffix)
            guard !taken.contains(selector.name) else { continue }
            let path = state.privateKeyPath(for: try KeyRecordName(selector: selector, domain: request.domain))
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            guard info.st_mode & 0o077 == 0, let pem = FileManager.default.contents(atPath: path),
                let keyPair = try? KeyPair(pem: pem), keyPair.algorithm == request.specification.algorithm,
                keyPair.bits == request.specification.bits
            else { continue }
            return try register(request, selector: selector, keyPair: keyPair, path: path, at: time)
        }
        return nil
    }

    private func checkFree(_ selector: Selector, in domain: DomainName) throws {
        let name = try KeyRecordName(selector: selector, domain: domain)
        if try registry.key(selector: selector, domain: domain) != nil {
            throw DKIMError(.conflict, "selector '\(selector)' already exists for \(domain); choose another selector")
        }
        let path = state.privateKeyPath(for: name)
        if FileManager.default.fileExists(atPath: path) {
            throw DKIMError(.conflict, "key file \(path) exists but is not in the registry (left by an interrupted run?); move it away or choose another selector")
        }
    }

    /// The pattern's selector for `time`, then the same with `b`, `c`, … appended,
    /// leaving out names already registered or holding a key file (looked at one by one,
    /// as they are tried: usually the first is free).
    private func freeCandidates(for request: KeyRequest, at time: Date) throws -> SelectorCandidates {
        let base = try request.pattern.selector(provider: request.provider, usage: request.usage, date: time)
        let taken = try registry.selectors(of: request.domain, startingWith: base.name)
        var candidates = SelectorCandidates(base: base, isFree: { selector in
            let name = try KeyRecordName(selector: selector, domain: request.domain)
            return !taken.contains(selector.name) && !FileManager.default.fileExists(atPath: state.privateKeyPath(for: name))
        })
        guard try candidates.peek() != nil else {
            throw DKIMError(.conflict, "no free selector left for \(request.provider)/\(request.usage) in \(request.domain) today (\(base)…\(base)z are all taken)")
        }
        return candidates
    }
}

/// The selectors a new key may take, in order: one given on the command line, or the
/// pattern's name then its same-day suffixes, each checked only when it is reached.
struct SelectorCandidates {
    private let base: Selector
    private let isFree: (Selector) throws -> Bool
    private var suffixes: ArraySlice<String>
    private var peeked: Selector?

    /// The given selector alone (checked by the caller).
    init(explicit: Selector) {
        self.init(base: explicit, suffixes: [""], isFree: { _ in true })
    }

    init(base: Selector, suffixes: [String] = SelectorPattern.sameDaySuffixes, isFree: @escaping (Selector) throws -> Bool) {
        self.base = base
        self.suffixes = suffixes[...]
        self.isFree = isFree
    }

    /// The next candidate, or nil when none is left.
    mutating func next() throws -> Selector? {
        if let peeked {
            self.peeked = nil
            return peeked
        }
        while let suffix = suffixes.popFirst() {
            let selector = try Selector(base.name + suffix)
            if try isFree(selector) { return selector }
        }
        return nil
    }

    /// The candidate `next()` will return, without consuming it.
    mutating func peek() throws -> Selector? {
        if peeked == nil { peeked = try next() }
        return peeked
    }
}
