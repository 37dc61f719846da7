import Foundation

/// One step a rotation tick plans for a domain. Each phase of the tick plans its
/// steps from the keys as they are, then either describes them (`--dry-run`) or
/// performs them; the next phase plans against the keys the previous one left.
enum TickStep {
    /// A retired key whose grace period is over: revoke it.
    case revoke(RegisteredKey, SlotPolicy)
    /// An active key past the grace period after its activation: give its record the stable TTL.
    case raiseTTL(RegisteredKey, SlotPolicy)
    /// New keys for the slots that need one (first key, successor, after a manual retirement),
    /// generated together, one thread per core.
    case createKeys([NewKey])
    /// The record changes DNS is missing, sent to the domain's publisher together.
    case pushRecords([PlannedPush])
    /// Pending keys of managed slots, to prove on every authoritative server.
    case prove([RegisteredKey])
    /// The newest published key of a slot whose propagation window is over.
    case activate(RegisteredKey, SlotPolicy)
    /// A deploy hook the key owes (a revocation's waits until it was pushed).
    case deploy(RegisteredKey, DeployAction)
    /// The private key of a revoked key whose revocation was pushed and deployed.
    /// `awaitWithdrawal`: DNS must first show the record withdrawn (revealing, or a manual publisher).
    case disposeOfPrivateKey(RegisteredKey, reveal: Bool, awaitWithdrawal: Bool)

    struct NewKey {
        let policy: SlotPolicy
        let reason: String
    }

    struct PlannedPush {
        let key: RegisteredKey
        let change: RecordChange
    }
}
