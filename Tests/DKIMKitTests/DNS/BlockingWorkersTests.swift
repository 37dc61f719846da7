import DKIMKit
import Foundation
import Testing

@Suite struct BlockingWorkersTests {
    @Test func mapKeepsTheItemsOrderAndRunsBlockingWorkSideBySide() {
        // Each of the first 32 items blocks until 32 items are in flight at once: run one or
        // two at a time, they would never meet (each gives up after 10 s and says so).
        let meeting = Rendezvous(parties: 32)
        let results = BlockingWorkers.map(Array(0..<64), threads: 32) { item -> Int? in
            meeting.arrive() ? item * 2 : nil
        }
        #expect(results == (0..<64).map { $0 * 2 }, "blocking calls ran one or two at a time")
    }

    @Test func streamHandsOverEveryResultOnceAndStopsOnError() throws {
        var seen = Set<Int>()
        BlockingWorkers.stream(Array(0..<100), threads: 8, { $0 }) { index, value in
            #expect(index == value)
            #expect(seen.insert(index).inserted)
        }
        #expect(seen == Set(0..<100))

        struct Stop: Error {}
        var consumed = 0
        #expect(throws: Stop.self) {
            try BlockingWorkers.stream(Array(0..<1000), threads: 4, { item -> Int in
                usleep(1000)
                return item
            }) { _, _ in
                consumed += 1
                if consumed == 10 { throw Stop() }
            }
        }
        #expect(consumed == 10)
    }
}

/// Counts arrivals; `arrive()` returns once `parties` have arrived (true), or after 10 s (false).
final class Rendezvous: @unchecked Sendable {
    // @unchecked Sendable: `arrived` is only touched under `condition`.
    private let condition = NSCondition()
    private let parties: Int
    private var arrived = 0

    init(parties: Int) {
        self.parties = parties
    }

    func arrive() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let deadline = Date().addingTimeInterval(10)
        while arrived < parties {
            if !condition.wait(until: deadline) { return arrived >= parties }
        }
        return true
    }
}
