import Foundation

/// Reads a registry row without trusting it: a value of the wrong type (text in an
/// integer column, an unparseable date) is a `DKIMError.registry` naming the
/// table, the row and the column — never a trap. GRDB's typed subscripts stop
/// the process on a value they cannot convert; this reads `SQLValue`s.
/// A column's position in a SELECT: a plain index, or a named column enum.
protocol RowPosition {
    var position: Int { get }
}

extension Int: RowPosition {
    var position: Int { self }
}

struct RowDecoder {
    let row: SQLRow
    let table: String

    init(_ row: SQLRow, table: String) {
        self.row = row
        self.table = table
    }

    private func index(_ column: String) -> Int {
        row.columns.position(of: column) ?? -1
    }

    private func raw(_ index: Int) -> SQLValue {
        row[index]
    }

    /// The row's id (column `id`, else the first column) for messages.
    private var rowLabel: String {
        let id = index("id") >= 0 ? raw(index("id")) : raw(0)
        if case .integer(let value) = id { return "row \(value)" }
        return "a row"
    }

    private func damaged(_ index: Int, expected: String) -> DKIMError {
        let name = index >= 0 && index < row.columns.names.count ? row.columns.names[index] : "?"
        let value = raw(index)
        let shown: String
        switch value {
        case .null: shown = "NULL"
        case .integer(let number): shown = String(number)
        case .real(let number): shown = String(number)
        case .text(let text): shown = "'" + TextEscaping.controlCharactersEscaped(String(text.prefix(60))) + "'"
        case .blob(let data): shown = "a \(data.count)-octet blob"
        }
        return DKIMError(
            .registry,
            "registry table \(table), \(rowLabel), column \(name): \(shown) is not \(expected); the file was damaged or edited outside dkimctl (runbooks/recovery.md)")
    }

    // MARK: by position

    func optionalInt64(_ column: some RowPosition) throws -> Int64? {
        let index = column.position
        switch raw(index) {
        case .null: return nil
        case .integer(let number): return number
        case .real(let number) where number == number.rounded() && abs(number) < 9e15: return Int64(number)
        default: throw damaged(index, expected: "an integer")
        }
    }

    func int64(_ column: some RowPosition) throws -> Int64 {
        let index = column.position
        guard let value = try optionalInt64(index) else { throw damaged(index, expected: "an integer") }
        return value
    }

    func optionalInt(_ column: some RowPosition) throws -> Int? {
        let index = column.position
        guard let value = try optionalInt64(index) else { return nil }
        guard let small = Int(exactly: value), abs(small) <= Int(Int32.max) * 1024 else { throw damaged(index, expected: "an integer in range") }
        return small
    }

    func int(_ column: some RowPosition) throws -> Int {
        let index = column.position
        guard let value = try optionalInt(index) else { throw damaged(index, expected: "an integer") }
        return value
    }

    func optionalString(_ column: some RowPosition) throws -> String? {
        let index = column.position
        switch raw(index) {
        case .null: return nil
        case .text(let text): return text
        default: throw damaged(index, expected: "text")
        }
    }

    func string(_ column: some RowPosition) throws -> String {
        let index = column.position
        guard let value = try optionalString(index) else { throw damaged(index, expected: "text") }
        return value
    }

    func optionalDate(_ column: some RowPosition) throws -> Date? {
        let index = column.position
        let text: String?
        do { text = try optionalString(index) } catch { throw damaged(index, expected: "a date (YYYY-MM-DD HH:MM:SS.SSS)") }
        guard let text else { return nil }
        guard let date = Timestamp.parseDatabaseForm(text) ?? Timestamp.parse(text) else {
            throw damaged(index, expected: "a date (YYYY-MM-DD HH:MM:SS.SSS)")
        }
        return date
    }

    func date(_ column: some RowPosition) throws -> Date {
        let index = column.position
        guard let value = try optionalDate(index) else { throw damaged(index, expected: "a date (YYYY-MM-DD HH:MM:SS.SSS)") }
        return value
    }

    /// A text column holding one of `Value`'s raw values.
    func optionalEnumeration<Value: RawRepresentable>(_ column: some RowPosition, _ type: Value.Type) throws -> Value? where Value.RawValue == String {
        let index = column.position
        guard let text = try optionalString(index) else { return nil }
        guard let value = Value(rawValue: text) else { throw damaged(index, expected: "a known \(Value.self)") }
        return value
    }

    func enumeration<Value: RawRepresentable>(_ column: some RowPosition, _ type: Value.Type) throws -> Value where Value.RawValue == String {
        let index = column.position
        guard let value = try optionalEnumeration(index, type) else { throw damaged(index, expected: "a known \(Value.self)") }
        return value
    }

    // MARK: by name

    func int64(_ column: String) throws -> Int64 { try int64(index(column)) }
    func optionalInt64(_ column: String) throws -> Int64? { try optionalInt64(index(column)) }
    func int(_ column: String) throws -> Int { try int(index(column)) }
    func optionalInt(_ column: String) throws -> Int? { try optionalInt(index(column)) }
    func string(_ column: String) throws -> String { try string(index(column)) }
    func optionalString(_ column: String) throws -> String? { try optionalString(index(column)) }
    func date(_ column: String) throws -> Date { try date(index(column)) }
    func optionalDate(_ column: String) throws -> Date? { try optionalDate(index(column)) }
    func enumeration<Value: RawRepresentable>(_ column: String, _ type: Value.Type) throws -> Value where Value.RawValue == String {
        try enumeration(index(column), type)
    }
}
