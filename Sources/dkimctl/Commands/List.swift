import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct List: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List registered keys: the register of selectors, owners and dates.",
            discussion: """
                Formats: table (for people), json (an array of objects, one per line) and csv \
                (RFC 4180, every field, for audits and spreadsheets). Filters combine with AND.

                Examples:
                  dkimctl list
                  dkimctl list --domain example.org --state active
                  dkimctl list --expiring-within 30d --format json
                  dkimctl list --format csv > dkim-register.csv
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case table, json, csv
        }

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only keys of this domain.")
        var domain: String?

        @Option(help: "Only keys of this provider.")
        var provider: String?

        @Option(help: "Only keys of this usage.")
        var usage: String?

        @Option(help: ArgumentHelp("Only keys whose slot has this owner.", valueName: "address"))
        var owner: String?

        @Option(help: "Only keys in this state (pending, published, active, retired, revoked); repeatable.")
        var state: [String] = []

        @Option(
            name: .customLong("expiring-within"),
            help: ArgumentHelp("Only keys whose rotation is due within this time: 90s, 15m, 12h, 30d, 2w.", valueName: "duration"))
        var expiringWithin: String?

        @Option(help: "Output: table, json or csv.")
        var format: Format = .table

        func run(_ context: CommandContext) throws {
            let filter = KeyFilter(
                domain: try domain.map(DomainName.init),
                provider: try provider.map(Provider.init),
                usage: try usage.map(Usage.init),
                owner: try owner.map { try Owner($0).address },
                states: try state.map(KeyState.init(parsing:)),
                expiringBefore: try expiringWithin.map { context.now.addingTimeInterval(TimeInterval(try TimeSpan(parsing: $0).seconds)) })
            let out = Output.standard
            // What DMARC reports last showed signing, per key (empty without reports).
            let seen = format == .table ? [:] : try context.registry.lastSightings()
            switch format {
            case .table:
                var rows: [[String]] = []
                try context.registry.forEachKey(matching: filter) { rows.append(KeyReport.tableRow($0)) }
                if rows.isEmpty {
                    Output.note("no keys match")
                } else {
                    out.write(KeyReport.table(header: KeyReport.tableColumns, rows: rows))
                }
            case .csv:
                out.write(KeyReport.csvHeader)
                let formatter = BackgroundFormatter<RegisteredKey> { keys in
                    Array(keys.map { KeyReport.csvRow($0, seenSigning: seen["\($0.domain.ascii)|\($0.selector.name)"]) }.joined().utf8)
                }
                try context.registry.forEachKey(matching: filter, formatter.add)
                formatter.finish()
            case .json:
                // One object per line, so that the output also greps well.
                var count = 0
                let formatter = BackgroundFormatter<(Int, RegisteredKey)> { items in
                    var writer = JSONWriter()
                    var bytes: [UInt8] = []
                    for (index, key) in items {
                        bytes.append(contentsOf: index == 0 ? [UInt8(ascii: "\n")] : [UInt8(ascii: ","), UInt8(ascii: "\n")])
                        writer.reset()
                        KeyReport.object(key, includeZone: false, seenSigning: seen["\(key.domain.ascii)|\(key.selector.name)"], into: &writer)
                        bytes.append(contentsOf: writer.bytes)
                    }
                    return bytes
                }
                out.write("[")
                try context.registry.forEachKey(matching: filter) { key in
                    formatter.add((count, key))
                    count += 1
                }
                formatter.finish()
                out.write(count == 0 ? "]\n" : "\n]\n")
            }
        }
    }
}
