import Foundation

/// Which scheduler leads, as the registry's `scheduler_lease` row says (README, "Several
/// hosts: one leader").
///
/// The term grows by one each time a scheduler takes the lead. It is the fencing token: a
/// leader's registry (`KeyRegistry.fenced(toTerm:)`) checks it in every write transaction,
/// so a leader whose term is over — paused past its lease, cut off from the server — can
/// no longer commit anything once another has begun.
public struct SchedulerLease: Sendable, Equatable {
    public let term: Int64
    /// `user@host pid N` (`DKIMCTL_ACTOR` replaces `user@host`).
    public let holder: String
    public let since: Date
    public let renewedAt: Date
    public let expiresAt: Date
    /// When the holder let go (it stopped or its run ended); nil while it holds, or if it died.
    public let releasedAt: Date?
    /// When a leader last finished a tick over every domain (any leader, any term).
    public let tickedAt: Date?

    public init(term: Int64, holder: String, since: Date, renewedAt: Date, expiresAt: Date, releasedAt: Date?, tickedAt: Date?) {
        self.term = term
        self.holder = holder
        self.since = since
        self.renewedAt = renewedAt
        self.expiresAt = expiresAt
        self.releasedAt = releasedAt
        self.tickedAt = tickedAt
    }

    /// Held and renewed in time.
    public func isCurrent(at now: Date) -> Bool { releasedAt == nil && expiresAt > now }
}

/// The lock whose holder leads, held by a session of its own so that it goes when its holder
/// does: on PostgreSQL a session advisory lock on a dedicated connection (the server lets
/// it go when the process dies, or when the session stays silent longer than the lease);
/// with SQLite an `flock` in the state directory (one host).
public protocol LeaderLock: AnyObject, Sendable {
    /// Takes the lock if it is free; false if another process holds it.
    func tryAcquire() throws -> Bool
    /// Records that `term`'s holder is alive until `expiresAt`; false when another term has begun.
    func renew(term: Int64, at time: Date, expiresAt: Date) throws -> Bool
    /// Marks `term` released (if it is still the current one) and lets the lock go.
    func release(term: Int64, at time: Date)
}
