import DKIMKit
import Foundation
import Testing

@Suite struct BlockingWorkersTests {
    @Test func mapKeepsTheItemsOrderAndRunsBlockingWorkSideBySide() {
        let started = Date()
        // 64 items that each block 50 ms: sequentially 3.2 s, on 32 threads about 0.1 s.
        let results = BlockingWorkers.map(Array(0..<64), threads: 32) { item -> Int in
            usleep(50_000)
            return item * 2
        }
        #expect(results == (0..<64).map { $0 * 2 })
        #expect(Date().timeIntervalSince(started) < 1.5, "blocking calls must not run one or two at a time")
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
