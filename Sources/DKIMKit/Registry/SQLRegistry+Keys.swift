import Foundation

// Slots and keys: registering, finding and decoding them.
extension SQLRegistry {
    public func selectors(of domain: DomainName, startingWith prefix: String) throws -> Set<String> {
        try read { db in
            let escaped = prefix.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            let names = try db.strings(sql: "SELECT selector FROM key WHERE domain = ? AND selector LIKE ? ESCAPE '\\'",
                arguments: [domain.ascii, escaped + "%"])
            return Set(names)
        }
    }

    /// One transaction that registers a key: the time as the registry stores it (whole
    /// milliseconds), the key's slot found or created (refused if the selector is taken).
    func registering<T>(
        _ placement: some KeyPlacement, actor: Actor, at time: Date, _ body: (any SQLSession, _ slotID: Int64, _ time: Date) throws -> T
    ) throws -> T {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let slotID = try Self.slotForNewKey(
                selector: placement.selector, domain: placement.domain, provider: placement.provider,
                usage: placement.usage, owner: placement.owner, db: db, actor: actor, time: time)
            return try body(db, slotID, time)
        }
    }

    public func register(_ registration: NewKeyRegistration, actor: Actor, at time: Date) throws -> RegisteredKey {
        try registering(registration, actor: actor, at: time) { db, slotID, time in
            let domain = registration.domain.ascii
            let options = registration.recordOptions
            let keyID = try db.insert(
                sql: """
                    INSERT INTO key (slot_id, domain, selector, algorithm, bits, state, public_key, fingerprint,
                                     private_key_path, ttl, hash_algorithms, service_types, flags, notes, created_at)
                    VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: SQLArguments(
                    [
                        slotID, domain, registration.selector.name, registration.algorithm.rawValue, registration.bits,
                        registration.publicKey, registration.fingerprint, registration.privateKeyPath, registration.ttl,
                    ] + options.columnValues + [Timestamp.databaseForm(time)]))
            var details = [
                "provider": registration.provider.identifier, "usage": registration.usage.name,
                "owner": registration.owner.address, "algorithm": registration.algorithm.rawValue,
                "bits": String(registration.bits), "fingerprint": registration.fingerprint,
                "private_key_path": registration.privateKeyPath ?? "", "ttl": String(registration.ttl),
            ]
            if let sealed = registration.sealedPrivateKey {
                try Self.insertEnvelope(sealed, keyID: keyID, db: db, time: time)
                details["private_key_store"] = "registry"
                details["kek_id"] = sealed.kekID
            }
            try Self.append(
                EventDraft(
                    action: "key.created", keyID: keyID, domain: domain, selector: registration.selector.name,
                    toState: .pending, details: details),
                db: db, actor: actor, time: time)
            guard let key = try Self.fetchKeys(db, where: "key.id = ?", arguments: [keyID]).first else {
                throw DKIMError(.registry, "key \(registration.selector) vanished inside its own transaction")
            }
            return key
        }
    }

    public func key(selector: Selector, domain: DomainName) throws -> RegisteredKey? {
        try read { db in
            try Self.fetchKeys(db, where: "key.domain = ? AND key.selector = ?", arguments: [domain.ascii, selector.name]).first
        }
    }

    public func forEachKey(matching filter: KeyFilter, _ body: (RegisteredKey) throws -> Void) throws {
        var conditions: [String] = []
        var arguments: [any SQLBindable] = []
        if let domain = filter.domain {
            conditions.append("key.domain = ?")
            arguments.append(contentsOf: [domain.ascii])
        }
        if let provider = filter.provider {
            conditions.append("slot.provider = ?")
            arguments.append(contentsOf: [provider.identifier])
        }
        if let usage = filter.usage {
            conditions.append("slot.usage = ?")
            arguments.append(contentsOf: [usage.name])
        }
        if let owner = filter.owner {
            conditions.append("lower(slot.owner) = lower(?)")
            arguments.append(contentsOf: [owner])
        }
        if !filter.states.isEmpty {
            conditions.append("key.state IN (\(filter.states.map { _ in "?" }.joined(separator: ", ")))")
            arguments += (filter.states.map(\.rawValue)) as [any SQLBindable]
        }
        if !filter.kinds.isEmpty {
            conditions.append("key.kind IN (\(filter.kinds.map { _ in "?" }.joined(separator: ", ")))")
            arguments += (filter.kinds.map(\.rawValue)) as [any SQLBindable]
        }
        if let limit = filter.expiringBefore {
            conditions.append("key.expires_at IS NOT NULL AND key.expires_at <= ?")
            arguments.append(Timestamp.databaseForm(limit))
        }
        let clause = conditions.isEmpty ? "1 = 1" : conditions.joined(separator: " AND ")
        try read { db in
            var cursor = try db.cursor(sql: Self.keySelect + " WHERE \(clause) ORDER BY key.domain, key.selector", arguments: arguments)
            while let row = try cursor.next() {
                try body(Self.decodeKey(row))
            }
        }
    }

    static func keyID(_ db: any SQLSession, domain: String, selector: String) throws -> Int64? {
        try db.int64(sql: "SELECT id FROM key WHERE domain = ? AND selector = ?", arguments: [domain, selector])
    }

    /// For a key about to be inserted: refuses a selector the domain already uses, then
    /// returns its slot's id (see `slotID`).
    static func slotForNewKey(
        selector: Selector, domain: DomainName, provider: Provider, usage: Usage, owner: Owner, db: any SQLSession, actor: Actor, time: Date
    ) throws -> Int64 {
        if try keyID(db, domain: domain.ascii, selector: selector.name) != nil {
            throw DKIMError(.conflict, "selector '\(selector)' already exists for \(domain.ascii)")
        }
        return try slotID(domain: domain, provider: provider, usage: usage, owner: owner, db: db, actor: actor, time: time)
    }

    /// The slot's id, creating the slot or updating its owner (with an event) as needed.
    static func slotID(
        domain name: DomainName, provider: Provider, usage: Usage, owner: Owner, db: any SQLSession, actor: Actor, time: Date
    ) throws -> Int64 {
        let domain = name.ascii
        let registration = (provider: provider, usage: usage, owner: owner)
        let row = try db.row(sql: "SELECT id, owner FROM slot WHERE domain = ? AND provider = ? AND usage = ?",
            arguments: [domain, registration.provider.identifier, registration.usage.name])
        let slotDetails = ["provider": registration.provider.identifier, "usage": registration.usage.name]
        if let row {
            let decoder = RowDecoder(row, table: "slot")
            let id = try decoder.int64("id")
            let owner = try decoder.string("owner")
            if owner != registration.owner.address {
                try db.execute(sql: "UPDATE slot SET owner = ? WHERE id = ?", arguments: [registration.owner.address, id])
                try append(
                    EventDraft(
                        action: "slot.owner-changed", slotID: id, domain: domain,
                        details: slotDetails.merging(["owner": registration.owner.address, "previous_owner": owner]) { $1 }),
                    db: db, actor: actor, time: time)
            }
            return id
        }
        let slotID = try db.insert(
            sql: "INSERT INTO slot (domain, provider, usage, owner, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [domain, registration.provider.identifier, registration.usage.name, registration.owner.address, Timestamp.databaseForm(time)])
        try append(
            EventDraft(action: "slot.created", slotID: slotID, domain: domain, details: slotDetails.merging(["owner": registration.owner.address]) { $1 }),
            db: db, actor: actor, time: time)
        return slotID
    }

    /// The columns of `keySelect`, in order: `decodeKey` reads them by position, named.
    enum KeyColumn: Int, CaseIterable, RowPosition {
        case id, slotID, domain, provider, usage, owner, selector, algorithm, bits, state, publicKey, fingerprint
        case privateKeyPath, ttl, hashAlgorithms, serviceTypes, flags, notes, createdAt, publishedAt, activatedAt
        case expiresAt, retiredAt, revokedAt, dnsAction, dnsTTL, dnsPushedAt, deployPending, privateKeyDisposal
        case privateKeyDisposedAt, revocationReason, kind, cnameTarget, lastSeenAt, privateKeyInRegistry

        var position: Int { rawValue }

        /// The SQL expression: slot columns come from the joined slot row.
        var sql: String {
            switch self {
            case .provider, .usage, .owner: "slot.\(column)"
            case .privateKeyInRegistry: "EXISTS (SELECT 1 FROM private_key_envelope WHERE private_key_envelope.key_id = key.id)"
            default: "key.\(column)"
            }
        }

        /// Spelled out: deriving it from the case name (`String(describing:)`) costs a
        /// runtime conformance scan of the whole binary on every start.
        private var column: String {
            switch self {
            case .id: "id"
            case .slotID: "slot_id"
            case .domain: "domain"
            case .provider: "provider"
            case .usage: "usage"
            case .owner: "owner"
            case .selector: "selector"
            case .algorithm: "algorithm"
            case .bits: "bits"
            case .state: "state"
            case .publicKey: "public_key"
            case .fingerprint: "fingerprint"
            case .privateKeyPath: "private_key_path"
            case .ttl: "ttl"
            case .hashAlgorithms: "hash_algorithms"
            case .serviceTypes: "service_types"
            case .flags: "flags"
            case .notes: "notes"
            case .createdAt: "created_at"
            case .publishedAt: "published_at"
            case .activatedAt: "activated_at"
            case .expiresAt: "expires_at"
            case .retiredAt: "retired_at"
            case .revokedAt: "revoked_at"
            case .dnsAction: "dns_action"
            case .dnsTTL: "dns_ttl"
            case .dnsPushedAt: "dns_pushed_at"
            case .deployPending: "deploy_pending"
            case .privateKeyDisposal: "private_key_disposal"
            case .privateKeyDisposedAt: "private_key_disposed_at"
            case .revocationReason: "revocation_reason"
            case .kind: "kind"
            case .cnameTarget: "cname_target"
            case .lastSeenAt: "last_seen_at"
            case .privateKeyInRegistry: "private_key_in_registry"
            }
        }
    }

    static let keySelect = "SELECT " + KeyColumn.allCases.map(\.sql).joined(separator: ", ") + " FROM key JOIN slot ON slot.id = key.slot_id"

    static func fetchKeys(_ db: any SQLSession, where clause: String, arguments: [any SQLBindable]) throws -> [RegisteredKey] {
        // Statements are cached: recording 10,000 checks fetches keys 20,000 times with the same few clauses.
        try db.rows(sql: keySelect + " WHERE " + clause, arguments: arguments).map(decodeKey)
    }

    /// Decodes by column position (see `keySelect`): listing 100,000 keys is dominated by this.
    /// A damaged value is a `DKIMError.registry` naming the row and column (`RowDecoder`).
    static func decodeKey(_ row: SQLRow) throws -> RegisteredKey {
        let row = RowDecoder(row, table: "key")
        func list(_ column: KeyColumn) throws -> [String]? {
            try row.optionalString(column).map { $0.split(separator: ":").map(String.init) }
        }
        return RegisteredKey(
            id: try row.int64(KeyColumn.id), slotID: try row.int64(KeyColumn.slotID),
            domain: DomainName(trusted: try row.string(KeyColumn.domain)), provider: Provider(trusted: try row.string(KeyColumn.provider)),
            usage: Usage(trusted: try row.string(KeyColumn.usage)), owner: Owner(trusted: try row.string(KeyColumn.owner)),
            selector: Selector(trusted: try row.string(KeyColumn.selector)),
            algorithm: try row.enumeration(KeyColumn.algorithm, KeyAlgorithm.self), bits: try row.int(KeyColumn.bits),
            state: try row.enumeration(KeyColumn.state, KeyState.self), publicKey: try row.string(KeyColumn.publicKey),
            fingerprint: try row.string(KeyColumn.fingerprint), privateKeyPath: try row.optionalString(KeyColumn.privateKeyPath),
            privateKeyInRegistry: try row.int(KeyColumn.privateKeyInRegistry) != 0,
            ttl: try row.int(KeyColumn.ttl),
            recordOptions: RecordOptions(
                hashAlgorithms: try list(.hashAlgorithms), serviceTypes: try list(.serviceTypes), flags: try list(.flags) ?? [],
                notes: try row.optionalString(KeyColumn.notes)),
            createdAt: try row.date(KeyColumn.createdAt), publishedAt: try row.optionalDate(KeyColumn.publishedAt),
            activatedAt: try row.optionalDate(KeyColumn.activatedAt), expiresAt: try row.optionalDate(KeyColumn.expiresAt),
            retiredAt: try row.optionalDate(KeyColumn.retiredAt), revokedAt: try row.optionalDate(KeyColumn.revokedAt),
            publication: publication(
                action: try row.optionalEnumeration(KeyColumn.dnsAction, RecordAction.self), ttl: try row.optionalInt(KeyColumn.dnsTTL),
                at: try row.optionalDate(KeyColumn.dnsPushedAt)),
            pendingDeploy: try row.optionalEnumeration(KeyColumn.deployPending, DeployAction.self),
            privateKeyDisposal: try row.optionalEnumeration(KeyColumn.privateKeyDisposal, PrivateKeyDisposal.self),
            privateKeyDisposedAt: try row.optionalDate(KeyColumn.privateKeyDisposedAt),
            revocationReason: try row.optionalString(KeyColumn.revocationReason),
            kind: try row.optionalEnumeration(KeyColumn.kind, KeyKind.self) ?? .local, cnameTarget: try row.optionalString(KeyColumn.cnameTarget),
            lastSeenAt: try row.optionalDate(KeyColumn.lastSeenAt))
    }

    static func publication(action: RecordAction?, ttl: Int?, at time: Date?) -> RecordPublication? {
        guard let action, let ttl, let time else { return nil }
        return RecordPublication(action: action, ttl: ttl, pushedAt: time)
    }
}
