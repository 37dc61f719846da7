import Foundation

/// When a published key may start signing, and for how long it then signs.
public struct ActivationPolicy: Sendable, Equatable {
    /// `expires_at` = activation + this (182 days: semiannual rotation, README "Proving publication through DNS").
    public var rotationPeriod: TimeSpan
    /// The shortest propagation window, whatever the TTLs say.
    public var minimumPropagation: TimeSpan

    /// Semiannual rotation: the default for `--rotation` and the configuration's `rotation`.
    public static let defaultRotation = TimeSpan(seconds: 182 * 86400)
    /// The shortest rotation period accepted anywhere.
    public static let minimumRotation = TimeSpan(seconds: 86400)

    /// Why `rotation` is refused, or nil.
    public static func problem(rotation: TimeSpan) -> String? {
        rotation.seconds >= minimumRotation.seconds ? nil : "rotation \(rotation) is too short (allowed: \(minimumRotation) or more; \(defaultRotation) recommended)"
    }

    public init(rotationPeriod: TimeSpan = defaultRotation, minimumPropagation: TimeSpan = TimeSpan(seconds: 0)) {
        self.rotationPeriod = rotationPeriod
        self.minimumPropagation = minimumPropagation
    }

    /// How long after the first full pass a key must wait: the larger of the
    /// record's TTL and, because dkimctl's selectors are new names that
    /// resolvers may have cached as non-existent, the zone's negative-caching
    /// TTL; never less than `minimumPropagation`.
    public func propagationWindow(recordTTL: Int?, negativeTTL: Int?) -> TimeInterval {
        TimeInterval(max(recordTTL ?? 0, negativeTTL ?? 0, minimumPropagation.seconds))
    }
}
