/// What one sending route's provider can take and how its DKIM records look:
/// whether it accepts a key we generate (and which algorithms and sizes),
/// which selectors it manages itself (a TXT it generates, or a CNAME
/// delegation to its own zone), the selector convention, and the hand-off
/// template that tells the provider about our key.
///
/// The built-in profiles are data (`ProviderProfile.builtIn`); the
/// configuration's `providers:` section adds profiles for `custom:NAME`.
public struct ProviderProfile: Sendable, Equatable {
    /// Who generates the keypair behind a selector.
    public enum KeyGeneration: String, Sendable, Equatable, CaseIterable {
        /// dkimctl generates the key; the provider (or our MTA) signs with it.
        case local
        /// The provider generates the key and only shows the record to publish.
        case provider
    }

    /// How a provider-managed selector appears in our zone.
    public enum RecordStyle: String, Sendable, Equatable, CaseIterable {
        /// A TXT record holding the provider's public key, published by us.
        case txt
        /// A CNAME delegating the selector to the provider's zone; the provider rotates behind it.
        case cname
    }

    /// What the provider accepts when we bring our own key.
    public struct LocalKeys: Sendable, Equatable {
        public var algorithms: [KeyAlgorithm]
        /// Accepted RSA modulus sizes.
        public var rsaBits: [Int]
        /// Longest selector the provider accepts, in octets.
        public var maximumSelectorLength: Int?
        /// Whether the selector must be one DNS label (no dots).
        public var singleLabelSelector: Bool
        /// Name of the `handoff/` template that gives the key to the provider, if any.
        public var handoff: String?

        public init(
            algorithms: [KeyAlgorithm], rsaBits: [Int], maximumSelectorLength: Int? = nil,
            singleLabelSelector: Bool = false, handoff: String? = nil
        ) {
            self.algorithms = algorithms
            self.rsaBits = rsaBits
            self.maximumSelectorLength = maximumSelectorLength
            self.singleLabelSelector = singleLabelSelector
            self.handoff = handoff
        }
    }

    /// Selectors the provider generates and manages itself.
    public struct ManagedSelectors: Sendable, Equatable {
        public var style: RecordStyle
        /// The selectors the provider usually asks for (`google`, `selector1`, …); empty when they vary.
        public var selectors: [String]
        /// Domain suffixes of the provider's CNAME targets (e.g. `dkim.amazonses.com`).
        public var targetSuffixes: [String]
        /// How the provider names things, for people.
        public var convention: String

        public init(style: RecordStyle, selectors: [String], targetSuffixes: [String] = [], convention: String) {
            self.style = style
            self.selectors = selectors
            self.targetSuffixes = targetSuffixes
            self.convention = convention
        }
    }

    public let provider: Provider
    public var displayName: String
    /// What we may generate for this provider; nil when it only uses keys it generates itself.
    public var localKeys: LocalKeys?
    /// How the provider's own selectors look, for `track`; empty when it manages none.
    public var managed: [ManagedSelectors]
    /// Whether keys of this provider sign on our own MTA (they are what `export mta` exports).
    public var signsOnOwnMTA: Bool
    /// One line for people: what to know about this route.
    public var notes: String

    public init(
        provider: Provider, displayName: String, localKeys: LocalKeys?, managed: [ManagedSelectors] = [],
        signsOnOwnMTA: Bool = false, notes: String
    ) {
        self.provider = provider
        self.displayName = displayName
        self.localKeys = localKeys
        self.managed = managed
        self.signsOnOwnMTA = signsOnOwnMTA
        self.notes = notes
    }

    /// Who generates keys, as `providers` shows it: `local`, `provider`, or both.
    public var keyGeneration: [KeyGeneration] {
        (localKeys != nil ? [.local] : []) + (managed.isEmpty ? [] : [.provider])
    }

    /// The key sizes we may generate, as people read them: `rsa 1024, 2048; ed25519`.
    public var acceptedKeys: String {
        guard let localKeys else { return "none (the provider generates its keys)" }
        return localKeys.algorithms.map { algorithm in
            algorithm == .rsa ? "rsa " + localKeys.rsaBits.map(String.init).joined(separator: ", ") : algorithm.rawValue
        }.joined(separator: "; ")
    }

    /// Refuses a key this provider cannot take, saying what it accepts.
    public func check(_ specification: KeySpecification) throws {
        guard let localKeys else {
            throw DKIMError(
                .invalidInput, "provider \(provider) generates its own DKIM keys and cannot take one from dkimctl; register its selector instead",
                remedy: .track(provider: provider.identifier, selector: managed.first?.selectors.first))
        }
        guard localKeys.algorithms.contains(specification.algorithm) else {
            throw DKIMError.invalid(
                "provider \(provider) does not accept \(specification.algorithm) keys (accepted: \(acceptedKeys))")
        }
        if specification.algorithm == .rsa, !localKeys.rsaBits.contains(specification.bits) {
            throw DKIMError.invalid(
                "provider \(provider) does not accept \(specification.bits)-bit RSA keys (accepted: \(acceptedKeys))")
        }
    }

    /// Refuses a selector this provider cannot take, saying what it accepts.
    public func check(_ selector: Selector) throws {
        guard let localKeys else { return }
        if localKeys.singleLabelSelector, selector.name.contains(".") {
            throw DKIMError.invalid(
                "selector '\(selector)' has dots, which provider \(provider) does not accept (allowed: one label of letters, digits and hyphens)")
        }
        if let maximum = localKeys.maximumSelectorLength, selector.name.utf8.count > maximum {
            throw DKIMError.invalid(
                "selector '\(selector)' is \(selector.name.utf8.count) characters long; provider \(provider) accepts 1–\(maximum) of [a-zA-Z0-9-]")
        }
    }

    /// The profile of a `custom:NAME` provider the configuration does not describe:
    /// every key dkimctl generates, any managed selector.
    public static func permissive(_ provider: Provider) -> ProviderProfile {
        ProviderProfile(
            provider: provider, displayName: provider.selectorToken,
            localKeys: LocalKeys(algorithms: KeyAlgorithm.allCases, rsaBits: KeySpecification.rsaSizes),
            managed: [
                ManagedSelectors(style: .txt, selectors: [], convention: "any selector"),
                ManagedSelectors(style: .cname, selectors: [], convention: "any CNAME target"),
            ],
            notes: "custom provider: no constraints known; describe it under 'providers:' in the configuration")
    }
}
