/// The one error type DKIMKit throws.
///
/// Like swift-certificates' `CertificateError`, it is a code plus a readable
/// reason: callers branch on `kind`, people read `message`, and new kinds never
/// break a `switch` elsewhere. Every message is a single line that names the
/// offending value and, where there is one, what would have been accepted.
public struct DKIMError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// A value given by the user (domain, selector, size, flag combination…) was refused.
        case invalidInput
        /// The change would break a registry invariant (duplicate selector, …).
        case conflict
        /// The named key or slot is not in the registry.
        case notFound
        /// A state or key directory, or a key file, is readable or writable by others.
        case unsafePermissions
        /// The state directory or registry does not exist yet.
        case notInitialized
        /// The registry could not be opened, read or written.
        case registry
        /// OpenSSL reported an error, or a self-test of a new key failed.
        case crypto
        /// A file could not be read or written, or a hook failed.
        case io
        /// Another dkimctl run holds the rotation lock, or another scheduler leads.
        case busy
        /// This process's leadership term is over (another scheduler took over): fenced, nothing written.
        case notLeader
        /// DNS did not give a usable answer (a tracked selector with no consistent key).
        case dnsFailure
    }

    public let kind: Kind
    public let message: String
    /// What fixes it, when there is a known step (the front end words it).
    public let remedy: Remedy?

    public init(_ kind: Kind, _ message: String, remedy: Remedy? = nil) {
        self.kind = kind
        self.message = message
        self.remedy = remedy
    }

    public var description: String { message }

    static func invalid(_ message: String) -> DKIMError { DKIMError(.invalidInput, message) }
}
