import Foundation

/// What the registry holds of a private key it keeps (`keyStore: registry`).
public enum StoredPrivateKey: Sendable, Equatable {
    /// The envelope: data key wrapped by the KEK, private key under the data key.
    case sealed(SealedPrivateKey)
    /// Crypto-erased (the key was revoked): both blobs are gone.
    case erased(at: Date)
}

/// A plaintext copy of a private key that dkimctl wrote on a signing host
/// (`keys materialize`): recorded so that revocation can erase it, and so that the
/// register shows where a key's plaintext went.
public struct MaterializedCopy: Sendable, Equatable {
    public let id: Int64
    public let keyID: Int64
    /// The host name the copy was written on.
    public let host: String
    /// The absolute path of the file.
    public let path: String
    public let writtenAt: Date
    /// When dkimctl erased it; nil while it is live.
    public let erasedAt: Date?

    public init(id: Int64, keyID: Int64, host: String, path: String, writtenAt: Date, erasedAt: Date?) {
        self.id = id
        self.keyID = keyID
        self.host = host
        self.path = path
        self.writtenAt = writtenAt
        self.erasedAt = erasedAt
    }
}

/// What one `keys materialize` run changed on a host, recorded in one transaction.
public struct MaterializationChanges: Sendable, Equatable {
    public var host: String
    public var directory: String
    /// Copies written (or rewritten because the file differed or was missing).
    public var written: [(keyID: Int64, path: String)]
    /// Live copies erased: their key is revoked or no longer asked for.
    public var erased: [MaterializedCopy]
    /// Copies already in place, byte for byte.
    public var unchanged: Int

    public init(host: String, directory: String, written: [(keyID: Int64, path: String)] = [], erased: [MaterializedCopy] = [], unchanged: Int = 0) {
        self.host = host
        self.directory = directory
        self.written = written
        self.erased = erased
        self.unchanged = unchanged
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.host == rhs.host && lhs.directory == rhs.directory && lhs.erased == rhs.erased && lhs.unchanged == rhs.unchanged
            && lhs.written.map(\.keyID) == rhs.written.map(\.keyID) && lhs.written.map(\.path) == rhs.written.map(\.path)
    }
}
