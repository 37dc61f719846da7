import Foundation

/// Runs blocking work (ldns queries) on dedicated threads.
///
/// Swift concurrency's cooperative pool is only as wide as the core count, so
/// 1,000 blocking lookups would run two at a time on this machine; DNS waits
/// on the network, not the CPU, and wants many threads.
public enum BlockingWorkers {
    /// Applies `body` to every item on up to `threads` threads and returns the
    /// results in the items' order. `progress` is called (on a worker thread,
    /// serialised) with the number of items done so far.
    public static func map<Item: Sendable, Result: Sendable>(
        _ items: [Item], threads: Int = 32, progress: (@Sendable (Int) -> Void)? = nil,
        _ body: @escaping @Sendable (Item) -> Result
    ) -> [Result] {
        if items.isEmpty { return [] }
        let state = SharedState<Result>(count: items.count)
        let workers = max(1, min(threads, items.count))
        let finished = DispatchGroup()
        for _ in 0..<workers {
            finished.enter()
            let thread = Thread {
                while let index = state.claim() {
                    let result = body(items[index])
                    let done = state.store(result, at: index)
                    progress?(done)
                }
                finished.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        finished.wait()
        return state.results()
    }

    /// The work queue and results, behind one lock.
    private final class SharedState<Result>: @unchecked Sendable {
        // @unchecked Sendable: every field is read and written under `lock`.
        private let lock = NSLock()
        private var next = 0
        private var done = 0
        private var slots: [Result?]

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func claim() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard next < slots.count else { return nil }
            next += 1
            return next - 1
        }

        func store(_ result: Result, at index: Int) -> Int {
            lock.lock()
            defer { lock.unlock() }
            slots[index] = result
            done += 1
            return done
        }

        func results() -> [Result] {
            lock.lock()
            defer { lock.unlock() }
            return slots.map { $0! }
        }
    }
}
