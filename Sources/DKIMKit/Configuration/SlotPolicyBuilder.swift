import Foundation

/// Where a slot's options come from, to say where a problem is: the configuration file
/// (file, line, column and key path), a registry row, or command-line options.
protocol SlotOptionLocator {
    func error(_ path: [ConfigurationPath], _ message: String, remedy: Remedy?) -> DKIMError
}

extension SlotOptionLocator {
    func error(_ path: [ConfigurationPath], _ message: String) -> DKIMError { error(path, message, remedy: nil) }
}

extension ConfigurationDocument: SlotOptionLocator {}

/// A slot defined in the registry: problems name the slot and the option's key
/// (`registry slot example.org mailgun/notifications: rotation: …`), or the command-line
/// option (`--rotation: …`).
struct NamedSlotLocator: SlotOptionLocator {
    /// Put before the key, e.g. `registry slot example.org mailgun/notifications: `.
    let prefix: String
    /// Keys as command-line options (`--stable-ttl`) rather than as written in YAML (`stableTTL`).
    var asOptions = false

    func error(_ path: [ConfigurationPath], _ message: String, remedy: Remedy?) -> DKIMError {
        var key = ""
        if case .key(let first)? = path.first, first == "defaults" {
            key = "the configuration's " + ConfigurationPath.describe(path)
        } else if let last = path.last(where: { if case .key = $0 { return true } else { return false } }), case .key(let name) = last,
            name != "slots"
        {
            key = asOptions ? "--" + (SlotOptions.CodingKeys(rawValue: name)?.optionName ?? name) : name
        }
        return DKIMError(.invalidInput, prefix + (key.isEmpty ? "" : key + ": ") + message, remedy: remedy)
    }
}

/// Turns a slot's options (its own, then `defaults:`, then the documented defaults) into a
/// checked `SlotPolicy`: the one place the rules of a slot's policy live, for slots of the
/// configuration file and slots of the registry alike.
struct SlotPolicyBuilder {
    let locator: any SlotOptionLocator
    var defaultOwner: Owner?

    /// Runs `body`, turning a `DKIMError` into one located at `path`.
    private func at<T>(_ path: [ConfigurationPath], _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DKIMError {
            throw locator.error(path, error.message, remedy: error.remedy)
        }
    }

