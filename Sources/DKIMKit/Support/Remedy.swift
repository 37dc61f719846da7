/// What fixes a problem, or comes next, as a value (names as plain text: Support
/// sits below Names). DKIMKit says *what* to do;
/// the front end words it (the command line as a `dkimctl …` command, another
/// front end as a button or a link), so the library knows no command syntax.
public enum Remedy: Sendable, Equatable {
    /// Create the state directory and its registry (`withOwner`: a default owner is needed too).
    case initialize(stateDirectory: String?, withOwner: Bool)
    /// Record the default owner of new keys and slots.
    case recordDefaultOwner
    /// Write the commented example configuration.
    case writeConfiguration(path: String?)
    /// Check the configuration file again.
    case checkConfiguration(path: String)
    /// List the templates, embedded and the user's own.
    case listTemplates
    /// Check a key's record on every authoritative server now.
    case verifyPublication
    /// Replay the register from the event log and list every difference.
    case verifyRegister
    /// Register a provider-managed selector (tracked, not generated).
    case track(provider: String?, selector: String?)
    /// Read a tracked selector from DNS again.
    case refreshTracking
    /// Rotate a key at once, with no grace period (its private key is exposed or lost).
    case emergencyRotation(selector: String?, domain: String?, reason: String?)
    /// Revoke a key; `immediately`: without waiting for the grace period.
    case revoke(selector: String?, domain: String?, immediately: Bool, reason: String?)
    /// Run the rotation tick (it creates what is due and adopts a key file named for today's selector).
    case rotate
    /// Make the Ed25519 key that signs audit seals.
    case createAuditKey
    /// List the slots the registry defines.
    case listSlots
    /// Remove a slot's definition anyway: its keys stay registered and stop rotating.
    case removeSlotKeepingKeys
    /// A step outside dkimctl (`chmod 600 FILE`, restoring a backup), in words.
    case manual(String)
}

/// How a front end words remedies: the reports that show findings and fixes take one.
public struct RemedyWording: Sendable {
    /// As a hint after a message: `see 'dkimctl templates list'`.
    public let hint: @Sendable (Remedy) -> String
    /// As a step to carry out: `dkimctl templates list`.
    public let step: @Sendable (Remedy) -> String

    public init(hint: @escaping @Sendable (Remedy) -> String, step: @escaping @Sendable (Remedy) -> String) {
        self.hint = hint
        self.step = step
    }

    /// `message (hint)`, or the message alone.
    public func message(_ message: String, _ remedy: Remedy?) -> String {
        remedy.map { "\(message) (\(hint($0)))" } ?? message
    }
}
