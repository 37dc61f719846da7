import DKIMKit

/// DKIMKit says what fixes a problem; the command line says it as dkimctl commands.
extension RemedyWording {
    static let commandLine = RemedyWording(hint: { $0.hint }, step: { $0.commandLine })
}

extension Remedy {
    /// The step as a command to run (placeholders in capitals), or the step itself when it is not a dkimctl command.
    var commandLine: String {
        switch self {
        case .initialize(let directory, let withOwner):
            return "dkimctl init" + (directory.map { " --state-dir \($0)" } ?? "") + (withOwner ? " --owner ADDR" : "")
        case .recordDefaultOwner: return "dkimctl init --owner ADDR"
        case .writeConfiguration(let path): return "dkimctl config init" + (path.map { " --config \($0)" } ?? "")
        case .checkConfiguration(let path): return "dkimctl config check --config \(path)"
        case .listTemplates: return "dkimctl templates list"
        case .verifyPublication: return "dkimctl verify"
        case .verifyRegister: return "dkimctl audit verify"
        case .track(let provider, let selector):
            return "dkimctl track --domain DOMAIN --provider \(provider ?? "PROVIDER") --selector \(selector ?? "SELECTOR")"
        case .refreshTracking: return "dkimctl track --refresh"
        case .emergencyRotation(let selector, let domain, let reason):
            return "dkimctl rotate --emergency \(selector ?? "SELECTOR") --domain \(domain ?? "DOMAIN") --reason \(reason.map(Self.quoted) ?? "TEXT")"
        case .revoke(let selector, let domain, let immediately, let reason):
            return "dkimctl revoke \(selector ?? "SELECTOR") --domain \(domain ?? "DOMAIN")" + (immediately ? " --immediately" : "")
                + (reason.map { " --reason \(Self.quoted($0))" } ?? "")
        case .rotate: return "dkimctl rotate"
        case .createAuditKey: return "dkimctl audit seal --init-key FILE"
        case .listSlots: return "dkimctl slot list"
        case .removeSlotKeepingKeys: return "dkimctl slot remove --domain DOMAIN --provider PROVIDER --usage USAGE --keep-keys"
        case .manual(let step): return step
        }
    }

    /// The step as a hint after a message: what it does, then the command.
    var hint: String {
        let command = "'\(commandLine)'"
        switch self {
        case .initialize: return "run \(command) first"
        case .recordDefaultOwner: return "or record a default with \(command)"
        case .writeConfiguration: return "create one with \(command)"
        case .checkConfiguration: return "then check it with \(command)"
        case .listTemplates: return "see \(command)"
        case .verifyPublication: return "\(command) runs one"
        case .verifyRegister: return "\(command) lists every difference"
        case .track: return "\(command)"
        case .refreshTracking: return "\(command) follows it"
        case .emergencyRotation: return "\(command)"
        case .revoke: return "\(command)"
        case .rotate: return "\(command)"
        case .createAuditKey: return "make one with \(command)"
        case .listSlots: return "see \(command)"
        case .removeSlotKeepingKeys: return "retire or revoke them first, or keep them with \(command)"
        case .manual(let step): return step
        }
    }

    /// A shell word: 'text', with any quote escaped.
    private static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
