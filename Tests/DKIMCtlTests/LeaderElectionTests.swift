import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// Several schedulers on one registry: one leads, the others follow and take over when it
/// dies; a leader paused past its lease is fenced when it resumes; three hosts rotating a
/// simulated year at once never make two successors. Real processes, a real PostgreSQL
/// server and BIND.
@Suite struct LeaderElectionTests {
    /// A RotationWorld seen from several hosts: each its own state directory and actor, one
    /// registry, one configuration, keys sealed in the registry under one KEK (any leader can
    /// hand any key over).
    struct Fleet {
        let world: RotationWorld
        let hosts: [DKIMCtlBinary]

        init(hosts names: [String], backend: RegistryBackend = .postgres) throws {
            world = try RotationWorld(domains: ["example.org"], backend: backend)
            try world.writeSealingConfiguration()
            var hosts: [DKIMCtlBinary] = []
            for name in names {
                // With SQLite the hosts are processes of one machine, sharing its state directory.
                let state = backend == .postgres ? world.scratch.file("host-\(name)") : world.dkimctl.stateDirectory
                let host = DKIMCtlBinary(stateDirectory: state, environment: world.dkimctl.environment.merging(["DKIMCTL_ACTOR": "root@\(name)"]) { $1 })
                if backend == .postgres {
                    let initialised = try host.run(["init", "--owner", "team@example.org"], environment: world.at(0))
                    #expect(initialised.status == 0, "\(initialised.standardError)")
                }
                hosts.append(host)
            }
            self.hosts = hosts
        }

        func scheduler(_ host: Int, _ extra: [String], environment: [String: String] = [:]) throws -> RunningProcess {
            try ProcessRunner.start(
                hosts[host].path,
                ["scheduler", "--config", world.configPath, "--state-dir", hosts[host].stateDirectory, "--log-level", "debug"] + extra,
                environment: hosts[host].environment.merging(environment) { $1 })
        }

        func lease() -> SchedulerLease? { try? world.registry().schedulerLease() }

        /// Polls `condition` every 100 ms for up to `seconds`; whether it came true.
        func await(_ seconds: TimeInterval, _ condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition() { return true }
                usleep(100_000)
            }
            return condition()
        }

