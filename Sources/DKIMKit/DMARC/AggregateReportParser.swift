import Foundation

/// Reads an aggregate report's XML as a stream of events: the metadata and policy into
/// an `AggregateReport`, and each row handed to `row` with the report read so far (its
/// metadata and policy come first in both schemas) as soon as its `</record>` is read:
/// no tree, no list of rows. `skip` is asked once the metadata is read, before the first
/// row: true (a report imported before) ends the reading with nil. Both schemas, with or without namespaces; unknown elements
/// are ignored; results are lower-cased and anything outside RFC 8601's set is `unknown`.
enum AggregateReportParser {
    /// The fields an element fills, from its place below <feedback> (compared name by name:
    /// no path string is built per element).
    enum Field {
        case orgName, reportID, begin, end
        case policyDomain, adkim, aspf, p, sp, np, testing, pct
        case sourceIP, count, evaluatedDKIM, headerFrom, dkimDomain, dkimSelector, dkimResult, dkim, record

        init?(_ path: [String]) {
            let n = path.count
            guard n >= 2 else { return nil }
            let (name, parent) = (path[n - 1], path[n - 2])
            switch (n, parent, name) {
            case (2, _, "record"): self = .record
            case (3, "report_metadata", "org_name"): self = .orgName
            case (3, "report_metadata", "report_id"): self = .reportID
            case (4, "date_range", "begin") where path[1] == "report_metadata": self = .begin
            case (4, "date_range", "end") where path[1] == "report_metadata": self = .end
            case (3, "policy_published", "domain"): self = .policyDomain
            case (3, "policy_published", "adkim"): self = .adkim
            case (3, "policy_published", "aspf"): self = .aspf
            case (3, "policy_published", "p"): self = .p
            case (3, "policy_published", "sp"): self = .sp
            case (3, "policy_published", "np"): self = .np
            case (3, "policy_published", "testing"): self = .testing
            case (3, "policy_published", "pct"): self = .pct
            case (4, "row", "source_ip") where path[1] == "record": self = .sourceIP
            case (4, "row", "count") where path[1] == "record": self = .count
            case (5, "policy_evaluated", "dkim") where path[1] == "record" && path[2] == "row": self = .evaluatedDKIM
            case (4, "identifiers", "header_from") where path[1] == "record": self = .headerFrom
            case (4, "auth_results", "dkim") where path[1] == "record": self = .dkim
            case (5, "dkim", "domain") where path[1] == "record" && path[2] == "auth_results": self = .dkimDomain
            case (5, "dkim", "selector") where path[1] == "record" && path[2] == "auth_results": self = .dkimSelector
            case (5, "dkim", "result") where path[1] == "record" && path[2] == "auth_results": self = .dkimResult
            default: return nil
            }
        }
    }

    /// Without XML white space at either end (Foundation's trimming bridges through NSString: slow here).
    static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.firstIndex(where: { !XMLEventReader.isSpace($0) }) else { return "" }
        let last = utf8.lastIndex(where: { !XMLEventReader.isSpace($0) })!
        if first == utf8.startIndex, last == utf8.index(before: utf8.endIndex) { return text }
        return String(text.utf8[first...last])!
    }

    static let results: Set<String> = ["none", "pass", "fail", "policy", "neutral", "temperror", "permerror"]

    static func parse(
        _ xml: [UInt8], limits: DMARCReportLimits, skip: (AggregateReport) -> Bool = { _ in false },
        row: (AggregateReport, AggregateRow) -> Void
    ) throws(DMARCReportError) -> AggregateReport? {
        var reader = XMLEventReader(xml, limits: limits)
        var path: [String] = []
        var text = ""
        var report = AggregateReport(reporter: "", reportID: "", begin: .distantPast, end: .distantPast, policy: .init(domain: ""))
        var current = AggregateRow()
        var signature = AggregateRow.DKIMResult()
        var sawBegin = false
        var sawEnd = false
        while let event = try reader.next() {
            switch event {
            case .start(let name):
                if path.isEmpty, name != "feedback" { throw .notAReport("the root element is <\(name)>, not <feedback>") }
                path.append(name)
                text = ""
                if path.count == 2, name == "record" {
                    // The metadata is read: a report imported before need not be read further.
                    if report.rows == 0, !report.reporter.isEmpty, !report.reportID.isEmpty, skip(report) { return nil }
                    current = AggregateRow()
                }
                if path.count == 4, name == "dkim", path[2] == "auth_results", path[1] == "record" { signature = AggregateRow.DKIMResult() }
            case .text(let value):
                if text.isEmpty { text = value } else { text += value }
            case .end:
                let value = Self.trimmed(text)
                text = ""
                switch Field(path) {
                case .orgName: report.reporter = value
                case .reportID: report.reportID = value
                case .begin:
                    guard let seconds = TimeInterval(value) else { throw .notAReport("date_range/begin '\(value)' is not a Unix time") }
                    report.begin = Date(timeIntervalSince1970: seconds)
                    sawBegin = true
                case .end:
                    guard let seconds = TimeInterval(value) else { throw .notAReport("date_range/end '\(value)' is not a Unix time") }
                    report.end = Date(timeIntervalSince1970: seconds)
                    sawEnd = true
                case .policyDomain: report.policy.domain = value.lowercased()
                case .adkim: report.policy.adkim = value.lowercased()
                case .aspf: report.policy.aspf = value.lowercased()
                case .p: report.policy.p = value.lowercased()
                case .sp: report.policy.sp = value.lowercased()
                case .np: report.policy.np = value.lowercased()
                case .testing: report.policy.testing = value.lowercased()
                case .pct: report.policy.pct = Int(value)
                case .sourceIP: current.sourceIP = value
                case .count:
                    guard let count = Int(value), count >= 0 else { throw .notAReport("row count '\(value)' is not a number") }
                    current.count = count
                case .evaluatedDKIM: current.evaluatedDKIM = value.lowercased()
                case .headerFrom: current.headerFrom = value.lowercased()
                case .dkimDomain: signature.domain = value.lowercased()
                case .dkimSelector: signature.selector = value.lowercased()
                case .dkimResult:
                    let result = value.lowercased()
                    signature.result = results.contains(result) ? result : "unknown"
                case .dkim:
                    if signature.result.isEmpty { signature.result = "unknown" }
                    current.dkim.append(signature)
                case .record:
                    report.rows += 1
                    if report.rows > limits.rows { throw .tooLarge("more than \(limits.rows) rows") }
                    report.messages += current.count
                    row(report, current)
                case nil: break
                }
                path.removeLast()
            }
        }
        guard !report.reporter.isEmpty else { throw .notAReport("no report_metadata/org_name: not a DMARC aggregate report") }
        guard !report.reportID.isEmpty else { throw .notAReport("no report_metadata/report_id") }
        guard sawBegin, sawEnd else { throw .notAReport("no report_metadata/date_range") }
        guard !report.policy.domain.isEmpty else { throw .notAReport("no policy_published/domain") }
        return report
    }
}
