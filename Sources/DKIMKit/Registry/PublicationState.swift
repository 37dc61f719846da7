import Foundation

// What the registry records of a key's publication, deploy hooks and private key file:
// persisted values, kept beside the registry model that stores them.

/// What a publisher is asked to do with the record at a key's name.
public enum RecordAction: String, Sendable, Codable, CaseIterable {
    /// Publish (or replace) the key's record.
    case publish
    /// Replace the record by one with an empty `p=` (RFC 6376 §3.6.1: the key is revoked).
    case revoke
    /// Remove the TXT RRset at the name.
    case delete
}

/// What was last pushed to DNS for a key, as the registry recorded it.
public struct RecordPublication: Sendable, Equatable {
    public let action: RecordAction
    public let ttl: Int
    public let pushedAt: Date
}

/// Why a deploy hook is owed for a key (the MTA must be told).
public enum DeployAction: String, Sendable, Codable, CaseIterable {
    case activate
    case retire
    case revoke
}

/// What became of a revoked key's private key file.
public enum PrivateKeyDisposal: String, Sendable, Codable {
    /// Overwritten and unlinked.
    case destroyed
    /// Moved to `<state-dir>/revealed/` for publication (deniability).
    case revealed
}

/// How a revoked key's record is withdrawn from DNS.
public enum RevocationStyle: String, Sendable, Codable, CaseIterable {
    /// Keep the name with `p=` empty: verifiers see "key revoked" rather than "no key".
    case emptyP = "empty-p"
    /// Delete the record.
    case delete

    public var recordAction: RecordAction { self == .emptyP ? .revoke : .delete }
}
