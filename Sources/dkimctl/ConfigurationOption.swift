import ArgumentParser
import DKIMKit
import Foundation

/// `--config FILE`: the configuration file, optional for most commands.
struct ConfigurationOption: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("Configuration file (default: <state-dir>/dkimctl.yaml, if present).", valueName: "file"))
    var path: String?

    /// The configuration file's, with the slots the registry defines (`dkimctl slot add`)
    /// included; without a file (when it is optional, or when the registry defines slots),
    /// the built-in providers, manual publishing, no hooks and the embedded templates.
    /// - Parameter checkEnvironment: also check TSIG secret files and hook commands.
    func load(_ context: CommandContext, required: Bool, checkEnvironment: Bool = true) throws -> LifecycleConfiguration {
        try fileOnly(context, required: required, checkEnvironment: checkEnvironment).including(try context.registry.slotDefinitions())
    }

    /// The configuration file's alone (the registry's slots not included).
    func fileOnly(_ context: CommandContext, required: Bool, checkEnvironment: Bool = true) throws -> LifecycleConfiguration {
        let file = path ?? context.state.configurationPath
        let defaultOwner = try context.registry.defaultOwner()
        if path == nil, !FileManager.default.fileExists(atPath: file), try !required || !context.registry.slotDefinitions().isEmpty {
            var empty = LifecycleConfiguration()
            empty.defaultOwner = defaultOwner
            return empty
        }
        if !FileManager.default.fileExists(atPath: file) {
            throw DKIMError(.notFound, "no configuration at \(file); write one with 'dkimctl config init' (or pass --config), or define slots with 'dkimctl slot add'")
        }
        return try ConfigurationFile.load(path: file, defaultOwner: defaultOwner, checkEnvironment: checkEnvironment)
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
