import Foundation

/// The registry of slots, keys and events, independent of where it is stored.
///
/// Every method that changes something is one transaction that keeps the
/// invariants (unique selectors per domain, one event per change, an unbroken
/// event chain). `SQLRegistry` is the embedded implementation; a server
/// database can sit behind the same protocol.
public protocol KeyRegistry: Sendable {
    /// The owner recorded by `init`, used when a new key names none.
    func defaultOwner() throws -> Owner?

    /// Records `owner` as the default; returns false when it already was.
    @discardableResult
    func setDefaultOwner(_ owner: Owner, actor: Actor, at time: Date) throws -> Bool

    /// Records that the registry was set up (the first event of the chain). Does nothing if already done.
    func recordInitialisation(actor: Actor, at time: Date, details: [String: String]) throws

    /// The selectors of `domain` that start with `prefix`.
    func selectors(of domain: DomainName, startingWith prefix: String) throws -> Set<String>

    /// Registers a new `pending` key, creating its slot (or updating the slot's owner) as needed,
    /// and writes the matching events.
    /// - Throws: `DKIMError.conflict` when the selector is already used for the domain.
    func register(_ registration: NewKeyRegistration, actor: Actor, at time: Date) throws -> RegisteredKey

    /// Registers a provider-managed selector as an `external` key, `active` from now, with the
    /// key DNS serves (`key.tracked` event).
    /// - Throws: `DKIMError.conflict` when the selector is already used for the domain.
    func registerExternal(_ registration: ExternalKeyRegistration, actor: Actor, at time: Date) throws -> RegisteredKey

    /// Records what DNS serves now for a tracked selector: when the key (or the CNAME target)
    /// changed, the row follows and a `key.external-changed` event names both fingerprints;
    /// otherwise only the time it was last seen moves.
    func recordExternalObservation(
        keyID: Int64, _ observation: ExternalKeyObservation, actor: Actor, at time: Date
    ) throws -> (key: RegisteredKey, changed: Bool)

    /// The key with `selector` in `domain`, if any.
    func key(selector: Selector, domain: DomainName) throws -> RegisteredKey?

    /// Calls `body` for every key matching `filter`, ordered by domain then selector,
    /// without loading them all at once.
    func forEachKey(matching filter: KeyFilter, _ body: (RegisteredKey) throws -> Void) throws

    /// The events that concern one key, oldest first.
    func events(forKey keyID: Int64) throws -> [RegistryEvent]

    /// Stores DNS checks as evidence, in one transaction, and marks every
    /// `pending` key whose check passed `published` (first full pass = `published_at`).
    /// - Returns: the keys after the checks, in the same order: re-read where
    ///   the check changed them, as given otherwise.
    func recordChecks(_ checks: [(key: RegisteredKey, check: PublicationCheck)], actor: Actor, at time: Date) throws -> [RegisteredKey]

    /// Makes a key its slot's active key, retiring the previous active key in
    /// the same transaction. `expires_at` = activation + `rotationPeriod`.
    /// - Parameter forcedReason: non-nil when DNS proof was skipped; recorded in the event.
    /// - Returns: the activated key and the key it retired, if any.
    func activate(
        keyID: Int64, rotationPeriod: TimeSpan, forcedReason: String?, actor: Actor, at time: Date
    ) throws -> (active: RegisteredKey, retired: RegisteredKey?)

    /// Records that a publisher brought the key's name to `action` with `ttl` (`record.pushed` event).
    func recordPush(
        keyID: Int64, action: RecordAction, ttl: Int, publisher: String, response: String, actor: Actor, at time: Date
    ) throws -> RegisteredKey

    /// Retires the active key without a successor (the slot stops signing); a `retire` deploy is owed.
    func retire(keyID: Int64, reason: String?, actor: Actor, at time: Date) throws -> RegisteredKey

    /// Marks a key revoked if its state is in `allowedStates`; a `revoke` deploy is owed when
    /// the key was active or retired. The record and the private key are dealt with afterwards.
    func revoke(
        keyID: Int64, reason: String, style: RevocationStyle, allowedStates: Set<KeyState>, actor: Actor, at time: Date
    ) throws -> RegisteredKey

