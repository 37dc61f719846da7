import Foundation

/// One entry of the append-only event log. Events form a SHA-256 hash chain:
/// each stores the hash of the one before it, so editing, reordering or
/// removing an event is detectable (see `runbooks/audit-event-chain.md`).
public struct RegistryEvent: Sendable, Equatable {
    public let id: Int64
    /// UTC, ISO 8601 with milliseconds, exactly as hashed.
    public let time: String
    public let actor: String
    public let keyID: Int64?
    public let domain: String?
    public let selector: String?
    /// What happened: `registry.initialized`, `key.created`, `slot.owner-changed`, …
    public let action: String
    public let fromState: String?
    public let toState: String?
    /// A JSON object with the action's details.
    public let details: String
    public let previousHash: String
    public let hash: String

    /// The hash of the first event's predecessor.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The event's hash, recomputed from its fields.
    public var computedHash: String {
        EventHash.compute(
            id: id, time: time, actor: actor, keyID: keyID, domain: domain, selector: selector,
            action: action, fromState: fromState, toState: toState, details: details,
            previousHash: previousHash)
    }
}

/// The canonical form an event's hash is computed over, documented for
/// auditors who want to check the chain with their own tools.
///
/// `SHA-256` (hex) of the UTF-8 text `dkimctl-event-v1\n` followed, for each
/// field in order, by `name=LENGTH:VALUE\n` (LENGTH in UTF-8 octets) or
/// `name=null\n` for a missing value.
enum EventHash {
    static func compute(
        id: Int64, time: String, actor: String, keyID: Int64?, domain: String?, selector: String?,
        action: String, fromState: String?, toState: String?, details: String, previousHash: String
    ) -> String {
        let fields: [(String, String?)] = [
            ("id", String(id)), ("time", time), ("actor", actor), ("key_id", keyID.map { String($0) }),
            ("domain", domain), ("selector", selector), ("action", action), ("from_state", fromState),
            ("to_state", toState), ("details", details), ("previous_hash", previousHash),
        ]
        var text = "dkimctl-event-v1\n"
        for (name, value) in fields {
            if let value {
                text += "\(name)=\(value.utf8.count):\(value)\n"
            } else {
                text += "\(name)=null\n"
            }
        }
        return sha256Hex(text)
    }
}

/// One place where the event chain is broken.
public struct ChainBreak: Sendable, Equatable {
    /// What kind of break, for code that acts on it (the words are in `problem`).
    public enum Kind: String, Sendable, Equatable {
        /// An event's stored hash does not match its content.
        case altered
        /// Event ids jump: events were removed.
        case removed
        /// An event does not link to the one before it: removed, inserted or reordered before it.
        case unlinked
        /// The log ends before the head the registry recorded.
        case truncated
        /// An event row holds a value of the wrong type.
        case damaged
    }

    public let kind: Kind
    /// The event the break was found at; nil when the end of the log is missing.
    public let eventID: Int64?
    public let action: String?
    public let time: String?
    /// What is wrong, in words.
    public let problem: String
}

/// The outcome of checking the whole event chain.
public struct EventChainVerification: Sendable, Equatable {
    /// How many events were checked.
    public let eventCount: Int
    /// The hash of the last event (the value to record outside the registry).
    public let headHash: String
    /// The id of the last event.
    public let headID: Int64
    /// Where the chain is broken, in log order; empty when it is intact.
    public let breaks: [ChainBreak]

    public init(eventCount: Int, headHash: String, headID: Int64, breaks: [ChainBreak]) {
        self.eventCount = eventCount
        self.headHash = headHash
        self.headID = headID
        self.breaks = breaks
    }

    /// The breaks as sentences.
    public var problems: [String] { breaks.map(\.problem) }
    public var isIntact: Bool { breaks.isEmpty }
    /// The first broken link: where an auditor starts looking.
    public var firstBreak: ChainBreak? { breaks.first }
}

/// What an event says happened, before the log gives it an id, time and hashes.
public struct EventDraft: Sendable {
    public var action: String
    public var keyID: Int64?
    /// The slot the event is about when no key is (slot.created, slot.owner-changed):
    /// its row is snapshotted into the details like a key's.
    public var slotID: Int64?
    public var domain: String?
    public var selector: String?
    public var fromState: KeyState?
    public var toState: KeyState?
    public var details: [String: String]

    public init(
        action: String, keyID: Int64? = nil, slotID: Int64? = nil, domain: String? = nil, selector: String? = nil,
        fromState: KeyState? = nil, toState: KeyState? = nil, details: [String: String] = [:]
    ) {
        self.action = action
        self.keyID = keyID
        self.slotID = slotID
        self.domain = domain
        self.selector = selector
        self.fromState = fromState
        self.toState = toState
        self.details = details
    }

    /// `details` as a JSON object with sorted keys, so the same draft always hashes the same.
    var detailsJSON: String {
        var writer = JSONWriter()
        writer.beginObject()
        for key in details.keys.sorted() { writer.field(key, details[key]!) }
        writer.endObject()
        return writer.text
    }
}
