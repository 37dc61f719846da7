import Foundation

// The registry's SQL, written once for every database behind it: statements use `?`
// placeholders and portable SQL; each store (SQLite through GRDB, PostgreSQL) runs
// them in its own transactions. Nothing outside Registry/ sees these types.

/// One value bound to a statement or read from a row.
enum SQLValue: Sendable, Equatable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    var data: Data? {
        if case .blob(let data) = self { return data }
        return nil
    }
}

/// What may be bound to a `?`.
protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension SQLValue: SQLBindable {
    var sqlValue: SQLValue { self }
}

extension Int: SQLBindable {
    var sqlValue: SQLValue { .integer(Int64(self)) }
}

extension Int64: SQLBindable {
    var sqlValue: SQLValue { .integer(self) }
}

extension String: SQLBindable {
    var sqlValue: SQLValue { .text(self) }
}

extension Data: SQLBindable {
    var sqlValue: SQLValue { .blob(self) }
}

extension Bool: SQLBindable {
    var sqlValue: SQLValue { .integer(self ? 1 : 0) }
}

extension Double: SQLBindable {
    var sqlValue: SQLValue { .real(self) }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// The column names of a result, shared by its rows.
final class SQLColumns: @unchecked Sendable {
    let names: [String]
    private let positions: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }

    func position(of name: String) -> Int? { positions[name] }
}

/// One result row: values by position, or by column name.
struct SQLRow {
    let values: [SQLValue]
    let columns: SQLColumns

    var count: Int { values.count }

    subscript(index: Int) -> SQLValue {
        index >= 0 && index < values.count ? values[index] : .null
    }

    subscript(name: String) -> SQLValue {
        columns.position(of: name).map { values[$0] } ?? .null
    }
}

/// Rows read one at a time (`while let row = try cursor.next()`).
protocol SQLCursor {
    mutating func next() throws -> SQLRow?
}

/// A connection inside one of the store's transactions (or reads).
protocol SQLSession: AnyObject {
    /// Runs a statement that returns no rows.
    func execute(sql: String, arguments: [any SQLBindable]) throws
    /// Runs an `INSERT` into a table with an `id` column; returns the new row's id.
    func insert(sql: String, arguments: [any SQLBindable]) throws -> Int64
    /// Rows changed by the last `execute`.
    var changesCount: Int { get }
    func rows(sql: String, arguments: [any SQLBindable]) throws -> [SQLRow]
    func cursor(sql: String, arguments: [any SQLBindable]) throws -> any SQLCursor
    /// The first row of a result (a lookup), nil when there is none.
    func firstRow(sql: String, arguments: [any SQLBindable]) throws -> SQLRow?
    func tableExists(_ name: String) throws -> Bool
}

extension SQLSession {
    func execute(sql: String) throws { try execute(sql: sql, arguments: []) }

    func rows(sql: String) throws -> [SQLRow] { try rows(sql: sql, arguments: []) }

    func cursor(sql: String) throws -> any SQLCursor { try cursor(sql: sql, arguments: []) }

    func row(sql: String, arguments: [any SQLBindable] = []) throws -> SQLRow? {
        try firstRow(sql: sql, arguments: arguments)
    }

    /// The first column of the first row, as text (nil for no row or NULL).
    func string(sql: String, arguments: [any SQLBindable] = []) throws -> String? {
        guard let row = try row(sql: sql, arguments: arguments) else { return nil }
        return try RowDecoder(row, table: "result").optionalString(0)
    }

    func strings(sql: String, arguments: [any SQLBindable] = []) throws -> [String] {
        try rows(sql: sql, arguments: arguments).compactMap { try RowDecoder($0, table: "result").optionalString(0) }
    }

    func int64(sql: String, arguments: [any SQLBindable] = []) throws -> Int64? {
        guard let row = try row(sql: sql, arguments: arguments) else { return nil }
        return try RowDecoder(row, table: "result").optionalInt64(0)
    }

    func int64s(sql: String, arguments: [any SQLBindable] = []) throws -> [Int64] {
        try rows(sql: sql, arguments: arguments).compactMap { try RowDecoder($0, table: "result").optionalInt64(0) }
    }
}

/// Where the registry's rows live: runs `write` bodies one at a time, each in one transaction
/// that sees every earlier commit (so a state read there is the state the change applies to),
/// and `read` bodies on a consistent view.
protocol RegistryStore: Sendable {
    /// "registry /var/lib/dkimctl/registry.sqlite", "registry postgres://host/db", for messages.
    var label: String { get }
    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T
    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T
    /// After an envelope was erased or re-wrapped: no older copy of it may stay in the store's files.
    func purgeOldVersions() throws
    /// Before a transaction that writes many thousands of rows.
    func prepareForBulkWrite() throws
    /// Inside the transaction that copied rows with their ids into `tables` (`RegistryCopy`):
    /// the next generated ids must follow them.
    func afterCopy(tables: [String], db: any SQLSession) throws
}

/// Statement arguments from pieces (`SQLArguments([id] + options.columnValues + [time])`).
func SQLArguments(_ values: [any SQLBindable]) -> [any SQLBindable] { values }
