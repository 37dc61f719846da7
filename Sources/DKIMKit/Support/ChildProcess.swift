import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program in its own process group, bounded in time and in what is kept
/// of its output.
///
/// - The child leads a new process group; at the deadline the whole group gets
///   SIGTERM, then SIGKILL two seconds later, and reading stops.
/// - When the program itself exits, its output is drained of what is already
///   written and the run ends: a background child still holding the output pipe
///   (`daemon &`) never keeps the caller waiting.
/// - Only the last `outputLimit` octets of standard output and error are kept.
enum ChildProcess {
    struct Result {
        let status: Int32
        /// The signal that ended the program, if one did.
        let signal: Int32?
        let output: Data
        let timedOut: Bool
    }

    /// Where the program's standard error goes: into `output` with standard output, or
    /// to the caller's standard error (a secret printed on standard output stays apart from messages).
    enum ErrorOutput { case captured, inherited }

    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], timeout: TimeInterval, outputLimit: Int = 4096,
        errorOutput: ErrorOutput = .captured
    ) throws -> Result {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw DKIMError(.io, "cannot create a pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        // Neither end may leak into another child: the program gets the write end through dup2 only.
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        defer { close(readEnd) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        if errorOutput == .captured { posix_spawn_file_actions_adddup2(&actions, writeEnd, 2) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(writeEnd)
        guard spawned == 0 else { throw DKIMError(.io, "cannot run \(executable): \(String(cString: strerror(spawned)))") }

        let deadline = Date(timeIntervalSinceNow: timeout)
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var pipeOpen = true
        var waitStatus: Int32 = 0
        var exited = false
        var timedOut = false

        func keep(_ count: Int) {
            output.append(contentsOf: buffer[0..<count])
            if output.count > outputLimit * 2 { output = output.suffix(outputLimit) }
        }
        /// Reads what is available within `milliseconds`; notes when the pipe is closed.
        func readAvailable(waiting milliseconds: Int32) {
            var request = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            guard poll(&request, 1, milliseconds) > 0 else { return }
            let count = read(readEnd, &buffer, buffer.count)
            if count > 0 { keep(count) } else if count == 0 || (errno != EINTR && errno != EAGAIN) { pipeOpen = false }
        }

        while true {
            if waitpid(pid, &waitStatus, WNOHANG) == pid {
                exited = true
                break
            }
            if Date() >= deadline {
                timedOut = true
                break
            }
            if pipeOpen {
                readAvailable(waiting: Int32(max(1, min(50, deadline.timeIntervalSinceNow * 1000))))
            } else {
                usleep(10_000)
            }
        }
        if exited {
            // Drain what the program wrote before it ended; never wait on its background children.
            let flags = fcntl(readEnd, F_GETFL)
            _ = fcntl(readEnd, F_SETFL, flags | O_NONBLOCK)
            while pipeOpen {
                let count = read(readEnd, &buffer, buffer.count)
                if count > 0 { keep(count) } else { break }
            }
        } else {
            kill(-pid, SIGTERM)
            let grace = Date(timeIntervalSinceNow: 2)
            while waitpid(pid, &waitStatus, WNOHANG) != pid {
                if Date() >= grace {
                    kill(-pid, SIGKILL)
                    waitpid(pid, &waitStatus, 0)
                    break
                }
                usleep(10_000)
            }
            // Whatever else is left in the group goes too.
            kill(-pid, SIGKILL)
        }
        let signaled = waitStatus & 0x7f != 0 && waitStatus & 0x7f != 0x7f
        return Result(
            status: signaled ? 128 + (waitStatus & 0x7f) : (waitStatus >> 8) & 0xff,
            signal: signaled ? waitStatus & 0x7f : nil,
            output: output.suffix(outputLimit), timedOut: timedOut)
    }
}
