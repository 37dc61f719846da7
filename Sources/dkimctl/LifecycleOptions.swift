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

    /// - Parameter registry: the registry the engine writes through (a leader's fenced one), else the context's.
    func engine(
        _ context: CommandContext, _ configuration: LifecycleConfiguration, jobs: Int? = nil, registry: (any KeyRegistry)? = nil
    ) throws -> RotationEngine {
        RotationEngine(
            registry: registry ?? context.registry, state: context.state, configuration: configuration,
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
        try RotationLock.acquire(path: context.state.rotationLockPath, wait: validatedLockWait())
    }

    /// Takes the lead among the schedulers sharing the registry, waiting --lock-wait for the leader to let go.
    func lead(_ context: CommandContext, _ lease: LeaseOption) throws -> SchedulerLeadership {
        try lease.election(context).lead(waiting: validatedLockWait())
    }

    private func validatedLockWait() throws -> Double {
        guard lockWait >= 0, lockWait <= 3600 else {
            throw DKIMError(.invalidInput, "lock wait \(lockWait) is out of range (allowed: 0–3600 seconds)")
        }
        return lockWait
    }
}

/// `--lease` of `rotate` and `scheduler`: how long a leader stays leader without renewing.
struct LeaseOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "How long the leader's lease runs without renewal (renewed every third of it); a leader silent longer is replaced: 30s, 2m.",
            valueName: "duration"))
    var lease: String = "\(Int(LeaderElection.defaultLease))s"

    func election(_ context: CommandContext) throws -> LeaderElection {
        let span = try TimeSpan(parsing: lease)
        let seconds = TimeInterval(span.seconds)
        guard LeaderElection.leaseRange.contains(seconds) else {
            throw DKIMError(
                .invalidInput,
                "lease \(lease) is out of range (allowed: \(Int(LeaderElection.leaseRange.lowerBound))s–\(Int(LeaderElection.leaseRange.upperBound) / 60)m)")
        }
        return LeaderElection(
            registry: context.registry, holder: LeaderElection.holder(actor: context.actor), lease: seconds,
            lockFile: context.state.schedulerLockPath)
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
