import DKIMTestSupport
import Foundation
import Testing

/// The tests' own process runner cannot hang the suite.
@Suite struct ProcessRunnerTests {
    @Test func aProgramThatDoesNotExitIsKilledAtItsTimeout() throws {
        let result = try ProcessRunner.run("/bin/sh", ["-c", "echo started; exec sleep 60"], timeout: 1)
        #expect(result.status == 137)
        #expect(result.standardOutput == "started\n")
        #expect(result.standardError.contains("killed after 1 s without exiting"))
    }

    @Test func aBackgroundGrandchildHoldingTheOutputFailsInsteadOfHanging() throws {
        let result = try ProcessRunner.run("/bin/sh", ["-c", "sleep 60 & echo done"], timeout: 1)
        #expect(result.status == 137 && result.standardError.contains("killed after 1 s"))
    }
}
