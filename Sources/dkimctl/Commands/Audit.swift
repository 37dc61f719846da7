import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit",
            abstract: "Answer an auditor: the register with its findings, the event chain, the events.",
            discussion: """
                'dkimctl audit' (the 'report' subcommand) lists every key — dkimctl's own and the \
                tracked provider selectors — with its dates, last DNS proof and private key status, \
                then the findings of the policy rules, each with its severity and source; it exits 3 \
                when a finding of severity error exists, so cron or CI can gate on it.

                The event log is a SHA-256 hash chain (runbooks/audit-event-chain.md says how each \
                hash is computed): 'audit verify' checks it from the first event to the last and names \
                the first broken link; 'audit events' exports the events with their hashes so that an \
                auditor can check them again with a few lines of any language.

                Examples:
                  dkimctl audit
                  dkimctl audit --domain example.org --format markdown --output audit-2026-11.md
                  dkimctl audit verify
                  dkimctl audit verify --expect-head 3f1c…   (the head hash kept from the last audit)
                  dkimctl audit events --format csv --output events.csv
                """,
            subcommands: [Report.self, VerifyChain.self, Events.self, Seal.self],
            defaultSubcommand: Report.self)

        struct Report: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "report",
                abstract: "The register of every key with its dates, proof and private key status, then the findings.",
                discussion: """
                    Rules (severity): weak-key (error; warning for a provider's key) RSA below 2048 bits; \
                    rotation-overdue (error) active past its rotation date; rotation-due-soon (warning) due \
                    within 30 days; no-owner (error) the owner is a placeholder (unknown@, tbd@, …); \
                    testing-flag (warning) t=y on an active key; ttl-not-raised (warning) TTL still below the \
                    stable TTL a week after the tick should have raised it (activation + grace); private-key-missing, private-key-unsafe (error); \
                    key-facts-mismatch (error) the algorithm, size or fingerprint columns are not those of the \
                    stored public key (algorithm and size are always read from the key itself); and, \
                    asking every authoritative server: retired-still-published (error) a retired key past its \
                    grace still served; revoked-still-live (error) a revoked key still served; \
                    unknown-selector-live (error) a DKIM key live under a selector the registry does not know \
                    (the selectors in the event log and the common provider selectors google, selector1, \
                    selector2, s1, s2, k1, pdk1, pdk2, mg, mailo, brevo1, brevo2, default, dkim, mail). \
                    --no-dns skips the DNS rules.

                    --since DATE leaves out keys revoked before DATE.

                    Exit status: 0 no error finding; 3 at least one error finding (the report is still \
                    written); 1 the audit could not run; 64 bad input.
                    """)

            enum Format: String, ExpressibleByArgument, CaseIterable {
                case table, csv, json, markdown
            }

            /// An exposed key file is a finding to report, not a reason to stay silent.
            static var refusesUnsafeKeyFiles: Bool { false }

            @OptionGroup var global: GlobalOptions
            @OptionGroup var configurationFile: ConfigurationOption
            @OptionGroup var dns: DNSOptions

            @Option(help: "Only this domain.")
            var domain: String?

            @Option(help: ArgumentHelp("Leave out keys revoked before this time (YYYY-MM-DD or ISO 8601, UTC).", valueName: "time"))
            var since: String?

            @Option(help: "Output: table, csv, json or markdown.")
            var format: Format = .table

            @OptionGroup var output: OutputFile

            @Flag(name: .customLong("no-dns"), help: "Ask no DNS server: skip the rules that need DNS.")
            var noDNS = false

            func run(_ context: CommandContext) throws {
                let domain = try domain.map(DomainName.init)
                let since = try since.map(CommandLineDate.parse)
                let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
                let auditor = ComplianceAuditor(
                    registry: context.registry, configuration: configuration,
                    checker: noDNS ? nil : try dns.checker(defaults: configuration.dns), state: context.state)
                let result = try auditor.run(domain: domain, since: since, at: context.now)
                let text: String
                switch format {
                case .table: text = AuditReport.table(result, wording: .commandLine)
                case .csv: text = AuditReport.csv(result)
                case .json: text = AuditReport.json(result, wording: .commandLine)
                case .markdown: text = AuditReport.markdown(result, wording: .commandLine)
                }
                try output.write(text)
                if result.count(.error) > 0 { throw ExitCode(3) }
            }
        }

        struct VerifyChain: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "verify",
                abstract: "Check the event chain, then replay it against the register and the DNS evidence.",
                discussion: """
                    The chain is checked from the first event to the last. Then every slot and key row is \
                    compared, field by field, with the snapshot the last event about it recorded (owner, \
                    algorithm, bits, public key, fingerprint, state, every timestamp, key path, kind, CNAME \
                    target), and every DNS check's evidence rows with the digest an event recorded for them.

                    --seals checks every seal of <state>/seals.log ('audit seal'): it is signed by the audit \
                    key, and the event it names still has the hash it sealed. Only this catches a whole chain \
                    rewritten with recomputed hashes.

                    Exit status: 0 the chain is intact (and continues --expect-head), the register is what \
                    the events say (and every seal holds); 1 an event was edited, removed, inserted or \
                    reordered, the end of the log is missing, a register or evidence row differs from the log \
                    (the first row and field are named), or a seal does not hold.

                    Keep the printed head hash outside the registry; pass it as --expect-head next time to \
                    prove the log still continues it.
                    """)

            @OptionGroup var global: GlobalOptions

            @Option(help: ArgumentHelp("The head hash kept from the last audit: it must still be in the log.", valueName: "sha256"))
            var expectHead: String?

            @Flag(help: "Also check every seal of <state>/seals.log: its signature, and that the event it names still has the sealed hash.")
            var seals = false

            @Option(
                name: .customLong("public-key"),
                help: ArgumentHelp(
                    "An audit public key (PEM) seals may be signed with; repeatable (after a key change).",
                    discussion: "Default: <state>/seal-public.pem, written by --init-key. An auditor passes their own copy: one kept in the state directory can be replaced with the registry.",
                    valueName: "file"))
            var publicKeys: [String] = []

            @Option(help: "Output: text or json.")
            var format: ReportFormat = .text

            func validate() throws {
                if !publicKeys.isEmpty, !seals { throw ValidationError("--public-key only applies with --seals") }
            }

            func run(_ context: CommandContext) throws {
                let verification = try context.registry.verifyEventChain()
                let register = try context.registry.verifyRegister()
                var sealCheck: SealLog.Verification?
                if seals {
                    let paths = publicKeys.isEmpty ? [context.state.sealPublicKeyPath] : publicKeys
                    let keys = try paths.map { path -> Data in
                        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                            throw DKIMError(.notFound, "cannot read the audit public key \(path)" + (publicKeys.isEmpty ? " (pass --public-key FILE)" : ""))
                        }
                        do { return try AuditSealKey.rawPublicKey(pem: text) } catch let error as DKIMError {
                            throw DKIMError(.invalidInput, "\(path): \(error.message)", remedy: error.remedy)
                        }
                    }
                    sealCheck = try SealLog.verify(context.state.sealsLogPath, publicKeys: keys) { try context.registry.eventHash(id: $0) }
                }
                var continuation: HeadContinuation?
                if let expectHead {
                    guard expectHead.count == 64, expectHead.allSatisfy(\.isHexDigit) else {
                        throw DKIMError(.invalidInput, "head hash '\(expectHead)' is not a SHA-256 (allowed: 64 hexadecimal digits)")
                    }
                    continuation = HeadContinuation(hash: expectHead.lowercased(), eventID: try context.registry.eventID(withHash: expectHead))
                }
                Output.standard.write(
                    format == .json
                        ? EventReport.verificationJSON(verification, register: register, seals: sealCheck, expectedHead: continuation)
                        : EventReport.verificationText(verification, register: register, seals: sealCheck, expectedHead: continuation))
                if !verification.isIntact || !register.isIntact || sealCheck?.isIntact == false || continuation?.found == false {
                    throw ExitCode.failure
                }
            }
        }

        struct Events: DKIMCommand {
            static let configuration = CommandConfiguration(
                commandName: "events",
                abstract: "Export the event log with its hashes (CSV or JSON Lines).",
                discussion: """
                    Columns: id, time, actor, key_id, domain, selector, action, from_state, to_state, details, \
                    previous_hash, hash — the values exactly as hashed. In CSV every present value is quoted \
                    and a missing (NULL) value is an empty, unquoted field; in JSON Lines it is null. With \
                    --since, the first exported event links to one before it: check the chain from its \
                    previous_hash.
                    """)

            enum Format: String, ExpressibleByArgument, CaseIterable {
                case csv
                case json
            }

            @OptionGroup var global: GlobalOptions

            @Option(help: ArgumentHelp("Only events at or after this time (ISO 8601 or YYYY-MM-DD, UTC).", valueName: "time"))
            var since: String?

            @Option(help: "Output: csv or json (JSON Lines).")
            var format: Format = .csv

            @OptionGroup var output: OutputFile

            func run(_ context: CommandContext) throws {
                let start = try since.map(CommandLineDate.parse)
                var text = format == .csv ? EventReport.csvHeader : ""
                try context.registry.forEachEvent(since: start) { event in
                    text += format == .csv ? EventReport.csvRow(event) : EventReport.jsonLine(event)
                }
                try output.write(text)
            }
        }
    }
}
