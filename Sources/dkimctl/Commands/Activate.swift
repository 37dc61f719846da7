import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Activate: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "activate",
            abstract: "Make a key its slot's signing key, once DNS proves its record.",
            discussion: """
                Runs the same check as 'verify'. The key becomes published at its first full pass, \
                and active once the propagation window has passed since then: the larger of the \
                record's TTL and the zone's negative-caching TTL (the selector is a new name that \
                resolvers may have cached as missing), and at least --min-propagation. Becoming \
                active retires the slot's previous active key in the same transaction and sets the \
                key's expiry to activation + --rotation. Without --rotation and --min-propagation, the \
                slot's 'rotation' and 'propagation' from the configuration apply (else 182d and 0s); \
                unset DNS options come from its 'dns:' section.

                --force skips DNS with a warning; the event log records that it was forced.

                Exit status: 0 activated; 1 the check failed; 2 only temporary DNS errors; \
                4 proved, but the propagation window is not over yet (the message says how long \
                remains); 64 bad input.

                Examples:
                  dkimctl activate mailgun-notifications-20261123 --domain example.org
                  dkimctl activate mailgun-notifications-20261123 --domain example.org --nameserver 192.0.2.53
                  dkimctl activate mailgun-notifications-20261123 --domain example.org --force --reason "provider console only"
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var key: KeyReference
        @OptionGroup var dns: DNSOptions
        @OptionGroup var configurationFile: ConfigurationOption

        @Flag(help: "Activate without a DNS proof (recorded as forced).")
        var force = false

        @Option(help: "With --force: why, for the event log.")
        var reason: String?

        @Option(
            name: .customLong("min-propagation"),
            help: ArgumentHelp("Shortest propagation window: 90s, 15m, 1h, 1d (default: the slot's configured 'propagation', else 0s).", valueName: "duration"))
        var minimumPropagation: String?

        @Option(help: ArgumentHelp("Rotation period: the key expires this long after activation (default: the slot's configured 'rotation', else 182d).", valueName: "duration"))
        var rotation: String?

        func validate() throws {
            if reason != nil, !force { throw ValidationError("--reason only applies with --force") }
        }

        func run(_ context: CommandContext) throws {
            let givenRotation = try rotation.map(TimeSpan.init(parsing:))
            if let givenRotation, let problem = ActivationPolicy.problem(rotation: givenRotation) {
                throw DKIMError(.invalidInput, problem)
            }
            let givenPropagation = try minimumPropagation.map(TimeSpan.init(parsing:))
            let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
            let key = try key.find(in: context.registry)
            try key.requireLocal("the provider decides when it signs with it; dkimctl only watches it")
            // The slot's configured rotation and propagation, unless given here.
            var policy = configuration.effectivePolicy(for: key).activationPolicy
            if let givenRotation { policy.rotationPeriod = givenRotation }
            if let givenPropagation { policy.minimumPropagation = givenPropagation }
            let proof = PublicationProof(
                registry: context.registry, checker: try dns.checker(defaults: configuration.dns), actor: context.actor)
            if force { Output.warning("activating \(key.selector) without a DNS proof; the event log records it as forced") }
            let outcome = try proof.activate(
                key, policy: policy, forcedReason: force ? (reason ?? "forced from the command line") : nil, at: context.now)
            switch outcome {
            case .activated(let active, let retired, let check):
                if let check {
                    Output.standard.write(CheckReport.text(VerifiedKey(key: active, check: check, previousState: key.state)))
                }
                Output.standard.write("\(active.selector) is now the active key of \(active.provider)/\(active.usage) for \(active.domain); rotation due \(active.expiresAt.map(Timestamp.iso8601) ?? "-")\n")
                if let retired {
                    Output.standard.write("\(retired.selector) is retired; keep its record published for the grace period\n")
                }
            case .waiting(let waiting, let until, let check):
                Output.standard.write(CheckReport.text(VerifiedKey(key: waiting, check: check, previousState: key.state)))
                let remaining = Int(until.timeIntervalSince(context.now).rounded(.up))
                Output.error(
                    "\(waiting.selector) is published but resolvers may still cache the old answer: activation possible in \(TimeSpan(seconds: remaining).humanReadable) (at \(Timestamp.iso8601(until)))")
                throw ExitCode(4)
            case .notProved(let failed, let check):
                Output.standard.write(CheckReport.text(VerifiedKey(key: failed, check: check, previousState: key.state)))
                Output.error("\(failed.selector) was not activated: DNS does not prove its record (\(check.verdict.rawValue))")
                throw ExitCode(check.verdict == .temperror ? 2 : 1)
            }
        }
    }
}
