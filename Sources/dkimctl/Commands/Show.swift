import ArgumentParser
import DKIMKit

extension DKIMCtl {
    struct Show: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show one key, its record and its event history.",
            discussion: """
                Examples:
                  dkimctl show mailgun-notifications-20261123 --domain example.org
                  dkimctl show mailgun-notifications-20261123 --domain example.org --format json
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        @OptionGroup var global: GlobalOptions
        @OptionGroup var key: KeyReference

        @Option(help: "Output: text or json.")
        var format: Format = .text

        @Option(name: .customLong("checks"), help: "How many of the latest DNS checks to show.")
        var checkCount: Int = 5

        func run(_ context: CommandContext) throws {
            let key = try key.find(in: context.registry)
            let events = try context.registry.events(forKey: key.id)
            let checks = try context.registry.checks(forKey: key.id, limit: checkCount)
            let seen = try context.registry.lastSighting(domain: key.domain, selector: key.selector)
            switch format {
            case .text: Output.standard.write(KeyReport.showText(key, events: events, checks: checks, lastSighting: seen, wording: .commandLine))
            case .json: Output.standard.write(KeyReport.showJSON(key, events: events, checks: checks, lastSighting: seen))
            }
        }
    }
}
