import ArgumentParser
import DKIMKit

extension DKIMCtl {
    struct Record: DKIMCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a registered key's DNS record again.",
            discussion: """
                Formats: zone (BIND master file, strings of at most 255 octets), value (the \
                unsplit value on one line, for DNS web forms) or json.

                Examples:
                  dkimctl record mailgun-notifications-20261123 --domain example.org
                  dkimctl record mailgun-notifications-20261123 --domain example.org --format value
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var key: KeyReference

        @Option(help: "Output: zone, value or json.")
        var format: RecordFormat = .zone

        func run(_ context: CommandContext) throws {
            Output.standard.write(KeyReport.record(try key.find(in: context.registry), format: format))
        }
    }
}
