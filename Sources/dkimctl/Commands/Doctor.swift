import ArgumentParser
import DKIMKit
import Foundation

extension DKIMCtl {
    /// Not a `DKIMCommand`: it must run, and report, where those refuse to (unsafe modes, a damaged registry).
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "doctor",
            abstract: "Check the local installation and say how to fix each problem.",
            discussion: """
                Looks at: the state directory, key directory, registry and key file modes; the registry \
                (PRAGMA integrity_check, the event chain); key files no registry row references and live \
                keys whose file is gone; the configuration (as 'config check' does, secret files and hook \
                commands included); and whether every authoritative server of each configured domain \
                answers (--no-dns skips it). Changes nothing.

                Exit status: 0 nothing wrong; 1 at least one problem (each printed with its fix).

                Examples:
                  dkimctl doctor
                  dkimctl doctor --format json --no-dns
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var configurationFile: ConfigurationOption
        @OptionGroup var dns: DNSOptions

        @Flag(name: .customLong("no-dns"), help: "Do not ask any DNS server.")
        var noDNS = false

        @Option(help: "Output: text or json.")
        var format: ReportFormat = .text

        func run() throws {
            let state = global.state
            let path = configurationFile.path ?? state.configurationPath
            // DNS settings from the configuration when it reads; its problems are the doctor's to report.
            let settings = (try? ConfigurationFile.load(path: path, checkEnvironment: false))?.dns ?? DNSSettings()
            let checks = DKIMKit.Doctor(
                state: state, configurationPath: path,
                configurationRequired: configurationFile.path != nil,
                checker: noDNS ? nil : try dns.checker(defaults: settings),
                registry: try global.postgresRegistry()
            ).run()
            Output.standard.write(format == .json ? DoctorReport.json(checks, wording: .commandLine) : DoctorReport.text(checks, wording: .commandLine))
            if checks.contains(where: { !$0.ok }) { throw ExitCode.failure }
        }
    }
}
