import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// The audit rules that read DMARC aggregate reports, over a real rotation (in memory).
@Suite struct ReportFindingsTests {
    let day: TimeInterval = 86400

    /// Stores one report of `example.org` from google.com whose period is the day from `begin`.
    func report(
        _ world: RotationCoreTests.World, id: String, begin: Date, _ rows: [(selector: String, from: String, result: String, messages: Int, aligned: Bool)]
    ) throws {
        var report = AggregateReport(
            reporter: "google.com", reportID: id, begin: begin, end: begin.addingTimeInterval(day - 1), policy: .init(domain: "example.org"))
        report.rows = rows.count
        report.messages = rows.map(\.messages).reduce(0, +)
        var sightings: [DKIMSighting: SightingCount] = [:]
        for row in rows {
            let sighting = DKIMSighting(
                day: Timestamp.day(begin), policyDomain: "example.org", headerFrom: row.from, dkimDomain: "example.org",
                selector: row.selector, result: row.result, aligned: row.aligned, reporter: "google.com")
            sightings[sighting, default: SightingCount()].messages += row.messages
            sightings[sighting, default: SightingCount()].sourceIPs.insert("192.0.2.1")
        }
        #expect(try world.registry.importReport(report, sightings: sightings, actor: Actor("test"), at: report.end))
    }

    func findings(_ world: RotationCoreTests.World, at now: Date) throws -> [String] {
        let auditor = ComplianceAuditor(
            registry: world.registry, configuration: world.engine.configuration, checker: nil, state: world.engine.state)
        return try auditor.run(domain: nil, since: nil, at: now).findings
            .filter { $0.rule.contains("signing") || ["selector-failing", "dkim-not-aligned"].contains($0.rule) }
            .map { "\($0.severity.rawValue) \($0.rule) \($0.selector): \($0.message)" }
    }

    @Test func whatReceiversSawBecomesFindings() throws {
        let world = try RotationCoreTests.World()
        let start = Timestamp.parse("2026-11-23T03:00:00Z")!
        _ = try world.engine.tick(at: start)
        _ = try world.engine.tick(at: start.addingTimeInterval(3600))
        let first = try #require(try world.keys().first)
        let lead = try #require(first.expiresAt).addingTimeInterval(-TimeInterval(world.policy.lead.seconds))
        _ = try world.engine.tick(at: lead)
        _ = try world.engine.tick(at: lead.addingTimeInterval(3600))
        let keys = try world.keys()
        let (old, active) = (keys[0], keys[1])
        let retiredAt = try #require(old.retiredAt)
        let (a, b) = (old.selector.name, active.selector.name)

        // Findings come sorted by severity, domain, selector and rule. Before any report: none.
        #expect(try findings(world, at: retiredAt.addingTimeInterval(day)).isEmpty)

        // The retired key still signs the day after its retirement.
        try report(world, id: "r1", begin: retiredAt.addingTimeInterval(day), [(a, "example.org", "pass", 5, true), (b, "example.org", "pass", 40, true)])
        let seen = retiredAt.addingTimeInterval(2 * day - 1)
        #expect(try findings(world, at: retiredAt.addingTimeInterval(2 * day)) == [
            "warning retired-key-still-signing \(a): retired \(Timestamp.day(retiredAt)), still seen signing until \(Timestamp.iso8601(seen)) in DMARC reports",
        ])

        // After the grace week it is revoked; a report after that still shows it, the active key
        // failing for a quarter of its mail, an unknown selector, and a From domain d= does not align with.
        _ = try world.engine.tick(at: retiredAt.addingTimeInterval(7 * day))
        #expect(try world.keys()[0].state == .revoked)
        let revokedAt = try #require(try world.keys()[0].revokedAt)
        try report(world, id: "r2", begin: retiredAt.addingTimeInterval(8 * day), [
            (a, "example.org", "fail", 1, true), (b, "example.org", "pass", 15, true), (b, "example.org", "fail", 5, true),
            ("rogue", "example.org", "pass", 3, true), (b, "other.example", "pass", 2, false),
        ])
        let now = retiredAt.addingTimeInterval(9 * day)
        let lastSeen = retiredAt.addingTimeInterval(9 * day - 1)
        let found = try findings(world, at: now)
        #expect(found == [
            "error unknown-selector-signing rogue: selector rogue of example.org passed DKIM for 3 message(s) (\(Timestamp.day(retiredAt.addingTimeInterval(8 * day))) to \(Timestamp.day(retiredAt.addingTimeInterval(8 * day))), 1 reporter(s)) but is not in the register: declare it or stop that sender",
            "error revoked-key-still-signing \(a): revoked \(Timestamp.day(revokedAt)), still seen signing until \(Timestamp.iso8601(lastSeen)) in DMARC reports",
            "error selector-failing \(b): 5 of 22 messages failed DKIM at receivers since \(Timestamp.day(now.addingTimeInterval(-7 * day)))",
            "warning dkim-not-aligned \(b): 2 message(s) passed DKIM with d=example.org but not aligned with their From domain under the published adkim",
        ], "\(found)")
    }
}
