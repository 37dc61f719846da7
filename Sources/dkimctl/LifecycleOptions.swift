import ArgumentParser
import DKIMKit
import Foundation

/// What the lifecycle commands (`rotate`, `scheduler`, `retire`, `revoke`) share:
/// the configuration file, the rotation lock and DNS.
struct LifecycleOptions: ParsableArguments {
    @OptionGroup var configurationFile: ConfigurationOption

    @Option(
        name: .customLong("lock-wait"),
        help: ArgumentHelp("Seconds to wait while another run holds the rotation lock, then give up (exit 75).", valueName: "seconds"))
    var lockWait: Double = 10

    @OptionGroup var dns: DNSOptions

    /// The configuration; when it is optional and absent, an empty one (manual publishing, no hooks).
    func configuration(_ context: CommandContext, required: Bool) throws -> LifecycleConfiguration {
        try configurationFile.load(context, required: required)
    }

    func engine(_ context: CommandContext, _ configuration: LifecycleConfiguration, jobs: Int? = nil) throws -> RotationEngine {
        RotationEngine(
            registry: context.registry, state: context.state, configuration: configuration,
            checker: try dns.checker(defaults: configuration.dns), actor: context.actor,
            keyGenerationThreads: jobs ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    /// What `retire` and `revoke` start from: the optional configuration, the engine
    /// that finishes their step, the lock (held until the value is dropped) and the key.
    func manualStep(_ context: CommandContext, key reference: KeyReference) throws
        -> (configuration: LifecycleConfiguration, engine: RotationEngine, lock: RotationLock, key: RegisteredKey)
    {
        // Refused before anything is touched, the lock file included.
        let key = try reference.find(in: context.registry)
        try key.requireLocal("the provider retires and revokes its own keys; dkimctl only watches them")
        let configuration = try configuration(context, required: false)
        let engine = try engine(context, configuration)
        let lock = try lock(context)
        return (configuration, engine, lock, key)
    }

    func lock(_ context: CommandContext) throws -> RotationLock {
        guard lockWait >= 0, lockWait <= 3600 else {
            throw DKIMError(.invalidInput, "lock wait \(lockWait) is out of range (allowed: 0–3600 seconds)")
        }
        return try RotationLock.acquire(path: context.state.rotationLockPath, wait: lockWait)
    }
}

/// `--format text|json` of the lifecycle commands.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

extension SlotReport {
    /// One slot's report as `rotate` prints it.
    func printed(format: ReportFormat) -> String {
        var report = RotationReport()
        report.slots = [self]
        return format == .json ? report.json(exitStatus: report.exitStatus) : report.text()
    }
}
