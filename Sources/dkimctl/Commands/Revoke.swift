import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Revoke: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "Revoke a key: withdraw its record, run the deploy hook, destroy its private key.",
            discussion: """
                Without --immediately, only keys that cannot be signing mail still in flight are \
                accepted: pending or published keys (never active), and retired keys whose grace \
                period is over. --immediately also revokes the active key or a retired key within \
                its grace period (a compromised key): mail in flight signed with it will fail DKIM, \
                and the slot has no active key until a successor is activated (see \
                'dkimctl rotate --emergency', which creates the successor too).

                The record is replaced by one with an empty p= (or deleted, with 'revocation: delete' \
                in the configuration) through the domain's publisher; then the deploy hook runs; then \
                the private key file is overwritten and removed (or revealed, with 'reveal: true').

                Examples:
                  dkimctl revoke mailgun-notifications-20260523 --domain example.org
                  dkimctl revoke mailgun-notifications-20261123 --domain example.org --immediately --reason "key leaked"
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var key: KeyReference
        @OptionGroup var lifecycle: LifecycleOptions

        @Option(help: "Why, for the event log.")
        var reason: String?

        @Flag(help: "Also revoke an active key, or a retired key within its grace period.")
        var immediately = false

        func run(_ context: CommandContext) throws {
            let step = try lifecycle.manualStep(context, key: key)
            defer { withExtendedLifetime(step.lock) {} }
            let (configuration, engine, key) = (step.configuration, step.engine, step.key)
            let policy = configuration.effectivePolicy(for: key)
            var allowed: Set<KeyState> = [.pending, .published]
            if immediately {
                allowed.formUnion([.active, .retired])
            } else if key.state == .retired, let graceEnd = SlotSchedule(policy: policy).graceEnd(of: key) {
                guard graceEnd <= context.now else {
                    throw DKIMError(
                        .conflict,
                        "key \(key.selector) is within its grace period until \(Timestamp.iso8601(graceEnd)); wait, or pass --immediately (mail in flight signed with it will fail)")
                }
                let seen = policy.revokeAfterUnused == nil ? nil : try context.registry.lastSighting(domain: key.domain, selector: key.selector)
                if let due = SlotSchedule(policy: policy).revocationDue(of: key, lastSighting: seen), due > context.now, let seen {
                    throw DKIMError(
                        .conflict,
                        "receivers saw key \(key.selector) signing until \(Timestamp.iso8601(seen)) (DMARC reports); the slot's revokeAfterUnused holds it until \(Timestamp.iso8601(due)); wait, or pass --immediately")
                }
                allowed.insert(.retired)
            } else if key.state == .active {
                throw DKIMError(.conflict, "key \(key.selector) is the active key of its slot; pass --immediately to revoke it now (the slot stops signing), or use 'dkimctl rotate --emergency'")
            }
            if key.state == .active { Output.warning("revoking the active key \(key.selector): \(key.provider)/\(key.usage) of \(key.domain) has no signing key until a successor is activated") }
            let revoked = try context.registry.revoke(
                keyID: key.id, reason: reason ?? (immediately ? "revoked immediately by hand" : "revoked by hand"), style: policy.revocation,
                allowedStates: allowed, actor: context.actor, at: context.now)
            let slot = try engine.settle(revoked, at: context.now)
            Output.standard.write(slot.printed(format: .text))
            if !slot.errors.isEmpty { throw ExitCode.failure }
        }
    }
}
