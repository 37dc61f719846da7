import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create the state directory, the registry and the key directory.",
            discussion: """
                Creates the state directory and its keys/ directory with mode 0700 and the \
                registry (registry.sqlite) with mode 0600 — or, with --registry postgres://…, the \
                registry's tables in that database. Safe to run again: existing state is kept, and \
                --owner updates the default owner (recorded in the event log).

                Examples:
                  dkimctl init --owner mail-team@example.org
                  dkimctl init --state-dir ./demo-state --owner postmaster@example.org
                  dkimctl init --registry "postgres://dkimctl@db.example.org/dkimctl?passwordfile=/etc/dkimctl/db-password" --owner mail-team@example.org
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Default owner of new slots: the person or team answering for them.", valueName: "address"))
        var owner: String?

        func run() throws {
            let owner = try owner.map(Owner.init)
            let now = try CommandContext.currentTime()
            let state = global.state
            let shared = try global.postgresRegistry()
            let existed = shared == nil ? state.exists : FileManager.default.fileExists(atPath: state.keysPath)
            try state.create()
            let registry = try global.openRegistry(create: true)
            let actor = Actor.current()
            try registry.recordInitialisation(
                actor: actor, at: now, details: ["dkimctl_version": DKIMKitVersion.current, "state_dir": state.path])
            var ownerChanged = false
            if let owner {
                ownerChanged = try registry.setDefaultOwner(owner, actor: actor, at: now)
            }

            let out = Output.standard
            out.write(existed ? "State directory \(state.path) was already initialised.\n" : "Initialised \(state.path)\n")
            out.write("  registry: \(shared?.redacted ?? state.registryPath)\n")
            out.write("  keys:     \(state.keysPath)/\n")
            if let current = try registry.defaultOwner() {
                out.write("  default owner: \(current)\(ownerChanged ? " (recorded now)" : "")\n")
            } else {
                out.write("  default owner: none; give --owner to 'dkimctl new', or set one with 'dkimctl init --owner ADDR'\n")
            }
        }
    }
}
