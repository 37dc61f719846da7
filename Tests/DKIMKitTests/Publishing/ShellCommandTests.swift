import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// Hooks are bounded: their own process group, killed whole at the deadline;
/// background children never keep dkimctl (and its rotation lock) waiting.
@Suite struct ShellCommandTests {
    private func isGone(_ pid: Int32) -> Bool {
        // Gone, or a zombie waiting for its new parent to reap it.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    @Test func exitStatusOutputAndEnvironment() throws {
        let outcome = try ShellCommand("echo \"$DKIM_SELECTOR\"; echo oops >&2; exit 3").run(environment: ["DKIM_SELECTOR": "s1"])
        #expect(outcome.status == 3 && !outcome.timedOut)
        #expect(outcome.output == "s1\noops")
        #expect(outcome.summary == "exit 3: oops")
    }

    @Test func aBackgroundChildHoldingTheOutputDoesNotKeepTheCallerWaiting() throws {
        let directory = try TemporaryDirectory()
        // Had the caller waited for the child (30 s), the 20 s limit would have killed it.
        let outcome = try ShellCommand("sleep 30 & echo $! > \(directory.file("child")); echo started", timeout: 20).run(environment: [:])
        #expect(outcome.succeeded && !outcome.timedOut && outcome.output == "started")
        let child = try #require(Int32(try String(contentsOfFile: directory.file("child"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(child, SIGKILL)
    }

    @Test func atTheDeadlineTheWholeProcessGroupIsKilled() throws {
        let directory = try TemporaryDirectory()
        let outcome = try ShellCommand("sleep 60 & echo $! > \(directory.file("child")); echo waiting; wait", timeout: 1).run(environment: [:])
        #expect(outcome.timedOut && !outcome.succeeded)
        #expect(outcome.summary.hasPrefix("killed after the time limit"))
        let child = try #require(Int32(try String(contentsOfFile: directory.file("child"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var gone = false
        for _ in 0..<100 where !gone {
            gone = isGone(child)
            if !gone { usleep(20_000) }
        }
        #expect(gone, "the hook's background child \(child) survived the deadline")
    }

    @Test func aHookIgnoringTermIsKilled() throws {
        let outcome = try ShellCommand("trap '' TERM; while :; do sleep 0.1; done", timeout: 0.5).run(environment: [:])
        #expect(outcome.timedOut)
    }

    @Test func onlyTheLastFourKiBOfOutputAreKept() throws {
        let outcome = try ShellCommand("head -c 20000000 /dev/zero | tr '\\\\0' x; echo; echo last-line", timeout: 30).run(environment: [:])
        #expect(outcome.succeeded)
        #expect(outcome.output.utf8.count <= 4096)
        #expect(outcome.output.hasSuffix("last-line"))
    }
}
