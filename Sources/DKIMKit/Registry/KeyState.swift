/// Where a key is in its life (README, "Concepts").
public enum KeyState: String, Sendable, CaseIterable, Codable, Comparable {
    /// Generated and registered; DNS has not yet shown its record.
    case pending
    /// Every authoritative nameserver serves the record; waiting out the propagation window.
    case published
    /// The slot's signing key.
    case active
    /// A successor became active; the record stays for the grace period.
    case retired
    /// Record withdrawn (empty `p=` or deleted) and private key destroyed.
    case revoked

    public init(parsing input: String) throws {
        guard let state = KeyState(rawValue: input.lowercased()) else {
            throw DKIMError.invalid(
                "state '\(input)' is not a key state (allowed: \(KeyState.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = state
    }

    public static func < (lhs: KeyState, rhs: KeyState) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
