import ArgumentParser
import DKIMKit
import Foundation

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "Directory holding the registry and private keys.",
            discussion: "Default: $DKIMCTL_HOME, else /var/lib/dkimctl as root, else $XDG_DATA_HOME/dkimctl.",
            valueName: "dir"))
    var stateDirectory: String?

    @Option(
        name: .customLong("registry"),
        help: ArgumentHelp(
            "The registry: a postgres:// URL for a registry shared by several hosts.",
            discussion: "Default: $DKIMCTL_REGISTRY, else registry: in the configuration file, else registry.sqlite in the state directory (which holds the keys and locks either way).",
            valueName: "url"))
    var registryURL: String?

    var state: StateDirectory {
        StateDirectory(path: stateDirectory ?? StateDirectory.defaultPath())
    }

    /// The PostgreSQL registry named by --registry, else $DKIMCTL_REGISTRY, else `registry:` in the
    /// configuration file (--config's, else the state directory's); nil for the state's SQLite file.
    func postgresRegistry() throws -> PostgresSettings? {
        let environment = ProcessEnvironment.nonEmptyValue("DKIMCTL_REGISTRY")
        guard let url = registryURL ?? environment ?? ConfigurationFile.registryURL(inFileAt: Self.configurationPath(state)), !url.isEmpty
        else { return nil }
        return try PostgresSettings(url: url)
    }

    /// The configuration file a command reads: `--config FILE` on its command line, else the state's.
    static func configurationPath(_ state: StateDirectory) -> String {
        let arguments = CommandLine.arguments
        for (index, argument) in arguments.enumerated() {
            if argument == "--config", index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--config=") { return String(argument.dropFirst("--config=".count)) }
        }
        return state.configurationPath
    }

    /// Opens (and migrates) the registry: the PostgreSQL one if named, else the state's SQLite file.
    /// - Parameter create: whether a missing SQLite file may be created (`init`).
    func openRegistry(create: Bool = false) throws -> SQLRegistry {
        if let settings = try postgresRegistry() { return try SQLRegistry.open(postgres: settings) }
        return try SQLRegistry.open(path: state.registryPath, create: create)
    }
}

/// What a command works with, opened once: the checked state directory, the
/// registry, who is acting and what time it is.
struct CommandContext {
    let state: StateDirectory
    let registry: any KeyRegistry
    let actor: Actor
    /// Now, or `DKIMCTL_NOW` (ISO 8601) when set, so that tests and simulations control time.
    let now: Date

    static func currentTime() throws -> Date {
        guard let text = ProcessEnvironment.nonEmptyValue("DKIMCTL_NOW") else { return Date() }
        guard let date = Timestamp.parse(text) else {
            throw DKIMError(.invalidInput, "DKIMCTL_NOW '\(text)' is not an ISO 8601 time (e.g. 2026-11-23T10:00:00Z)")
        }
        return date
    }

    /// `--owner` if given, else the default recorded by `init`.
    /// - Parameter what: what needs the owner, for the error (`the new key`).
    func owner(_ given: String?, for what: String) throws -> Owner {
        guard let owner = try given.map(Owner.init) ?? registry.defaultOwner() else {
            throw DKIMError(.invalidInput, "no owner for \(what): pass --owner ADDR, or record a default with 'dkimctl init --owner ADDR'")
        }
        return owner
    }

    /// Opens an existing state directory after checking its permissions.
    /// - Parameter checkingKeyFiles: refuse key files others can read (every command but `audit`, which reports them).
    static func open(_ options: GlobalOptions, checkingKeyFiles: Bool = true) throws -> CommandContext {
        let state = options.state
        let now = try currentTime()
        let shared = try options.postgresRegistry() != nil
        guard FileManager.default.fileExists(atPath: state.path), state.exists || shared else {
            throw DKIMError(.notInitialized, "no dkimctl registry in \(state.path); run 'dkimctl init' first (or pass --state-dir)")
        }
        try state.checkSafety(keyFiles: checkingKeyFiles)
        let registry = try options.openRegistry()
        return CommandContext(state: state, registry: registry, actor: Actor.current(), now: now)
    }
}

