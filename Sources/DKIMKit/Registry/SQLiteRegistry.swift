import Foundation
import GRDB

/// The embedded registry: one SQLite file in WAL mode, written only through
/// `BEGIN IMMEDIATE` transactions so that concurrent dkimctl processes queue
/// up (busy timeout) instead of failing half-way.
public struct SQLiteRegistry: KeyRegistry {
    let writer: any DatabaseWriter

    /// The database file, or nil for an in-memory registry.
    public let path: String?

    /// Seconds a writer waits for another process's transaction before giving up.
    public static let busyTimeout: TimeInterval = 10

    /// Opens (and migrates) the registry at `path`.
    /// - Parameter create: whether a missing file may be created (only `init` does).
    /// - Throws: `DKIMError.notInitialized` when the file is missing and `create` is false;
    ///   `DKIMError.registry` when it is not a dkimctl registry or was written by a newer version.
    public static func open(path: String, create: Bool) throws -> SQLiteRegistry {
        if !create, !FileManager.default.fileExists(atPath: path) {
            throw DKIMError(.notInitialized, "no registry at \(path)")
        }
        do {
            // One connection is all a dkimctl process needs. Unlike a DatabasePool, a
            // queue does not write to the file when it opens, so a refused command
            // leaves the registry byte for byte as it was.
            try SQLiteConnectionSettings.useVFS()
            let queue = try DatabaseQueue(path: path, configuration: configuration())
            let mode = try queue.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            if mode != "wal" {
                // WAL is a property of the file: set once, when the registry is created.
                _ = try queue.writeWithoutTransaction { db in try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") }
            }
            return try SQLiteRegistry(writer: queue, path: path)
        } catch let error as DatabaseError {
            throw DKIMError(.registry, "registry \(path) cannot be opened: \(error.message ?? error.resultCode.description) (is it a dkimctl registry? restore it from a backup)")
        }
    }

    /// A registry that lives in memory, with the same schema and configuration (for tests).
    public static func inMemory() throws -> SQLiteRegistry {
        try SQLiteRegistry(writer: DatabaseQueue(configuration: configuration()), path: nil)
    }

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            // The registry is an audit record: every commit reaches the disk.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Freed bytes are zeroed, not left in free space: a sealed private key moved by a page
            // split or erased by revocation leaves no stale copy in the file.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // One sync per command that commits once: no checkpoint when it closes.
            try SQLiteConnectionSettings.skipCheckpointOnClose(db)
        }
        return configuration
    }

    private init(writer: any DatabaseWriter, path: String?) throws {
        self.writer = writer
        self.path = path
        let migrator = RegistrySchema.migrator
        let superseded = try writer.read { db in try migrator.hasBeenSuperseded(db) }
        if superseded {
            throw DKIMError(.registry, "registry \(path ?? ":memory:") was written by a newer dkimctl; upgrade dkimctl to use it")
        }
        try migrator.migrate(writer)
    }

    public func defaultOwner() throws -> Owner? {
        try read { db in try Self.meta(db, "default_owner").map(Owner.init(trusted:)) }
    }

    @discardableResult

    public func setDefaultOwner(_ owner: Owner, actor: Actor, at time: Date) throws -> Bool {
        try write { db in
            let previous = try Self.meta(db, "default_owner")
            if previous == owner.address { return false }
            try Self.setMeta(db, "default_owner", owner.address)
            var details = ["owner": owner.address]
            if let previous { details["previous_owner"] = previous }
            try Self.append(EventDraft(action: "registry.default-owner-set", details: details), db: db, actor: actor, time: time)
            return true
        }
    }

    public func recordInitialisation(actor: Actor, at time: Date, details: [String: String]) throws {
        try write { db in
            if try Self.meta(db, "initialized_at") != nil { return }
            try Self.setMeta(db, "initialized_at", Timestamp.iso8601Milliseconds(time))
            try Self.append(EventDraft(action: "registry.initialized", details: details), db: db, actor: actor, time: time)
        }
    }

    /// `PRAGMA integrity_check`: `["ok"]` for a sound file, else SQLite's descriptions of the damage.
    public func integrityCheck() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as DatabaseError {
            throw translate(error)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.read(body)
        } catch let error as DatabaseError {
            throw translate(error)
        }
    }

    private func translate(_ error: DatabaseError) -> DKIMError {
        if error.resultCode == .SQLITE_BUSY {
            return DKIMError(.registry, "registry \(path ?? ":memory:") is busy: another dkimctl held it for more than \(Int(Self.busyTimeout)) s; try again")
        }
        if error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            return DKIMError(.conflict, "registry refused a duplicate: \(error.message ?? "unique constraint")")
        }
        return DKIMError(.registry, "registry \(path ?? ":memory:"): \(error.message ?? error.resultCode.description)")
    }

    static func meta(_ db: Database, _ name: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM registry_meta WHERE name = ?", arguments: [name])
    }

    static func setMeta(_ db: Database, _ name: String, _ value: String) throws {
        try db.cachedStatement(
            sql: "INSERT INTO registry_meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value"
        ).execute(arguments: [name, value])
    }
}
