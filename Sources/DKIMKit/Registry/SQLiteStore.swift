import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode through GRDB, written only through
/// `BEGIN IMMEDIATE` transactions so that concurrent dkimctl processes queue up (busy
/// timeout) instead of failing half-way.
struct SQLiteStore: RegistryStore {
    let writer: any DatabaseWriter
    /// The database file, or nil in memory.
    let path: String?

    var label: String { "registry \(path ?? ":memory:")" }

    /// Seconds a writer waits for another process's transaction before giving up.
    static let busyTimeout: TimeInterval = 10

    /// Opens (and migrates) the file at `path`.
    static func open(path: String, create: Bool) throws -> SQLiteStore {
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
            return try SQLiteStore(writer: queue, path: path)
        } catch let error as DatabaseError {
            throw DKIMError(.registry, "registry \(path) cannot be opened: \(error.message ?? error.resultCode.description) (is it a registry written by dkimctl? restore it from a backup)")
        }
    }

    /// A store in memory, with the same schema and configuration (for tests).
    static func inMemory() throws -> SQLiteStore {
        try SQLiteStore(writer: DatabaseQueue(configuration: configuration()), path: nil)
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

    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        do {
            return try writer.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(GRDBSession(db))
                    return .commit
                }
                foldLogWhenLarge(db)
                return result!
            }
        } catch let error as DatabaseError {
            throw translate(error)
        }
    }

    /// Size of the write-ahead log past which a writer folds it into the database file.
    static let logFoldingThreshold: Int64 = 1 << 20

    /// Folds the write-ahead log into the database file and empties it once it passes
    /// `logFoldingThreshold`, after a commit.
    ///
    /// The registry's connections do not checkpoint when they close (two syncs saved per
    /// command), and each dkimctl process rebuilds the WAL's index from the log, which
    /// forgets what an earlier process already copied back. SQLite's own checkpoints would
    /// then never let the log start over: it would grow with every command, and every
    /// command would read all of it when it opens the registry (26 MB and 46 ms per `new`
    /// after 400 keys). Folding costs two or three syncs, once per megabyte of commits.
    /// It never waits: while another process reads or writes, the fold is left to a later
    /// commit. The commit is durable either way, so a failure here is not an error.
    private func foldLogWhenLarge(_ db: Database) {
        var log = stat()
        guard let path, stat(path + "-wal", &log) == 0, Int64(log.st_size) > Self.logFoldingThreshold else { return }
        let waitMilliseconds = Int(Self.busyTimeout * 1000)
        try? db.execute(sql: "PRAGMA busy_timeout = 0")
        _ = try? Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        try? db.execute(sql: "PRAGMA busy_timeout = \(waitMilliseconds)")
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        do {
            return try writer.read { db in try body(GRDBSession(db)) }
        } catch let error as DatabaseError {
            throw translate(error)
        }
    }

    /// Copies the write-ahead log back into the database and empties it, so that no older
    /// frame still holds an erased or re-wrapped envelope (`secure_delete` zeroed the freed bytes).
    func purgeOldVersions() throws {
        guard path != nil else { return }
        do {
            _ = try writer.writeWithoutTransaction { db in try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        } catch let error as DatabaseError {
            throw DKIMError(.registry, "\(label): checkpoint after erasing failed: \(error.message ?? error.resultCode.description)")
        }
    }

    /// Up to 64 MiB of page cache for bulk evidence (SQLite's default is 2 MiB): publishing
    /// 10,000 keys in one transaction dirties more pages than that, and spilling them
    /// mid-transaction halves the speed.
    func prepareForBulkWrite() throws {
        do {
            try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -65536") }
        } catch let error as DatabaseError {
            throw translate(error)
        }
    }

    /// SQLite's AUTOINCREMENT follows explicit ids by itself.
    func afterCopy(tables: [String], db: any SQLSession) throws {}

    /// `PRAGMA integrity_check`: `["ok"]` for a sound file, else SQLite's descriptions of the damage.
    func integrityCheck() throws -> [String] {
        try read { db in try db.strings(sql: "PRAGMA integrity_check") }
    }

    private func translate(_ error: DatabaseError) -> DKIMError {
        if error.resultCode == .SQLITE_BUSY {
            return DKIMError(.registry, "\(label) is busy: another dkimctl held it for more than \(Int(Self.busyTimeout)) s; try again")
        }
        if error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            return DKIMError(.conflict, "registry refused a duplicate: \(error.message ?? "unique constraint")")
        }
        return DKIMError(.registry, "\(label): \(error.message ?? error.resultCode.description)")
    }
}

/// A GRDB connection as an `SQLSession`: every statement is prepared once and cached.
final class GRDBSession: SQLSession {
    let db: Database

    init(_ db: Database) {
        self.db = db
    }

    private static func arguments(_ values: [any SQLBindable]) -> StatementArguments {
        StatementArguments(values.map { value -> DatabaseValue in
            switch value.sqlValue {
            case .null: .null
            case .integer(let number): number.databaseValue
            case .real(let number): number.databaseValue
            case .text(let text): text.databaseValue
            case .blob(let data): data.databaseValue
            }
        })
    }

    private static func row(_ row: Row, _ columns: SQLColumns) -> SQLRow {
        var values: [SQLValue] = []
        values.reserveCapacity(row.count)
        for index in 0..<row.count {
            switch (row[index] as DatabaseValue).storage {
            case .null: values.append(.null)
            case .int64(let number): values.append(.integer(number))
            case .double(let number): values.append(.real(number))
            case .string(let text): values.append(.text(text))
            case .blob(let data): values.append(.blob(data))
            }
        }
        return SQLRow(values: values, columns: columns)
    }

    func execute(sql: String, arguments: [any SQLBindable]) throws {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
    }

    func insert(sql: String, arguments: [any SQLBindable]) throws -> Int64 {
        try execute(sql: sql, arguments: arguments)
        return db.lastInsertedRowID
    }

    var changesCount: Int { db.changesCount }

    func rows(sql: String, arguments: [any SQLBindable]) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        var cursor = try cursor(sql: sql, arguments: arguments)
        while let row = try cursor.next() { rows.append(row) }
        return rows
    }

    func cursor(sql: String, arguments: [any SQLBindable]) throws -> any SQLCursor {
        let statement = try db.cachedStatement(sql: sql)
        return Cursor(rows: try Row.fetchCursor(statement, arguments: Self.arguments(arguments)), columns: SQLColumns(statement.columnNames))
    }

    func firstRow(sql: String, arguments: [any SQLBindable]) throws -> SQLRow? {
        var cursor = try cursor(sql: sql, arguments: arguments)
        return try cursor.next()
    }

    func tableExists(_ name: String) throws -> Bool {
        try db.tableExists(name)
    }

    struct Cursor: SQLCursor {
        let rows: RowCursor
        let columns: SQLColumns

        mutating func next() throws -> SQLRow? {
            try rows.next().map { GRDBSession.row($0, columns) }
        }
    }
}