/// A command that works on an initialised state directory.
///
/// Conforming commands implement `run(_:)`; the context is opened for them.
protocol DKIMCommand: ParsableCommand {
    var global: GlobalOptions { get }
    /// Whether the command refuses to run while a key file is readable by others (default true).
    static var refusesUnsafeKeyFiles: Bool { get }
    func run(_ context: CommandContext) throws
}

extension DKIMCommand {
    static var refusesUnsafeKeyFiles: Bool { true }

    func run() throws {
        try run(CommandContext.open(global, checkingKeyFiles: Self.refusesUnsafeKeyFiles))
    }
}

/// `SELECTOR --domain D`, which names one key.
struct KeyReference: ParsableArguments {
    init() {}

    init(selector: String, domain: String) {
        self.selector = selector
        self.domain = domain
    }

    @Argument(help: "The key's selector.")
    var selector: String

    @Option(help: "The key's domain.")
    var domain: String

    func find(in registry: any KeyRegistry) throws -> RegisteredKey {
        let domain = try DomainName(domain)
        let selector = try Selector(selector)
        guard let key = try registry.key(selector: selector, domain: domain) else {
            throw DKIMError(.notFound, "no key with selector '\(selector)' for \(domain) in the registry (see 'dkimctl list --domain \(domain)')")
        }
        return key
    }
}

extension RecordFormat: ExpressibleByArgument {}

/// A time given on the command line (`--since`): a date or an ISO 8601 time, UTC.
enum CommandLineDate {
    /// `2026-05-01` (midnight UTC) or a full ISO 8601 time.
    static func parse(_ text: String) throws -> Date {
        if let date = Timestamp.parse(text) ?? Timestamp.parse(text + "T00:00:00Z") { return date }
        throw DKIMError(.invalidInput, "time '\(text)' is not a date (allowed: YYYY-MM-DD or ISO 8601, e.g. 2026-05-01T00:00:00Z)")
    }

}

/// `--output FILE`: a report to standard output, or atomically to a file.
struct OutputFile: ParsableArguments {
    @Option(name: .customLong("output"), help: ArgumentHelp("Write to this file (atomically) instead of standard output.", valueName: "file"))
    var path: String?

    /// To standard output, or atomically to the file (mode 0644; a reader never sees half of it).
    func write(_ text: String) throws {
        guard let path else {
            Output.standard.write(text)
            return
        }
        try AtomicFile.write(Data(text.utf8), to: path, mode: 0o644, replacing: true)
        Output.note("wrote \(path)")
    }
}

/// `--key-dir DIR`: where `keys materialize` writes the private keys on the host that reads them,
/// for the paths templates print. Needed for keys the registry keeps sealed.
struct KeyDirectoryOption: ParsableArguments {
    @Option(
        name: .customLong("key-dir"),
        help: ArgumentHelp(
            "Name private key files in this directory (where 'keys materialize --host-dir' writes them) instead of the state's keys/.",
            valueName: "dir"))
    var keyDirectory: String?

    /// `key` with the private key path the output should name.
    func locate(_ key: RegisteredKey, in state: StateDirectory) throws -> RegisteredKey {
        if let keyDirectory {
            guard !keyDirectory.isEmpty else { throw DKIMError(.invalidInput, "key directory '' is empty") }
            let directory = URL(fileURLWithPath: keyDirectory).standardizedFileURL.path
            return key.withPrivateKeyPath(directory + "/" + state.privateKeyFileName(for: key.recordName))
        }
        if key.privateKeyInRegistry {
            throw DKIMError(
                .invalidInput,
                "the private key of \(key.selector) (\(key.domain)) is sealed in the registry: write it where it is read with 'dkimctl keys materialize --host-dir DIR' and pass --key-dir DIR")
        }
        return try state.resolvingPrivateKeyFile(key)
    }
}
