import ArgumentParser
import DKIMKit

extension DKIMCtl {
    struct Metrics: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "metrics",
            abstract: "Write Prometheus metrics for node_exporter's textfile collector.",
            discussion: """
                Metrics (all gauges): dkimctl_keys{state,kind}; dkimctl_rotation_due_days per active key \\
                (negative when overdue); dkimctl_dns_proof_ok (1, 0, -1 never checked) and \\
                dkimctl_dns_proof_timestamp_seconds per active key; \\
                dkimctl_last_successful_rotate_timestamp_seconds and \\
                dkimctl_seconds_since_last_successful_rotate (a complete, error-free 'rotate' tick over every \\
                domain); dkimctl_audit_findings{severity} ('dkimctl audit' without its DNS rules, unless \\
                --with-dns); from imported DMARC reports, per d= and selector since yesterday \\
                dkimctl_dmarc_selector_messages and dkimctl_dmarc_selector_pass_ratio, \\
                dkimctl_dmarc_unknown_selectors and dkimctl_dmarc_newest_report_age_seconds; \\
                who leads the schedulers: dkimctl_scheduler_leader{holder} (1, only while its lease runs), \\
                dkimctl_scheduler_leader_term, dkimctl_scheduler_leader_since_timestamp_seconds, \\
                dkimctl_scheduler_lease_expires_timestamp_seconds and \\
                dkimctl_scheduler_last_tick_timestamp_seconds (the fleet's last complete tick, from any host); \\
                dkimctl_metrics_generated_timestamp_seconds.

                With --output the file is written atomically (temporary file, rename), so the collector \\
                never reads half of it; name it *.prom in the collector's directory.

                Examples:
                  dkimctl metrics
                  dkimctl metrics --output /var/lib/prometheus/node-exporter/dkimctl.prom
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var configurationFile: ConfigurationOption
        @OptionGroup var dns: DNSOptions

        @OptionGroup var output: OutputFile

        @Flag(name: .customLong("with-dns"), help: "Count the audit findings that need DNS too (asks every authoritative server).")
        var withDNS = false

        func run(_ context: CommandContext) throws {
            let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
            let auditor = ComplianceAuditor(
                registry: context.registry, configuration: configuration, checker: withDNS ? try dns.checker(defaults: configuration.dns) : nil,
                state: context.state)
            let text = try MetricsReport(registry: context.registry, state: context.state, auditor: auditor).render(at: context.now)
            try output.write(text)
        }
    }
}
