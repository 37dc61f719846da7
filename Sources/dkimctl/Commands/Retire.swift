import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    struct Retire: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire",
            abstract: "Stop signing with a slot's active key without a successor.",
            discussion: """
                For a route that is being shut down: the active key becomes retired, the deploy hook \
                runs (DKIM_ACTION=retire) so the MTA stops signing with it, and its record stays \
                published for the grace period; 'rotate' revokes it afterwards. If the slot is still \
                in the configuration, the next 'rotate' creates a new key for it: remove the slot first.

                Examples:
                  dkimctl retire mailgun-notifications-20261123 --domain example.org
                  dkimctl retire mailgun-notifications-20261123 --domain example.org --reason "route closed"
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var key: KeyReference
        @OptionGroup var lifecycle: LifecycleOptions

        @Option(help: "Why, for the event log.")
        var reason: String?

        func run(_ context: CommandContext) throws {
            let step = try lifecycle.manualStep(context, key: key)
            defer { withExtendedLifetime(step.lock) {} }
            let (configuration, engine, key) = (step.configuration, step.engine, step.key)
            let retired = try context.registry.retire(keyID: key.id, reason: reason, actor: context.actor, at: context.now)
            Output.standard.write("\(retired.selector) is retired; its record stays published for the grace period, then 'dkimctl rotate' revokes it\n")
            let slot = try engine.settle(retired, at: context.now)
            Output.standard.write(slot.printed(format: .text))
            if configuration.policy(for: key) != nil {
                Output.warning("slot \(key.provider)/\(key.usage) of \(key.domain) is still configured: the next 'dkimctl rotate' creates a new key for it")
            }
            if !slot.errors.isEmpty { throw ExitCode.failure }
        }
    }
}
