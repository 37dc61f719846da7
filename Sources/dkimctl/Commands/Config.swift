import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config",
            abstract: "Write or check the configuration that 'rotate' and 'scheduler' follow.",
            subcommands: [Init.self, Check.self])

        struct Init: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "init",
                abstract: "Write a commented example configuration (refuses to overwrite one).",
                discussion: """
                    Examples:
                      dkimctl config init
                      dkimctl config init --config /etc/dkimctl/dkimctl.yaml
                    """)

            @OptionGroup var global: GlobalOptions

            @Option(name: .customLong("config"), help: ArgumentHelp("Where to write it (default: <state-dir>/dkimctl.yaml).", valueName: "file"))
            var path: String?

            func run() throws {
                let target = path ?? global.state.configurationPath
                let directory = (target as NSString).deletingLastPathComponent
                guard FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory) else {
                    throw DKIMError(.notFound, "directory \(directory) does not exist (run 'dkimctl init' first, or pass --config)")
                }
                try AtomicFile.write(Data(ConfigurationExample.text.utf8), to: target, mode: 0o600, replacing: false)
                Output.standard.write("wrote \(target); edit it, then run 'dkimctl config check' and 'dkimctl rotate --dry-run'\n")
            }
        }

        struct Check: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "check",
                abstract: "Check the configuration: syntax, keys, values, TSIG secret files, hook commands.",
                discussion: """
                    Reports the first problem with its file, line, column and key path, and exits 64; \
                    prints a summary of the domains and slots otherwise.

                    Examples:
                      dkimctl config check
                      dkimctl config check --config /etc/dkimctl/dkimctl.yaml
                    """)

            @OptionGroup var global: GlobalOptions

            @Option(name: .customLong("config"), help: ArgumentHelp("The file to check (default: <state-dir>/dkimctl.yaml).", valueName: "file"))
            var path: String?

            func run() throws {
                let state = global.state
                let target = path ?? state.configurationPath
                var owner: Owner?
                let shared = try global.postgresRegistry() != nil
                if state.exists || shared, let registry = try? global.openRegistry() {
                    owner = try registry.defaultOwner()
                }
                let configuration = try ConfigurationFile.load(path: target, defaultOwner: owner)
                var text = "\(target): OK\n"
                for domain in configuration.domains {
                    text += "\(domain.domain): publisher \(domain.publisher.typeName)" + (domain.deploy.map { ", deploy '\($0)'" } ?? "") + "\n"
                    for slot in domain.slots {
                        text += "  \(slot.provider)/\(slot.usage): owner \(slot.owner), \(slot.specification.algorithm.rawValue)-\(slot.specification.bits), rotation \(slot.rotation), lead \(slot.lead), grace \(slot.grace), ttl \(slot.ttl)→\(slot.stableTTL), revocation \(slot.revocation.rawValue)\(slot.reveal ? ", reveal" : "")\(slot.revokeAfterUnused.map { ", revoke after \($0) unused" } ?? "")\n"
                        for warning in slot.specification.warnings { text += "    warning: \(warning)\n" }
                    }
                }
                Output.standard.write(text)
            }
        }
    }
}
