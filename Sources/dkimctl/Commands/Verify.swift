import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Verify: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Prove through DNS that key records are published, on every authoritative server.",
            discussion: """
                Finds the zone holding <selector>._domainkey.<domain> and every address of its \
                nameservers, asks each one directly (no recursion; TCP when the answer is \
                truncated), follows CNAMEs (at most 8) into other zones and their own servers, and \
                compares the served record with the registered key. A server passes only with \
                exactly one DKIM record whose p= is ours; a lagging zone serial fails; timeouts, \
                SERVFAIL and REFUSED are temporary errors, never a pass. Every check is stored \
                as evidence; a pending key whose check passes becomes published.

                Exit status: 0 every key passes; 1 some key fails; 2 only temporary errors kept \
                a verdict from being reached; 64 bad input.

                Examples:
                  dkimctl verify mailgun-notifications-20261123 --domain example.org
                  dkimctl verify mailgun-notifications-20261123 --domain example.org --nameserver 192.0.2.53 --format json
                  dkimctl verify --all --state pending
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The key's selector (omit with --all).")
        var selector: String?

        @Option(help: "The key's domain (with --all: only this domain's keys).")
        var domain: String?

        @Flag(help: "Check every registered key (filtered by --domain and --state).")
        var all = false

        @Option(help: "With --all: only keys in this state; repeatable. Default: every state but revoked.")
        var state: [String] = []

        @OptionGroup var dns: DNSOptions
        @OptionGroup var configurationFile: ConfigurationOption

        @Option(help: "Output: text or json.")
        var format: Format = .text

        func validate() throws {
            if all, selector != nil { throw ValidationError("give a SELECTOR or --all, not both") }
            if !all, selector == nil { throw ValidationError("give a SELECTOR (with --domain), or --all") }
            if !all, domain == nil { throw ValidationError("--domain is required with a SELECTOR") }
            if !all, !state.isEmpty { throw ValidationError("--state only applies with --all") }
        }

        func run(_ context: CommandContext) throws {
            // Unset DNS options come from the configuration's dns: section, if there is one.
            let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
            let checker = try dns.checker(defaults: configuration.dns)
            let keys: [RegisteredKey]
            if all {
                let states = try state.isEmpty ? KeyState.allCases.filter { $0 != .revoked } : state.map(KeyState.init(parsing:))
                keys = try context.registry.keys(matching: KeyFilter(domain: try domain.map(DomainName.init), states: states))
            } else {
                keys = [try KeyReference(selector: selector!, domain: domain!).find(in: context.registry)]
            }
            let proof = PublicationProof(registry: context.registry, checker: checker, actor: context.actor, concurrency: dns.concurrency)
            let progress: Progress? = all && isatty(STDERR_FILENO) == 1 ? Progress(total: keys.count) : nil
            let verified = try proof.verify(keys, at: context.now, progress: progress.map { progress in { progress.show($0) } })
            progress?.finish()

            switch format {
            case .text:
                if verified.isEmpty { Output.note("no keys to verify") }
                for (index, item) in verified.enumerated() {
                    Output.standard.write((index == 0 ? "" : "\n") + CheckReport.text(item))
                }
                if verified.count > 1 {
                    let counts = Dictionary(grouping: verified, by: { (item: VerifiedKey) in item.check.verdict }).mapValues { $0.count }
                    Output.standard.write(
                        "\n\(verified.count) keys: \(counts[.pass] ?? 0) pass, \(counts[.fail] ?? 0) fail, \(counts[.temperror] ?? 0) temperror\n")
                }
            case .json:
                var writer = JSONWriter(pretty: true)
                writer.beginObject()
                writer.field("verdict", CheckReport.overall(verified).rawValue)
                writer.key("keys")
                writer.beginArray()
                for item in verified { CheckReport.object(item, into: &writer) }
                writer.endArray()
                writer.endObject()
                Output.standard.write(writer.text + "\n")
            }
            switch CheckReport.overall(verified) {
            case .pass: return
            case .fail: throw ExitCode(1)
            case .temperror: throw ExitCode(2)
            }
        }
    }
}

/// `checked 1500/10000` on standard error, for people watching a terminal.
/// Called on the command's own thread, once per recorded batch of checks.
final class Progress {
    private let total: Int

    init(total: Int) { self.total = total }

    func show(_ done: Int) {
        FileHandle.standardError.write(Data("\rchecked \(done)/\(total)".utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
