import Foundation

/// Reads an aggregate report's XML as a stream of events: the metadata and policy into
/// an `AggregateReport`, and each row handed to `row` with the report read so far (its
/// metadata and policy come first in both schemas) as soon as its `</record>` is read:
/// no tree, no list of rows. `skip` is asked once the metadata is read, before the first
/// row: true (a report imported before) ends the reading with nil. Both schemas, with or without namespaces; unknown elements
/// are ignored; results are lower-cased and anything outside RFC 8601's set is `unknown`.
enum AggregateReportParser {
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
        // The path below <feedback> as one string (`record/row/count`), kept as elements open and close.
        var joined = ""
        var lengths: [Int] = []
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
                lengths.append(joined.utf8.count)
                if path.count > 1 { joined += (path.count > 2 ? "/" : "") + name }
                text = ""
                if path.count == 2, joined == "record" {
                    // The metadata is read: a report imported before need not be read further.
                    if report.rows == 0, !report.reporter.isEmpty, !report.reportID.isEmpty, skip(report) { return nil }
                    current = AggregateRow()
                }
                if joined == "record/auth_results/dkim" { signature = AggregateRow.DKIMResult() }
            case .text(let value):
                text += value
            case .end:
                let value = Self.trimmed(text)
                text = ""
                switch joined {
                case "report_metadata/org_name": report.reporter = value
                case "report_metadata/report_id": report.reportID = value
                case "report_metadata/date_range/begin":
                    guard let seconds = TimeInterval(value) else { throw .notAReport("date_range/begin '\(value)' is not a Unix time") }
                    report.begin = Date(timeIntervalSince1970: seconds)
                    sawBegin = true
                case "report_metadata/date_range/end":
                    guard let seconds = TimeInterval(value) else { throw .notAReport("date_range/end '\(value)' is not a Unix time") }
                    report.end = Date(timeIntervalSince1970: seconds)
                    sawEnd = true
                case "policy_published/domain": report.policy.domain = value.lowercased()
                case "policy_published/adkim": report.policy.adkim = value.lowercased()
                case "policy_published/aspf": report.policy.aspf = value.lowercased()
                case "policy_published/p": report.policy.p = value.lowercased()
                case "policy_published/sp": report.policy.sp = value.lowercased()
                case "policy_published/np": report.policy.np = value.lowercased()
                case "policy_published/testing": report.policy.testing = value.lowercased()
                case "policy_published/pct": report.policy.pct = Int(value)
                case "record/row/source_ip": current.sourceIP = value
                case "record/row/count":
                    guard let count = Int(value), count >= 0 else { throw .notAReport("row count '\(value)' is not a number") }
                    current.count = count
                case "record/row/policy_evaluated/dkim": current.evaluatedDKIM = value.lowercased()
                case "record/identifiers/header_from": current.headerFrom = value.lowercased()
                case "record/auth_results/dkim/domain": signature.domain = value.lowercased()
                case "record/auth_results/dkim/selector": signature.selector = value.lowercased()
                case "record/auth_results/dkim/result":
                    let result = value.lowercased()
                    signature.result = results.contains(result) ? result : "unknown"
                case "record/auth_results/dkim":
                    if signature.result.isEmpty { signature.result = "unknown" }
                    current.dkim.append(signature)
                case "record":
                    report.rows += 1
                    if report.rows > limits.rows { throw .tooLarge("more than \(limits.rows) rows") }
                    report.messages += current.count
                    row(report, current)
                default: break
                }
                path.removeLast()
                let length = lengths.removeLast()
                joined = String(joined.utf8.prefix(length))!
            }
        }
        guard !report.reporter.isEmpty else { throw .notAReport("no report_metadata/org_name: not a DMARC aggregate report") }
        guard !report.reportID.isEmpty else { throw .notAReport("no report_metadata/report_id") }
        guard sawBegin, sawEnd else { throw .notAReport("no report_metadata/date_range") }
        guard !report.policy.domain.isEmpty else { throw .notAReport("no policy_published/domain") }
        return report
    }
}
