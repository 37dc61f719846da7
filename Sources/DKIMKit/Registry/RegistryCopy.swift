import Foundation

/// Copies a whole registry into an empty one on another store (`registry migrate`): every
/// row of every table, ids and event hashes as they are, in one write transaction of the
/// target, after the source's chain and register verify; the target is verified after.
public enum RegistryCopy {
    /// The tables, parents first, each with the order its rows are copied in.
    static let tables: [(name: String, order: String)] = [
        ("registry_meta", "name"), ("slot", "id"), ("key", "id"), ("event", "id"), ("dns_check", "id"),
        ("dns_check_server", "id"), ("dmarc_report", "id"),
        ("dmarc_aggregate", "day, policy_domain, header_from, dkim_domain, selector, result, aligned, reporter"),
        ("slot_definition", "id"), ("private_key_envelope", "key_id"), ("private_key_copy", "id"),
    ]

    /// What was copied.
    public struct Summary: Sendable, Equatable {
        /// Rows per table, in copy order.
        public var rows: [(table: String, count: Int)]
        public var events: Int
        public var headHash: String

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.events == rhs.events && lhs.headHash == rhs.headHash
                && lhs.rows.map(\.table) == rhs.rows.map(\.table) && lhs.rows.map(\.count) == rhs.rows.map(\.count)
        }
    }

    /// - Throws: `DKIMError.registry` when the source's chain or register does not verify (nothing
    ///   is written), `.conflict` when the target already holds a registry, or when the target
    ///   does not verify to the same head after the copy (the copy is rolled back).
    public static func copy(from source: SQLRegistry, to target: SQLRegistry) throws -> Summary {
        let chain = try source.verifyEventChain()
        if let broken = chain.firstBreak {
            throw DKIMError(.registry, "\(source.label): the event chain is broken (\(broken.problem)); nothing copied", remedy: .verifyRegister)
        }
        let register = try source.verifyRegister()
        if let problem = register.problems.first {
            throw DKIMError(.registry, "\(source.label): the register does not match the event log (\(problem)); nothing copied", remedy: .verifyRegister)
        }
        var summary = Summary(rows: [], events: chain.eventCount, headHash: chain.headHash)
        try target.write { into in
            let present = try into.int64(sql: "SELECT count(*) FROM event") ?? 0
            let slots = try into.int64(sql: "SELECT count(*) FROM slot") ?? 0
            guard present == 0, slots == 0 else {
                throw DKIMError(.conflict, "\(target.label) already holds a registry (\(present) events, \(slots) slots); migrate into an empty one")
            }
            try into.execute(sql: "DELETE FROM registry_meta")
            try source.read { from in
                for table in tables {
                    summary.rows.append((table.name, try copyTable(table.name, order: table.order, from: from, into: into)))
                }
            }
            try target.store.afterCopy(tables: tables.map(\.name), db: into)
            // Verified as the target's transaction sees it, before it commits: a copy that does
            // not verify to the source's head is rolled back.
            let copied = try SQLRegistry.verifyEventChain(into)
            let copiedRegister = try RegisterEvidence.verify(into)
            guard copied.firstBreak == nil, copied.headHash == chain.headHash, copied.eventCount == chain.eventCount,
                copiedRegister.problems.isEmpty
            else {
                throw DKIMError(
                    .registry,
                    "\(target.label) does not verify after the copy (head \(copied.headHash), \(copied.eventCount) events; \(copiedRegister.problems.first ?? "register ok")); nothing was kept, keep the source")
            }
        }
        return summary
    }

    /// Copies one table in batches of multi-row inserts; returns how many rows.
    private static func copyTable(_ table: String, order: String, from: any SQLSession, into: any SQLSession) throws -> Int {
        var cursor = try from.cursor(sql: "SELECT * FROM \(table) ORDER BY \(order)")
        var batch: [SQLRow] = []
        var count = 0
        func flush() throws {
            guard let first = batch.first else { return }
            let columns = first.columns.names
            let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
            try into.execute(
                sql: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                    + Array(repeating: tuple, count: batch.count).joined(separator: ", "),
                arguments: batch.flatMap { $0.values.map { $0 as any SQLBindable } })
            count += batch.count
            batch.removeAll(keepingCapacity: true)
        }
        while let row = try cursor.next() {
            batch.append(row)
            if batch.count * max(row.count, 1) >= 4000 { try flush() }
        }
        try flush()
        return count
    }
}
