import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct New: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Generate a keypair for a sending route and register it as pending.",
            discussion: """
                Generates the keypair with OpenSSL, checks it by signing and verifying a test \
                message, writes the private key (PKCS#8 PEM, mode 0600) into the state's keys/ \
                directory — or, with 'keyStore: registry' in the configuration, seals it in the \
                registry under the key-encryption key — registers the key as 'pending' and prints \
                its DNS record.

                The selector is <provider>-<usage>-<yyyymmdd> (UTC) unless --selector or \
                --selector-pattern says otherwise; a second key of the same slot on the same day \
                gets 'b', then 'c', …

                Providers: \(Provider.builtInIdentifiers.joined(separator: ", ")), or custom:NAME \
                (profiles for custom providers come from the configuration's 'providers:'). A key the \
                provider cannot take is refused (for example Ed25519 or 4096 bits for Amazon SES); \
                providers that generate their own keys (Google Workspace, Microsoft 365, Brevo, \
                SendGrid, Postmark) are registered with 'dkimctl track' instead. 'dkimctl providers' \
                lists what each accepts.

                The record goes to standard output; the private key's path and any warnings go to \
                standard error. The private key itself is never printed.

                Examples:
                  dkimctl new --domain example.org --provider mailgun --usage notifications
                  dkimctl new --domain example.org --provider self-hosted --usage support --owner helpdesk@example.org
                  dkimctl new --domain example.org --provider self-hosted --algorithm ed25519 --format json
                  dkimctl new --domain example.org --provider amazon-ses --usage noreply --bits 1024 --format value
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var configurationFile: ConfigurationOption
        @OptionGroup var templates: TemplateOptions

        @Option(help: "The sending domain (d=), e.g. example.org. IDN names are converted to A-labels.")
        var domain: String

        @Option(help: ArgumentHelp("Who sends with this key: a built-in provider or custom:NAME.", valueName: "provider"))
        var provider: String

        @Option(help: "What mail this key signs: noreply, notifications, support, …")
        var usage: String = Usage.default.name

        @Option(help: ArgumentHelp("Person or team answering for the slot. Default: the owner recorded by 'init'.", valueName: "address"))
        var owner: String?

        @Option(help: "Key algorithm: rsa or ed25519.")
        var algorithm: String = KeyAlgorithm.rsa.rawValue

        @Option(help: "RSA modulus size: 1024, 2048 (default), 3072 or 4096. Not for ed25519.")
        var bits: Int?

        @Option(help: "Use this selector instead of the dated default.")
        var selector: String?

        @Option(
            name: .customLong("selector-pattern"),
            help: "Pattern for the dated selector; tokens {provider} {usage} {yyyymmdd} {yyyymm} {yyyy} {mm} {dd}.")
        var selectorPattern: String = SelectorPattern.default.pattern

        @Option(help: "Record TTL in seconds (60–604800). 1800 while a record is new, per CCCS ITSP.40.065.")
        var ttl: Int = PublishedRecord.defaultTTL

        @Flag(help: "Add t=y: the domain is testing DKIM (verifiers treat signatures as unsigned on failure).")
        var testing = false

        @Flag(name: .customLong("strict-identity"), help: "Add t=s: the i= domain must equal d=, no subdomains.")
        var strictIdentity = false

        @Flag(name: .customLong("sha256-only"), help: "Add h=sha256: this key may only be used with SHA-256.")
        var sha256Only = false

        @Flag(name: .customLong("email-only"), help: "Add s=email: this key may only be used for email.")
        var emailOnly = false

        @Option(help: "Add n=: a note for people reading the record.")
        var notes: String?

        @Option(help: "Output: zone (BIND master file), value (one line for web forms) or json.")
        var format: RecordFormat = .zone

        func run(_ context: CommandContext) throws {
            let domain = try DomainName(domain)
            let provider = try Provider(provider)
            let usage = try Usage(usage)
            let algorithm = try KeyAlgorithm(parsing: algorithm)
            let specification = try KeySpecification(algorithm: algorithm, bits: bits)
            let selector = try selector.map(Selector.init)
            let pattern = try SelectorPattern(selectorPattern)
            let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
            let profile = configuration.providers.profile(for: provider)
            let library = try templates.library(configuration)
            try profile.check(specification)
            let owner = try context.owner(owner, for: "the new key")
            var flags: [String] = []
            if testing { flags.append("y") }
            if strictIdentity { flags.append("s") }
            let options = RecordOptions(
                hashAlgorithms: sha256Only ? ["sha256"] : nil, serviceTypes: emailOnly ? ["email"] : nil,
                flags: flags, notes: notes)

            for warning in specification.warnings { Output.warning(warning) }
            let issuer = KeyIssuer(registry: context.registry, state: context.state, actor: context.actor, store: configuration.privateKeyStore)
            let issued = try issuer.issue(
                KeyRequest(
                    domain: domain, provider: provider, usage: usage, owner: owner, specification: specification,
                    selector: selector, pattern: pattern, ttl: ttl, recordOptions: options, profile: profile),
                at: context.now)
            let key = try context.state.resolvingPrivateKeyFile(issued)

            // zone and value come from the record templates, as with 'dkimctl record'.
            Output.standard.write(
                format == .json ? KeyReport.recordJSON(key) : try library.render("record/\(format.rawValue)", TemplateContexts.record(key)))
            if format != .json {
                if key.privateKeyInRegistry {
                    Output.note("private key sealed in the registry (AES-256-GCM, key-encryption key \(try configuration.privateKeyStore.kek(for: "the note").id)); 'dkimctl keys materialize' writes it where a signer needs it")
                } else {
                    Output.note("private key written to \(key.privateKeyPath ?? "-") (mode 0600)")
                }
                Output.note("key \(key.selector) is pending: publish the record at \(key.recordName.absolute)")
            }
        }
    }
}
