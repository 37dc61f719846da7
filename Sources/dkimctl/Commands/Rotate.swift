import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Rotate: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Move every configured slot one step further: create, publish, prove, activate, retire, revoke.",
            discussion: """
                The scheduler tick, for cron or a systemd timer. For each slot of the configuration \
                (dkimctl.yaml), as far as the clock and DNS allow: no key → create one and publish it; \
                pending → publish again if the publisher failed, then check DNS; published and the \
                propagation window over → activate (retiring the predecessor) and run the deploy hook; \
                active and within the lead time of its rotation date → create and publish the successor; \
                retired and the grace period over → revoke: withdraw the record (empty p= or delete), \
                run the deploy hook, then destroy (or reveal) the private key. An active key past the \
                grace period gets the stable TTL.

                Running it twice changes nothing the second time. Two runs never act at once: a run \
                first takes the lead among every dkimctl sharing the registry (on PostgreSQL, every \
                host; a 'scheduler' that leads holds it), then this state directory's rotation lock; \
                it waits --lock-wait seconds for each, then exits 75 naming who holds it. Every write of \
                the run checks it still leads (its term, a fencing token): a run that lost the lead — \
                stopped or cut off longer than --lease — writes nothing more and exits 75.

                --emergency SELECTOR --domain D handles a compromised key: a successor is created and \
                published, and the key is revoked at once, without the grace week.

                Exit status: 0 fine; 1 a step failed (retried on the next run); 3 attention needed \
                (a key not visible in DNS for longer than attentionAfter, a key past its rotation \
                date); 64 bad input or configuration; 75 another run holds the lock or leads.

                Examples:
                  dkimctl rotate
                  dkimctl rotate --dry-run
                  dkimctl rotate --domain example.org --format json
                  dkimctl rotate --now 2027-05-10T03:00:00Z --dry-run
                  dkimctl rotate --emergency mailgun-notifications-20261123 --domain example.org --reason "key leaked"
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var lifecycle: LifecycleOptions
        @OptionGroup var leaseOption: LeaseOption

        @Flag(help: "Print the plan and change nothing.")
        var dryRun = false

        @Option(help: ArgumentHelp("Act as if it were this time (ISO 8601), for simulations.", valueName: "time"))
        var now: String?

        @Option(help: "Only this domain.")
        var domain: String?

        @Option(help: ArgumentHelp("Replace this compromised key at once (needs --domain).", valueName: "selector"))
        var emergency: String?

        @Option(help: "With --emergency: why, for the event log.")
        var reason: String?

        @Option(help: "Output format: text or json.")
        var format: ReportFormat = .text

        @Option(help: ArgumentHelp("Keys generated at once (default: one per core).", valueName: "n"))
        var jobs: Int?

        func validate() throws {
            if emergency != nil, domain == nil { throw ValidationError("--emergency needs --domain") }
            if emergency != nil, dryRun { throw ValidationError("--emergency cannot be combined with --dry-run") }
            if reason != nil, emergency == nil { throw ValidationError("--reason only applies with --emergency") }
            if let jobs, !(1...64).contains(jobs) { throw ValidationError("--jobs \(jobs) is out of range (allowed: 1–64)") }
        }

        func run(_ context: CommandContext) throws {
            var time = context.now
            if let now {
                guard let parsed = Timestamp.parse(now) else {
                    throw DKIMError(.invalidInput, "time '\(now)' is not an ISO 8601 time (e.g. 2027-05-10T03:00:00Z)")
                }
                time = parsed
            }
            let configuration = try lifecycle.configuration(context, required: emergency == nil)
            let domainName = try domain.map { try DomainName($0) }

            if let emergency, let domainName {
                // A manual step, like revoke: it needs the local lock, not the lead.
                let lock = try lifecycle.lock(context)
                defer { withExtendedLifetime(lock) {} }
                let engine = try lifecycle.engine(context, configuration, jobs: jobs)
                let key = try KeyReference(selector: emergency, domain: domainName.ascii).find(in: context.registry)
                let slot = try engine.emergency(key, reason: reason ?? "emergency rotation", at: time)
                Output.standard.write(slot.printed(format: format))
                Output.warning(Self.exposure(of: key, slot: slot, configuration: configuration, at: time))
                throw ExitCode(slot.errors.isEmpty ? 0 : 1)
            }
            // One leader at a time across every host sharing the registry; a dry run writes nothing and needs none.
            let leadership = dryRun ? nil : try lifecycle.lead(context, leaseOption)
            defer { leadership?.release() }
            let lock = dryRun ? nil : try lifecycle.lock(context)
            defer { withExtendedLifetime(lock) {} }
            let engine = try lifecycle.engine(context, configuration, jobs: jobs, registry: leadership.map { $0.fence(context.registry) })
            let report = try engine.tick(at: time, domain: domainName, dryRun: dryRun, shouldStop: { leadership?.isHeld == false })
            let lostLead = leadership.flatMap { Self.lostLead($0, registry: context.registry) }
            if let leadership, lostLead == nil, domainName == nil, !report.interrupted {
                try? context.registry.recordLeaderTick(leadership.term, at: Date())
            }
            let status = lostLead == nil ? report.exitStatus : 75
            Output.standard.write(format == .json ? report.json(exitStatus: status) : report.text())
            if report.slots.isEmpty {
                Output.note("the configuration names no slots; add some under domains: (see 'dkimctl config init')")
            }
            if let lostLead {
                Output.warning("this run lost the lead (\(lostLead)); what it had not written is left to the leader")
            }
            if status != 0 { throw ExitCode(status) }
        }

        /// Why `leadership` is no longer this run's (lost while renewing, or a newer term began), nil if it still is.
        static func lostLead(_ leadership: SchedulerLeadership, registry: any KeyRegistry) -> String? {
            if let reason = leadership.lossReason { return reason }
            guard let current = try? registry.schedulerLease(), current.term != leadership.term else { return nil }
            return "\(LeaderElection.describe(current)) took over"
        }

        /// What an emergency rotation leaves exposed, said plainly.
        static func exposure(of key: RegisteredKey, slot: SlotReport, configuration: LifecycleConfiguration, at time: Date) -> String {
            let policy = configuration.policy(for: key)
            let ttl = policy?.ttl ?? PublishedRecord.defaultTTL
            let window = max(ttl, policy?.propagation.seconds ?? 0)
            return "\(key.selector) is revoked. Until the MTA stops using it (deploy hook), mail is still signed with the compromised key and fails DKIM wherever the revocation has reached; resolvers may serve its old record for up to its TTL (\(key.ttl) s). The slot has no active key: mail for \(key.provider)/\(key.usage) goes unsigned until the successor is proved in DNS and its propagation window (at least \(TimeSpan(seconds: window).humanReadable), at the earliest \(Timestamp.iso8601(time.addingTimeInterval(TimeInterval(window))))) has passed; run 'dkimctl rotate' again then."
        }
    }
}

extension RotationReport {
    /// `rotate`'s exit status: 0 fine, 1 a step failed, 3 attention needed (errors win).
    var exitStatus: Int32 { hasErrors ? 1 : needsAttention ? 3 : 0 }
}
