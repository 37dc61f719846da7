import Foundation

/// The outcome of running a program to completion.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let standardOutput: String
    public let standardError: String

    /// Standard error split into its non-empty lines.
    public var errorLines: [String] {
        standardError.split(separator: "\n").map(String.init)
    }
}

/// Runs programs the way a user's shell would, capturing what they print.
public enum ProcessRunner {
    /// Runs `executable` with `arguments` and optional extra environment, waiting for it to
    /// exit — at most `timeout` seconds: then it is killed and the result says so, so a hung
    /// program fails its test instead of hanging the suite.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil,
        timeout: TimeInterval = RunningProcess.defaultTimeout
    ) throws -> ProcessResult {
        try start(executable, arguments, environment: environment, input: input).wait(timeout: timeout)
    }

    /// Starts `executable`; its output is collected until `wait()`.
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil
    ) throws -> RunningProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let standardInput = Pipe()
        process.standardInput = standardInput
        try process.run()
        if let input { standardInput.fileHandleForWriting.write(Data(input.utf8)) }
        try standardInput.fileHandleForWriting.close()
        return RunningProcess(process: process, output: output, error: error)
    }
    /// The absolute path of `name` on `PATH` (or in the sbin directories), if installed.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// A started child process.
public final class RunningProcess: @unchecked Sendable {
    public let process: Process
    private let output: Pipe
    private let error: Pipe
    private let group = DispatchGroup()
    nonisolated(unsafe) private var outputData = Data()
    nonisolated(unsafe) private var errorData = Data()

    init(process: Process, output: Pipe, error: Pipe) {
        self.process = process
        self.output = output
        self.error = error
        // Read both pipes from the start, so a chatty child never blocks on a full pipe.
        group.enter()
        DispatchQueue.global().async {
            self.errorData = error.fileHandleForReading.readDataToEndOfFile()
            self.group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            self.outputData = output.fileHandleForReading.readDataToEndOfFile()
            self.group.leave()
        }
    }

    public var pid: Int32 { process.processIdentifier }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// How long a test waits for a program before killing it.
    public static let defaultTimeout: TimeInterval = 300

    /// Waits for the exit and returns what the process printed. After `timeout` seconds the
    /// process is killed (SIGKILL), its status is 137 and standard error ends with a line
    /// saying so. A background grandchild that keeps the output open counts as not exiting
    /// (Foundation cannot tell the difference): a test that leaks one fails instead of hanging.
    public func wait(timeout: TimeInterval = RunningProcess.defaultTimeout) -> ProcessResult {
        var killed = false
        if group.wait(timeout: .now() + timeout) == .timedOut {
            killed = true
            kill(process.processIdentifier, SIGKILL)
            _ = group.wait(timeout: .now() + 5)
        }
        if !killed { process.waitUntilExit() }
        return ProcessResult(
            status: killed ? 137 : process.terminationStatus,
            standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self)
                + (killed ? "\n[test runner: killed after \(Int(timeout)) s without exiting]\n" : ""))
    }
}
