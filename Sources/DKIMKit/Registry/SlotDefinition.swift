import Foundation

/// A slot's policy options as written, nil where not set: under `defaults:` and each of a
/// domain's `slots:` in the configuration file, and in the registry for the slots it defines
/// (`dkimctl slot add`). `SlotPolicyBuilder` checks them and applies the defaults.
public struct SlotOptions: Decodable, Sendable, Equatable {
    public var provider: String?
    public var usage: String?
    public var owner: String?
    public var algorithm: String?
    public var bits: Int?
    public var rotation: String?
    public var lead: String?
    public var grace: String?
    public var ttl: Int?
    public var stableTTL: Int?
    public var selectorPattern: String?
    public var revocation: String?
    public var reveal: Bool?
    public var propagation: String?
    public var attentionAfter: String?
    public var revokeAfterUnused: String?
    public var fromDomains: [String]?

    public init() {}

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case provider, usage, owner, algorithm, bits, rotation, lead, grace, ttl, stableTTL, selectorPattern, revocation,
            reveal, propagation, attentionAfter, revokeAfterUnused, fromDomains
    }
    static let slotOnlyKeys: Set<String> = ["provider", "usage", "fromDomains"]
}

/// A slot the registry defines (`dkimctl slot add`), as stored: its name, its owner and the
/// policy options set for it. What it does not set comes from the configuration's
/// `defaults:`, then the documented defaults, when the configuration includes it.
public struct SlotDefinition: Sendable, Equatable {
    public var domain: DomainName
    public var provider: Provider
    public var usage: Usage
    public var owner: Owner
    /// The options set (`provider`, `usage` and `owner` are the fields above, not these).
    public var options: SlotOptions
    public var definedAt: Date?
    public var changedAt: Date?

    public init(domain: DomainName, provider: Provider, usage: Usage, owner: Owner, options: SlotOptions = SlotOptions(), definedAt: Date? = nil, changedAt: Date? = nil) {
        self.domain = domain
        self.provider = provider
        self.usage = usage
        self.owner = owner
        var options = options
        options.provider = nil
        options.usage = nil
        options.owner = nil
        self.options = options
        self.definedAt = definedAt
        self.changedAt = changedAt
    }

    /// `example.org mailgun/notifications`.
    public var label: String { "\(domain) \(provider)/\(usage)" }

    /// The options as the configuration file would write them, with the slot's name and owner.
    public var writtenOptions: SlotOptions {
        var written = options
        written.provider = provider.identifier
        written.usage = usage.name
        written.owner = owner.address
        return written
    }
}

extension SlotOptions {
    /// The policy options set, as text, in the order of `CodingKeys` (`provider`, `usage` and
    /// `owner` included when set; lists joined by spaces): for events, listings and diffs.
    public var fields: [(key: String, value: String)] {
        var fields: [(key: String, value: String)] = []
        func add(_ key: CodingKeys, _ value: CustomStringConvertible?) {
            if let value { fields.append((key.rawValue, value.description)) }
        }
        add(.provider, provider)
        add(.usage, usage)
        add(.owner, owner)
        add(.algorithm, algorithm)
        add(.bits, bits)
        add(.rotation, rotation)
        add(.lead, lead)
        add(.grace, grace)
        add(.ttl, ttl)
        add(.stableTTL, stableTTL)
        add(.selectorPattern, selectorPattern)
        add(.revocation, revocation)
        add(.reveal, reveal)
        add(.propagation, propagation)
        add(.attentionAfter, attentionAfter)
        add(.revokeAfterUnused, revokeAfterUnused)
        add(.fromDomains, fromDomains?.joined(separator: " "))
        return fields
    }

    /// These options with `other`'s set ones laid over them.
    public func overlaid(with other: SlotOptions) -> SlotOptions {
        var merged = self
        merged.provider = other.provider ?? provider
        merged.usage = other.usage ?? usage
        merged.owner = other.owner ?? owner
        merged.algorithm = other.algorithm ?? algorithm
        merged.bits = other.bits ?? bits
        merged.rotation = other.rotation ?? rotation
        merged.lead = other.lead ?? lead
        merged.grace = other.grace ?? grace
        merged.ttl = other.ttl ?? ttl
        merged.stableTTL = other.stableTTL ?? stableTTL
        merged.selectorPattern = other.selectorPattern ?? selectorPattern
        merged.revocation = other.revocation ?? revocation
        merged.reveal = other.reveal ?? reveal
        merged.propagation = other.propagation ?? propagation
        merged.attentionAfter = other.attentionAfter ?? attentionAfter
        merged.revokeAfterUnused = other.revokeAfterUnused ?? revokeAfterUnused
        merged.fromDomains = other.fromDomains ?? fromDomains
        return merged
    }

    /// These options with `key` no longer set (its default applies again).
    /// - Returns: false when `key` is not a policy option that can be unset.
    public mutating func unset(_ key: CodingKeys) -> Bool {
        switch key {
        case .provider, .usage, .owner: return false
        case .algorithm: algorithm = nil
        case .bits: bits = nil
        case .rotation: rotation = nil
        case .lead: lead = nil
        case .grace: grace = nil
        case .ttl: ttl = nil
        case .stableTTL: stableTTL = nil
        case .selectorPattern: selectorPattern = nil
        case .revocation: revocation = nil
        case .reveal: reveal = nil
        case .propagation: propagation = nil
        case .attentionAfter: attentionAfter = nil
        case .revokeAfterUnused: revokeAfterUnused = nil
        case .fromDomains: fromDomains = nil
        }
        return true
    }
}

extension SlotOptions.CodingKeys {
    /// The key spelled as a command-line option: `stableTTL` → `stable-ttl`, `fromDomains` →
    /// `from-domain` (one domain per option).
    public var optionName: String {
        switch self {
        case .stableTTL: "stable-ttl"
        case .selectorPattern: "selector-pattern"
        case .attentionAfter: "attention-after"
        case .revokeAfterUnused: "revoke-after-unused"
        case .fromDomains: "from-domain"
        default: rawValue
        }
    }
}

/// What defining slots did: slots defined (new, or defined again after removal), changed, left as they were.
public struct SlotDefinitionCounts: Sendable, Equatable {
    public var defined = 0
    public var changed = 0
    public var unchanged = 0
    public init() {}
}
