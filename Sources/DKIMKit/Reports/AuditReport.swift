import Foundation

/// `dkimctl audit` as a table, CSV, JSON or Markdown.
public enum AuditReport {
    /// The per-key columns of the CSV (one row per key, then one per unknown selector: state
    /// `live` when DNS serves it, `seen-signing` when only DMARC reports show it).
    public static let csvColumns = [
        "domain", "selector", "provider", "usage", "owner", "kind", "algorithm", "bits", "state", "created_at", "published_at",
        "activated_at", "expires_at", "retired_at", "revoked_at", "last_proof_at", "last_proof_servers", "last_proof_verdict",
        "private_key", "last_seen_signing", "findings",
    ]

    static func date(_ date: Date?) -> String { date.map(Timestamp.iso8601) ?? "" }

    /// `error:rotation-overdue; warning:ttl-not-raised`
    static func findingList(_ findings: [AuditFinding]) -> String {
        findings.map { "\($0.severity.rawValue):\($0.rule)" }.joined(separator: "; ")
    }

    static func row(_ audited: AuditedKey) -> [String] {
        let key = audited.key
        return [
            key.domain.ascii, key.selector.name, key.provider.identifier, key.usage.name, key.owner.address, key.kind.rawValue,
            audited.algorithm.rawValue, String(audited.bits), key.state.rawValue, date(key.createdAt), date(key.publishedAt),
            date(key.activatedAt), date(key.expiresAt), date(key.retiredAt), date(key.revokedAt), date(audited.lastCheck?.checkedAt),
            audited.lastCheck.map { String($0.servers) } ?? "", audited.lastCheck?.verdict.rawValue ?? "",
            audited.privateKey.text, date(audited.seenSigning), findingList(audited.findings),
        ]
    }

    static func row(_ unknown: UnknownSelector) -> [String] {
        // Served in DNS (`live`), or only seen signing in DMARC aggregate reports.
        let state = unknown.finding.rule == AuditRule.unknownSelectorSigning.rawValue ? "seen-signing" : "live"
        return [unknown.domain, unknown.selector, "", "", "", "unknown", "", "", state, "", "", "", "", "", "", "", "", "", "", "", findingList([unknown.finding])]
    }

    public static func csv(_ result: ComplianceAuditResult) -> String {
        var text = csvColumns.joined(separator: ",") + "\r\n"
        for audited in result.keys { text += row(audited).map(KeyReport.csvField).joined(separator: ",") + "\r\n" }
        for unknown in result.unknownSelectors { text += row(unknown).map(KeyReport.csvField).joined(separator: ",") + "\r\n" }
        return text
    }

