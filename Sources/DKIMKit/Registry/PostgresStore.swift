import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// The registry on a PostgreSQL server (fleets): one connection per process, used by one
/// transaction at a time. Every write transaction first takes a transaction-level advisory
/// lock, so writers from every host are serialized as SQLite's are: the event chain stays
/// linear and each transition re-reads the state it changes after every earlier commit.
/// Reads run in `REPEATABLE READ READ ONLY` transactions (one consistent view). A connection
/// the server closed (restart, failover, a terminated session) is opened again before the
/// next transaction, so a long-running scheduler comes back by itself.
final class PostgresStore: RegistryStore, @unchecked Sendable {
    let settings: PostgresSettings
    /// Replaced only under `lock`, between transactions.
    private var connection: PostgresConnection
    private let logger: Logger
    private let lock = NSLock()

    /// The advisory lock every write transaction takes (a constant: "dkimctl registry writer").
    static let writerLock: Int64 = 0x646B_696D_6374_6C01

    var label: String { "registry \(settings.redacted)" }

    private init(settings: PostgresSettings, connection: PostgresConnection, logger: Logger) {
        self.settings = settings
        self.connection = connection
        self.logger = logger
    }

    deinit {
        try? connection.close().wait()
    }

    /// Connects and migrates.
    /// - Throws: `DKIMError.registry` naming the server when it cannot be reached or refuses us,
    ///   or when the registry there was written by a newer dkimctl.
    static func open(_ settings: PostgresSettings) throws -> PostgresStore {
        let (connection, logger) = try connect(settings)
        let store = PostgresStore(settings: settings, connection: connection, logger: logger)
        try store.prepare(connection)
        try store.migrate()
        return store
    }

    /// A client paused inside a transaction (stopped, cut off) would hold the writers' lock
    /// for ever: the server ends such a transaction after a minute.
    private func prepare(_ connection: PostgresConnection) throws {
        let session = PostgresSession(connection: connection, logger: logger, label: label)
        try session.execute(sql: "SET idle_in_transaction_session_timeout = '60s'")
        // Cursors are read to the end (listings, verification): plan them for every row, not the first tenth.
        try session.execute(sql: "SET cursor_tuple_fraction = 1.0")
    }

    /// The connection, opened again if the server closed it (called under `lock`, between transactions).
    private func liveConnection() throws -> PostgresConnection {
        guard connection.isClosed else { return connection }
        let (fresh, _) = try Self.connect(settings)
        try prepare(fresh)
        connection = fresh
        return fresh
    }

