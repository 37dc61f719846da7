import Foundation

/// `reports summary` as a table, CSV or JSON.
public enum DMARCReport {
    public static let columns = [
        "dkim_domain", "selector", "known", "first_seen", "last_seen", "messages", "pass_rate", "reporters", "aligned_share",
    ]

    static func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }

    static func fields(_ item: SelectorEvidence) -> [String] {
        [
            item.dkimDomain, item.selector, item.known ? "yes" : "no", item.firstSeen, item.lastSeen, String(item.messages),
            String(format: "%.4f", item.passRate), String(item.reporters), String(format: "%.4f", item.alignedShare),
        ]
    }

    public static func table(_ evidence: [SelectorEvidence]) -> String {
        KeyReport.table(
            header: ["D=", "SELECTOR", "REGISTRY", "FIRST SEEN", "LAST SEEN", "MESSAGES", "PASS", "REPORTERS", "ALIGNED"],
            rows: evidence.map { item in
                [
                    TextEscaping.controlCharactersEscaped(item.dkimDomain),
                    item.selector.isEmpty ? "(not named)" : TextEscaping.controlCharactersEscaped(item.selector),
                    item.known ? "known" : "UNKNOWN", item.firstSeen, item.lastSeen, String(item.messages), percent(item.passRate),
                    String(item.reporters), percent(item.alignedShare),
                ]
            })
    }

    public static func csv(_ evidence: [SelectorEvidence]) -> String {
        var text = columns.joined(separator: ",") + "\r\n"
        for item in evidence { text += fields(item).map(KeyReport.csvField).joined(separator: ",") + "\r\n" }
        return text
    }

    public static func json(_ evidence: [SelectorEvidence]) -> String {
        var writer = JSONWriter(pretty: true)
        writer.beginArray()
        for item in evidence {
            writer.beginObject()
            writer.field("dkimDomain", item.dkimDomain)
            writer.field("selector", item.selector)
            writer.field("known", item.known)
            writer.field("firstSeen", item.firstSeen)
            writer.field("lastSeen", item.lastSeen)
            writer.field("messages", item.messages)
            writer.field("passingMessages", item.passingMessages)
            writer.field("alignedMessages", item.alignedMessages)
            writer.field("passRate", fraction: item.passRate)
            writer.field("reporters", item.reporters)
            writer.field("alignedShare", fraction: item.alignedShare)
            writer.endObject()
        }
        writer.endArray()
        return writer.text + "\n"
    }

    // MARK: alignment

    public static func alignmentTable(_ verdicts: [AlignmentVerdict]) -> String {
        KeyReport.table(
            header: ["SLOT", "D=", "FROM", "DMARC RECORD", "POLICY", "ADKIM", "RELAXED", "STRICT", "ALIGNED", "WHY"],
            rows: verdicts.map { item in
                [
                    item.slot, item.dkimDomain, item.fromDomain, item.recordDomain.map { "_dmarc.\($0)" } ?? "none", item.policy ?? "-",
                    item.record?.adkim ?? "-", item.relaxed ? "yes" : "no", item.strict ? "yes" : "no", item.aligned ? "yes" : "NO", item.reason,
                ]
            })
    }

    public static func alignmentJSON(_ verdicts: [AlignmentVerdict]) -> String {
        var writer = JSONWriter(pretty: true)
        writer.beginArray()
        for item in verdicts {
            writer.beginObject()
            writer.field("slot", item.slot)
            writer.field("dkimDomain", item.dkimDomain)
            writer.field("fromDomain", item.fromDomain)
            writer.field("dmarcRecordAt", item.recordDomain.map { "_dmarc.\($0)" })
            writer.field("dmarcRecord", item.record?.text)
            writer.field("policy", item.policy)
            writer.field("adkim", item.record?.adkim)
            writer.field("rua", item.record?.rua ?? [])
            writer.field("relaxed", item.relaxed)
            writer.field("strict", item.strict)
            writer.field("aligned", item.aligned)
            writer.field("reason", item.reason)
            writer.endObject()
        }
        writer.endArray()
        return writer.text + "\n"
    }
}
