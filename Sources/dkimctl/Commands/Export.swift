import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Export: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Render the MTA signing tables of the active keys, or the scheduler's cron/systemd units.",
            discussion: """
                export mta --format opendkim|rspamd|exim renders the templates under mta/FORMAT/ for the \
                active keys that sign on your own MTA (provider self-hosted, or custom providers with \
                'mta: true'; --provider picks another). OpenDKIM gets KeyTable and SigningTable (a key of \
                usage 'default', or a domain's only key, signs *@domain; others sign <usage>@domain); \
                rspamd and Exim get one key per domain. Each file is written atomically (temporary file, \
                fsync, rename), so an MTA never reads half a file; reload the MTA afterwards (a deploy hook). \
                With 'keyStore: registry', run 'dkimctl keys materialize --host-dir DIR' on the MTA host \
                and pass --key-dir DIR: the tables then name the keys there.

                export units --format systemd|cron renders the scheduler's units with this binary's path, \
                the state directory and the configuration.

                Without --output, every file is printed, each after a '# ==> NAME <==' line, with \
                paths as if written into the current directory.

                Examples:
                  dkimctl export mta --format opendkim --output /etc/opendkim/dkimctl
                  dkimctl export mta --format rspamd --output /etc/rspamd/dkimctl
                  dkimctl export mta --format opendkim --key-dir /etc/opendkim/keys --output /etc/opendkim/dkimctl
                  dkimctl export units --format systemd --output /etc/systemd/system
                """)

        enum Kind: String, ExpressibleByArgument, CaseIterable {
            case mta
            case units
        }

        @OptionGroup var global: GlobalOptions
        @OptionGroup var configurationFile: ConfigurationOption
        @OptionGroup var templates: TemplateOptions
        @OptionGroup var keyDirectory: KeyDirectoryOption

        @Argument(help: "What to export: mta or units.")
        var kind: Kind

        @Option(help: "mta: opendkim, rspamd or exim (or a user template folder under mta/); units: systemd or cron.")
        var format: String

        @Option(help: ArgumentHelp("Directory to write the files into (created 0755 if missing).", valueName: "dir"))
        var output: String?

        @Option(help: ArgumentHelp("mta: export the active keys of this provider instead of the MTA-signing ones.", valueName: "provider"))
        var provider: String?

        @Option(help: "units: the user the units run as.")
        var user: String = "root"

        @Option(help: "units: the scheduler's interval.")
        var interval: String = "1h"

        func run(_ context: CommandContext) throws {
            let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
            let library = try templates.library(configuration)
            let group = "\(kind.rawValue)/\(format)"
            let names = library.names(in: group)
            guard !names.isEmpty else {
                let formats = Set(library.entries.compactMap { entry -> String? in
                    let parts = entry.name.split(separator: "/")
                    return parts.count >= 3 && parts[0] == kind.rawValue ? String(parts[1]) : nil
                }).sorted()
                throw DKIMError(.invalidInput, "\(kind.rawValue) format '\(format)' is not known (allowed: \(formats.joined(separator: ", ")))")
            }
            let directory = try output.map { path -> String in
                guard !path.isEmpty else { throw DKIMError(.invalidInput, "output directory '' is empty") }
                return URL(fileURLWithPath: path).standardizedFileURL.path
            }
            let values: [String: Any]
            switch kind {
            case .mta:
                let only = try provider.map(Provider.init)
                let keys = try context.registry.keys(matching: KeyFilter(provider: only, states: [.active], kinds: [.local])).filter {
                    only != nil || configuration.providers.profile(for: $0.provider).signsOnOwnMTA
                }
                if keys.isEmpty { Output.warning("no active key signs on your MTA\(only.map { " for provider \($0)" } ?? ""): the tables are empty") }
                // Printed rather than written: the files are meant for the current directory.
                values = TemplateContexts.mta(keys: try keys.map { try keyDirectory.locate($0, in: context.state) }, directory: directory ?? FileManager.default.currentDirectoryPath, at: context.now)
            case .units:
                values = try TemplateContexts.units(
                    binary: Self.executablePath(), stateDirectory: context.state.path,
                    configuration: configurationFile.path.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
                        ?? (FileManager.default.fileExists(atPath: context.state.configurationPath) ? context.state.configurationPath : nil),
                    user: user, interval: interval)
            }
            // Render everything before writing anything.
            let files = try names.map { name in (name, try library.render("\(group)/\(name)", values)) }
            guard let directory else {
                for (name, text) in files { Output.standard.write("# ==> \(name) <==\n" + text) }
                return
            }
            try AtomicFile.makeDirectory(directory, mode: 0o755)
            for (name, text) in files {
                let path = directory + "/" + name
                try AtomicFile.write(Data(text.utf8), to: path, mode: 0o644, replacing: true)
                Output.note("wrote \(path)")
            }
        }

        /// The running binary, as the units should start it.
        static func executablePath() -> String {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        }
    }
}
