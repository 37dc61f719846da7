import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Alignment: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "alignment",
            abstract: "Say whether each slot's d= aligns with its From domains under the published DMARC policy.",
            discussion: """
                DKIM counts for DMARC only when the signature's d= aligns with the header From \
                domain: under adkim=s the same domain, under adkim=r (the default) the same \
                organisational domain (Debian's Public Suffix List). For each From domain the DMARC \
                record is read through the resolver at _dmarc.<From>, then at each parent up to the \
                organisational domain (RFC 9989's tree walk; RFC 7489's lookup ends there too).

                The slots are the configuration's slots of --domain (From domains: each slot's \
                'fromDomains:', default the slot's domain), else the registry's; --from replaces the \
                From domains. See runbooks/dmarc-alignment.md.

                Exit status: 0 every slot aligns; 3 at least one does not; 1 DNS did not answer.

                Examples:
                  dkimctl alignment --domain example.org
                  dkimctl alignment --domain mail.example.org --from example.org --from shop.example.org
                  dkimctl alignment --domain example.org --format json
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case table, json
        }

        @OptionGroup var global: GlobalOptions
        @OptionGroup var configurationFile: ConfigurationOption
        @OptionGroup var dns: DNSOptions

        @Option(help: "The signing domain (d=) whose slots are checked.")
        var domain: String

        @Option(help: ArgumentHelp("A From domain to check against (repeatable); default: each slot's fromDomains.", valueName: "domain"))
        var from: [String] = []

        @Option(help: "Output: table or json.")
        var format: Format = .table

        func run(_ context: CommandContext) throws {
            let domain = try DomainName(domain)
            let fromOverride = try from.map(DomainName.init)
            let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
            var slots = configuration.slots.filter { $0.domain == domain }.map { ("\($0.provider)/\($0.usage)", $0.fromDomains) }
            if slots.isEmpty {
                let keys = try context.registry.keys(matching: KeyFilter(domain: domain))
                slots = Array(Set(keys.map { "\($0.provider)/\($0.usage)" })).sorted().map { ($0, [domain]) }
            }
            if slots.isEmpty { slots = [("(no slot)", [domain])] }
            let checker = try dns.checker(defaults: configuration.dns)
            let suffixes = try PublicSuffixList.system()
            let lookup = DMARCPolicyLookup(transport: checker.transport, resolvers: checker.discovery.resolvers, suffixes: suffixes)
            let verdicts = try lookup.verdicts(slots.map { slot, fromDomains in
                (slot, domain.ascii, (fromOverride.isEmpty ? fromDomains : fromOverride).map(\.ascii))
            })
            switch format {
            case .table: Output.standard.write(DMARCReport.alignmentTable(verdicts))
            case .json: Output.standard.write(DMARCReport.alignmentJSON(verdicts))
            }
            if verdicts.contains(where: { !$0.aligned }) { throw ExitCode(3) }
        }
    }
}
