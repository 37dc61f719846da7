import Foundation

// The scheduler lease (`scheduler_lease`, one row named 'rotation') and the fence that
// checks its term in every write of a leader's tick.
extension SQLRegistry {
    static let leaseName = "rotation"

    public func schedulerLease() throws -> SchedulerLease? {
        try read { db in try Self.lease(db) }
    }

    /// Begins a new term for `holder` (the caller holds the leader lock): the term grows by one,
    /// in a write transaction like every other, so every write before it has committed and
    /// every write after it from an older term is refused.
    public func beginLeaderTerm(holder: String, at time: Date, lease: TimeInterval) throws -> SchedulerLease {
        try write { db in
            let now = Timestamp.iso8601Milliseconds(time)
            let expires = Timestamp.iso8601Milliseconds(time.addingTimeInterval(lease))
            try db.execute(
                sql: """
                    INSERT INTO scheduler_lease (name, term, holder, since, renewed_at, expires_at, released_at)
                    VALUES (?, 1, ?, ?, ?, ?, NULL)
                    ON CONFLICT (name) DO UPDATE SET term = scheduler_lease.term + 1, holder = excluded.holder, since = excluded.since,
                        renewed_at = excluded.renewed_at, expires_at = excluded.expires_at, released_at = NULL
                    """,
                arguments: [Self.leaseName, holder, now, now, expires])
            guard let lease = try Self.lease(db) else { throw DKIMError(.registry, "\(label): the scheduler lease was not written") }
            return lease
        }
    }

    /// This registry, whose every write transaction first checks that `term` is still the
    /// current one (else `DKIMError.notLeader`, nothing written).
    public func fenced(toTerm term: Int64) -> any KeyRegistry {
        var fenced = self
        fenced.fencingTerm = term
        return fenced
    }

    /// The dedicated-connection lock for PostgreSQL; nil for SQLite (the caller locks a file).
    public func sharedLeaderLock(lease: TimeInterval) throws -> (any LeaderLock)? {
        guard let store = store as? PostgresStore else { return nil }
        return try PostgresLeaderLock.open(store.settings, lease: lease)
    }

    /// Renews `term` through the registry's own store (the SQLite leader lock's renewal).
    public func renewLeaderTerm(_ term: Int64, at time: Date, expiresAt: Date) throws -> Bool {
        try write { db in try Self.renew(db, term: term, at: time, expiresAt: expiresAt) }
    }

    public func recordLeaderTick(_ term: Int64, at time: Date) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE scheduler_lease SET ticked_at = ? WHERE name = ? AND term = ?",
                arguments: [Timestamp.iso8601Milliseconds(time), Self.leaseName, term])
        }
    }

    public func releaseLeaderTerm(_ term: Int64, at time: Date) throws {
        try write { db in try Self.release(db, term: term, at: time) }
    }

    // MARK: - Statements, shared by the stores and the PostgreSQL lock's own connection

    static func renew(_ db: any SQLSession, term: Int64, at time: Date, expiresAt: Date) throws -> Bool {
        try db.execute(
            sql: "UPDATE scheduler_lease SET renewed_at = ?, expires_at = ? WHERE name = ? AND term = ? AND released_at IS NULL",
            arguments: [Timestamp.iso8601Milliseconds(time), Timestamp.iso8601Milliseconds(expiresAt), Self.leaseName, term])
        return db.changesCount == 1
    }

    static func release(_ db: any SQLSession, term: Int64, at time: Date) throws {
        let now = Timestamp.iso8601Milliseconds(time)
        try db.execute(
            sql: "UPDATE scheduler_lease SET released_at = ?, expires_at = ? WHERE name = ? AND term = ? AND released_at IS NULL",
            arguments: [now, now, Self.leaseName, term])
    }

    static func lease(_ db: any SQLSession) throws -> SchedulerLease? {
        guard let row = try db.row(sql: "SELECT term, holder, since, renewed_at, expires_at, released_at, ticked_at FROM scheduler_lease WHERE name = ?", arguments: [Self.leaseName])
        else { return nil }
        let decoder = RowDecoder(row, table: "scheduler_lease")
        return SchedulerLease(
            term: try decoder.int64(0), holder: try decoder.string(1), since: try decoder.date(2), renewedAt: try decoder.date(3),
            expiresAt: try decoder.date(4), releasedAt: try decoder.optionalDate(5), tickedAt: try decoder.optionalDate(6))
    }

    /// The fence: run first in every write transaction of a fenced registry.
    static func checkTerm(_ term: Int64, _ db: any SQLSession) throws {
        let current = try lease(db)
        guard let current, current.term == term else {
            throw DKIMError(
                .notLeader,
                "this scheduler's leadership (term \(term)) is over: \(current.map { "\($0.holder) leads since \(Timestamp.iso8601($0.since)) (term \($0.term))" } ?? "no scheduler leads"); nothing was written")
        }
    }
}
