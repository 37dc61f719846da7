import ArgumentParser
import DKIMKit
import Foundation

/// `--config FILE`: the configuration file, optional for most commands.
struct ConfigurationOption: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("Configuration file (default: <state-dir>/dkimctl.yaml, if present).", valueName: "file"))
    var path: String?

    /// The configuration; when it is optional and absent, an empty one (built-in providers,
    /// manual publishing, no hooks, embedded templates).
    /// - Parameter checkEnvironment: also check TSIG secret files and hook commands.
    func load(_ context: CommandContext, required: Bool, checkEnvironment: Bool = true) throws -> LifecycleConfiguration {
        let file = path ?? context.state.configurationPath
        if !required, path == nil, !FileManager.default.fileExists(atPath: file) {
            return LifecycleConfiguration()
        }
        if !FileManager.default.fileExists(atPath: file) {
            throw DKIMError(.notFound, "no configuration at \(file); write one with 'dkimctl config init' (or pass --config)")
        }
        return try ConfigurationFile.load(
            path: file, defaultOwner: try context.registry.defaultOwner(), checkEnvironment: checkEnvironment)
    }
}

/// `--templates DIR` with the configuration it may come from: the template library to render with.
struct TemplateOptions: ParsableArguments {
    @Option(
        name: .customLong("templates"),
        help: ArgumentHelp(
            "Directory of *.mustache templates overriding the embedded ones by name (default: the configuration's 'templates:').",
            valueName: "dir"))
    var directory: String?

    func library(_ configuration: LifecycleConfiguration) throws -> TemplateLibrary {
        try TemplateLibrary(userDirectory: directory ?? configuration.templateDirectory)
    }
}