    func policy(
        _ slot: SlotOptions, defaults: SlotOptions, domain: DomainName, catalog: ProviderCatalog, at path: [ConfigurationPath]
    ) throws -> SlotPolicy {
        /// The slot's value for a key, else the default's, with the path of whichever was used.
        func pick<T>(_ field: KeyPath<SlotOptions, T?>, _ key: SlotOptions.CodingKeys) -> (T, [ConfigurationPath])? {
            if let value = slot[keyPath: field] { return (value, path + [.key(key.rawValue)]) }
            if let value = defaults[keyPath: field] { return (value, [.key("defaults"), .key(key.rawValue)]) }
            return nil
        }
        func span(_ field: KeyPath<SlotOptions, String?>, _ key: SlotOptions.CodingKeys, _ fallback: TimeSpan) throws -> TimeSpan {
            guard let (text, where_) = pick(field, key) else { return fallback }
            return try at(where_) { try TimeSpan(parsing: text) }
        }
        guard let providerName = slot.provider else {
            throw locator.error(path, "the key 'provider' is required (e.g. { provider: mailgun, usage: notifications })")
        }
        let provider = try at(path + [.key("provider")]) { try Provider(providerName) }
        let usage = try slot.usage.map { text in try at(path + [.key("usage")]) { try Usage(text) } } ?? .default
        let owner: Owner
        if let (text, where_) = pick(\.owner, .owner) {
            owner = try at(where_) { try Owner(text) }
        } else if let defaultOwner {
            owner = defaultOwner
        } else {
            throw locator.error(path, "no owner: set defaults.owner or the slot's owner", remedy: .recordDefaultOwner)
        }
        var algorithm = KeyAlgorithm.rsa
        if let (text, where_) = pick(\.algorithm, .algorithm) { algorithm = try at(where_) { try KeyAlgorithm(parsing: text) } }
        let bitsChoice = pick(\.bits, .bits)
        let specification = try at(bitsChoice?.1 ?? path) { try KeySpecification(algorithm: algorithm, bits: bitsChoice?.0) }
        try at(bitsChoice?.1 ?? pick(\.algorithm, .algorithm)?.1 ?? path + [.key("provider")]) {
            try catalog.profile(for: provider).check(specification)
        }
        // What is not configured keeps the documented default.
        let standard = SlotPolicy(domain: domain, provider: provider, usage: usage, owner: owner, specification: specification)
        var pattern = standard.selectorPattern
        if let (text, where_) = pick(\.selectorPattern, .selectorPattern) { pattern = try at(where_) { try SelectorPattern(text) } }
        let rotation = try span(\.rotation, .rotation, standard.rotation)
        let lead = try span(\.lead, .lead, standard.lead)
        let grace = try span(\.grace, .grace, standard.grace)
        let propagation = try span(\.propagation, .propagation, standard.propagation)
        let attention = try span(\.attentionAfter, .attentionAfter, standard.attentionAfter)
        var revokeAfterUnused: TimeSpan?
        if let (_, where_) = pick(\.revokeAfterUnused, .revokeAfterUnused) {
            let quiet = try span(\.revokeAfterUnused, .revokeAfterUnused, TimeSpan(seconds: 0))
            guard quiet.seconds >= 86400 else {
                throw locator.error(where_, "revokeAfterUnused \(quiet) is shorter than the day an aggregate report covers (allowed: 1d or more)")
            }
            revokeAfterUnused = quiet
        }
        if let problem = ActivationPolicy.problem(rotation: rotation) {
            throw locator.error(pick(\.rotation, .rotation)?.1 ?? path, problem)
        }
        if lead.seconds >= rotation.seconds {
            throw locator.error(pick(\.lead, .lead)?.1 ?? path, "lead \(lead) must be shorter than the rotation period \(rotation)")
        }
        var ttl = standard.ttl
        if let (value, where_) = pick(\.ttl, .ttl) {
            try at(where_) { try PublishedRecord.validateTTL(value) }
            ttl = value
        }
        var stableTTL = standard.stableTTL
        if let (value, where_) = pick(\.stableTTL, .stableTTL) {
            try at(where_) { try PublishedRecord.validateTTL(value) }
            guard value >= ttl else { throw locator.error(where_, "stableTTL \(value) is below ttl \(ttl) (allowed: ttl or more)") }
            stableTTL = value
        } else {
            stableTTL = max(stableTTL, ttl)
        }
        var revocation = standard.revocation
        if let (text, where_) = pick(\.revocation, .revocation) {
            guard let style = RevocationStyle(rawValue: text) else {
                throw locator.error(where_, "revocation '\(text)' is not known (allowed: \(RevocationStyle.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            revocation = style
        }
        return SlotPolicy(
            domain: domain, provider: provider, usage: usage, owner: owner, specification: specification, selectorPattern: pattern,
            rotation: rotation, lead: lead, grace: grace, ttl: ttl, stableTTL: stableTTL, revocation: revocation,
            reveal: pick(\.reveal, .reveal)?.0 ?? standard.reveal, propagation: propagation, attentionAfter: attention,
            revokeAfterUnused: revokeAfterUnused,
            fromDomains: try slot.fromDomains.map { names in
                try names.enumerated().map { index, name in try at(path + [.key("fromDomains"), .index(index)]) { try DomainName(name) } }
            })
    }

}

extension SlotDefinition {
    /// Where a definition comes from, to say where a problem lies.
    public enum Source: Sendable {
        /// A row of the registry: `registry slot example.org mailgun/noreply: rotation: …`.
        case registry
        /// Command-line options: `--rotation: …`.
        case options
        /// A line of a file of definitions: `slots.jsonl:12: rotation: …`.
        case line(file: String, number: Int)
    }

    /// The slot's checked policy under the configuration's `defaults:`, by the rules a slot of
    /// the configuration file is checked by.
    public func policy(defaults: SlotOptions, catalog: ProviderCatalog, defaultOwner: Owner?, source: Source = .registry) throws -> SlotPolicy {
        let locator: NamedSlotLocator
        switch source {
        case .registry: locator = NamedSlotLocator(prefix: "registry slot \(label): ")
        case .options: locator = NamedSlotLocator(prefix: "", asOptions: true)
        case .line(let file, let number): locator = NamedSlotLocator(prefix: "\(file):\(number): ")
        }
        return try SlotPolicyBuilder(locator: locator, defaultOwner: defaultOwner)
            .policy(writtenOptions, defaults: defaults, domain: domain, catalog: catalog, at: [])
    }
}
