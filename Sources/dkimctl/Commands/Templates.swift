import ArgumentParser
import DKIMKit

extension DKIMCtl {
    struct Templates: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "templates",
            abstract: "List the templates dkimctl renders and where each comes from.",
            discussion: """
                The defaults are embedded in the binary from the source tree's Templates/. A user \
                directory (--templates DIR, or 'templates:' in the configuration) overrides them by \
                name: DIR/record/zone.mustache replaces the zone format, DIR/record/mine.mustache adds \
                a format 'mine'. Templates render as plain text (nothing is HTML-escaped).

                Examples:
                  dkimctl templates list
                  dkimctl templates list --templates /etc/dkimctl/templates
                """,
            subcommands: [List.self])

        struct List: DKIMCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List every template: name, use, origin.")

            @OptionGroup var global: GlobalOptions
            @OptionGroup var configurationFile: ConfigurationOption
            @OptionGroup var templates: TemplateOptions

            @Option(help: "Output: table or json.")
            var format: ListingFormat = .table

            func run(_ context: CommandContext) throws {
                let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
                let library = try templates.library(configuration)
                if format == .json {
                    var writer = JSONWriter(pretty: true)
                    writer.beginArray()
                    for entry in library.entries {
                        writer.beginObject()
                        writer.field("name", entry.name)
                        writer.field("origin", entry.file == nil ? "embedded" : "user")
                        writer.field("file", entry.file)
                        writer.field("overridesDefault", entry.overridesDefault)
                        writer.endObject()
                    }
                    writer.endArray()
                    Output.standard.write(writer.text + "\n")
                    return
                }
                let width = library.entries.map(\.name.count).max() ?? 0
                for entry in library.entries {
                    let origin = entry.file.map { "\($0)\(entry.overridesDefault ? " (overrides the embedded default)" : "")" } ?? "embedded"
                    Output.standard.write(entry.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + origin + "\n")
                }
            }
        }
    }
}
