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
    /// Runs `executable` with `arguments` and optional extra environment, waiting for it to exit.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil
    ) throws -> ProcessResult {
        try start(executable, arguments, environment: environment, input: input).wait()
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

    /// Waits for the exit and returns what the process printed.
    public func wait() -> ProcessResult {
        group.wait()
        process.waitUntilExit()
        return ProcessResult(
            status: process.terminationStatus,
            standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self))
    }
}