        /// No slot with two keys on their way in, nor two active; the event chain intact.
        func checkOneSuccessor(sourceLocation: SourceLocation = #_sourceLocation) throws {
            let keys = try world.keys("example.org")
            #expect(keys.filter { [.pending, .published].contains($0.state) }.count <= 1, "two successors: \(keys.map(\.selector))", sourceLocation: sourceLocation)
            try world.checkInvariants("example.org", sourceLocation: sourceLocation)
        }
    }

    static func pid(of lease: SchedulerLease?) -> Int32? {
        lease.flatMap { $0.holder.split(separator: " ").last.flatMap { Int32($0) } }
    }

    /// Whether the process is stopped (`T` in /proc/PID/stat).
    static func isStopped(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)] == "T"
    }

    @Test func threeSchedulersOneLeadsAndAFollowerTakesOverWhenItIsKilled() throws {
        let fleet = try Fleet(hosts: ["a", "b", "c"])
        let interval = 20.0
        let schedulers = try (0..<3).map { try fleet.scheduler($0, ["--interval", "\(Int(interval))s", "--lease", "6s"]) }
        defer { for scheduler in schedulers { scheduler.signal(SIGKILL) } }
        #expect(fleet.await(30) { fleet.lease()?.tickedAt != nil }, "no scheduler ticked")
        let first = try #require(fleet.lease())
        #expect(first.term == 1)
        let leaderIndex = try #require(schedulers.firstIndex { $0.pid == Self.pid(of: first) }, "\(first.holder)")
        #expect(first.holder == "root@\(["a", "b", "c"][leaderIndex]) pid \(schedulers[leaderIndex].pid)")
        #expect(try fleet.world.keys("example.org").map(\.state) == [.published])

        // Any host's metrics name the leader, its term and since when.
        let observer = (leaderIndex + 1) % 3
        let metrics = try fleet.hosts[observer].run(["metrics", "--config", fleet.world.configPath])
        #expect(metrics.status == 0, "\(metrics.standardError)")
        #expect(metrics.standardOutput.contains("dkimctl_scheduler_leader{holder=\"\(first.holder)\"} 1\n"))
        #expect(metrics.standardOutput.contains("dkimctl_scheduler_leader_term 1\n"))
        #expect(metrics.standardOutput.contains("dkimctl_scheduler_leader_since_timestamp_seconds \(Int(first.since.timeIntervalSince1970.rounded()))\n"))

        // kill -9 the leader: a follower leads and ticks within one interval.
        let killedAt = Date()
        schedulers[leaderIndex].signal(SIGKILL)
        _ = schedulers[leaderIndex].wait(timeout: 10)
        #expect(fleet.await(interval) { (fleet.lease()?.term ?? 0) >= 2 && (fleet.lease()?.tickedAt ?? .distantPast) > killedAt })
        let second = try #require(fleet.lease())
        #expect(second.term == 2)
        #expect(second.holder != first.holder)
        #expect(Date().timeIntervalSince(killedAt) < interval)
        try fleet.checkOneSuccessor()
        #expect(try fleet.world.keys("example.org").count == 1)

        for (index, scheduler) in schedulers.enumerated() where index != leaderIndex { scheduler.signal(SIGTERM) }
        let results = schedulers.enumerated().filter { $0.offset != leaderIndex }.map { ($0.offset, $0.element.wait(timeout: 30)) }
        for (index, result) in results {
            #expect(result.status == 0, "\(result.standardError)")
            let leads = result.standardError.contains("leading")
            #expect(leads == (schedulers[index].pid == Self.pid(of: second)), "\(result.standardError)")
            // The one that never led followed; the new leader may have started only after the kill (a slow start).
            if !leads { #expect(result.standardError.contains("following"), "\(result.standardError)") }
        }
        // The leader let go when it stopped: no lease runs, the term stays (the fence with it).
        let released = try #require(fleet.lease())
        #expect(released.term == 2)
        #expect(released.releasedAt != nil)
        let after = try fleet.hosts[observer].run(["metrics", "--config", fleet.world.configPath])
        #expect(!after.standardOutput.contains("dkimctl_scheduler_leader{"))
        #expect(after.standardOutput.contains("dkimctl_scheduler_leader_term 2\n"))
    }

    @Test func aLeaderPausedPastItsLeaseCommitsNothingWhenItResumes() throws {
        let fleet = try Fleet(hosts: ["a", "b"])
        // A stops itself once its first tick has generated the key, before writing anything.
        let paused = try fleet.scheduler(0, ["--interval", "1s", "--lease", "3s"], environment: ["DKIMCTL_FAULT": "keys-generated:stop"])
        defer { paused.signal(SIGKILL) }
        #expect(fleet.await(30) { Self.isStopped(paused.pid) }, "the leader never reached the stop point")
        #expect(fleet.lease()?.term == 1)
        #expect(Self.pid(of: fleet.lease()) == paused.pid)

        // B follows until the server ends A's silent session (its lease), then leads and ticks.
        let follower = try fleet.scheduler(1, ["--interval", "1s", "--lease", "3s"])
        defer { follower.signal(SIGKILL) }
        #expect(fleet.await(30) { fleet.lease()?.term == 2 && fleet.lease()?.tickedAt != nil })
        #expect(Self.pid(of: fleet.lease()) == follower.pid)
        #expect(fleet.await(10) { (try? fleet.world.keys("example.org").map(\.state)) == [.published] })

        // A resumes where it stopped, about to register its key: refused, it follows.
        paused.signal(SIGCONT)
        usleep(4_000_000)
        paused.signal(SIGTERM)
        follower.signal(SIGTERM)
        let resumed = paused.wait(timeout: 30)
        let leader = follower.wait(timeout: 30)
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(leader.status == 0, "\(leader.standardError)")
        #expect(resumed.standardError.contains("this scheduler's leadership (term 1) is over: root@b pid \(follower.pid) leads since"), "\(resumed.standardError)")
        #expect(resumed.standardError.contains("lost the lead; following"), "\(resumed.standardError)")

        // One key, created by B; nothing at all written by A.
        let keys = try fleet.world.keys("example.org")
        #expect(keys.count == 1)
        var actors: [String: Int] = [:]
        try fleet.world.registry().forEachEvent(since: nil) { actors[$0.actor, default: 0] += 1 }
        #expect(actors["root@a"] == nil, "\(actors)")
        #expect((actors["root@b"] ?? 0) >= 2, "\(actors)")
        try fleet.checkOneSuccessor()
    }

    /// The server ends every session of the scheduler (as a restart or a failover would): it
    /// loses the lead with its lock connection, opens new connections, leads again and ticks.
    @Test func aSchedulerWhoseSessionsTheServerEndsComesBackByItself() throws {
        let fleet = try Fleet(hosts: ["a"])
        let scheduler = try fleet.scheduler(0, ["--interval", "1s", "--lease", "3s"])
        defer { scheduler.signal(SIGKILL) }
        #expect(fleet.await(30) { fleet.lease()?.tickedAt != nil })
        let url = try #require(fleet.world.registryURL)
        let database = try #require(url.split(separator: "/").last?.split(separator: "?").first.map(String.init))
        let terminatedAt = Date()
        let ended = try PostgresServer.shared().psql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid()",
            database: database)
        #expect((Int(ended.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 2, "\(ended)")
        #expect(fleet.await(20) { (fleet.lease()?.term ?? 0) >= 2 && (fleet.lease()?.tickedAt ?? .distantPast) > terminatedAt })
        #expect(Self.pid(of: fleet.lease()) == scheduler.pid)
        scheduler.signal(SIGTERM)
        let result = scheduler.wait(timeout: 30)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("lost the lead; following"), "\(result.standardError)")
        #expect(result.standardError.contains("the server closed the connection"), "\(result.standardError)")
        try fleet.checkOneSuccessor()
    }

    /// Three hosts run `rotate --now T` at once at every step of a year (cron on each), and
    /// one run is killed -9 at a random moment in some steps: the chain stays linear and valid,
    /// a slot never has two successors, and the year ends as a single host's would.
    @Test func aSimulatedYearRotatedFromThreeHostsAtOnceNeverMakesTwoSuccessors() throws {
        let fleet = try Fleet(hosts: ["a", "b", "c"])
        let hour: TimeInterval = 3600
        let day = 24 * hour
        let timeline: [TimeInterval] = [
            0, hour, 7 * day + 2 * hour, 168 * day + 2 * hour, 168 * day + 3 * hour, 175 * day + 4 * hour,
            336 * day + 4 * hour, 336 * day + 5 * hour, 343 * day + 6 * hour,
        ]
        var terms: [Int64] = []
        for (step, time) in timeline.enumerated() {
            let runs = try fleet.hosts.map { host in
                try ProcessRunner.start(
                    host.path,
                    ["rotate", "--config", fleet.world.configPath, "--state-dir", host.stateDirectory, "--lock-wait", "60", "--lease", "5s"],
                    environment: host.environment.merging(fleet.world.at(time)) { $1 })
            }
            let victim = step % 2 == 1 ? Int.random(in: 0..<3) : nil
            if let victim {
                usleep(UInt32.random(in: 0...400_000))
                runs[victim].signal(SIGKILL)
            }
            for (index, run) in runs.enumerated() {
                let result = run.wait(timeout: 120)
                if index == victim, result.status != 0 { continue }
                #expect(result.status == 0, "step \(step) host \(index): \(result.standardOutput)\(result.standardError)")
            }
            try fleet.checkOneSuccessor()
            terms.append(fleet.lease()?.term ?? 0)
        }
        // Every run led once, one after another: the term grew by one per run that got the lead.
        #expect(terms == terms.sorted())
        #expect((terms.last ?? 0) >= Int64(timeline.count * 2))
        // The year as one host ends it: the first two keys revoked, the third active, all in DNS as they should be.
        let keys = try fleet.world.keys("example.org")
        #expect(keys.map(\.state) == [.revoked, .revoked, .active], "\(keys.map { "\($0.selector) \($0.state)" })")
        #expect(keys.map(\.selector.name) == [
            "self-hosted-notifications-20261123", "self-hosted-notifications-20270510", "self-hosted-notifications-20271025",
        ])
        #expect(fleet.world.served(keys[2].selector.name, in: "example.org")?.value == keys[2].record.text)
        #expect(fleet.world.served(keys[0].selector.name, in: "example.org")?.value == "v=DKIM1; k=ed25519; p=")
        let chain = try fleet.world.registry().verifyEventChain()
        #expect(chain.breaks.isEmpty)
        #expect(try fleet.world.registry().verifyRegister().problems.isEmpty)
    }

    /// With the embedded SQLite registry the lock is a file: a second scheduler follows, a
    /// manual rotate is told who leads, and the follower takes over when the leader stops.
    @Test func onOneHostASecondSchedulerFollowsAndRotateNamesTheLeader() throws {
        let fleet = try Fleet(hosts: ["a", "a2"], backend: .sqlite)
        let leader = try fleet.scheduler(0, ["--interval", "1s", "--lease", "3s"])
        defer { leader.signal(SIGKILL) }
        #expect(fleet.await(30) { fleet.lease()?.tickedAt != nil })
        let follower = try fleet.scheduler(1, ["--interval", "1s", "--lease", "3s"])
        defer { follower.signal(SIGKILL) }
        usleep(2_500_000)
        let lease = try #require(fleet.lease())
        #expect(lease.term == 1)
        #expect(Self.pid(of: lease) == leader.pid)

        let manual = try fleet.world.rotate(at: 0, ["--lock-wait", "0.5"])
        #expect(manual.status == 75)
        #expect(manual.errorLines == [
            "dkimctl: error: another scheduler leads: root@a pid \(leader.pid) since \(Timestamp.iso8601(lease.since)) (term 1); waited 0 s; try again later, or stop it to rotate by hand"
        ])
        #expect(try fleet.world.rotate(at: 0, ["--dry-run"]).status == 0)
        let leading = try fleet.hosts[0].run(["doctor", "--config", fleet.world.configPath, "--no-dns"])
        #expect(leading.standardOutput.contains("root@a pid \(leader.pid) since \(Timestamp.iso8601(lease.since)) (term 1) leads; lease renewed"), "\(leading.standardOutput)")

        leader.signal(SIGTERM)
        #expect(leader.wait(timeout: 30).status == 0)
        #expect(fleet.await(10) { fleet.lease()?.term == 2 })
        #expect(Self.pid(of: fleet.lease()) == follower.pid)
        follower.signal(SIGTERM)
        let followed = follower.wait(timeout: 30)
        #expect(followed.status == 0, "\(followed.standardError)")
        #expect(followed.standardError.contains("following"))
        #expect(followed.standardError.contains("leading"))
        try fleet.checkOneSuccessor()
        let letGo = try fleet.hosts[0].run(["doctor", "--config", fleet.world.configPath, "--no-dns"])
        #expect(letGo.standardOutput.contains("no scheduler leads now: the last, root@a2 pid \(follower.pid) since"), "\(letGo.standardOutput)")

        // A leader killed with no follower: its lease runs out unreleased, and doctor says so.
        let lone = try fleet.scheduler(0, ["--interval", "1s", "--lease", "2s"])
        defer { lone.signal(SIGKILL) }
        #expect(fleet.await(10) { fleet.lease()?.term == 3 })
        lone.signal(SIGKILL)
        _ = lone.wait(timeout: 10)
        usleep(2_500_000)
        let stale = try fleet.hosts[0].run(["doctor", "--config", fleet.world.configPath, "--no-dns"])
        #expect(stale.status != 0)
        #expect(stale.standardOutput.contains("the lease of root@a pid \(lone.pid) since"), "\(stale.standardOutput)")
        #expect(stale.standardOutput.contains("without being let go: it died or was cut off, and no other scheduler took over"))
    }
}
