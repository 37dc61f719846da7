import Foundation

/// DMARC aggregate reports: each stored once, with its sightings summed per day.
extension SQLRegistry {
    /// Stores a report and adds its sightings, in one transaction with its event.
    /// - Returns: false when the report (reporter, report id) was imported before: nothing is written.
    public func importReport(
        _ report: AggregateReport, sightings: [DKIMSighting: SightingCount], actor: Actor, at time: Date
    ) throws -> Bool {
        let time = Timestamp.truncatedToMilliseconds(time)
        return try write { db in
            let known = try db.int64(sql: "SELECT id FROM dmarc_report WHERE reporter = ? AND report_id = ?", arguments: [report.reporter, report.reportID])
            if known != nil { return false }
            let end = Timestamp.databaseForm(report.end)
            let policy = report.policy
            try db.execute(
                sql: """
                    INSERT INTO dmarc_report (reporter, report_id, begin_at, end_at, policy_domain, adkim, aspf, p, sp, np, testing,
                                              pct, rows, messages, imported_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    report.reporter, report.reportID, Timestamp.databaseForm(report.begin), end, policy.domain, policy.adkim,
                    policy.aspf, policy.p, policy.sp, policy.np, policy.testing, policy.pct, report.rows, report.messages,
                    Timestamp.databaseForm(time),
                ])
            for (sighting, count) in sightings {
                try db.execute(
                    sql: """
                        INSERT INTO dmarc_aggregate (day, policy_domain, header_from, dkim_domain, selector, result, aligned, reporter,
                                                     messages, source_ips, last_report_end)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (day, policy_domain, header_from, dkim_domain, selector, result, aligned, reporter)
                        DO UPDATE SET messages = dmarc_aggregate.messages + excluded.messages,
                            source_ips = dmarc_aggregate.source_ips + excluded.source_ips,
                            last_report_end = CASE WHEN excluded.last_report_end > dmarc_aggregate.last_report_end
                                THEN excluded.last_report_end ELSE dmarc_aggregate.last_report_end END
                        """,
                    arguments: [
                        sighting.day, sighting.policyDomain, sighting.headerFrom, sighting.dkimDomain, sighting.selector, sighting.result,
                        sighting.aligned ? 1 : 0, sighting.reporter, count.messages, count.sourceIPs.count, end,
                    ])
            }
            try Self.append(
                EventDraft(
                    action: "dmarc.report-imported", domain: policy.domain,
                    details: [
                        "reporter": report.reporter, "report_id": report.reportID, "begin": Timestamp.iso8601(report.begin),
                        "end": Timestamp.iso8601(report.end), "rows": String(report.rows), "messages": String(report.messages),
                    ]),
                db: db, actor: actor, time: time)
            return true
        }
    }

    /// Per (`d=`, selector): days first and last seen, messages, passes, aligned messages and
    /// reporters; selectors the registry does not know first.
    /// - Parameters:
    ///   - domain: only sightings whose policy domain or `d=` is this domain.
    ///   - since: only days from this one (`YYYY-MM-DD`).
    public func selectorEvidence(domain: String?, since: String?) throws -> [SelectorEvidence] {
        try read { db in
            let rows = try db.rows(sql: """
                    SELECT a.dkim_domain, a.selector, MIN(a.day), MAX(a.day), CAST(SUM(a.messages) AS BIGINT),
                           CAST(SUM(CASE WHEN a.result = 'pass' THEN a.messages ELSE 0 END) AS BIGINT),
                           CAST(SUM(CASE WHEN a.aligned = 1 THEN a.messages ELSE 0 END) AS BIGINT),
                           COUNT(DISTINCT a.reporter),
                           EXISTS (SELECT 1 FROM key k WHERE k.domain = a.dkim_domain AND k.selector = a.selector AND a.selector != ''),
                           CAST(SUM(CASE WHEN a.result = 'pass' AND a.aligned = 0 THEN a.messages ELSE 0 END) AS BIGINT)
                    FROM dmarc_aggregate a
                    WHERE a.dkim_domain != '' AND (CAST(?1 AS TEXT) IS NULL OR a.policy_domain = ?1 OR a.dkim_domain = ?1)
                        AND (CAST(?2 AS TEXT) IS NULL OR a.day >= ?2)
                    GROUP BY a.dkim_domain, a.selector
                    ORDER BY 9, a.dkim_domain, a.selector
                    """,
                arguments: [domain, since])
            return try rows.map { row in
                let decoder = RowDecoder(row, table: "dmarc_aggregate")
                return SelectorEvidence(
                    dkimDomain: try decoder.string(0), selector: try decoder.string(1), known: try decoder.int(8) != 0,
                    firstSeen: try decoder.string(2), lastSeen: try decoder.string(3), messages: try decoder.int(4),
                    passingMessages: try decoder.int(5), alignedMessages: try decoder.int(6), passingUnalignedMessages: try decoder.int(9),
                    reporters: try decoder.int(7))
            }
        }
    }

    public func lastSighting(domain: DomainName, selector: Selector) throws -> Date? {
        try read { db in
            let row = try db.row(sql: "SELECT max(last_report_end) FROM dmarc_aggregate WHERE dkim_domain = ? AND selector = ?",
                arguments: [domain.ascii, selector.name])
            return try row.flatMap { try RowDecoder($0, table: "dmarc_aggregate").optionalDate(0) }
        }
    }

    public func pruneReports(before day: String, actor: Actor, at time: Date) throws -> (sums: Int, reports: Int) {
        try write { db in
            try db.execute(sql: "DELETE FROM dmarc_aggregate WHERE day < ?", arguments: [day])
            let sums = db.changesCount
            try db.execute(sql: "DELETE FROM dmarc_report WHERE substr(begin_at, 1, 10) < ?", arguments: [day])
            let reports = db.changesCount
            if sums + reports > 0 {
                try Self.append(
                    EventDraft(
                        action: "dmarc.reports-pruned",
                        details: ["before": day, "sums": String(sums), "reports": String(reports)]),
                    db: db, actor: actor, time: Timestamp.truncatedToMilliseconds(time))
            }
            return (sums, reports)
        }
    }

    public func hasReport(reporter: String, reportID: String) throws -> Bool {
        try read { db in
            try db.int64(sql: "SELECT count(*) FROM dmarc_report WHERE reporter = ? AND report_id = ?", arguments: [reporter, reportID]) ?? 0 > 0
        }
    }

    public func lastSightings() throws -> [String: Date] {
        try read { db in
            var found: [String: Date] = [:]
            var rows = try db.cursor(sql: "SELECT dkim_domain, selector, max(last_report_end) FROM dmarc_aggregate WHERE selector != '' GROUP BY dkim_domain, selector")
            while let row = try rows.next() {
                let decoder = RowDecoder(row, table: "dmarc_aggregate")
                found["\(try decoder.string(0))|\(try decoder.string(1))"] = try decoder.optionalDate(2)
            }
            return found
        }
    }

    public func newestReportEnd() throws -> Date? {
        try read { db in
            let row = try db.row(sql: "SELECT max(end_at) FROM dmarc_report")
            return try row.flatMap { try RowDecoder($0, table: "dmarc_report").optionalDate(0) }
        }
    }

}
