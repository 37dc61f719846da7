import ArgumentParser
import DKIMKit

extension DKIMCtl {
    struct Providers: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "providers",
            abstract: "List the provider profiles: who generates keys, what each accepts, its selectors and hand-off.",
            discussion: """
                'keys' says who generates the keypair: local (dkimctl does, with 'dkimctl new'), \
                provider (the provider does; register its selectors with 'dkimctl track'), or both. \
                'accepts' lists the algorithms and RSA sizes 'dkimctl new' may generate for it; \
                'managed' the selectors the provider manages itself (a TXT it generates, or CNAMEs \
                delegated to its zone); 'handoff' the template 'dkimctl handoff' prints.

                Profiles for custom:NAME providers come from the configuration's 'providers:' section.

                Examples:
                  dkimctl providers
                  dkimctl providers --format json
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var configurationFile: ConfigurationOption

        @Option(help: "Output: table or json.")
        var format: ListingFormat = .table

        func run(_ context: CommandContext) throws {
            let catalog = try configurationFile.fileOnly(context, required: false, checkEnvironment: false).providers
            Output.standard.write(format == .json ? ProviderReport.json(catalog) : ProviderReport.table(catalog))
        }
    }
}

/// `table` or `json`, for listings that have no CSV form.
enum ListingFormat: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
}