    /// A new connection to the server, with the logger its queries use.
    static func connect(_ settings: PostgresSettings) throws -> (PostgresConnection, Logger) {
        var logger = Logger(label: "dkimctl.postgres")
        logger.logLevel = .critical
        do {
            let connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: try configuration(settings), id: 1, logger: logger
            ).wait()
            return (connection, logger)
        } catch let error as DKIMError {
            throw error
        } catch {
            throw DKIMError(.registry, "registry \(settings.redacted) cannot be reached: \(describe(error))")
        }
    }

    private static func configuration(_ settings: PostgresSettings) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let directory = settings.socketDirectory {
            configuration = PostgresConnection.Configuration(
                unixSocketPath: "\(directory)/.s.PGSQL.\(settings.port)", username: settings.user, password: settings.password,
                database: settings.database)
        } else {
            configuration = PostgresConnection.Configuration(
                host: settings.host, port: settings.port, username: settings.user, password: settings.password,
                database: settings.database, tls: try tls(settings))
        }
        configuration.options.connectTimeout = .milliseconds(Int64(settings.connectTimeout * 1000))
        return configuration
    }

    private static func tls(_ settings: PostgresSettings) throws -> PostgresConnection.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch settings.tls {
        case .disable:
            return .disable
        case .prefer, .require:
            tls.certificateVerification = .none
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            if let file = settings.rootCertificate { tls.trustRoots = .file(file) }
        }
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: tls) } catch {
            throw DKIMError(.invalidInput, "registry \(settings.redacted): TLS cannot be set up (\(settings.rootCertificate.map { "sslrootcert \($0): " } ?? "")\(error))")
        }
        return settings.tls == .prefer ? .prefer(context) : .require(context)
    }

    // MARK: - Transactions

    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try transaction(begin: "BEGIN", lockingWriters: true, body)
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", lockingWriters: false, body)
    }

    private func transaction<T>(begin: String, lockingWriters: Bool, _ body: (any SQLSession) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        let session = PostgresSession(connection: try liveConnection(), logger: logger, label: label)
        try session.execute(sql: begin)
        do {
            if lockingWriters { try session.execute(sql: "SELECT pg_advisory_xact_lock(?)", arguments: [Self.writerLock]) }
            let result = try body(session)
            try session.execute(sql: "COMMIT")
            return result
        } catch {
            try? session.execute(sql: "ROLLBACK")
            throw error
        }
    }

    /// Old row versions go when VACUUM reclaims them; the server cannot be made to zero them
    /// (README: after erasures, change the KEK so that no old wrapping opens).
    func purgeOldVersions() throws {
        lock.lock()
        defer { lock.unlock() }
        try? PostgresSession(connection: try liveConnection(), logger: logger, label: label).execute(sql: "VACUUM private_key_envelope")
    }

    func prepareForBulkWrite() throws {}

    /// Moves each table's id sequence past the ids copied into it.
    func afterCopy(tables: [String], db: any SQLSession) throws {
        for table in tables {
            let serial = try db.int64(
                sql: "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? "
                    + "AND column_name = 'id' AND column_default LIKE 'nextval%'",
                arguments: [table]) ?? 0
            guard serial > 0 else { continue }
            try db.execute(
                sql: "SELECT setval(pg_get_serial_sequence(?, 'id'), (SELECT coalesce(max(id), 0) + 1 FROM \(table)), false)",
                arguments: [table])
        }
    }

    // MARK: - Migrations

    private func migrate() throws {
        try write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS dkimctl_migrations (identifier TEXT PRIMARY KEY NOT NULL)")
            let applied = Set(try db.strings(sql: "SELECT identifier FROM dkimctl_migrations"))
            let known = Set(PostgresSchema.migrations.map(\.identifier))
            if !applied.subtracting(known).isEmpty {
                throw DKIMError(.registry, "\(label) was written by a newer dkimctl; upgrade dkimctl to use it")
            }
            for migration in PostgresSchema.migrations where !applied.contains(migration.identifier) {
                try (db as! PostgresSession).executeScript(migration.sql)
                try db.execute(sql: "INSERT INTO dkimctl_migrations (identifier) VALUES (?)", arguments: [migration.identifier])
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if error.code == .clientClosedConnection || error.code == .serverClosedConnection { return "the server closed the connection" }
            // A connection or TLS failure: what NIO says of it (a refused connection, a certificate not trusted…).
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }
}

