import ArgumentParser
import DKIMKit

extension DKIMCtl {
    struct Track: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "track",
            abstract: "Register a provider-managed selector, or follow the tracked ones in DNS (--refresh).",
            discussion: """
                For routes whose key the provider generates (Google Workspace, Microsoft 365, Amazon \
                SES Easy DKIM, SendGrid, Brevo, Mailgun's pdk1/pdk2, Postmark), dkimctl holds no private \
                key but keeps the selector in the register: its owner, usage, and the key DNS serves. \
                The key is read from every authoritative server, through the CNAME the provider asked \
                for if there is one; the check is stored as evidence. The key is 'active' from the \
                start: the provider signs with it.

                --refresh reads every tracked selector (of --domain, if given) again. When the provider \
                rotated the key behind a selector (or moved its CNAME target), the registry follows and \
                the event log records 'key.external-changed' with the previous and the new fingerprint.

                Exit status: 0 done; 3 with --refresh when a tracked selector served no usable key (see \
                the output); 1 when DNS serves no consistent key to track; 64 bad input.

                Examples:
                  dkimctl track --domain example.org --provider google-workspace --selector google --owner it@example.org
                  dkimctl track --domain example.org --provider microsoft-365 --selector selector1
                  dkimctl track --refresh
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var configurationFile: ConfigurationOption
        @OptionGroup var dns: DNSOptions

        @Option(help: "The sending domain.")
        var domain: String?

        @Option(help: ArgumentHelp("The provider that manages the selector.", valueName: "provider"))
        var provider: String?

        @Option(help: "The selector the provider asked you to publish (google, selector1, s1, …).")
        var selector: String?

        @Option(help: ArgumentHelp("Person or team answering for the route. Default: the owner recorded by 'init'.", valueName: "address"))
        var owner: String?

        @Option(help: "What mail this route signs: noreply, notifications, support, …")
        var usage: String = Usage.default.name

        @Flag(help: "Read every tracked selector again and record the provider's key changes.")
        var refresh = false

        @Option(help: "Output: text or json.")
        var format: ReportFormat = .text

        func run(_ context: CommandContext) throws {
            let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
            let tracker = SelectorTracker(
                registry: context.registry, checker: try dns.checker(defaults: configuration.dns), actor: context.actor)
            var outcomes: [TrackingOutcome] = []
            if refresh {
                guard provider == nil, selector == nil, owner == nil else {
                    throw DKIMError(.invalidInput, "--refresh takes only --domain (it follows every tracked selector)")
                }
                let domainFilter = try domain.map(DomainName.init)
                for key in try context.registry.keys(matching: KeyFilter(domain: domainFilter, states: [.active], kinds: [.external])) {
                    outcomes.append(try tracker.refresh(key, profile: configuration.providers.profile(for: key.provider), at: context.now))
                }
                if outcomes.isEmpty { Output.note("no tracked selector\(domainFilter.map { " for \($0)" } ?? "") to refresh") }
            } else {
                guard let domain, let provider, let selector else {
                    throw DKIMError(.invalidInput, "track needs --domain, --provider and --selector (or --refresh)")
                }
                let providerValue = try Provider(provider)
                let request = TrackRequest(
                    domain: try DomainName(domain), provider: providerValue, usage: try Usage(usage),
                    owner: try context.owner(owner, for: "the tracked selector"),
                    selector: try Selector(selector), profile: configuration.providers.profile(for: providerValue))
                outcomes.append(try tracker.track(request, at: context.now))
            }
            Output.standard.write(format == .json ? TrackingReport.json(outcomes) : TrackingReport.text(outcomes))
            if outcomes.contains(where: { if case .unresolved = $0.change { true } else { false } }) {
                throw ExitCode(3)
            }
        }
    }
}
