import Foundation

/// A user's hook (publisher command, zone reload, deploy), run through `/bin/sh -c`
/// like certbot's hooks, with `DKIM_*` variables added to the environment.
public struct ShellCommand: Sendable {
    public let command: String
    /// Seconds before the hook is killed; a hung hook must not hang the scheduler.
    public let timeout: TimeInterval

    public init(_ command: String, timeout: TimeInterval = 300) {
        self.command = command
        self.timeout = timeout
    }

    /// What a hook did.
    public struct Outcome: Sendable {
        public let status: Int32
        /// Standard output and error together, at most the last 4 KiB.
        public let output: String
        public let timedOut: Bool

        public init(status: Int32, output: String, timedOut: Bool) {
            self.status = status
            self.output = output
            self.timedOut = timedOut
        }

        public var succeeded: Bool { status == 0 && !timedOut }

        /// `exit 3: <last line of output>`, for one-line messages.
        public var summary: String {
            let last = output.split(separator: "\n").last.map(String.init) ?? ""
            let head = timedOut ? "killed after the time limit" : "exit \(status)"
            return last.isEmpty ? head : "\(head): \(last)"
        }
    }

    /// Runs the command in its own process group and waits for it, at most `timeout`:
    /// then the whole group is killed. Background children it leaves behind are not
    /// waited for (see `ChildProcess`).
    /// - Throws: `DKIMError.io` when it cannot be started at all.
    public func run(environment extra: [String: String]) throws -> Outcome {
        let environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let result: ChildProcess.Result
        do {
            result = try ChildProcess.run("/bin/sh", ["-c", command], environment: environment, timeout: timeout)
        } catch let error as DKIMError {
            throw DKIMError(.io, "cannot run '\(command)': \(error.message)")
        }
        let text = String(decoding: result.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Outcome(status: result.status, output: text, timedOut: result.timedOut)
    }

    /// The executable a command's first word names: an absolute or relative path, or a name on `PATH`.
    public static func findProgram(_ program: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if program.contains("/") {
            return FileManager.default.isExecutableFile(atPath: program) ? program : nil
        }
        // Shell built-ins a hook may start with.
        if ["true", "false", ":", "exec", "test", "[", "cd", "echo", "printf"].contains(program) { return program }
        for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Reads a TSIG secret: either the base64 secret alone, or a BIND key file
/// (`key "name" { algorithm …; secret "…"; };`, as `tsig-keygen` writes).
public enum TSIGSecretFile {
    public static func read(_ path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw DKIMError(.notFound, "TSIG secret file \(path) does not exist or cannot be read")
        }
        if info.st_mode & 0o077 != 0 {
            throw DKIMError(
                .unsafePermissions,
                "TSIG secret file \(path) has mode \(String(info.st_mode & 0o777, radix: 8)) (allowed: 600 or stricter; fix: chmod 600 \(path))")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw DKIMError(.io, "TSIG secret file \(path) cannot be read")
        }
        var secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let range = text.range(of: #"secret\s+"([^"]+)""#, options: .regularExpression) {
            secret = String(text[range]).split(separator: "\"")[1].trimmingCharacters(in: .whitespaces)
        }
        guard !secret.isEmpty, Data(base64Encoded: secret) != nil else {
            throw DKIMError(.invalidInput, "TSIG secret file \(path) holds no base64 secret (expected the secret alone or a BIND key file)")
        }
        return secret
    }
}
