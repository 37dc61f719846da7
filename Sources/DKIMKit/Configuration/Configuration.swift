import Foundation

/// What `rotate` and `scheduler` manage: the policy for every configured slot,
/// how each domain's records reach DNS, and how DNS is asked.
/// Loaded and checked by `ConfigurationFile`.
public struct LifecycleConfiguration: Sendable {
    public var domains: [DomainConfiguration] {
        didSet { domainIndex = Self.index(domains) }
    }
    /// Position of each domain in `domains`: 100,000 registry-defined slots are looked up by domain.
    private var domainIndex: [DomainName: Int] = [:]
    public var dns: DNSSettings
    /// Built-in provider profiles plus the configuration's `custom:NAME` ones.
    public var providers: ProviderCatalog
    /// A directory of user templates overriding the embedded ones by name (`templates:`).
    public var templateDirectory: String?
    /// How long DMARC report sums and reports are kept (by the day their period begins).
    public var reportRetention = LifecycleConfiguration.defaultReportRetention
    public static let defaultReportRetention = TimeSpan(seconds: 400 * 86400)
    /// `defaults:` as written: the options a slot of the file or of the registry does not set.
    public var slotDefaults = SlotOptions()
    /// The owner `init` recorded: a slot's owner when neither it nor `defaults:` names one.
    public var defaultOwner: Owner?
    /// `registrySlots:` — how the records of domains only the registry names reach DNS,
    /// and their deploy hook (a domain of the file keeps its own).
    public var registryPublisher: PublisherConfiguration = .manual
    public var registryDeploy: String?
    /// `registry:`: the PostgreSQL registry's URL (commands read it before the rest, see `ConfigurationFile.registryURL`).
    public var registry: String?
    /// `keyStore:` and `keyEncryptionKey:`: where new private keys go, and the KEK that opens sealed ones.
    public var privateKeyStore = PrivateKeyStore.files
    /// Registry-defined slots the file also names: the file's policy is used for them.
    public private(set) var slotsDefinedTwice: [SlotDefinition] = []

    public init(
        domains: [DomainConfiguration] = [], dns: DNSSettings = DNSSettings(), providers: ProviderCatalog = ProviderCatalog(),
        templateDirectory: String? = nil
    ) {
        self.domains = domains
        self.dns = dns
        self.providers = providers
        self.templateDirectory = templateDirectory
        domainIndex = Self.index(domains)
    }

    private static func index(_ domains: [DomainConfiguration]) -> [DomainName: Int] {
        var index: [DomainName: Int] = [:]
        for (position, domain) in domains.enumerated() where index[domain.domain] == nil { index[domain.domain] = position }
        return index
    }

    /// Every configured slot, domain by domain: the file's in file order, then the registry's.
    public var slots: [SlotPolicy] { domains.flatMap(\.slots) }

    public func domain(_ name: DomainName) -> DomainConfiguration? {
        domainIndex[name].map { domains[$0] }
    }

    /// `registrySlots:`' publisher for one domain: a zone fragment's `{domain}` (in its file
    /// name and its reload command) becomes the domain, so that each domain keeps its own.
    func registryPublisher(for domain: DomainName) -> PublisherConfiguration {
        guard case .zonefile(let path, let reload) = registryPublisher else { return registryPublisher }
        return .zonefile(
            path: path.replacingOccurrences(of: "{domain}", with: domain.ascii),
            reload: reload?.replacingOccurrences(of: "{domain}", with: domain.ascii))
    }

    /// Whether a slot of this configuration is (domain, provider, usage).
    public func names(_ domain: DomainName, _ provider: Provider, _ usage: Usage) -> Bool {
        self.domain(domain)?.slots.contains { $0.provider == provider && $0.usage == usage } ?? false
    }

    /// The configuration with the slots the registry defines added: to the domain of the
    /// file they belong to (with its publisher and deploy hook), else to a domain of their
    /// own with `registrySlots:`' publisher. A slot the file names keeps the file's policy.
    /// Each definition is checked by the rules the file's slots are checked by.
    /// - Throws: `DKIMError.invalidInput` naming the registry slot and the option at fault.
    public func including(_ definitions: [SlotDefinition]) throws -> LifecycleConfiguration {
        guard !definitions.isEmpty else { return self }
        var merged = self
        var domains = self.domains
        var index = domainIndex
        var fileSlots = Set<String>()
        for domain in self.domains {
            for slot in domain.slots { fileSlots.insert("\(domain.domain.ascii) \(slot.provider.identifier)/\(slot.usage.name)") }
        }
        for definition in definitions {
            if fileSlots.contains("\(definition.domain.ascii) \(definition.provider.identifier)/\(definition.usage.name)") {
                merged.slotsDefinedTwice.append(definition)
                continue
            }
            let policy = try definition.policy(defaults: slotDefaults, catalog: providers, defaultOwner: defaultOwner)
            if let position = index[definition.domain] {
                domains[position].slots.append(policy)
            } else {
                index[definition.domain] = domains.count
                domains.append(DomainConfiguration(domain: definition.domain, publisher: registryPublisher(for: definition.domain), deploy: registryDeploy, slots: [policy]))
            }
        }
        merged.domains = domains
        return merged
    }

    /// The policy of the slot `key` belongs to, if that slot is configured.
    public func policy(for key: RegisteredKey) -> SlotPolicy? {
        domain(key.domain)?.slots.first { $0.provider == key.provider && $0.usage == key.usage }
    }

