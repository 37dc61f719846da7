import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Slot: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "slot",
            abstract: "Define slots in the registry instead of the configuration file (fleets of many domains).",
            discussion: """
                A slot the registry defines is rotated like one of the configuration file: its \
                options are checked by the same rules, and what it does not set comes from the \
                file's 'defaults:', then the documented defaults. A domain the file names keeps \
                its publisher and deploy hook; other domains use the file's 'registrySlots:' \
                publisher and deploy hook (manual publishing without one). When the file names \
                the same slot, the file's policy applies. Every change is one transaction with \
                its event in the log (slot.defined, slot.changed, slot.removed).

                Examples:
                  dkimctl slot add --domain example.org --provider mailgun --usage notifications --rotation 90d
                  dkimctl slot set --domain example.org --provider mailgun --usage notifications --grace 14d --unset rotation
                  dkimctl slot list --format json > slots.jsonl
                  dkimctl slot import slots.jsonl
                  dkimctl slot remove --domain example.org --provider mailgun --usage notifications
                """,
            subcommands: [Add.self, Set.self, Remove.self, List.self, Import.self])

        /// `--domain`, `--provider`, `--usage`: which slot.
        struct SlotName: ParsableArguments {
            @Option(help: "The slot's domain.")
            var domain: String

            @Option(help: "The slot's provider (see 'dkimctl providers').")
            var provider: String

            @Option(help: ArgumentHelp("The slot's usage (e.g. noreply, notifications, support).", valueName: "usage"))
            var usage: String = Usage.default.name

            func parsed() throws -> (DomainName, Provider, Usage) {
                (try DomainName(domain), try Provider(provider), try Usage(usage))
            }
        }

        /// The policy options a slot may set, named as in the configuration file.
        struct PolicyOptions: ParsableArguments {
            @Option(help: ArgumentHelp("Who answers for the slot (default: the configuration's, else the one 'init' recorded).", valueName: "address"))
            var owner: String?

            @Option(help: "rsa or ed25519.")
            var algorithm: String?

            @Option(help: "RSA key size: 1024, 2048, 3072 or 4096.")
            var bits: Int?

            @Option(help: ArgumentHelp("Time from activation to the next rotation (default 182d).", valueName: "duration"))
            var rotation: String?

            @Option(help: ArgumentHelp("How long before the rotation the successor is created (default 14d).", valueName: "duration"))
            var lead: String?

            @Option(help: ArgumentHelp("How long a retired key's record stays published (default 7d).", valueName: "duration"))
            var grace: String?

            @Option(help: ArgumentHelp("TTL of a new record, in seconds (default 1800).", valueName: "seconds"))
            var ttl: Int?

            @Option(name: .customLong("stable-ttl"), help: ArgumentHelp("TTL once the key is settled (default 86400).", valueName: "seconds"))
            var stableTTL: Int?

            @Option(name: .customLong("selector-pattern"), help: ArgumentHelp("How selectors are named (see 'dkimctl config init').", valueName: "pattern"))
            var selectorPattern: String?

            @Option(help: "How a key is revoked: empty-p or delete.")
            var revocation: String?

            @Flag(inversion: .prefixedNo, help: "Move revoked private keys to <state-dir>/revealed/ instead of destroying them.")
            var reveal: Bool?

            @Option(help: ArgumentHelp("Shortest time a record is published before its key may sign.", valueName: "duration"))
            var propagation: String?

            @Option(name: .customLong("attention-after"), help: ArgumentHelp("A record not visible this long after its push needs attention (default 2d).", valueName: "duration"))
            var attentionAfter: String?

            @Option(
                name: .customLong("revoke-after-unused"),
                help: ArgumentHelp("Revoke a retired key only once DMARC reports have not shown it signing for this long.", valueName: "duration"))
            var revokeAfterUnused: String?

            @Option(name: .customLong("from-domain"), help: ArgumentHelp("A From domain of the mail this slot signs (repeatable; default: the slot's domain).", valueName: "domain"))
            var fromDomains: [String] = []

            /// The options given (owner apart).
            var given: SlotOptions {
                var options = SlotOptions()
                options.algorithm = algorithm
                options.bits = bits
                options.rotation = rotation
                options.lead = lead
                options.grace = grace
                options.ttl = ttl
                options.stableTTL = stableTTL
                options.selectorPattern = selectorPattern
                options.revocation = revocation
                options.reveal = reveal
                options.propagation = propagation
                options.attentionAfter = attentionAfter
                options.revokeAfterUnused = revokeAfterUnused
                options.fromDomains = fromDomains.isEmpty ? nil : fromDomains
                return options
            }
        }

        /// Checks `definition` by the configuration's rules (nothing is written when it fails).
        static func check(_ definition: SlotDefinition, _ configuration: LifecycleConfiguration, source: SlotDefinition.Source = .options) throws {
            _ = try definition.policy(defaults: configuration.slotDefaults, catalog: configuration.providers, defaultOwner: configuration.defaultOwner, source: source)
        }

        /// The owner of a new slot: `--owner`, else the configuration's `defaults.owner`, else `init`'s.
        static func owner(_ given: String?, _ configuration: LifecycleConfiguration) throws -> Owner {
            if let given { return try Owner(given) }
            if let text = configuration.slotDefaults.owner { return try Owner(text) }
            guard let owner = configuration.defaultOwner else {
                throw DKIMError(.invalidInput, "no owner for the slot: pass --owner ADDR, set defaults.owner, or record a default with 'dkimctl init --owner ADDR'")
            }
            return owner
        }

        static func noteIfFileNames(_ definition: SlotDefinition, _ configuration: LifecycleConfiguration) {
            if configuration.names(definition.domain, definition.provider, definition.usage) {
                Output.note("the configuration file names \(definition.label) too: its policy applies while it does")
            }
        }

        struct Add: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "add",
                abstract: "Define a slot in the registry.",
                discussion: """
                    Options not given follow the configuration's 'defaults:', then the documented \
                    defaults (RSA-2048, rotation 182d, lead 14d, grace 7d, TTL 1800 then 86400). \
                    The next 'dkimctl rotate' creates the slot's first key.

                    Examples:
                      dkimctl slot add --domain example.org --provider mailgun --usage notifications
                      dkimctl slot add --domain shop.example --provider self-hosted --algorithm ed25519 --rotation 90d
                    """)

            @OptionGroup var global: GlobalOptions
            @OptionGroup var configurationFile: ConfigurationOption
            @OptionGroup var slot: SlotName
            @OptionGroup var policy: PolicyOptions

            func run(_ context: CommandContext) throws {
                let configuration = try configurationFile.fileOnly(context, required: false, checkEnvironment: false)
                let (domain, provider, usage) = try slot.parsed()
                let definition = SlotDefinition(
                    domain: domain, provider: provider, usage: usage, owner: try Slot.owner(policy.owner, configuration), options: policy.given)
                try Slot.check(definition, configuration)
                try context.registry.defineSlots([definition], updating: false, actor: context.actor, at: context.now)
                Output.standard.write("defined \(definition.label) (owner \(definition.owner.address))\n")
                Slot.noteIfFileNames(definition, configuration)
            }
        }

        struct Set: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "set",
                abstract: "Change a slot the registry defines.",
                discussion: """
                    Only the options given change; --unset NAME returns an option to its default \
                    (repeatable; NAME as the option is spelled, e.g. rotation, stable-ttl, from-domain). \
                    Keys already issued keep their dates; the new policy applies from the next tick.

                    Examples:
                      dkimctl slot set --domain example.org --provider mailgun --usage notifications --rotation 90d
                      dkimctl slot set --domain example.org --provider mailgun --usage notifications --unset rotation --owner ops@example.org
                    """)

            @OptionGroup var global: GlobalOptions
            @OptionGroup var configurationFile: ConfigurationOption
            @OptionGroup var slot: SlotName
            @OptionGroup var policy: PolicyOptions

            @Option(help: ArgumentHelp("An option to return to its default (repeatable).", valueName: "name"))
            var unset: [String] = []

            func run(_ context: CommandContext) throws {
                let configuration = try configurationFile.fileOnly(context, required: false, checkEnvironment: false)
                let (domain, provider, usage) = try slot.parsed()
                let owner = try policy.owner.map(Owner.init)
                let unsetKeys = try unset.map { name -> SlotOptions.CodingKeys in
                    let settable = SlotOptions.CodingKeys.allCases.filter { ![.provider, .usage, .owner].contains($0) }
                    guard let key = settable.first(where: { $0.optionName == name || $0.rawValue == name }) else {
                        throw DKIMError(
                            .invalidInput,
                            "--unset '\(name)' is not an option a slot sets (allowed: \(settable.map(\.optionName).joined(separator: ", ")))")
                    }
                    return key
                }
                let given = policy.given
                let (before, after) = try context.registry.changeSlot(domain: domain, provider: provider, usage: usage, actor: context.actor, at: context.now) { stored in
                    var changed = stored
                    for key in unsetKeys { _ = changed.options.unset(key) }
                    changed.options = changed.options.overlaid(with: given)
                    if let owner { changed.owner = owner }
                    try Slot.check(changed, configuration)
                    return changed
                }
                if before == after {
                    Output.standard.write("\(after.label) unchanged\n")
                } else {
                    Output.standard.write("changed \(after.label): \(SlotDefinitionReport.changes(from: before, to: after))\n")
                }
                Slot.noteIfFileNames(after, configuration)
            }
        }

        struct Remove: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "remove",
                abstract: "Stop defining a slot in the registry; its keys stay registered.",
                discussion: """
                    Refused while a key of the slot is pending, published or active, since the \
                    scheduler would stop rotating it: retire or revoke the keys first, or pass \
                    --keep-keys (a retired key is still revoked after its grace period).

                    Examples:
                      dkimctl slot remove --domain example.org --provider mailgun --usage notifications
                    """)

            @OptionGroup var global: GlobalOptions
            @OptionGroup var slot: SlotName

            @Flag(name: .customLong("keep-keys"), help: "Remove even though keys of the slot are pending, published or active.")
            var keepKeys = false

            func run(_ context: CommandContext) throws {
                let (domain, provider, usage) = try slot.parsed()
                let removed = try context.registry.removeSlot(
                    domain: domain, provider: provider, usage: usage, keepingLiveKeys: keepKeys, actor: context.actor, at: context.now)
                Output.standard.write("removed \(removed.definition.label) from the registry's slots\n")
                if removed.liveKeys > 0 {
                    Output.note("\(removed.liveKeys) key(s) of the slot stay registered and no longer rotate; retire or revoke them when their route stops signing")
                }
            }
        }

        struct List: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "list",
                abstract: "List the slots the registry defines, with the options each sets.",
                discussion: """
                    json prints one object per line, in the form 'dkimctl slot import' reads.

                    Examples:
                      dkimctl slot list
                      dkimctl slot list --domain example.org --format csv
                    """)

            enum Format: String, ExpressibleByArgument, CaseIterable {
                case table, json, csv
            }

            @OptionGroup var global: GlobalOptions
            @OptionGroup var configurationFile: ConfigurationOption

            @Option(help: "Only the slots of this domain.")
            var domain: String?

            @Option(help: "Output: table, json or csv.")
            var format: Format = .table

            func run(_ context: CommandContext) throws {
                let only = try domain.map(DomainName.init)
                let configuration = try configurationFile.fileOnly(context, required: false, checkEnvironment: false)
                let definitions = try context.registry.slotDefinitions().filter { only == nil || $0.domain == only }
                let inFile = Swift.Set(definitions.filter { configuration.names($0.domain, $0.provider, $0.usage) }.map(\.label))
                let out = Output.standard
                switch format {
                case .table:
                    if definitions.isEmpty {
                        Output.note("the registry defines no slot" + (only.map { " of \($0)" } ?? ""))
                    } else {
                        out.write(SlotDefinitionReport.table(definitions, definedInFileToo: inFile))
                    }
                case .csv:
                    out.write(SlotDefinitionReport.csvHeader)
                    for definition in definitions { out.write(SlotDefinitionReport.csvRow(definition, definedInFileToo: inFile.contains(definition.label))) }
                case .json:
                    for definition in definitions { out.write(SlotDefinitionReport.json(definition, definedInFileToo: inFile.contains(definition.label)) + "\n") }
                }
            }
        }

        struct Import: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "import",
                abstract: "Define many slots at once from a file of JSON lines.",
                discussion: """
                    One JSON object per line, as 'dkimctl slot list --format json' prints them: \
                    "domain" and "provider" required, "usage", "owner" and the options of the \
                    configuration file's slots optional (e.g. {"domain": "example.org", "provider": \
                    "mailgun", "usage": "notifications", "rotation": "90d"}). Empty lines are skipped. \
                    Every line is checked first; then all are defined in one transaction, or none \
                    (a line naming a slot the registry already defines refuses the whole file, \
                    unless --update: then that slot is changed to the line, with a slot.changed \
                    event when it differs). Slots the file does not name are left alone.

                    Examples:
                      dkimctl slot import customers.jsonl
                      dkimctl slot import --update customers.jsonl   # a daily sync from the customer database
                    """)

            @OptionGroup var global: GlobalOptions
            @OptionGroup var configurationFile: ConfigurationOption

            @Argument(help: ArgumentHelp("File of JSON lines ('-' for standard input).", valueName: "file"))
            var file: String

            @Flag(help: "Change the slots already defined to what the file says (options it leaves out return to their defaults), instead of refusing the file.")
            var update = false

            func run(_ context: CommandContext) throws {
                let configuration = try configurationFile.fileOnly(context, required: false, checkEnvironment: false)
                let data: Data
                if file == "-" {
                    data = FileHandle.standardInput.readDataToEndOfFile()
                } else {
                    guard let read = FileManager.default.contents(atPath: file) else {
                        throw DKIMError(.notFound, "\(file) does not exist or cannot be read")
                    }
                    data = read
                }
                let definitions = try SlotDefinitionLines.parse(data, file: file == "-" ? "<stdin>" : file) { options in
                    try Slot.owner(options.owner, configuration)
                }
                var seen: [String: Int] = [:]
                for (line, definition) in definitions {
                    if let first = seen[definition.label] {
                        throw DKIMError(.invalidInput, "\(file):\(line): slot \(definition.label) is already on line \(first)")
                    }
                    seen[definition.label] = line
                    try Slot.check(definition, configuration, source: .line(file: file, number: line))
                }
                let counts = try context.registry.defineSlots(definitions.map(\.definition), updating: update, actor: context.actor, at: context.now)
                Output.standard.write(
                    update
                        ? "defined \(counts.defined) slot(s), changed \(counts.changed), unchanged \(counts.unchanged)\n"
                        : "defined \(counts.defined) slot(s)\n")
            }
        }
    }
}
