import ArgumentParser
import DKIMKit
import Dispatch
import Foundation
import Logging

extension DKIMCtl {
    struct Scheduler: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "scheduler",
            abstract: "Run the 'rotate' tick on an interval, as a long-running service.",
            discussion: """
                Runs the same tick as 'dkimctl rotate' every --interval, re-reading the configuration \
                each time (a broken configuration is logged and the previous one kept). Logs go to \
                standard error through swift-log (journald picks them up under systemd). On SIGTERM \
                or SIGINT it finishes the domain in progress (whose steps run in their safe order), \
                skips the remaining domains, and exits 0.

                Several schedulers may run — on PostgreSQL, one per host for availability: exactly \
                one leads and ticks; the others follow, asking for the lead every third of --lease \
                (at most every --interval), and take over when the leader stops, dies, or is silent \
                longer than --lease. A leader's every write checks its term (a fencing token): one \
                that lost the lead — stopped, cut off — commits nothing more. 'dkimctl metrics' \
                shows who leads and since when.

                Examples:
                  dkimctl scheduler
                  dkimctl scheduler --interval 30m --log-level debug
                  dkimctl scheduler --registry postgres://dkimctl@db.example.net/dkimctl --lease 30s
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var lifecycle: LifecycleOptions
        @OptionGroup var leaseOption: LeaseOption

        @Option(help: ArgumentHelp("Time between ticks: 90s, 15m, 1h.", valueName: "duration"))
        var interval: String = "1h"

        @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
        var logLevel: String = "info"

        func run(_ context: CommandContext) throws {
            let period = try TimeSpan(parsing: interval)
            guard period.seconds >= 1 else { throw DKIMError(.invalidInput, "interval \(interval) is too short (allowed: 1s or more)") }
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw DKIMError(.invalidInput, "log level '\(logLevel)' is not known (allowed: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            var configuration = try lifecycle.configuration(context, required: true)
            let election = try leaseOption.election(context)
            LoggingSystem.bootstrap(StreamLogHandler.standardError)
            var logger = Logger(label: "dkimctl.scheduler")
            logger.logLevel = level
            let stop = StopSignal()
            logger.info(
                "scheduler started",
                metadata: [
                    "interval": "\(period)", "lease": "\(TimeSpan(seconds: Int(election.lease)))", "state_dir": "\(context.state.path)",
                    "holder": "\(election.holder)",
                ])
            // A follower asks for the lead this often, so that it takes over within a third of a
            // lease of the leader's death (at once when the process died: the lock goes with it).
            let followerPoll = max(1, min(period.seconds, Int(election.lease / 3)))
            let candidate = try election.candidate()
            var leadership: SchedulerLeadership?
            var followed: Int64?
            while !stop.requested {
                do {
                    configuration = try lifecycle.configuration(context, required: true)
                } catch {
                    logger.error(
                        "configuration not reloaded, keeping the previous one",
                        metadata: ["error": "\((error as? DKIMError)?.message ?? "\(error)")"])
                }
                if let held = leadership, let reason = Rotate.lostLead(held, registry: context.registry) {
                    logger.error("lost the lead; following", metadata: ["term": "\(held.term)", "reason": "\(reason)"])
                    held.release()
                    leadership = nil
                }
                if leadership == nil {
                    do {
                        leadership = try candidate.tryToLead()
                    } catch {
                        logger.error("cannot take part in the leader election", metadata: ["error": "\((error as? DKIMError)?.message ?? "\(error)")"])
                    }
                    if let leadership {
                        logger.notice("leading", metadata: ["term": "\(leadership.term)", "since": "\(Timestamp.iso8601(leadership.lease.since))"])
                        followed = nil
                    } else {
                        if let current = try? context.registry.schedulerLease(), current.term != followed {
                            logger.info("following", metadata: ["leader": "\(LeaderElection.describe(current))"])
                            followed = current.term
                        }
                        stop.wait(seconds: followerPoll)
                        continue
                    }
                }
                guard let leadership else { continue }
                do {
                    let engine = try lifecycle.engine(context, configuration, registry: leadership.fence(context.registry))
                    let lock = try lifecycle.lock(context)
                    let now = try CommandContext.currentTime()
                    let report = try engine.tick(at: now, shouldStop: { stop.requested || !leadership.isHeld })
                    withExtendedLifetime(lock) {}
                    Self.log(report, to: logger)
                    if !report.interrupted, Rotate.lostLead(leadership, registry: context.registry) == nil {
                        try context.registry.recordLeaderTick(leadership.term, at: Date())
                    }
                } catch {
                    logger.error("tick failed", metadata: ["error": "\((error as? DKIMError)?.message ?? "\(error)")"])
                }
                if Rotate.lostLead(leadership, registry: context.registry) != nil { continue }
                stop.wait(seconds: period.seconds)
            }
            leadership?.release()
            logger.info("scheduler stopping on request")
        }

        static func log(_ report: RotationReport, to logger: Logger) {
            for slot in report.slots {
                let metadata: Logger.Metadata = ["slot": "\(slot.label)"]
                for action in slot.actions { logger.info("\(action)", metadata: metadata) }
                for error in slot.errors { logger.error("\(error)", metadata: metadata) }
                for item in slot.attention { logger.warning("\(item)", metadata: metadata) }
                logger.debug("next: \(slot.next)", metadata: metadata.merging(["at": "\(slot.nextAt.map(Timestamp.iso8601) ?? "next tick")"]) { $1 })
            }
            logger.info(
                "tick done",
                metadata: [
                    "slots": "\(report.slots.count)", "changed": "\(report.slots.filter { !$0.actions.isEmpty }.count)",
                    "errors": "\(report.slots.filter { !$0.errors.isEmpty }.count)",
                    "attention": "\(report.slots.filter { !$0.attention.isEmpty }.count)",
                    "interrupted": "\(report.interrupted)",
                ])
        }
    }
}

/// SIGTERM and SIGINT, turned into a flag the tick polls and a wake-up for the wait between ticks.
final class StopSignal: @unchecked Sendable {
    // @unchecked Sendable: `flag` is only touched under `lock`.
    private let lock = NSLock()
    private var flag = false
    private let wake = DispatchSemaphore(value: 0)
    private var sources: [DispatchSourceSignal] = []

    init() {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.request() }
            source.resume()
            sources.append(source)
        }
    }

    var requested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return flag
    }

    func request() {
        lock.lock()
        flag = true
        lock.unlock()
        wake.signal()
    }

    /// Sleeps up to `seconds`, waking at once on a stop request.
    func wait(seconds: Int) {
        if requested { return }
        _ = wake.wait(timeout: .now() + .seconds(seconds))
    }
}
