import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Registry: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "registry",
            abstract: "Move the registry to another store (SQLite file → PostgreSQL, or back).",
            subcommands: [Migrate.self])

        struct Migrate: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "migrate",
                abstract: "Copy the whole registry into an empty PostgreSQL database (or a new SQLite file).",
                discussion: """
                    Verifies the source's event chain and register first (nothing is copied if they \
                    do not verify), then copies every row of every table — slots, keys, the event log \
                    with its hashes, DNS evidence, DMARC report sums, slot definitions, sealed private \
                    keys and their copies — with their ids, in one transaction of the target, and \
                    verifies the target to the same head before committing. The target must hold no \
                    registry yet. The source is left as it was: stop cron and scheduler runs first, \
                    then point them at the target (--registry or DKIMCTL_REGISTRY).

                    Examples:
                      dkimctl registry migrate --to "postgres://dkimctl@db.example.org/dkimctl?passwordfile=/etc/dkimctl/db-password"
                      dkimctl registry migrate --registry "postgres://dkimctl@db.example.org/dkimctl" --to /var/backups/dkimctl.sqlite
                    """)

            @OptionGroup var global: GlobalOptions

            @Option(help: ArgumentHelp("The target: a postgres:// URL, or the path of a new SQLite file.", valueName: "url-or-file"))
            var to: String

            func run(_ context: CommandContext) throws {
                guard let source = context.registry as? SQLRegistry else { throw DKIMError(.registry, "the registry cannot be copied") }
                let target: SQLRegistry
                if PostgresSettings.isURL(to) {
                    target = try SQLRegistry.open(postgres: PostgresSettings(url: to))
                } else {
                    guard !to.isEmpty else { throw DKIMError(.invalidInput, "target '' is neither a postgres:// URL nor a file path") }
                    let path = URL(fileURLWithPath: to).standardizedFileURL.path
                    if FileManager.default.fileExists(atPath: path) {
                        throw DKIMError(.conflict, "target file \(path) exists; give a new file")
                    }
                    target = try SQLRegistry.open(path: path, create: true)
                }
                guard target.label != source.label else { throw DKIMError(.invalidInput, "the target is the source (\(source.label))") }
                let summary = try RegistryCopy.copy(from: source, to: target)
                for (table, count) in summary.rows { Output.standard.write("\(table): \(count) row(s)\n") }
                Output.standard.write("copied \(source.label) into \(target.label): \(summary.events) events, head \(summary.headHash), verified\n")
            }
        }
    }
}