/// The connection inside one transaction: `?` placeholders become `$1`, `$2`, …; an
/// `insert` returns the row's id through `RETURNING id`; booleans read as 0 or 1.
final class PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger
    let label: String
    private(set) var changesCount = 0
    /// Cursors declared in this transaction, to name the next one.
    private var cursorsDeclared = 0

    init(connection: PostgresConnection, logger: Logger, label: String) {
        self.connection = connection
        self.logger = logger
        self.label = label
    }

    private func run(_ sql: String, _ arguments: [any SQLBindable]) throws -> PostgresQueryResult {
        var binds = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument.sqlValue {
            case .null: binds.appendNull()
            case .integer(let number): binds.append(number, context: .default)
            case .real(let number): binds.append(number, context: .default)
            case .text(let text): binds.append(text, context: .default)
            case .blob(let data): binds.append(ByteBuffer(bytes: data), context: .default)
            }
        }
        // A query on a connection the server closed (session ended, timeout) would never complete.
        guard !connection.isClosed else { throw DKIMError(.registry, "\(label): the server closed the connection") }
        do {
            return try connection.query(PostgresQuery(unsafeSQL: Self.numbered(sql), binds: binds), logger: logger).wait()
        } catch let error as PSQLError {
            let message = PostgresStore.describe(error)
            switch error.serverInfo?[.sqlState] {
            case "23505": throw DKIMError(.conflict, "registry refused a duplicate: \(message)")
            case "40001", "40P01": throw DKIMError(.busy, "\(label) is busy: \(message); try again")
            default: throw DKIMError(.registry, "\(label): \(message)")
            }
        } catch {
            throw DKIMError(.registry, "\(label): \(PostgresStore.describe(error))")
        }
    }

    /// Runs several statements (a migration), one by one: each ends with `;` at the end of a line.
    func executeScript(_ sql: String) throws {
        for statement in sql.components(separatedBy: ";\n") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let text = statement.trimmingCharacters(in: .whitespacesAndNewlines)
            do {
                _ = try connection.query(PostgresQuery(unsafeSQL: text.hasSuffix(";") ? String(text.dropLast()) : text), logger: logger).wait()
            } catch {
                throw DKIMError(.registry, "\(label): migration failed: \(PostgresStore.describe(error)) in: \(text.prefix(80))")
            }
        }
    }

    func execute(sql: String, arguments: [any SQLBindable]) throws {
        changesCount = try run(sql, arguments).metadata.rows ?? 0
    }

    func insert(sql: String, arguments: [any SQLBindable]) throws -> Int64 {
        let result = try run(sql + " RETURNING id", arguments)
        guard let row = result.rows.first.map(Self.row), case .integer(let id) = row[0] else {
            throw DKIMError(.registry, "\(label): an insert returned no id")
        }
        return id
    }

    func rows(sql: String, arguments: [any SQLBindable]) throws -> [SQLRow] {
        let result = try run(sql, arguments)
        guard let first = result.rows.first else { return [] }
        let columns = SQLColumns(first.map(\.columnName))
        return result.rows.map { Self.row($0, columns) }
    }

    /// A server-side cursor (every read and write runs in a transaction), fetched a batch at
    /// a time: a listing of 100,000 keys or a copy of a whole registry never holds more than
    /// one batch of rows in memory.
    func cursor(sql: String, arguments: [any SQLBindable]) throws -> any SQLCursor {
        cursorsDeclared += 1
        let name = "dkimctl_cursor_\(cursorsDeclared)"
        try execute(sql: "DECLARE \(name) NO SCROLL CURSOR FOR " + sql, arguments: arguments)
        return FetchCursor(session: self, name: name)
    }

    func firstRow(sql: String, arguments: [any SQLBindable]) throws -> SQLRow? {
        try rows(sql: sql, arguments: arguments).first
    }

    func tableExists(_ name: String) throws -> Bool {
        try int64(sql: "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?", arguments: [name]) ?? 0 > 0
    }

    private static func row(_ row: PostgresRow) -> SQLRow {
        self.row(row, SQLColumns(row.map(\.columnName)))
    }

    private static func row(_ row: PostgresRow, _ columns: SQLColumns) -> SQLRow {
        SQLRow(values: row.map(value), columns: columns)
    }

    private static func value(_ cell: PostgresCell) -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid:
            return (try? cell.decode(Int64.self)).map(SQLValue.integer) ?? .null
        case .bool:
            return (try? cell.decode(Bool.self)).map { .integer($0 ? 1 : 0) } ?? .null
        case .float4, .float8:
            return (try? cell.decode(Double.self)).map(SQLValue.real) ?? .null
        case .bytea:
            return (try? cell.decode(ByteBuffer.self)).map { .blob(Data($0.readableBytesView)) } ?? .null
        case .numeric:
            if let text = try? cell.decode(String.self) {
                return Int64(text).map(SQLValue.integer) ?? Double(text).map(SQLValue.real) ?? .text(text)
            }
            return .null
        default:
            return (try? cell.decode(String.self)).map(SQLValue.text) ?? .null
        }
    }

    /// `?` → `$1`, `$2`, … outside quoted text and identifiers.
    static func numbered(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 16)
        var number = 0
        var quote: Character?
        var characters = Array(sql)[...]
        while let character = characters.popFirst() {
            if let open = quote {
                output.append(character)
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                output.append(character)
            case "?":
                // `?NNN` names its argument (SQLite's numbered parameter); `?` takes the next.
                let digits = characters.prefix { $0.isASCII && $0.isNumber }
                if digits.isEmpty {
                    number += 1
                    output += "$\(number)"
                } else {
                    characters = characters.dropFirst(digits.count)
                    output += "$" + String(digits)
                }
            default:
                output.append(character)
            }
        }
        return output
    }

    struct FetchCursor: SQLCursor {
        static let batch = 2000
        let session: PostgresSession
        let name: String
        var rows: [SQLRow] = []
        var index = 0
        var exhausted = false

        mutating func next() throws -> SQLRow? {
            if index == rows.count {
                guard !exhausted else { return nil }
                rows = try session.rows(sql: "FETCH FORWARD \(Self.batch) FROM \(name)")
                index = 0
                // The transaction's end closes the cursor: no round trip for it.
                if rows.count < Self.batch { exhausted = true }
                guard !rows.isEmpty else { return nil }
            }
            defer { index += 1 }
            return rows[index]
        }
    }
}
