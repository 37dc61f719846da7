import Foundation

/// The registry over a relational store: the rules, statements and transactions are the same
/// for SQLite (the embedded default, `open(path:create:)`) and for a server database; each
/// change is one write transaction of the store, with its event.
public struct SQLRegistry: KeyRegistry {
    let store: any RegistryStore
    /// Set on a leader's registry (`fenced(toTerm:)`): every write first checks the term is current.
    var fencingTerm: Int64?

    /// The SQLite file, or nil for a registry that is not one (in memory, a server database).
    public var path: String? { (store as? SQLiteStore)?.path }

    /// Seconds a writer waits for another process's transaction before giving up.
    public static let busyTimeout: TimeInterval = SQLiteStore.busyTimeout

    /// Opens (and migrates) the SQLite registry at `path`.
    /// - Parameter create: whether a missing file may be created (only `init` does).
    /// - Throws: `DKIMError.notInitialized` when the file is missing and `create` is false;
    ///   `DKIMError.registry` when it is not a dkimctl registry or was written by a newer version.
    public static func open(path: String, create: Bool) throws -> SQLRegistry {
        SQLRegistry(store: try SQLiteStore.open(path: path, create: create))
    }

    /// Opens (and migrates) the registry on a PostgreSQL server.
    /// - Throws: `DKIMError.registry` when the server cannot be reached or refuses the user,
    ///   or when the registry there was written by a newer dkimctl.
    public static func open(postgres settings: PostgresSettings) throws -> SQLRegistry {
        SQLRegistry(store: try PostgresStore.open(settings))
    }

    /// "registry /path/registry.sqlite", "registry postgres://user@host:port/db": where it is, for messages.
    public var label: String { store.label }

    /// A registry that lives in memory, with the same schema and configuration (for tests).
    public static func inMemory() throws -> SQLRegistry {
        SQLRegistry(store: try SQLiteStore.inMemory())
    }

    init(store: any RegistryStore) {
        self.store = store
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

    /// For an SQLite registry, `PRAGMA integrity_check`: `["ok"]` for a sound file, else SQLite's
    /// descriptions of the damage; nil for other stores.
    public func integrityCheck() throws -> [String]? {
        try (store as? SQLiteStore)?.integrityCheck()
    }

    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        guard let fencingTerm else { return try store.write(body) }
        return try store.write { db in
            try Self.checkTerm(fencingTerm, db)
            return try body(db)
        }
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try store.read(body)
    }

    static func meta(_ db: any SQLSession, _ name: String) throws -> String? {
        try db.string(sql: "SELECT value FROM registry_meta WHERE name = ?", arguments: [name])
    }

    static func setMeta(_ db: any SQLSession, _ name: String, _ value: String) throws {
        try db.execute(sql: "INSERT INTO registry_meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", arguments: [name, value])
    }
}
