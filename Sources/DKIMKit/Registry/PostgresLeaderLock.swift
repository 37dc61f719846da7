import Foundation
import Logging
import PostgresNIO

/// The leader lock on PostgreSQL: a session advisory lock held on a connection of its own
/// (never the one the registry's transactions use, never shared), renewed on that same
/// connection. The server lets the lock go when the holder's connection ends — the process
/// died or was killed — and, through `idle_session_timeout`, when the holder stays silent
/// longer than its lease (stopped, or cut off): then a follower takes the lock, begins the
/// next term, and the old holder's writes are refused by the fence.
final class PostgresLeaderLock: LeaderLock, @unchecked Sendable {
    // @unchecked Sendable: the connection is only used under `lock`.
    private let connection: PostgresConnection
    private let logger: Logger
    private let label: String
    private let lock = NSLock()
    private var closed = false

    /// The advisory lock the leader holds ("dkimctl scheduler leader").
    static let leaderLock: Int64 = 0x646B_696D_6374_6C02

    private init(connection: PostgresConnection, logger: Logger, label: String) {
        self.connection = connection
        self.logger = logger
        self.label = label
    }

    static func open(_ settings: PostgresSettings, lease: TimeInterval) throws -> PostgresLeaderLock {
        let (connection, logger) = try PostgresStore.connect(settings)
        let lock = PostgresLeaderLock(connection: connection, logger: logger, label: "registry \(settings.redacted)")
        let milliseconds = max(1000, Int((lease * 1000).rounded()))
        try lock.session().execute(sql: "SET idle_session_timeout = '\(milliseconds)ms'")
        return lock
    }

    deinit { close() }

    private func session() -> PostgresSession {
        PostgresSession(connection: connection, logger: logger, label: label)
    }

    func tryAcquire() throws -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw DKIMError(.registry, "\(label): the leader lock's connection is closed") }
        return try session().int64(sql: "SELECT CASE WHEN pg_try_advisory_lock(?) THEN 1 ELSE 0 END", arguments: [Self.leaderLock]) == 1
    }

    func renew(term: Int64, at time: Date, expiresAt: Date) throws -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return false }
        return try SQLRegistry.renew(session(), term: term, at: time, expiresAt: expiresAt)
    }

    func release(term: Int64, at time: Date) {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        try? SQLRegistry.release(session(), term: term, at: time)
        _ = try? session().int64(sql: "SELECT CASE WHEN pg_advisory_unlock(?) THEN 1 ELSE 0 END", arguments: [Self.leaderLock])
        closed = true
        try? connection.close().wait()
    }

    private func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        try? connection.close().wait()
    }
}