    /// Clears an owed deploy once its hook succeeded (`key.deployed` event); does nothing if none is owed.
    func recordDeployment(keyID: Int64, action: DeployAction, command: String, actor: Actor, at time: Date) throws -> RegisteredKey

    /// Records that a revoked key's private key was destroyed or revealed (once). A key the
    /// registry keeps sealed is crypto-erased in the same transaction (`key.private-key-*`
    /// event says `envelope: erased`), and no older copy of the envelope stays in the files.
    func recordPrivateKeyDisposal(
        keyID: Int64, disposal: PrivateKeyDisposal, location: String?, actor: Actor, at time: Date
    ) throws -> RegisteredKey

    /// The sealed private key of a key the registry keeps (`keyStore: registry`); nil for keys kept in files.
    func storedPrivateKey(keyID: Int64) throws -> StoredPrivateKey?

    /// Moves a key's private key from its file into the registry: the envelope is stored, the
    /// key's file name cleared, with a `key.private-key-sealed` event. The caller destroys the file after.
    /// - Throws: `DKIMError.conflict` for a key without a file (external, revoked, already sealed).
    func sealPrivateKey(keyID: Int64, _ sealed: SealedPrivateKey, actor: Actor, at time: Date) throws -> RegisteredKey

    /// Re-wraps the data key of every live envelope sealed under `previous` under `next` (KEK
    /// rotation), in one transaction with one `keys.rewrapped` event; the previous wrappings are
    /// left nowhere in the files. Returns how many.
    /// - Throws: `DKIMError.crypto` when an envelope does not open under `previous` (nothing is changed).
    func rewrapPrivateKeys(from previous: KeyEncryptionKey, to next: KeyEncryptionKey, actor: Actor, at time: Date) throws -> Int

    /// Plaintext copies written on signing hosts, oldest first: of one host and/or one key
    /// (nil: all), erased ones too when asked.
    func materializedCopies(host: String?, keyID: Int64?, includingErased: Bool) throws -> [MaterializedCopy]

    /// Records what one `keys materialize` run wrote and erased, with one `keys.materialized`
    /// event, in one transaction (nothing when nothing changed).
    func recordMaterialization(_ changes: MaterializationChanges, actor: Actor, at time: Date) throws

    /// Changes the TTL the key's record is published with (`key.ttl-changed` event).
    func changeTTL(keyID: Int64, ttl: Int, actor: Actor, at time: Date) throws -> RegisteredKey

    /// Revoked keys whose revocation is not finished: record not withdrawn, deploy owed, or private key not disposed of.
    func forEachUnfinishedRevocation(_ body: (RegisteredKey) throws -> Void) throws

    /// The most recent DNS checks of a key, newest first.
    func checks(forKey keyID: Int64, limit: Int) throws -> [StoredCheck]

    /// Recomputes every event's hash and link, and compares the last one with the recorded head.
    func verifyEventChain() throws -> EventChainVerification

    /// Replays the event log against every slot and key row and the DNS evidence rows.
    func verifyRegister() throws -> RegisterVerification

    /// The latest DNS check of every key that has one, by key id.
    func latestCheckSummaries() throws -> [Int64: CheckSummary]

    /// Every selector the event log mentions for `domain`.
    func selectorsInEvents(of domain: DomainName) throws -> Set<String>

    /// The id of the event whose hash is `hash`, if any (an auditor's head from a previous audit).
    func eventID(withHash hash: String) throws -> Int64?

    /// The stored hash of event `id`, nil when there is no such event.
    func eventHash(id: Int64) throws -> String?

    /// The last event's id and hash, nil when the log is empty.
    func eventHead() throws -> (id: Int64, hash: String)?

    /// Calls `body` for every event at or after `time` (all when nil), in log order.
    func forEachEvent(since time: Date?, _ body: (RegistryEvent) throws -> Void) throws

    /// Stores a DMARC aggregate report and adds its sightings, with its event, in one
    /// transaction; false (nothing written) when it was imported before.
    func importReport(_ report: AggregateReport, sightings: [DKIMSighting: SightingCount], actor: Actor, at time: Date) throws -> Bool

