import Foundation
import GRDB

// Slots the registry defines (`dkimctl slot add|set|remove`): one `slot_definition` row per
// slot, its options as written; each change one transaction with its event.
extension SQLiteRegistry {
    /// The options' columns of `slot_definition`, in table order, with the option each holds.
    static let definitionColumns: [(column: String, key: SlotOptions.CodingKeys)] = [
        ("algorithm", .algorithm), ("bits", .bits), ("rotation", .rotation), ("lead", .lead), ("grace", .grace), ("ttl", .ttl),
        ("stable_ttl", .stableTTL), ("selector_pattern", .selectorPattern), ("revocation", .revocation), ("reveal", .reveal),
        ("propagation", .propagation), ("attention_after", .attentionAfter), ("revoke_after_unused", .revokeAfterUnused),
        ("from_domains", .fromDomains),
    ]

    static func columnValues(_ options: SlotOptions) -> [(any DatabaseValueConvertible)?] {
        [
            options.algorithm, options.bits, options.rotation, options.lead, options.grace, options.ttl, options.stableTTL,
            options.selectorPattern, options.revocation, options.reveal.map { $0 ? 1 : 0 }, options.propagation,
            options.attentionAfter, options.revokeAfterUnused, options.fromDomains?.joined(separator: " "),
        ]
    }

    private static let definitionSelect = """
        SELECT d.id, d.slot_id, s.domain, s.provider, s.usage, s.owner, d.defined_at, d.changed_at, \
        \(definitionColumns.map { "d." + $0.column }.joined(separator: ", ")) \
        FROM slot_definition d JOIN slot s ON s.id = d.slot_id
        """

    /// Decodes a row of `definitionSelect`, checking every name (a row edited outside dkimctl
    /// is an error naming it, never a slot with a name dkimctl would not accept).
    private static func decodeDefinition(_ row: Row) throws -> (id: Int64, slotID: Int64, definition: SlotDefinition) {
        let decoder = RowDecoder(row, table: "slot_definition")
        let id = try decoder.int64(0)
        func checked<T>(_ column: Int, _ make: (String) throws -> T) throws -> T {
            let text = try decoder.string(column)
            do {
                return try make(text)
            } catch let error as DKIMError {
                throw DKIMError(.registry, "registry table slot_definition, row \(id): \(error.message); the file was damaged or edited outside dkimctl (runbooks/recovery.md)")
            }
        }
        var options = SlotOptions()
        let base = 8
        options.algorithm = try decoder.optionalString(base + 0)
        options.bits = try decoder.optionalInt(base + 1)
        options.rotation = try decoder.optionalString(base + 2)
        options.lead = try decoder.optionalString(base + 3)
        options.grace = try decoder.optionalString(base + 4)
        options.ttl = try decoder.optionalInt(base + 5)
        options.stableTTL = try decoder.optionalInt(base + 6)
        options.selectorPattern = try decoder.optionalString(base + 7)
        options.revocation = try decoder.optionalString(base + 8)
        options.reveal = try decoder.optionalInt(base + 9).map { $0 != 0 }
        options.propagation = try decoder.optionalString(base + 10)
        options.attentionAfter = try decoder.optionalString(base + 11)
        options.revokeAfterUnused = try decoder.optionalString(base + 12)
        options.fromDomains = try decoder.optionalString(base + 13).map { $0.split(separator: " ").map(String.init) }
        let definition = SlotDefinition(
            domain: try checked(2) { try DomainName($0) }, provider: try checked(3) { try Provider($0) },
            usage: try checked(4) { try Usage($0) }, owner: try checked(5) { try Owner($0) }, options: options,
            definedAt: try decoder.date(6), changedAt: try decoder.date(7))
        return (id, try decoder.int64(1), definition)
    }

    public func slotDefinitions() throws -> [SlotDefinition] {
        try read { db in
            let rows = try Row.fetchCursor(db, sql: Self.definitionSelect + " WHERE d.removed_at IS NULL ORDER BY s.domain, s.provider, s.usage")
            var definitions: [SlotDefinition] = []
            while let row = try rows.next() { definitions.append(try Self.decodeDefinition(row).definition) }
            return definitions
        }
    }

