import Foundation

/// When each step of a slot's lifecycle is due, from its policy and its keys: the
/// one place these rules live. The rotation tick acts on them, its `next:` report
/// shows them, `revoke` checks the grace period with them and the audit's due and
/// overdue findings are derived from them, so none can disagree with another.
public struct SlotSchedule: Sendable {
    public let policy: SlotPolicy

    public init(policy: SlotPolicy) {
        self.policy = policy
    }

    /// A retired key is revoked once its grace period is over: retirement + `grace`.
    public func graceEnd(of key: RegisteredKey) -> Date? {
        guard key.state == .retired, let retiredAt = key.retiredAt else { return nil }
        return retiredAt.addingTimeInterval(TimeInterval(policy.grace.seconds))
    }

    /// When a retired key may be revoked: the end of its grace period; with `revokeAfterUnused`
    /// also that long after the last DMARC report showing it signing, when that report's
    /// period ends after the retirement (receivers still see mail signed with it).
    public func revocationDue(of key: RegisteredKey, lastSighting: Date?) -> Date? {
        guard let graceEnd = graceEnd(of: key) else { return nil }
        guard let quiet = policy.revokeAfterUnused, let seen = lastSighting, let retired = key.retiredAt, seen > retired else { return graceEnd }
        return max(graceEnd, seen.addingTimeInterval(TimeInterval(quiet.seconds)))
    }

    /// An active key still below the stable TTL gets it once the grace period after its
    /// activation is over (the previous key is gone by then): activation + `grace`.
    public func stableTTLDue(of key: RegisteredKey) -> Date? {
        guard key.state == .active, key.ttl < policy.stableTTL, let activatedAt = key.activatedAt else { return nil }
        return activatedAt.addingTimeInterval(TimeInterval(policy.grace.seconds))
    }

    /// The active key's successor is created `lead` before the key's rotation date.
    public func successorDue(of key: RegisteredKey) -> Date? {
        guard key.state == .active, let expires = key.expiresAt else { return nil }
        return expires.addingTimeInterval(-TimeInterval(policy.lead.seconds))
    }

    /// Whether the slot's keys already hold a key on its way (pending or published).
    public static func hasKeyOnTheWay(_ keys: [RegisteredKey]) -> Bool {
        keys.contains { [.pending, .published].contains($0.state) }
    }

    /// Why the slot needs a new key at `now`, or nil: its first key, a key after the active
    /// one was retired or revoked by hand, or the active key's successor within the lead time.
    public func newKeyReason(_ keys: [RegisteredKey], at now: Date) -> String? {
        if Self.hasKeyOnTheWay(keys) { return nil }
        guard let active = keys.first(where: { $0.state == .active }) else {
            return keys.isEmpty ? "first key of the slot" : "the slot has no active key"
        }
        guard let due = successorDue(of: active), due <= now, let expires = active.expiresAt else { return nil }
        return "successor of \(active.selector), rotation due \(Timestamp.iso8601(expires))"
    }

    /// A published key may become active at its first full pass + the propagation window.
    public func activationTime(publishedAt: Date?, recordTTL: Int?, negativeTTL: Int?) -> Date? {
        guard let publishedAt else { return nil }
        return publishedAt.addingTimeInterval(policy.activationPolicy.propagationWindow(recordTTL: recordTTL, negativeTTL: negativeTTL))
    }

    /// An active key at or past its rotation date.
    public static func isOverdue(_ key: RegisteredKey, at now: Date) -> Bool {
        guard key.state == .active, let expires = key.expiresAt else { return false }
        return expires <= now
    }
}
