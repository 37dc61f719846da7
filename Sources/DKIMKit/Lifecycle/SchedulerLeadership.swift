import Foundation

/// Who may run the rotation tick: exactly one scheduler at a time, across every host that
/// shares the registry (README, "Several hosts: one leader").
///
/// A scheduler leads while it holds the leader lock (`LeaderLock`) and its term is the
/// registry's current one. Its lease is renewed in the background every third of the
/// lease; when a renewal fails or finds another term, the leadership is lost and the tick
/// stops between domains. Whatever the tick was about to write is refused by the fence
/// (`KeyRegistry.fenced(toTerm:)`), so a leader that lost its term — paused past its
/// lease, cut off from the server — commits nothing more.
public struct LeaderElection: Sendable {
    public let registry: any KeyRegistry
    /// `user@host pid N`.
    public let holder: String
    /// How long a lease runs without renewal; a silent leader is replaced after it.
    public let lease: TimeInterval
    /// The lock file when the registry is a local file (`<state>/scheduler.lock`).
    public let lockFile: String

    public init(registry: any KeyRegistry, holder: String, lease: TimeInterval, lockFile: String) {
        self.registry = registry
        self.holder = holder
        self.lease = lease
        self.lockFile = lockFile
    }

    /// Shortest and longest lease allowed.
    public static let leaseRange: ClosedRange<TimeInterval> = 2...3600
    /// The default lease: a leader that stops renewing is replaced within a minute.
    public static let defaultLease: TimeInterval = 60

    /// `user@host pid N` for this process.
    public static func holder(actor: Actor) -> String { "\(actor) pid \(getpid())" }

    /// A candidate for the lead, keeping its lock (its connection) from one attempt to the next.
    public func candidate() throws -> LeaderCandidate {
        guard Self.leaseRange.contains(lease) else {
            throw DKIMError(.invalidInput, "lease \(Int(lease)) s is out of range (allowed: \(Int(Self.leaseRange.lowerBound))–\(Int(Self.leaseRange.upperBound)) seconds)")
        }
        return LeaderCandidate(election: self)
    }

    /// Takes the lead, waiting up to `wait` seconds for the current leader to let go.
    /// - Throws: `DKIMError.busy` naming the leader and since when.
    public func lead(waiting wait: TimeInterval) throws -> SchedulerLeadership {
        let candidate = try candidate()
        let deadline = Date().addingTimeInterval(wait)
        while true {
            if let leadership = try candidate.tryToLead() { return leadership }
            if Date() >= deadline {
                let current = try registry.schedulerLease()
                throw DKIMError(
                    .busy,
                    "another scheduler leads: \(current.map(Self.describe) ?? "its lock is held"); waited \(Int(wait)) s; try again later, or stop it to rotate by hand")
            }
            usleep(200_000)
        }
    }

    /// "root@mx1 pid 412 since 2026-12-03T09:00:00Z (term 7)".
    public static func describe(_ lease: SchedulerLease) -> String {
        "\(lease.holder) since \(Timestamp.iso8601(lease.since)) (term \(lease.term))"
    }
}

/// One process asking for the lead, again and again: its lock (on PostgreSQL, a connection)
/// is kept between attempts and handed to the leadership it wins.
public final class LeaderCandidate: @unchecked Sendable {
    // @unchecked Sendable: used by one thread at a time (the scheduler's loop).
    private let election: LeaderElection
    private var lock: (any LeaderLock)?

    init(election: LeaderElection) {
        self.election = election
    }

    /// One attempt: the lock, then a new term. Nil when another leads.
    public func tryToLead() throws -> SchedulerLeadership? {
        let lock = try self.lock ?? election.registry.sharedLeaderLock(lease: election.lease)
            ?? FileLeaderLock(path: election.lockFile, registry: election.registry)
        let acquired: Bool
        do {
            acquired = try lock.tryAcquire()
        } catch {
            self.lock = nil  // a broken connection: the next attempt opens another
            throw error
        }
        guard acquired else {
            self.lock = lock
            return nil
        }
        self.lock = nil
        let term: SchedulerLease
        do {
            term = try election.registry.beginLeaderTerm(holder: election.holder, at: Date(), lease: election.lease)
        } catch {
            lock.release(term: 0, at: Date())
            throw error
        }
        return SchedulerLeadership(lease: term, lock: lock, duration: election.lease)
    }
}

/// A leadership held: the term (the fencing token), renewed in the background until released or lost.
public final class SchedulerLeadership: @unchecked Sendable {
    // @unchecked Sendable: `lost` and `released` are only touched under `state`.
    public let lease: SchedulerLease
    private let lock: any LeaderLock
    private let duration: TimeInterval
    private let state = NSLock()
    private var lost: String?
    private var released = false
    private let wake = DispatchSemaphore(value: 0)
    private let renewerDone = DispatchSemaphore(value: 0)

    init(lease: SchedulerLease, lock: any LeaderLock, duration: TimeInterval) {
        self.lease = lease
        self.lock = lock
        self.duration = duration
        let thread = Thread { [unowned self] in self.renewUntilReleased() }
        thread.name = "dkimctl leader lease"
        thread.start()
    }

    public var term: Int64 { lease.term }

    /// Why the leadership was lost; nil while it is held.
    public var lossReason: String? {
        state.lock()
        defer { state.unlock() }
        return lost
    }

    public var isHeld: Bool { lossReason == nil }

    /// The registry the leader's tick writes through: every write checks the term first.
    public func fence(_ registry: any KeyRegistry) -> any KeyRegistry { registry.fenced(toTerm: lease.term) }

    /// Lets the lead go: the lease is marked released and the lock freed for a follower.
    public func release() {
        state.lock()
        let first = !released
        released = true
        state.unlock()
        guard first else { return }
        wake.signal()
        renewerDone.wait()
        lock.release(term: lease.term, at: Date())
    }

    deinit {
        if !released { release() }
    }

    private func renewUntilReleased() {
        defer { renewerDone.signal() }
        let period = max(0.5, duration / 3)
        while true {
            if wake.wait(timeout: .now() + period) == .success { return }
            state.lock()
            let stop = released || lost != nil
            state.unlock()
            if stop { return }
            let now = Date()
            var reason: String?
            do {
                if try !lock.renew(term: lease.term, at: now, expiresAt: now.addingTimeInterval(duration)) {
                    reason = "another scheduler began a newer term than \(lease.term)"
                }
            } catch {
                reason = "the lease could not be renewed: \((error as? DKIMError)?.message ?? "\(error)")"
            }
            if let reason {
                state.lock()
                lost = reason
                state.unlock()
                return
            }
        }
    }
}

/// The leader lock with a local registry: an `flock` on a file of the state directory (only
/// processes of this host share an SQLite registry), the lease kept in the registry.
final class FileLeaderLock: LeaderLock, @unchecked Sendable {
    private let path: String
    private let registry: any KeyRegistry
    private let state = NSLock()
    private var held: RotationLock?

    init(path: String, registry: any KeyRegistry) {
        self.path = path
        self.registry = registry
    }

    func tryAcquire() throws -> Bool {
        state.lock()
        defer { state.unlock() }
        do {
            held = try RotationLock.acquire(path: path, wait: 0)
            return true
        } catch let error as DKIMError where error.kind == .busy {
            return false
        }
    }

    func renew(term: Int64, at time: Date, expiresAt: Date) throws -> Bool {
        try registry.renewLeaderTerm(term, at: time, expiresAt: expiresAt)
    }

    func release(term: Int64, at time: Date) {
        try? registry.releaseLeaderTerm(term, at: time)
        state.lock()
        held = nil
        state.unlock()
    }
}