    public func defineSlots(_ definitions: [SlotDefinition], actor: Actor, at time: Date) throws {
        let time = Timestamp.truncatedToMilliseconds(time)
        try write { db in
            for definition in definitions {
                let slotID = try Self.slotID(
                    domain: definition.domain, provider: definition.provider, usage: definition.usage, owner: definition.owner,
                    db: db, actor: actor, time: time)
                let existing = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT id, removed_at FROM slot_definition WHERE slot_id = ?"), arguments: [slotID])
                let stamp = Timestamp.databaseForm(time)
                let setColumns = Self.definitionColumns.map { $0.column + " = ?" }.joined(separator: ", ")
                if let existing {
                    let decoder = RowDecoder(existing, table: "slot_definition")
                    guard try decoder.optionalString(1) != nil else {
                        throw DKIMError(.conflict, "slot \(definition.label) is already defined in the registry", remedy: nil)
                    }
                    try db.execute(
                        sql: "UPDATE slot_definition SET \(setColumns), defined_at = ?, changed_at = ?, removed_at = NULL WHERE id = ?",
                        arguments: StatementArguments(Self.columnValues(definition.options) + [stamp, stamp, try decoder.int64(0)]))
                } else {
                    try db.execute(
                        sql: """
                            INSERT INTO slot_definition (slot_id, \(Self.definitionColumns.map(\.column).joined(separator: ", ")), defined_at, changed_at)
                            VALUES (?, \(Array(repeating: "?", count: Self.definitionColumns.count).joined(separator: ", ")), ?, ?)
                            """,
                        arguments: StatementArguments([slotID] + Self.columnValues(definition.options) + [stamp, stamp]))
                }
                var details = ["provider": definition.provider.identifier, "usage": definition.usage.name, "owner": definition.owner.address]
                for field in definition.options.fields { details[field.key] = field.value }
                try Self.append(
                    EventDraft(action: "slot.defined", slotID: slotID, domain: definition.domain.ascii, details: details),
                    db: db, actor: actor, time: time)
            }
        }
    }

    public func changeSlot(
        domain: DomainName, provider: Provider, usage: Usage, actor: Actor, at time: Date,
        _ change: (SlotDefinition) throws -> SlotDefinition
    ) throws -> (before: SlotDefinition, after: SlotDefinition) {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let (id, slotID, before) = try Self.liveDefinition(db, domain: domain, provider: provider, usage: usage)
            var after = try change(before)
            after.domain = before.domain
            after.provider = before.provider
            after.usage = before.usage
            let old = Dictionary(uniqueKeysWithValues: before.options.fields.map { ($0.key, $0.value) })
            let new = Dictionary(uniqueKeysWithValues: after.options.fields.map { ($0.key, $0.value) })
            var details = ["provider": provider.identifier, "usage": usage.name]
            for key in SlotOptions.CodingKeys.allCases.map(\.rawValue) where old[key] != new[key] {
                details[key] = new[key] ?? "(default)"
                details["previous_" + key] = old[key] ?? "(default)"
            }
            let ownerChanged = after.owner != before.owner
            guard details.count > 2 || ownerChanged else { return (before, after) }
            if ownerChanged {
                _ = try Self.slotID(domain: domain, provider: provider, usage: usage, owner: after.owner, db: db, actor: actor, time: time)
            }
            guard details.count > 2 else { return (before, after) }
            try db.execute(
                sql: "UPDATE slot_definition SET \(Self.definitionColumns.map { $0.column + " = ?" }.joined(separator: ", ")), changed_at = ? WHERE id = ?",
                arguments: StatementArguments(Self.columnValues(after.options) + [Timestamp.databaseForm(time), id]))
            try Self.append(EventDraft(action: "slot.changed", slotID: slotID, domain: domain.ascii, details: details), db: db, actor: actor, time: time)
            return (before, after)
        }
    }

    public func removeSlot(
        domain: DomainName, provider: Provider, usage: Usage, keepingLiveKeys: Bool, actor: Actor, at time: Date
    ) throws -> SlotDefinition {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let (id, slotID, definition) = try Self.liveDefinition(db, domain: domain, provider: provider, usage: usage)
            let live = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM key WHERE slot_id = ? AND state IN ('pending', 'published', 'active')", arguments: [slotID]) ?? 0
            if live > 0, !keepingLiveKeys {
                throw DKIMError(
                    .conflict,
                    "slot \(definition.label) has \(live) key(s) pending, published or active: removing its definition would stop rotating them",
                    remedy: .removeSlotKeepingKeys)
            }
            try db.execute(sql: "UPDATE slot_definition SET removed_at = ? WHERE id = ?", arguments: [Timestamp.databaseForm(time), id])
            try Self.append(
                EventDraft(
                    action: "slot.removed", slotID: slotID, domain: domain.ascii,
                    details: ["provider": provider.identifier, "usage": usage.name, "live_keys": String(live)]),
                db: db, actor: actor, time: time)
            return definition
        }
    }

    private static func liveDefinition(
        _ db: Database, domain: DomainName, provider: Provider, usage: Usage
    ) throws -> (id: Int64, slotID: Int64, definition: SlotDefinition) {
        guard
            let row = try Row.fetchOne(
                db, sql: definitionSelect + " WHERE s.domain = ? AND s.provider = ? AND s.usage = ? AND d.removed_at IS NULL",
                arguments: [domain.ascii, provider.identifier, usage.name])
        else {
            throw DKIMError(.notFound, "slot \(domain) \(provider)/\(usage) is not defined in the registry", remedy: .listSlots)
        }
        return try decodeDefinition(row)
    }
}
