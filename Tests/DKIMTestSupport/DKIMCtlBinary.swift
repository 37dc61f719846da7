import Foundation

/// The built `dkimctl` executable, run as a user would run it.
public struct DKIMCtlBinary: Sendable {
    public let path: String
    public let stateDirectory: String
    public let environment: [String: String]

    /// The binary next to the test bundle (SwiftPM puts both in the build
    /// directory), or `$DKIMCTL_BINARY`.
    public static func locate() -> String {
        if let explicit = ProcessInfo.processInfo.environment["DKIMCTL_BINARY"] { return explicit }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // The XCTest bundle on Linux is a file `…/debug/dkimctlPackageTests.xctest`.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("dkimctl").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/dkimctl").path
    }

    public init(stateDirectory: String, environment: [String: String] = [:]) {
        self.path = DKIMCtlBinary.locate()
        self.stateDirectory = stateDirectory
        self.environment = ["DKIMCTL_ACTOR": "tester@test-host"].merging(environment) { $1 }
    }

    /// Runs `dkimctl ARGUMENTS --state-dir STATE` (the state directory is added unless given).
    @discardableResult
    public func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ProcessResult {
        var arguments = arguments
        if !arguments.contains("--state-dir"), !arguments.contains("--help"), !arguments.contains("--version") {
            arguments += ["--state-dir", stateDirectory]
        }
        return try ProcessRunner.run(path, arguments, environment: environment.merging(extra) { $1 })
    }
}
