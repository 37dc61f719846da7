import ArgumentParser
import DKIMKit
import Foundation

/// The `dkimctl` command: a thin shell over DKIMKit.
struct DKIMCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkimctl",
        abstract: "Generate, register, publish and rotate DKIM keys.",
        discussion: """
            dkimctl keeps a registry of every DKIM key an organisation signs with: one slot per \
            (domain, provider, usage), dated selectors, 2048-bit RSA by default, private keys in \
            0600 files, and a tamper-evident event log.

            State lives in --state-dir, else $DKIMCTL_HOME, else /var/lib/dkimctl (root) or \
            $XDG_DATA_HOME/dkimctl.

            Exit status: 0 success; 64 a command-line value was refused (nothing was written); \
            1 any other failure; 75 another run holds the rotation lock ('verify', 'activate', \
            'rotate', 'track' and 'audit' add their own: see their --help).

            Examples:
              dkimctl init --owner mail-team@example.org
              dkimctl new --domain example.org --provider mailgun --usage notifications
              dkimctl verify mailgun-notifications-20261123 --domain example.org
              dkimctl activate mailgun-notifications-20261123 --domain example.org
              dkimctl list --format csv > dkim-register.csv
              dkimctl config init && dkimctl rotate --dry-run
              dkimctl track --domain example.org --provider google-workspace --selector google
              dkimctl record mailgun-notifications-20261123 --domain example.org --format route53
              dkimctl audit --format markdown --output audit.md && dkimctl audit verify
            """,
        version: DKIMKitVersion.current,
        subcommands: [
            Init.self, New.self, List.self, Show.self, Record.self, Verify.self, Activate.self, Rotate.self, Scheduler.self,
            Retire.self, Revoke.self, Config.self, Providers.self, Track.self, Handoff.self, Export.self, Templates.self, Audit.self, Metrics.self, Doctor.self,
            Reports.self, Alignment.self, Slot.self, Keys.self, Registry.self,
        ]
    )

    /// Runs the command line and exits. Every failure is reported on one line
    /// of standard error (`dkimctl: error: …`), so scripts and people see the same thing.
    static func main(_ arguments: [String]) -> Never {
        // Everything dkimctl creates (registry, WAL files, keys) is private to its user.
        umask(0o077)
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            finish(0)
        } catch {
            Output.standard.flush()
            finish(report(error))
        }
    }

    /// Flushes every output stream and ends the process without the C library's exit
    /// handlers: they only free memory (OpenSSL's clean-up, C++ static destructors), which
    /// the kernel takes back anyway, and cost about 0.6 ms per command. Everything dkimctl
    /// writes to disk is synced and committed before this point.
    private static func finish(_ status: Int32) -> Never {
        Output.standard.flush()
        fflush(nil)
        _exit(status)
    }

    private static func report(_ error: Error) -> Int32 {
        if let error = error as? DKIMError {
            Output.error(RemedyWording.commandLine.message(error.message, error.remedy))
            switch error.kind {
            case .invalidInput, .conflict: return ExitCode.validationFailure.rawValue
            case .busy, .notLeader: return 75  // EX_TEMPFAIL: try again later
            default: return ExitCode.failure.rawValue
            }
        }
        if let code = error as? ExitCode { return code.rawValue }
        let code = exitCode(for: error)
        if code == .success {
            // --help and --version.
            print(fullMessage(for: error))
            return 0
        }
        let message = message(for: error)
            .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        // ArgumentParser's full message ends with "See 'dkimctl new --help' …": keep that pointer.
        let help = fullMessage(for: error).split(whereSeparator: \.isNewline)
            .first { $0.contains("--help") }
            .flatMap { line in line.firstIndex(of: "'").map { line[$0...] } }
            .flatMap { rest in rest.dropFirst().firstIndex(of: "'").map { rest[...$0] } }
        Output.error(message + " (see \(help ?? "'dkimctl --help'"))")
        return code.rawValue
    }
}
