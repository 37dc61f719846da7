import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Reports: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reports",
            abstract: "Import DMARC aggregate reports and show which selectors receivers saw signing.",
            discussion: """
                Receivers send DMARC aggregate reports (the rua= address of the DMARC record): per \
                source and message count, each DKIM signature's d=, selector and result. dkimctl \
                keeps each report once and sums what it says of DKIM per day.

                Examples:
                  dkimctl reports import /var/mail/dmarc-reports/
                  dkimctl reports import google.com!example.org!1764547200!1764633599.zip report.xml.gz
                  dkimctl reports summary --domain example.org --since 2026-11-01
                """,
            subcommands: [Import.self, Summary.self])

        struct Import: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "import",
                abstract: "Import aggregate reports: XML, gzip or ZIP files, or directories of them.",
                discussion: """
                    The format comes from the file's bytes, not its name: .xml, .xml.gz and .zip \
                    (one XML inside, as Google sends) are all read, whatever they are called. Both \
                    schemas are read (RFC 7489 and RFC 9990, with or without namespaces). A report is \
                    identified by its reporter and report id and never counted twice.

                    A file is refused on its own, with the reason, when it is not a report, is \
                    truncated, holds a DTD or entity declarations (XXE, entity expansion), or passes \
                    a limit (64 MiB inflated, 500× its compressed size, 1,000,000 rows); the other \
                    files are imported. Directories are read recursively (hidden files and symbolic \
                    links inside them are skipped).

                    Exit status: 0 every file imported or already imported; 1 at least one refused.

                    Examples:
                      dkimctl reports import reports/
                      dkimctl reports import a.xml b.xml.gz c.zip
                    """)

            @OptionGroup var global: GlobalOptions
            @OptionGroup var configurationFile: ConfigurationOption

            @Argument(help: ArgumentHelp("Report files or directories.", valueName: "path"))
            var paths: [String]

            func validate() throws {
                if paths.isEmpty { throw ValidationError("give at least one report file or directory") }
            }

            func run(_ context: CommandContext) throws {
                let configuration = try configurationFile.fileOnly(context, required: false, checkEnvironment: false)
                let keepFrom = Timestamp.day(context.now.addingTimeInterval(-TimeInterval(configuration.reportRetention.seconds)))
                let pruned = try context.registry.pruneReports(before: keepFrom, actor: context.actor, at: context.now)
                if pruned.sums + pruned.reports > 0 {
                    Output.note("retention \(configuration.reportRetention): removed \(pruned.reports) report(s) and \(pruned.sums) daily sum(s) from before \(keepFrom)")
                }
                let importer = ReportImport(
                    registry: context.registry, suffixes: try PublicSuffixList.system(), actor: context.actor, keepFrom: keepFrom)
                let files = try ReportImport.files(in: paths)
                var (imported, duplicates, refused, rows, messages) = (0, 0, 0, 0, 0)
                try importer.importFiles(files, at: context.now) { file, outcomes in
                    for result in outcomes {
                        let shown = TextEscaping.controlCharactersEscaped(file) + (result.part.map { " (\(TextEscaping.controlCharactersEscaped($0)))" } ?? "")
                        switch result.outcome {
                        case .imported(let reporter, let reportID, let count, let sum):
                            imported += 1
                            rows += count
                            messages += sum
                            Output.standard.write(
                                "imported \(shown): \(TextEscaping.controlCharactersEscaped(reporter)) report \(TextEscaping.controlCharactersEscaped(reportID)), \(count) row(s), \(sum) message(s)\n")
                        case .duplicate(let reporter, let reportID):
                            duplicates += 1
                            Output.standard.write(
                                "already imported \(shown): \(TextEscaping.controlCharactersEscaped(reporter)) report \(TextEscaping.controlCharactersEscaped(reportID))\n")
                        case .expired(let reporter, let reportID):
                            duplicates += 1
                            Output.standard.write(
                                "not imported \(shown): \(TextEscaping.controlCharactersEscaped(reporter)) report \(TextEscaping.controlCharactersEscaped(reportID)) began before \(keepFrom) (reports.retention \(configuration.reportRetention))\n")
                        case .refused(let reason):
                            refused += 1
                            Output.error("\(shown): \(TextEscaping.controlCharactersEscaped(reason.description))")
                        }
                    }
                }
                Output.standard.write(
                    "\(files.count) file(s), \(imported + duplicates + refused) report(s): \(imported) imported (\(rows) row(s), \(messages) message(s)), \(duplicates) already imported or past retention, \(refused) refused\n")
                if refused > 0 { throw ExitCode.failure }
            }
        }

        struct Summary: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "summary",
                abstract: "Per selector: first and last seen, messages, pass rate, reporters, aligned share.",
                discussion: """
                    Selectors the registry does not know come first: a route nobody declared, or one \
                    forgotten. An empty selector is one a receiver did not name. Days are the UTC \
                    days the reports' periods begin.

                    Examples:
                      dkimctl reports summary
                      dkimctl reports summary --domain example.org --since 2026-11-01 --format csv
                    """)

            enum Format: String, ExpressibleByArgument, CaseIterable {
                case table, json, csv
            }

            @OptionGroup var global: GlobalOptions

            @Option(help: "Only what concerns this domain (as the DMARC policy domain or as d=).")
            var domain: String?

            @Option(help: ArgumentHelp("Only days from this one on (YYYY-MM-DD or ISO 8601, UTC).", valueName: "date"))
            var since: String?

            @Option(help: "Output: table, json or csv.")
            var format: Format = .table

            func run(_ context: CommandContext) throws {
                let domain = try domain.map { try DomainName($0).ascii }
                let since = try since.map { Timestamp.day(try CommandLineDate.parse($0)) }
                let evidence = try context.registry.selectorEvidence(domain: domain, since: since)
                switch format {
                case .table:
                    if evidence.isEmpty { Output.note("no report shows a DKIM signature\(domain.map { " for \($0)" } ?? "")") }
                    else { Output.standard.write(DMARCReport.table(evidence)) }
                case .csv: Output.standard.write(DMARCReport.csv(evidence))
                case .json: Output.standard.write(DMARCReport.json(evidence))
                }
            }
        }
    }
}