    public static func json(_ result: ComplianceAuditResult, wording: RemedyWording) -> String {
        var writer = JSONWriter(pretty: true)
        writer.beginObject()
        writer.field("generatedAt", Timestamp.iso8601(result.generatedAt))
        writer.field("since", result.since.map(Timestamp.iso8601))
        writer.field("dnsChecked", result.dnsChecked)
        writer.key("summary")
        writer.beginObject()
        writer.field("keys", result.keys.count)
        for severity in FindingSeverity.allCases { writer.field(severity.rawValue, result.count(severity)) }
        writer.endObject()
        writer.key("keys")
        writer.beginArray()
        for audited in result.keys {
            writer.beginObject()
            for (column, value) in zip(csvColumns.dropLast(), row(audited).dropLast()) {
                switch column {
                case "bits": writer.field(column, audited.bits)
                case "last_proof_servers": writer.field(column, audited.lastCheck?.servers)
                default: writer.field(camel(column), value.isEmpty ? nil : value)
                }
            }
            writer.key("findings")
            writer.beginArray()
            for finding in audited.findings { write(finding, wording, &writer) }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        writer.key("unknownSelectors")
        writer.beginArray()
        for unknown in result.unknownSelectors {
            writer.beginObject()
            writer.field("domain", unknown.domain)
            writer.field("selector", unknown.selector)
            writer.field("value", unknown.value)
            writer.endObject()
        }
        writer.endArray()
        writer.key("findings")
        writer.beginArray()
        for finding in result.findings { write(finding, wording, &writer) }
        writer.endArray()
        writer.endObject()
        return writer.text + "\n"
    }

    private static func write(_ finding: AuditFinding, _ wording: RemedyWording, _ writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("severity", finding.severity.rawValue)
        writer.field("rule", finding.rule)
        writer.field("domain", finding.domain)
        writer.field("selector", finding.selector)
        writer.field("message", finding.message)
        writer.field("remedy", finding.remedy.map(wording.step))
        writer.field("source", AuditRule(rawValue: finding.rule)?.source)
        writer.endObject()
    }

    /// `last_proof_at` → `lastProofAt`; `bits` and other single words unchanged.
    static func camel(_ column: String) -> String {
        let parts = column.split(separator: "_")
        return String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static let tableColumns = ["DOMAIN", "SELECTOR", "PROVIDER", "USAGE", "OWNER", "KEY", "STATE", "ACTIVATED", "EXPIRES", "LAST PROOF", "PRIVATE KEY"]

    static func tableRow(_ audited: AuditedKey) -> [String] {
        let key = audited.key
        let proof = audited.lastCheck.map { "\($0.verdict.rawValue) \(Timestamp.day($0.checkedAt)) (\($0.servers))" } ?? "-"
        return [
            key.domain.ascii, key.selector.name, key.provider.identifier, key.usage.name, key.owner.address,
            "\(audited.algorithm.rawValue)-\(audited.bits)", key.kind == .external ? "\(key.state.rawValue) (tracked)" : key.state.rawValue,
            key.activatedAt.map(Timestamp.day) ?? "-", key.expiresAt.map(Timestamp.day) ?? "-", proof, audited.privateKey.text,
        ]
    }

    static func summary(_ result: ComplianceAuditResult) -> String {
        "\(result.keys.count) key(s), \(result.count(.error)) error(s), \(result.count(.warning)) warning(s)"
            + (result.dnsChecked ? "" : "; DNS not checked: the DNS rules were not applied")
    }

    public static func table(_ result: ComplianceAuditResult, wording: RemedyWording) -> String {
        var text = KeyReport.table(header: tableColumns, rows: result.keys.map(tableRow))
        text += "\nFindings:\n"
        if result.findings.isEmpty { text += "  none\n" }
        for finding in result.findings {
            text += "  \(finding.severity.rawValue) [\(finding.rule)] \(finding.selector)._domainkey.\(finding.domain): \(wording.message(finding.message, finding.remedy))\n"
        }
        return text + "\n" + summary(result) + "\n"
    }

    public static func markdown(_ result: ComplianceAuditResult, wording: RemedyWording) -> String {
        // Markdown renders inline HTML: values (owners, DNS answers) are escaped, never markup.
        func cell(_ text: String) -> String {
            TextEscaping.controlCharactersEscaped(text).replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "|", with: "\\|")
        }
        var text = "# DKIM compliance audit\n\nGenerated \(Timestamp.iso8601(result.generatedAt)) by dkimctl \(DKIMKitVersion.current)"
        if let since = result.since { text += ", keys live since \(Timestamp.iso8601(since))" }
        text += ". " + summary(result) + ".\n\n## Register\n\n"
        text += "| " + tableColumns.map { $0.capitalized }.joined(separator: " | ") + " |\n"
        text += "|" + String(repeating: "---|", count: tableColumns.count) + "\n"
        for audited in result.keys { text += "| " + tableRow(audited).map(cell).joined(separator: " | ") + " |\n" }
        text += "\n## Findings\n\n"
        if result.findings.isEmpty { text += "None.\n" }
        for finding in result.findings {
            text += "- **\(finding.severity.rawValue)** `\(finding.rule)` — `\(finding.selector)._domainkey.\(finding.domain)`: \(cell(wording.message(finding.message, finding.remedy)))"
            text += " _(\(AuditRule(rawValue: finding.rule)?.source ?? ""))_\n"
        }
        return text
    }
}
