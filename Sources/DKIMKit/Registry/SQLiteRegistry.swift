import Foundation
import GRDB

/// The embedded registry: one SQLite file in WAL mode, written only through
/// `BEGIN IMMEDIATE` transactions so that concurrent dkimctl processes queue
/// up (busy timeout) instead of failing half-way.
public struct SQLiteRegistry: KeyRegistry {
    private let writer: any DatabaseWriter
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

    // MARK: - Settings

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

    // MARK: - Keys

    public func selectors(of domain: DomainName, startingWith prefix: String) throws -> Set<String> {
        try read { db in
            let escaped = prefix.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            let names = try String.fetchAll(
                db, sql: "SELECT selector FROM key WHERE domain = ? AND selector LIKE ? ESCAPE '\\'",
                arguments: [domain.ascii, escaped + "%"])
            return Set(names)
        }
    }

    public func register(_ registration: NewKeyRegistration, actor: Actor, at time: Date) throws -> RegisteredKey {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let domain = registration.domain.ascii
            let slotID = try Self.slotForNewKey(
                selector: registration.selector, domain: registration.domain, provider: registration.provider,
                usage: registration.usage, owner: registration.owner, db: db, actor: actor, time: time)
            let options = registration.recordOptions
            try db.execute(
                sql: """
                    INSERT INTO key (slot_id, domain, selector, algorithm, bits, state, public_key, fingerprint,
                                     private_key_path, ttl, hash_algorithms, service_types, flags, notes, created_at)
                    VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    slotID, domain, registration.selector.name, registration.algorithm.rawValue, registration.bits,
                    registration.publicKey, registration.fingerprint, registration.privateKeyPath, registration.ttl,
                    options.hashAlgorithms?.joined(separator: ":"), options.serviceTypes?.joined(separator: ":"),
                    options.flags.isEmpty ? nil : options.flags.joined(separator: ":"), options.notes, time,
                ])
            let keyID = db.lastInsertedRowID
            try Self.append(
                EventDraft(
                    action: "key.created", keyID: keyID, domain: domain, selector: registration.selector.name,
                    toState: .pending,
                    details: [
                        "provider": registration.provider.identifier, "usage": registration.usage.name,
                        "owner": registration.owner.address, "algorithm": registration.algorithm.rawValue,
                        "bits": String(registration.bits), "fingerprint": registration.fingerprint,
                        "private_key_path": registration.privateKeyPath, "ttl": String(registration.ttl),
                    ]),
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
        var arguments = StatementArguments()
        if let domain = filter.domain {
            conditions.append("key.domain = ?")
            _ = arguments.append(contentsOf: [domain.ascii])
        }
        if let provider = filter.provider {
            conditions.append("slot.provider = ?")
            _ = arguments.append(contentsOf: [provider.identifier])
        }
        if let usage = filter.usage {
            conditions.append("slot.usage = ?")
            _ = arguments.append(contentsOf: [usage.name])
        }
        if let owner = filter.owner {
            conditions.append("slot.owner = ? COLLATE NOCASE")
            _ = arguments.append(contentsOf: [owner])
        }
        if !filter.states.isEmpty {
            conditions.append("key.state IN (\(filter.states.map { _ in "?" }.joined(separator: ", ")))")
            _ = arguments.append(contentsOf: StatementArguments(filter.states.map(\.rawValue)))
        }
        if !filter.kinds.isEmpty {
            conditions.append("key.kind IN (\(filter.kinds.map { _ in "?" }.joined(separator: ", ")))")
            _ = arguments.append(contentsOf: StatementArguments(filter.kinds.map(\.rawValue)))
        }
        if let limit = filter.expiringBefore {
            conditions.append("key.expires_at IS NOT NULL AND key.expires_at <= ?")
            _ = arguments.append(contentsOf: [limit])
        }
        let clause = conditions.isEmpty ? "1" : conditions.joined(separator: " AND ")
        try read { db in
            let cursor = try Row.fetchCursor(db, sql: Self.keySelect + " WHERE \(clause) ORDER BY key.domain, key.selector", arguments: arguments)
            while let row = try cursor.next() {
                try body(Self.decodeKey(row))
            }
        }
    }

    public func events(forKey keyID: Int64) throws -> [RegistryEvent] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM event WHERE key_id = ? ORDER BY id", arguments: [keyID]).map { try Self.decodeEvent($0) }
        }
    }

    public func recordChecks(_ checks: [(key: RegisteredKey, check: PublicationCheck)], actor: Actor, at time: Date) throws -> [RegisteredKey] {
        let time = Timestamp.truncatedToMilliseconds(time)
        if checks.count > 100 {
            // Up to 64 MiB of page cache for bulk evidence (SQLite's default is
            // 2 MiB): publishing 10,000 keys in one transaction dirties more
            // pages than that, and spilling them mid-transaction halves the speed.
            try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -65536") }
        }
        return try write { db in
            let previousLast = try RegisterEvidence.lastCheckID(db)
            let keys = try checks.map { entry in
                try Self.recordCheck(entry.check, for: entry.key, db: db, actor: actor, time: time) ?? entry.key
            }
            try RegisterEvidence.anchorChecks(after: previousLast, db: db, actor: actor, time: time)
            return keys
        }
    }

    /// Stores one check; returns the key re-read from the registry when it is not
    /// as the caller saw it (the check changed it, or another process did), nil otherwise.
    private static func recordCheck(_ check: PublicationCheck, for key: RegisteredKey, db: Database, actor: Actor, time: Date) throws -> RegisteredKey? {
        let keyID = key.id
        // Only the state is read here: decoding the whole key per check costs
        // more than the check's own inserts when 10,000 keys are verified.
        guard let stateName = try String.fetchOne(db.cachedStatement(sql: "SELECT state FROM key WHERE id = ?"), arguments: [keyID]),
            let state = KeyState(rawValue: stateName)
        else {
            throw DKIMError(.notFound, "key \(keyID) is not in the registry")
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO dns_check (key_id, checked_at, actor, verdict, record_ttl, negative_ttl, problems)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                keyID, time, actor.name, check.verdict.rawValue, check.recordTTL.map { Int($0) },
                check.negativeTTL.map { Int($0) }, check.problems.joined(separator: "\n"),
            ])
        let checkID = db.lastInsertedRowID
        for result in check.results {
            try db.cachedStatement(
                sql: """
                    INSERT INTO dns_check_server (check_id, zone, name, server, address, port, status, serial, ttl, negative_ttl, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    checkID, result.zone, result.name, result.server.name, result.server.address, Int(result.server.port),
                    result.status.rawValue, result.serial.map { Int($0) }, result.ttl.map { Int($0) },
                    result.negativeTTL.map { Int($0) }, ([result.detail] + result.warnings).joined(separator: "; "),
                ])
        }
        guard check.verdict == .pass, state == .pending else {
            return state == key.state ? nil : try fetchKeys(db, where: "key.id = ?", arguments: [keyID]).first
        }
        try db.cachedStatement(sql: "UPDATE key SET state = 'published', published_at = ? WHERE id = ?")
            .execute(arguments: [time, keyID])
        try append(
            EventDraft(
                action: "key.published", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                fromState: .pending, toState: .published,
                details: [
                    "check_id": String(checkID),
                    "servers": check.results.map { "\($0.server.name) \($0.server)" }.joined(separator: ", "),
                ]),
            db: db, actor: actor, time: time)
        return try fetchKeys(db, where: "key.id = ?", arguments: [keyID])[0]
    }

    public func activate(
        keyID: Int64, rotationPeriod: TimeSpan, forcedReason: String?, actor: Actor, at time: Date
    ) throws -> (active: RegisteredKey, retired: RegisteredKey?) {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            guard let key = try Self.fetchKeys(db, where: "key.id = ?", arguments: [keyID]).first else {
                throw DKIMError(.notFound, "key \(keyID) is not in the registry")
            }
            switch key.state {
            case .published: break
            case .pending where forcedReason != nil: break
            case .pending:
                throw DKIMError(.conflict, "key \(key.selector) is pending: DNS has not proved its record yet")
            case .active:
                throw DKIMError(.conflict, "key \(key.selector) is already the active key of its slot")
            case .retired, .revoked:
                throw DKIMError(.conflict, "key \(key.selector) is \(key.state.rawValue) and cannot become active again")
            }
            let previous = try Self.fetchKeys(
                db, where: "key.slot_id = ? AND key.state = 'active' AND key.id != ?", arguments: [key.slotID, keyID]
            ).first
            if let previous {
                try db.execute(sql: "UPDATE key SET state = 'retired', retired_at = ? WHERE id = ?", arguments: [time, previous.id])
                try Self.append(
                    EventDraft(
                        action: "key.retired", keyID: previous.id, domain: previous.domain.ascii,
                        selector: previous.selector.name, fromState: .active, toState: .retired,
                        details: ["successor": key.selector.name]),
                    db: db, actor: actor, time: time)
            }
            let expires = time.addingTimeInterval(TimeInterval(rotationPeriod.seconds))
            try db.execute(
                sql: "UPDATE key SET state = 'active', activated_at = ?, expires_at = ?, deploy_pending = 'activate' WHERE id = ?",
                arguments: [time, expires, keyID])
            var details = [
                "forced": forcedReason == nil ? "false" : "true", "expires_at": Timestamp.iso8601(expires),
                "rotation_period": rotationPeriod.description,
            ]
            if let forcedReason { details["forced_reason"] = forcedReason }
            if let previous { details["predecessor"] = previous.selector.name }
            try Self.append(
                EventDraft(
                    action: "key.activated", keyID: keyID, domain: key.domain.ascii, selector: key.selector.name,
                    fromState: key.state, toState: .active, details: details),
                db: db, actor: actor, time: time)
            let active = try Self.fetchKeys(db, where: "key.id = ?", arguments: [keyID])[0]
            let retired = try previous.map { try Self.fetchKeys(db, where: "key.id = ?", arguments: [$0.id])[0] }
            return (active, retired)
        }
    }

    public func checks(forKey keyID: Int64, limit: Int) throws -> [StoredCheck] {
        try read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM dns_check WHERE key_id = ? ORDER BY id DESC LIMIT ?", arguments: [keyID, limit])
            return try rows.map { raw in
                let row = RowDecoder(raw, table: "dns_check")
                let id = try row.int64("id")
                let servers = try Row.fetchAll(db, sql: "SELECT * FROM dns_check_server WHERE check_id = ? ORDER BY id", arguments: [id])
                    .map { raw in
                        let server = RowDecoder(raw, table: "dns_check_server")
                        return StoredServerCheck(
                            zone: try server.string("zone"), name: try server.string("name"), server: try server.string("server"),
                            address: try server.string("address"), port: try server.int("port"),
                            status: try server.enumeration("status", CheckStatus.self),
                            serial: try server.optionalInt("serial"), ttl: try server.optionalInt("ttl"), detail: try server.string("detail"))
                    }
                let problems = try row.string("problems")
                return StoredCheck(
                    id: id, checkedAt: try row.date("checked_at"), actor: try row.string("actor"),
                    verdict: try row.enumeration("verdict", CheckStatus.self), recordTTL: try row.optionalInt("record_ttl"),
                    negativeTTL: try row.optionalInt("negative_ttl"), problems: problems.isEmpty ? [] : problems.components(separatedBy: "\n"),
                    servers: servers)
            }
        }
    }

    public func latestCheckSummaries() throws -> [Int64: CheckSummary] {
        try read { db in
            // One query for every key: per-key reads cost a transaction and a statement each.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.key_id, c.checked_at, c.verdict, (SELECT count(*) FROM dns_check_server s WHERE s.check_id = c.id)
                    FROM dns_check c JOIN (SELECT max(id) AS id FROM dns_check GROUP BY key_id) latest ON latest.id = c.id
                    """)
            var summaries: [Int64: CheckSummary] = [:]
            for raw in rows {
                let row = RowDecoder(raw, table: "dns_check")
                summaries[try row.int64(0)] = CheckSummary(
                    checkedAt: try row.date(1), verdict: try row.enumeration(2, CheckStatus.self), servers: try row.int(3))
            }
            return summaries
        }
    }

    public func verifyEventChain() throws -> EventChainVerification {
        try read { db in
            var breaks: [ChainBreak] = []
            var previousHash = RegistryEvent.genesisHash
            var count = 0
            var previousID: Int64 = 0
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM event ORDER BY id")
            while let row = try cursor.next() {
                let event: RegistryEvent
                do {
                    event = try Self.decodeEvent(row)
                } catch let error as DKIMError {
                    breaks.append(ChainBreak(eventID: nil, action: nil, time: nil, problem: error.message))
                    continue
                }
                count += 1
                func broken(_ problem: String) {
                    breaks.append(ChainBreak(eventID: event.id, action: event.action, time: event.time, problem: problem))
                }
                if event.id != previousID + 1 {
                    broken("event ids jump from \(previousID) to \(event.id): \(event.id - previousID - 1) event(s) before event \(event.id) were removed")
                }
                if event.computedHash != event.hash {
                    broken("event \(event.id) (\(event.action), \(event.time)) was altered: its stored hash does not match its content")
                } else if event.previousHash != previousHash {
                    broken("event \(event.id) (\(event.action), \(event.time)) does not link to the event before it: events were removed, inserted or reordered before it")
                }
                previousID = event.id
                previousHash = event.hash
            }
            let headID = try Self.meta(db, "event_head_id").flatMap { Int64($0) } ?? 0
            let headHash = try Self.meta(db, "event_head_hash") ?? RegistryEvent.genesisHash
            if headID != previousID || headHash != previousHash {
                breaks.append(ChainBreak(
                    eventID: nil, action: nil, time: nil,
                    problem: "the log ends at event \(previousID) but the registry recorded event \(headID) as the last: events were removed from the end"))
            }
            return EventChainVerification(eventCount: count, headHash: previousHash, headID: previousID, breaks: breaks)
        }
    }

    /// Replays the event log against every slot and key row and the DNS evidence rows.
    public func verifyRegister() throws -> RegisterVerification {
        try read { db in try RegisterEvidence.verify(db) }
    }

    /// `PRAGMA integrity_check`: `["ok"]` for a sound file, else SQLite's descriptions of the damage.

    public func integrityCheck() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    public func selectorsInEvents(of domain: DomainName) throws -> Set<String> {
        try read { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT selector FROM event WHERE domain = ? AND selector IS NOT NULL", arguments: [domain.ascii]))
        }
    }

    public func eventHash(id: Int64) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT hash FROM event WHERE id = ?", arguments: [id]) }
    }

    public func eventHead() throws -> (id: Int64, hash: String)? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT id, hash FROM event ORDER BY id DESC LIMIT 1").map {
                let row = RowDecoder($0, table: "event")
                return (id: try row.int64(0), hash: try row.string(1))
            }
        }
    }

    public func eventID(withHash hash: String) throws -> Int64? {
        try read { db in try Int64.fetchOne(db, sql: "SELECT id FROM event WHERE hash = ?", arguments: [hash.lowercased()]) }
    }

    public func forEachEvent(since time: Date?, _ body: (RegistryEvent) throws -> Void) throws {
        try read { db in
            // `time` is ISO 8601 UTC with milliseconds: text order is time order.
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT * FROM event WHERE time >= ? ORDER BY id",
                arguments: [time.map(Timestamp.iso8601Milliseconds) ?? ""])
            while let row = try cursor.next() { try body(try Self.decodeEvent(row)) }
        }
    }

    // MARK: - Transactions

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

    // MARK: - Rows

    static func meta(_ db: Database, _ name: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM registry_meta WHERE name = ?", arguments: [name])
    }

    static func setMeta(_ db: Database, _ name: String, _ value: String) throws {
        try db.cachedStatement(
            sql: "INSERT INTO registry_meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value"
        ).execute(arguments: [name, value])
    }

    static func keyID(_ db: Database, domain: String, selector: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM key WHERE domain = ? AND selector = ?", arguments: [domain, selector])
    }

    /// For a key about to be inserted: refuses a selector the domain already uses, then
    /// returns its slot's id (see `slotID`).
    static func slotForNewKey(
        selector: Selector, domain: DomainName, provider: Provider, usage: Usage, owner: Owner, db: Database, actor: Actor, time: Date
    ) throws -> Int64 {
        if try keyID(db, domain: domain.ascii, selector: selector.name) != nil {
            throw DKIMError(.conflict, "selector '\(selector)' already exists for \(domain.ascii)")
        }
        return try slotID(domain: domain, provider: provider, usage: usage, owner: owner, db: db, actor: actor, time: time)
    }

    /// The slot's id, creating the slot or updating its owner (with an event) as needed.
    static func slotID(
        domain name: DomainName, provider: Provider, usage: Usage, owner: Owner, db: Database, actor: Actor, time: Date
    ) throws -> Int64 {
        let domain = name.ascii
        let registration = (provider: provider, usage: usage, owner: owner)
        let row = try Row.fetchOne(
            db, sql: "SELECT id, owner FROM slot WHERE domain = ? AND provider = ? AND usage = ?",
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
        try db.execute(
            sql: "INSERT INTO slot (domain, provider, usage, owner, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [domain, registration.provider.identifier, registration.usage.name, registration.owner.address, time])
        let slotID = db.lastInsertedRowID
        try append(
            EventDraft(action: "slot.created", slotID: slotID, domain: domain, details: slotDetails.merging(["owner": registration.owner.address]) { $1 }),
            db: db, actor: actor, time: time)
        return slotID
    }

    /// Appends one event to the chain; must run inside the transaction of the change it records.
    static func append(_ draft: EventDraft, db: Database, actor: Actor, time: Date) throws {
        var draft = draft
        try RegisterEvidence.attachSnapshots(to: &draft, db: db)
        let head = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, hash FROM event ORDER BY id DESC LIMIT 1"))
        let previousHash = try head.map { try RowDecoder($0, table: "event").string("hash") } ?? RegistryEvent.genesisHash
        let id = try (head.map { try RowDecoder($0, table: "event").int64("id") } ?? 0) + 1
        let timeText = Timestamp.iso8601Milliseconds(time)
        let details = draft.detailsJSON
        let hash = EventHash.compute(
            id: id, time: timeText, actor: actor.name, keyID: draft.keyID, domain: draft.domain,
            selector: draft.selector, action: draft.action, fromState: draft.fromState?.rawValue,
            toState: draft.toState?.rawValue, details: details, previousHash: previousHash)
        try db.cachedStatement(
            sql: """
                INSERT INTO event (id, time, actor, key_id, domain, selector, action, from_state, to_state, details, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                id, timeText, actor.name, draft.keyID, draft.domain, draft.selector, draft.action,
                draft.fromState?.rawValue, draft.toState?.rawValue, details, previousHash, hash,
            ])
        try setMeta(db, "event_head_id", String(id))
        try setMeta(db, "event_head_hash", hash)
    }

    static let keySelect = """
        SELECT key.id, key.slot_id, key.domain, slot.provider, slot.usage, slot.owner, key.selector,
               key.algorithm, key.bits, key.state, key.public_key, key.fingerprint, key.private_key_path,
               key.ttl, key.hash_algorithms, key.service_types, key.flags, key.notes, key.created_at,
               key.published_at, key.activated_at, key.expires_at, key.retired_at, key.revoked_at,
               key.dns_action, key.dns_ttl, key.dns_pushed_at, key.deploy_pending, key.private_key_disposal,
               key.private_key_disposed_at, key.revocation_reason, key.kind, key.cname_target, key.last_seen_at
        FROM key JOIN slot ON slot.id = key.slot_id
        """

    static func fetchKeys(_ db: Database, where clause: String, arguments: StatementArguments) throws -> [RegisteredKey] {
        // Cached: recording 10,000 checks fetches keys 20,000 times with the same few clauses.
        try Row.fetchAll(db.cachedStatement(sql: keySelect + " WHERE " + clause), arguments: arguments).map(decodeKey)
    }

    /// Decodes by column position (see `keySelect`): listing 100,000 keys is dominated by this.
    /// A damaged value is a `DKIMError.registry` naming the row and column (`RowDecoder`).
    static func decodeKey(_ row: Row) throws -> RegisteredKey {
        let row = RowDecoder(row, table: "key")
        func list(_ index: Int) throws -> [String]? {
            try row.optionalString(index).map { $0.split(separator: ":").map(String.init) }
        }
        return RegisteredKey(
            id: try row.int64(0), slotID: try row.int64(1), domain: DomainName(trusted: try row.string(2)),
            provider: Provider(trusted: try row.string(3)), usage: Usage(trusted: try row.string(4)),
            owner: Owner(trusted: try row.string(5)), selector: Selector(trusted: try row.string(6)),
            algorithm: try row.enumeration(7, KeyAlgorithm.self), bits: try row.int(8), state: try row.enumeration(9, KeyState.self),
            publicKey: try row.string(10), fingerprint: try row.string(11), privateKeyPath: try row.optionalString(12), ttl: try row.int(13),
            recordOptions: RecordOptions(
                hashAlgorithms: try list(14), serviceTypes: try list(15), flags: try list(16) ?? [], notes: try row.optionalString(17)),
            createdAt: try row.date(18), publishedAt: try row.optionalDate(19), activatedAt: try row.optionalDate(20),
            expiresAt: try row.optionalDate(21), retiredAt: try row.optionalDate(22), revokedAt: try row.optionalDate(23),
            publication: publication(
                action: try row.optionalEnumeration(24, RecordAction.self), ttl: try row.optionalInt(25), at: try row.optionalDate(26)),
            pendingDeploy: try row.optionalEnumeration(27, DeployAction.self),
            privateKeyDisposal: try row.optionalEnumeration(28, PrivateKeyDisposal.self),
            privateKeyDisposedAt: try row.optionalDate(29), revocationReason: try row.optionalString(30),
            kind: try row.optionalEnumeration(31, KeyKind.self) ?? .local, cnameTarget: try row.optionalString(32),
            lastSeenAt: try row.optionalDate(33))
    }

    private static func publication(action: RecordAction?, ttl: Int?, at time: Date?) -> RecordPublication? {
        guard let action, let ttl, let time else { return nil }
        return RecordPublication(action: action, ttl: ttl, pushedAt: time)
    }

    private static func decodeEvent(_ row: Row) throws -> RegistryEvent {
        let row = RowDecoder(row, table: "event")
        return RegistryEvent(
            id: try row.int64("id"), time: try row.string("time"), actor: try row.string("actor"), keyID: try row.optionalInt64("key_id"),
            domain: try row.optionalString("domain"), selector: try row.optionalString("selector"), action: try row.string("action"),
            fromState: try row.optionalString("from_state"), toState: try row.optionalString("to_state"),
            details: try row.string("details"), previousHash: try row.string("previous_hash"), hash: try row.string("hash"))
    }
}
