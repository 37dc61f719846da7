import ArgumentParser
import DKIMKit

extension DKIMCtl {
    struct Record: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "record",
            abstract: "Print a registered key's DNS record, in any record format.",
            discussion: """
                Formats are the templates under record/ ('dkimctl templates list'), plus json:
                  zone                  BIND master-file fragment, strings of at most 255 octets
                  value                 the unsplit value on one line, for DNS web forms
                  nsupdate              an nsupdate script (server from the domain's rfc2136 publisher, if configured)
                  route53               an Amazon Route 53 change batch (aws route53 change-resource-record-sets)
                  cloudflare            a Cloudflare DNS API record (POST /zones/ZONE/dns_records)
                  terraform-route53     a Terraform aws_route53_record, split for Route 53
                  terraform-cloudflare  a Terraform cloudflare_record
                  json                  the key and its record as one JSON object
                A user template directory (--templates, or 'templates:' in the configuration) \
                overrides these by name and may add formats.

                Examples:
                  dkimctl record mailgun-notifications-20261123 --domain example.org
                  dkimctl record mailgun-notifications-20261123 --domain example.org --format value
                  dkimctl record mailgun-notifications-20261123 --domain example.org --format route53 > change.json
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var key: KeyReference
        @OptionGroup var configurationFile: ConfigurationOption
        @OptionGroup var templates: TemplateOptions

        @Option(help: "Output: json or a record template name (zone, value, nsupdate, route53, cloudflare, terraform-route53, terraform-cloudflare, …).")
        var format: String = "zone"

        func run(_ context: CommandContext) throws {
            let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
            let library = try templates.library(configuration)
            let key = try key.find(in: context.registry)
            if format == RecordFormat.json.rawValue {
                Output.standard.write(KeyReport.recordJSON(key))
                return
            }
            guard library.entry("record/\(format)") != nil else {
                throw DKIMError(
                    .invalidInput,
                    "record format '\(format)' is not known (allowed: json, \(library.names(in: "record").joined(separator: ", ")))")
            }
            if key.kind == .external, let target = key.cnameTarget {
                throw DKIMError(
                    .conflict,
                    "\(key.recordName) is a CNAME to \(target), published as the provider asks; its key record is the provider's, not a record to publish")
            }
            var server: DNSServer?
            if case .rfc2136(let settings)? = configuration.domain(key.domain)?.publisher { server = settings.server }
            Output.standard.write(try library.render("record/\(format)", TemplateContexts.record(try context.state.resolvingPrivateKeyFile(key), server: server)))
        }
    }
}