    /// The slot's configured policy, else the documented defaults with the key's own algorithm and
    /// size (for keys of slots the configuration does not name: grace, TTLs, revocation, successors).
    public func effectivePolicy(for key: RegisteredKey) -> SlotPolicy {
        if let configured = policy(for: key) { return configured }
        // Ed25519 has no size to choose; a tracked provider key of an unusual size falls back to RSA-2048.
        let specification = (try? KeySpecification(algorithm: key.algorithm, bits: key.algorithm == .rsa ? key.bits : nil))
            ?? (try! KeySpecification(algorithm: .rsa))
        return SlotPolicy(domain: key.domain, provider: key.provider, usage: key.usage, owner: key.owner, specification: specification)
    }
}

/// One domain: its publisher, its deploy hook and its slots.
public struct DomainConfiguration: Sendable {
    public var domain: DomainName
    public var publisher: PublisherConfiguration
    /// Shell command run after a key becomes active, is retired by hand, or is revoked.
    public var deploy: String?
    public var slots: [SlotPolicy]

    public init(domain: DomainName, publisher: PublisherConfiguration = .manual, deploy: String? = nil, slots: [SlotPolicy] = []) {
        self.domain = domain
        self.publisher = publisher
        self.deploy = deploy
        self.slots = slots
    }
}

/// The lifecycle policy of one slot, with every default applied.
public struct SlotPolicy: Sendable {
    public var domain: DomainName
    public var provider: Provider
    public var usage: Usage
    public var owner: Owner
    public var specification: KeySpecification
    public var selectorPattern: SelectorPattern
    /// A key expires (rotation due) this long after activation.
    public var rotation: TimeSpan
    /// The successor is created this long before the rotation is due.
    public var lead: TimeSpan
    /// A retired key's record stays published this long.
    public var grace: TimeSpan
    /// TTL while a record is new.
    public var ttl: Int
    /// TTL once the key has been active for the grace period.
    public var stableTTL: Int
    public var revocation: RevocationStyle
    /// Move revoked private keys to `<state-dir>/revealed/` instead of destroying them.
    public var reveal: Bool
    /// The shortest propagation window before activation.
    public var propagation: TimeSpan
    /// A key still not visible in DNS this long after its record was pushed needs attention.
    public var attentionAfter: TimeSpan
    /// Off (nil) by default. When set, a retired key is revoked only once DMARC aggregate
    /// reports have not shown it signing for this long (besides the grace period).
    public var revokeAfterUnused: TimeSpan?
    /// The From domains mail signed through this slot carries (DMARC alignment); the slot's domain by default.
    public var fromDomains: [DomainName]

    /// A slot with the documented defaults (`dkimctl config init` shows them):
    /// rotation 182d, lead 14d, grace 7d, TTL 1800 then 86400, empty-p revocation,
    /// no reveal, no minimum propagation, attention after 2d.
    public init(domain: DomainName, provider: Provider, usage: Usage, owner: Owner, specification: KeySpecification) {
        self.domain = domain
        self.provider = provider
        self.usage = usage
        self.owner = owner
        self.specification = specification
        selectorPattern = .default
        rotation = ActivationPolicy.defaultRotation
        lead = TimeSpan(seconds: 14 * 86400)
        grace = TimeSpan(seconds: 7 * 86400)
        ttl = PublishedRecord.defaultTTL
        stableTTL = 86400
        revocation = .emptyP
        reveal = false
        propagation = TimeSpan(seconds: 0)
        attentionAfter = TimeSpan(seconds: 2 * 86400)
        fromDomains = [domain]
    }

    public init(
        domain: DomainName, provider: Provider, usage: Usage, owner: Owner, specification: KeySpecification,
        selectorPattern: SelectorPattern, rotation: TimeSpan, lead: TimeSpan, grace: TimeSpan, ttl: Int, stableTTL: Int,
        revocation: RevocationStyle, reveal: Bool, propagation: TimeSpan, attentionAfter: TimeSpan, revokeAfterUnused: TimeSpan? = nil,
        fromDomains: [DomainName]? = nil
    ) {
        self.domain = domain
        self.provider = provider
        self.usage = usage
        self.owner = owner
        self.specification = specification
        self.selectorPattern = selectorPattern
        self.rotation = rotation
        self.lead = lead
        self.grace = grace
        self.ttl = ttl
        self.stableTTL = stableTTL
        self.revocation = revocation
        self.reveal = reveal
        self.propagation = propagation
        self.attentionAfter = attentionAfter
        self.revokeAfterUnused = revokeAfterUnused
        self.fromDomains = fromDomains ?? [domain]
    }

    public var activationPolicy: ActivationPolicy {
        ActivationPolicy(rotationPeriod: rotation, minimumPropagation: propagation)
    }

    /// `domain provider/usage`, for messages.
    public var label: String { "\(domain) \(provider)/\(usage)" }
}

/// How `rotate` asks DNS; command-line options override these.
public struct DNSSettings: Sendable, Equatable {
    public var nameservers: [DNSServer]
    public var resolvers: [DNSServer]
    public var authoritativePort: UInt16
    public var timeout: Double
    public var retries: Int

    public init(
        nameservers: [DNSServer] = [], resolvers: [DNSServer] = [], authoritativePort: UInt16 = 53,
        timeout: Double = DNSQueryOptions.defaultTimeout, retries: Int = DNSQueryOptions.defaultRetries
    ) {
        self.nameservers = nameservers
        self.resolvers = resolvers
        self.authoritativePort = authoritativePort
        self.timeout = timeout
        self.retries = retries
    }
}