    /// What receivers reported per (`d=`, selector), unknown selectors first.
    func selectorEvidence(domain: String?, since: String?) throws -> [SelectorEvidence]

    /// The end of the latest report period in which receivers saw `selector` of `domain`
    /// signing (any result), nil when no report shows it.
    func lastSighting(domain: DomainName, selector: Selector) throws -> Date?

    /// Deletes the sums of days before `day` (`YYYY-MM-DD`) and the reports whose period began
    /// before it, with an event when anything went; returns how many sums and reports went.
    func pruneReports(before day: String, actor: Actor, at time: Date) throws -> (sums: Int, reports: Int)

    /// Whether the report (reporter, report id) was imported.
    func hasReport(reporter: String, reportID: String) throws -> Bool

    /// `lastSighting` of every selector reports show, keyed `domain|selector`.
    func lastSightings() throws -> [String: Date]

    /// The end of the newest stored report's period, nil when none is stored.
    func newestReportEnd() throws -> Date?

    /// The slots the registry defines (removed ones left out), by domain, provider and usage.
    func slotDefinitions() throws -> [SlotDefinition]

    /// Defines slots, all in one transaction, each with a `slot.defined` event (creating the
    /// slot, or changing its owner, as needed). A removed definition is defined afresh.
    /// - Parameter updating: a slot already defined is changed to the definition given
    ///   (`slot.changed` when it differs); otherwise it is a `DKIMError.conflict` and nothing is written.
    @discardableResult
    func defineSlots(_ definitions: [SlotDefinition], updating: Bool, actor: Actor, at time: Date) throws -> SlotDefinitionCounts

    /// Changes a defined slot in one transaction: `change` gets the stored definition and
    /// returns the new one (or throws, and nothing is written). A `slot.changed` event names
    /// every option changed with its previous value; nothing is written when nothing changed.
    /// - Throws: `DKIMError.notFound` when the registry does not define the slot.
    func changeSlot(
        domain: DomainName, provider: Provider, usage: Usage, actor: Actor, at time: Date,
        _ change: (SlotDefinition) throws -> SlotDefinition
    ) throws -> (before: SlotDefinition, after: SlotDefinition)

    /// Stops defining a slot (`slot.removed` event); its keys stay registered.
    /// - Parameter keepingLiveKeys: remove even when a key of the slot is pending, published
    ///   or active (it then stops rotating); otherwise that is a `DKIMError.conflict`.
    /// - Returns: the definition removed and how many of its keys were pending, published or active.
    func removeSlot(
        domain: DomainName, provider: Provider, usage: Usage, keepingLiveKeys: Bool, actor: Actor, at time: Date
    ) throws -> (definition: SlotDefinition, liveKeys: Int)

    // MARK: Leadership (several schedulers, one leader)

    /// Which scheduler leads or led last; nil when none ever did.
    func schedulerLease() throws -> SchedulerLease?

    /// Begins the next term for `holder`, who holds the leader lock; its lease runs `lease` seconds.
    func beginLeaderTerm(holder: String, at time: Date, lease: TimeInterval) throws -> SchedulerLease

    /// Extends `term`'s lease; false when another term has begun.
    func renewLeaderTerm(_ term: Int64, at time: Date, expiresAt: Date) throws -> Bool

    /// Records that `term`'s leader finished a tick over every domain at `time`.
    func recordLeaderTick(_ term: Int64, at time: Date) throws

    /// Marks `term` released (when it is still current).
    func releaseLeaderTerm(_ term: Int64, at time: Date) throws

    /// This registry with every write transaction fenced: refused (`DKIMError.notLeader`,
    /// nothing written) once `term` is no longer the current one.
    func fenced(toTerm term: Int64) -> any KeyRegistry

    /// The leader lock on the registry's server, held on a connection of its own; nil when
    /// the registry is a local file (the caller then locks a file of the state directory).
    func sharedLeaderLock(lease: TimeInterval) throws -> (any LeaderLock)?
}

extension KeyRegistry {
    /// Every key matching `filter`, in memory.
    public func keys(matching filter: KeyFilter = KeyFilter()) throws -> [RegisteredKey] {
        var keys: [RegisteredKey] = []
        try forEachKey(matching: filter) { keys.append($0) }
        return keys
    }
}
