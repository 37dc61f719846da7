import Foundation

// Slots the registry defines (`dkimctl slot add|set|remove`): one `slot_definition` row per
// slot, its options as written; each change one transaction with its event.
extension SQLRegistry {
    /// The options' columns of `slot_definition`, in table order, with the option each holds.
    static let definitionColumns: [(column: String, key: SlotOptions.CodingKeys)] = [
        ("algorithm", .algorithm), ("bits", .bits), ("rotation", .rotation), ("lead", .lead), ("grace", .grace), ("ttl", .ttl),
        ("stable_ttl", .stableTTL), ("selector_pattern", .selectorPattern), ("revocation", .revocation), ("reveal", .reveal),
        ("propagation", .propagation), ("attention_after", .attentionAfter), ("revoke_after_unused", .revokeAfterUnused),
        ("from_domains", .fromDomains),
    ]

    static func columnValues(_ options: SlotOptions) -> [any SQLBindable] {
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
    private static func decodeDefinition(_ row: SQLRow) throws -> (id: Int64, slotID: Int64, definition: SlotDefinition) {
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
            var rows = try db.cursor(sql: Self.definitionSelect + " WHERE d.removed_at IS NULL ORDER BY s.domain, s.provider, s.usage")
            var definitions: [SlotDefinition] = []
            while let row = try rows.next() { definitions.append(try Self.decodeDefinition(row).definition) }
            return definitions
        }
    }

    @discardableResult
    public func defineSlots(_ definitions: [SlotDefinition], updating: Bool, actor: Actor, at time: Date) throws -> SlotDefinitionCounts {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            var counts = SlotDefinitionCounts()
            for definition in definitions {
                if let live = try Self.liveDefinitionIfAny(db, domain: definition.domain, provider: definition.provider, usage: definition.usage) {
                    guard updating else {
                        throw DKIMError(.conflict, "slot \(definition.label) is already defined in the registry", remedy: nil)
                    }
                    if try Self.change(db, live, to: definition, actor: actor, time: time) { counts.changed += 1 } else { counts.unchanged += 1 }
                    continue
                }
                let slotID = try Self.slotID(
                    domain: definition.domain, provider: definition.provider, usage: definition.usage, owner: definition.owner,
                    db: db, actor: actor, time: time)
                let stamp = Timestamp.databaseForm(time)
                if let removed = try db.int64(sql: "SELECT id FROM slot_definition WHERE slot_id = ?", arguments: [slotID]) {
                    try db.execute(
                        sql: "UPDATE slot_definition SET \(Self.assignments), defined_at = ?, changed_at = ?, removed_at = NULL WHERE id = ?",
                        arguments: SQLArguments(Self.columnValues(definition.options) + [stamp, stamp, removed]))
                } else {
                    try db.execute(
                        sql: """
                            INSERT INTO slot_definition (slot_id, \(Self.definitionColumns.map(\.column).joined(separator: ", ")), defined_at, changed_at)
                            VALUES (?, \(Array(repeating: "?", count: Self.definitionColumns.count).joined(separator: ", ")), ?, ?)
                            """,
                        arguments: SQLArguments([slotID] + Self.columnValues(definition.options) + [stamp, stamp]))
                }
                var details = ["provider": definition.provider.identifier, "usage": definition.usage.name, "owner": definition.owner.address]
                for field in definition.options.fields { details[field.key] = field.value }
                try Self.append(
                    EventDraft(action: "slot.defined", slotID: slotID, domain: definition.domain.ascii, details: details),
                    db: db, actor: actor, time: time)
                counts.defined += 1
            }
            return counts
        }
    }

    public func changeSlot(
        domain: DomainName, provider: Provider, usage: Usage, actor: Actor, at time: Date,
        _ change: (SlotDefinition) throws -> SlotDefinition
    ) throws -> (before: SlotDefinition, after: SlotDefinition) {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let live = try Self.liveDefinition(db, domain: domain, provider: provider, usage: usage)
            var after = try change(live.definition)
            after.domain = domain
            after.provider = provider
            after.usage = usage
            try Self.change(db, live, to: after, actor: actor, time: time)
            return (live.definition, after)
        }
    }

    /// `column = ?, …` for the options' columns.
    private static let assignments = definitionColumns.map { $0.column + " = ?" }.joined(separator: ", ")

    /// Writes `after` over a live definition: the owner through the slot (`slot.owner-changed`),
    /// the options with a `slot.changed` event naming each change and its previous value.
    /// - Returns: whether anything changed.
    @discardableResult
    private static func change(
        _ db: any SQLSession, _ live: (id: Int64, slotID: Int64, definition: SlotDefinition), to after: SlotDefinition, actor: Actor, time: Date
    ) throws -> Bool {
        let before = live.definition
        let old = Dictionary(uniqueKeysWithValues: before.options.fields.map { ($0.key, $0.value) })
        let new = Dictionary(uniqueKeysWithValues: after.options.fields.map { ($0.key, $0.value) })
        var details = ["provider": before.provider.identifier, "usage": before.usage.name]
        for key in SlotOptions.CodingKeys.allCases.map(\.rawValue) where old[key] != new[key] {
            details[key] = new[key] ?? "(default)"
            details["previous_" + key] = old[key] ?? "(default)"
        }
        let ownerChanged = after.owner != before.owner
        if ownerChanged {
            _ = try slotID(domain: before.domain, provider: before.provider, usage: before.usage, owner: after.owner, db: db, actor: actor, time: time)
        }
        guard details.count > 2 else { return ownerChanged }
        try db.execute(
            sql: "UPDATE slot_definition SET \(assignments), changed_at = ? WHERE id = ?",
            arguments: SQLArguments(columnValues(after.options) + [Timestamp.databaseForm(time), live.id]))
        try append(EventDraft(action: "slot.changed", slotID: live.slotID, domain: before.domain.ascii, details: details), db: db, actor: actor, time: time)
        return true
    }

    public func removeSlot(
        domain: DomainName, provider: Provider, usage: Usage, keepingLiveKeys: Bool, actor: Actor, at time: Date
    ) throws -> (definition: SlotDefinition, liveKeys: Int) {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let (id, slotID, definition) = try Self.liveDefinition(db, domain: domain, provider: provider, usage: usage)
            let live = Int(try db.int64(
                sql: "SELECT count(*) FROM key WHERE slot_id = ? AND state IN ('pending', 'published', 'active')", arguments: [slotID]) ?? 0)
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
            return (definition, live)
        }
    }

    /// The slot's live definition. - Throws: `DKIMError.notFound` when the registry does not define it.
    private static func liveDefinition(
        _ db: any SQLSession, domain: DomainName, provider: Provider, usage: Usage
    ) throws -> (id: Int64, slotID: Int64, definition: SlotDefinition) {
        guard let live = try liveDefinitionIfAny(db, domain: domain, provider: provider, usage: usage) else {
            throw DKIMError(.notFound, "slot \(domain) \(provider)/\(usage) is not defined in the registry", remedy: .listSlots)
        }
        return live
    }

    private static func liveDefinitionIfAny(
        _ db: any SQLSession, domain: DomainName, provider: Provider, usage: Usage
    ) throws -> (id: Int64, slotID: Int64, definition: SlotDefinition)? {
        try db.row(sql: definitionSelect + " WHERE s.domain = ? AND s.provider = ? AND s.usage = ? AND d.removed_at IS NULL",
            arguments: [domain.ascii, provider.identifier, usage.name]
        ).map(decodeDefinition)
    }
}
