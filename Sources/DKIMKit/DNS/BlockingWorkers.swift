import Foundation

/// Runs blocking work (ldns queries) on dedicated threads.
///
/// Swift concurrency's cooperative pool is only as wide as the core count, so
/// 1,000 blocking lookups would run two at a time on this machine; DNS waits
/// on the network, not the CPU, and wants many threads.
public enum BlockingWorkers {
    /// Applies `body` to every item on up to `threads` threads and returns the
    /// results in the items' order.
    public static func map<Item: Sendable, Result: Sendable>(
        _ items: [Item], threads: Int = 32, _ body: @escaping @Sendable (Item) -> Result
    ) -> [Result] {
        var results = [Result?](repeating: nil, count: items.count)
        stream(items, threads: threads, body) { index, result in results[index] = result }
        return results.map { $0! }
    }

    /// Applies `body` to every item on up to `threads` threads and hands each
    /// result, as soon as it is ready, to `consume` on the calling thread (in
    /// completion order, with the item's index). If `consume` throws, no new
    /// item is started, the running ones are waited for, and the error is rethrown.
    public static func stream<Item: Sendable, Result: Sendable>(
        _ items: [Item], threads: Int = 32, _ body: @escaping @Sendable (Item) -> Result,
        consume: (Int, Result) throws -> Void
    ) rethrows {
        if items.isEmpty { return }
        // One item: the caller would only wait for the thread; run it here instead.
        if items.count == 1 {
            try consume(0, body(items[0]))
            return
        }
        let state = SharedState<Result>(count: items.count)
        let workers = max(1, min(threads, items.count))
        let finished = DispatchGroup()
        for _ in 0..<workers {
            finished.enter()
            let thread = Thread {
                while let index = state.claim() {
                    state.deliver(body(items[index]), at: index)
                }
                finished.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        do {
            for _ in items.indices {
                let (index, result) = state.next()
                try consume(index, result)
            }
        } catch {
            state.cancel()
            finished.wait()
            throw error
        }
        finished.wait()
    }

    /// The work queue and the finished results, behind one lock.
    private final class SharedState<Result>: @unchecked Sendable {
        // @unchecked Sendable: every field is read and written under `lock`;
        // `ready` counts the results waiting in `finished`.
        private let lock = NSLock()
        private let ready = DispatchSemaphore(value: 0)
        private let count: Int
        private var nextItem = 0
        private var cancelled = false
        private var finished: [(Int, Result)] = []

        init(count: Int) { self.count = count }

        func claim() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard !cancelled, nextItem < count else { return nil }
            nextItem += 1
            return nextItem - 1
        }

        func deliver(_ result: Result, at index: Int) {
            lock.lock()
            finished.append((index, result))
            lock.unlock()
            ready.signal()
        }

        /// Waits for the next finished result.
        func next() -> (Int, Result) {
            ready.wait()
            lock.lock()
            defer { lock.unlock() }
            return finished.removeFirst()
        }

        func cancel() {
            lock.lock()
            cancelled = true
            lock.unlock()
        }
    }
}
