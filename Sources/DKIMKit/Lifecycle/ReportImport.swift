import Foundation

/// Imports DMARC aggregate report files into the registry: each file read with limits,
/// parsed as a stream, its DKIM results summed into sightings and stored in one
/// transaction; a bad file is refused on its own and the others go on.
public struct ReportImport: Sendable {
    public let registry: any KeyRegistry
    public let suffixes: PublicSuffixList
    public let limits: DMARCReportLimits
    public let actor: Actor
    /// Reports whose period began before this day (`YYYY-MM-DD`) are past the retention: not imported.
    public let keepFrom: String?

    public init(
        registry: any KeyRegistry, suffixes: PublicSuffixList, limits: DMARCReportLimits = DMARCReportLimits(), actor: Actor,
        keepFrom: String? = nil
    ) {
        self.registry = registry
        self.suffixes = suffixes
        self.limits = limits
        self.actor = actor
        self.keepFrom = keepFrom
    }

    /// What became of one file.
    public enum Outcome: Sendable, Equatable {
        case imported(reporter: String, reportID: String, rows: Int, messages: Int)
        /// Imported before (same reporter and report id): nothing counted twice.
        case duplicate(reporter: String, reportID: String)
        /// Its period began before the retention keeps: not imported.
        case expired(reporter: String, reportID: String)
        case refused(DMARCReportError)
    }

    /// The regular files to import: each path given, and the regular files below each
    /// directory given (sorted; symbolic links, hidden files and a Maildir's `tmp/` skipped).
    public static func files(in paths: [String]) throws -> [String] {
        var found: [String] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else { throw DKIMError(.notFound, "\(path) does not exist or cannot be read") }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                guard info.st_mode & S_IFMT == S_IFREG else { throw DKIMError(.invalidInput, "\(path) is not a regular file or a directory") }
                found.append(path)
                continue
            }
            guard let walker = FileManager.default.enumerator(atPath: path) else { continue }
            var inside: [String] = []
            for case let relative as String in walker {
                let file = path + "/" + relative
                var entry = stat()
                let components = relative.split(separator: "/")
                guard lstat(file, &entry) == 0, entry.st_mode & S_IFMT == S_IFREG, !components.contains(where: { $0.hasPrefix(".") }) else { continue }
                // A Maildir's tmp/ holds messages still being delivered.
                if components.count >= 2, components[components.count - 2] == "tmp",
                    FileManager.default.fileExists(atPath: (file as NSString).deletingLastPathComponent + "/../cur")
                { continue }
                inside.append(file)
            }
            found += inside.sorted()
        }
        return found
    }

    /// What became of one report in a file: `part` names it inside mail (`message 3,
    /// google.com!example.org!….zip`), nil for a report file.
    public struct FileOutcome: Sendable, Equatable {
        public let part: String?
        public let outcome: Outcome
    }

    /// A report read from its bytes, nothing stored yet: known from its metadata alone
    /// (refused, past the retention, imported before), or read whole with its sums.
    enum ReadReport: Sendable {
        case settled(Outcome)
        case complete(AggregateReport, [DKIMSighting: SightingCount])
    }

    /// Imports files in the order given. Reading (inflating, parsing, summing) runs on up to
    /// `threads` threads ahead of the storing, which stays in file order on the calling
    /// thread, one transaction per report; `each` gets every file's outcomes in that order.
    public func importFiles(
        _ paths: [String], at time: Date, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        each: (String, [FileOutcome]) throws -> Void
    ) throws {
        var waiting: [Int: [(part: String?, read: ReadReport)]] = [:]
        var next = 0
        try BlockingWorkers.stream(paths, threads: max(1, threads), { [self] path in readFile(path) }) { index, read in
            waiting[index] = read
            while let ready = waiting.removeValue(forKey: next) {
                try each(paths[next], ready.map { FileOutcome(part: $0.part, outcome: try store($0.read, at: time)) })
                next += 1
            }
        }
    }

    /// Imports one file: a report (XML, gzip, ZIP), or mail holding reports as attachments
    /// (a message as `.eml` or in a Maildir, or an mbox of messages).
    public func importFile(_ path: String, at time: Date) throws -> [FileOutcome] {
        try readFile(path).map { FileOutcome(part: $0.part, outcome: try store($0.read, at: time)) }
    }

    /// Reads the reports of one file; `part` names each inside mail.
    func readFile(_ path: String) -> [(part: String?, read: ReadReport)] {
        func refused(_ error: DMARCReportError) -> [(part: String?, read: ReadReport)] { [(nil, .settled(.refused(error)))] }
        var info = stat()
        guard stat(path, &info) == 0 else { return refused(.unreadable("cannot be read")) }
        let ceiling = limits.inflatedBytes
        guard Int(info.st_size) <= ceiling else { return refused(.tooLarge("\(info.st_size) bytes (allowed: at most \(ceiling))")) }
        guard let data = FileManager.default.contents(atPath: path) else { return refused(.unreadable("cannot be read")) }
        guard MailMessage.isMail(data) else { return [(nil, read(data))] }
        var reports: [(part: String?, read: ReadReport)] = []
        let messages = MailMessage.messages(in: data)
        for (number, message) in messages.enumerated() {
            let label = messages.count > 1 ? "message \(number + 1)" : nil
            var found = false
            for leaf in MailMessage.leaves(of: message) where ReportPayload.mayHoldReport(leaf.bytes) {
                found = true
                let part = [label, leaf.name].compactMap { $0 }.joined(separator: ", ")
                reports.append((part.isEmpty ? "attachment" : part, read(leaf.bytes)))
            }
            if !found {
                reports.append((label, .settled(.refused(.notAReport("a message with no aggregate report in it")))))
            }
        }
        return reports
    }

    /// Imports one report's bytes (XML, gzip or ZIP).
    public func importData(_ data: Data, at time: Date) throws -> Outcome {
        try store(read(data), at: time)
    }

    /// Stores a report read whole, in one transaction (`duplicate` if it was stored meanwhile).
    func store(_ read: ReadReport, at time: Date) throws -> Outcome {
        switch read {
        case .settled(let outcome):
            return outcome
        case .complete(let report, let sightings):
            guard try registry.importReport(report, sightings: sightings, actor: actor, at: time) else {
                return .duplicate(reporter: report.reporter, reportID: report.reportID)
            }
            return .imported(reporter: report.reporter, reportID: report.reportID, rows: report.rows, messages: report.messages)
        }
    }

    /// Reads one report's bytes (XML, gzip or ZIP) and sums its rows; stores nothing.
    func read(_ data: Data) -> ReadReport {
        let xml: Data
        switch ReportPayload.xml(in: data, limits: limits) {
        case .success(let found): xml = found
        case .failure(let error): return .settled(.refused(error))
        }
        var sightings: [DKIMSighting: SightingCount] = [:]
        var alignment: [String: Bool] = [:]
        var lastDay: (begin: Date, day: String) = (.distantPast, "")
        var outOfOrder = false
        let bytes = [UInt8](xml)
        let parsed: AggregateReport?
        // Decided from the metadata, before any row is read: past the retention, or imported before.
        var decided: Outcome?
        let skip = { (report: AggregateReport) -> Bool in
            decided = settled(report)
            return decided != nil
        }
        do {
            parsed = try AggregateReportParser.parse(bytes, limits: limits, skip: skip) { report, row in
                outOfOrder = outOfOrder || report.reporter.isEmpty || report.policy.domain.isEmpty || report.begin == .distantPast
                add(row, of: report, to: &sightings, alignment: &alignment, lastDay: &lastDay)
            }
        } catch {
            return .settled(.refused(error))
        }
        guard let report = parsed else { return .settled(decided ?? .refused(.notAReport("the report could not be read"))) }
        // A report without rows was never asked about before its end.
        if let settled = settled(report) { return .settled(settled) }
        // Rows read before the metadata or the policy (out of schema order): sum them again.
        if outOfOrder {
            sightings = [:]
            _ = try? AggregateReportParser.parse(bytes, limits: limits) { _, row in add(row, of: report, to: &sightings, alignment: &alignment, lastDay: &lastDay) }
        }
        return .complete(report, sightings)
    }

    /// What becomes of a report known from its metadata alone: past the retention (`expired`),
    /// imported before (`duplicate`), or nil (it is to be read and stored).
    private func settled(_ report: AggregateReport) -> Outcome? {
        if let keepFrom, report.begin != .distantPast, Timestamp.day(report.begin) < keepFrom {
            return .expired(reporter: report.reporter, reportID: report.reportID)
        }
        if (try? registry.hasReport(reporter: report.reporter, reportID: report.reportID)) == true {
            return .duplicate(reporter: report.reporter, reportID: report.reportID)
        }
        return nil
    }

    /// Alignment, remembered per report: a report has few distinct (d=, From) pairs.
    private func aligned(_ d: String, _ from: String, _ strict: Bool, _ known: inout [String: Bool]) -> Bool {
        let key = "\(strict ? "s" : "r")|\(d)|\(from)"
        if let known = known[key] { return known }
        let value = suffixes.aligned(dkimDomain: d, fromDomain: from, strict: strict)
        known[key] = value
        return value
    }

    /// Adds one row to the sightings: each DKIM result of the row counts the row's messages
    /// (a row without a signature counts under an empty `d=`).
    func add(
        _ row: AggregateRow, of report: AggregateReport, to sums: inout [DKIMSighting: SightingCount], alignment: inout [String: Bool],
        lastDay: inout (begin: Date, day: String)
    ) {
        let day = report.begin == lastDay.begin ? lastDay.day : Timestamp.day(report.begin)
        lastDay = (report.begin, day)
        let strict = report.policy.adkim == "s"
        let headerFrom = row.headerFrom.isEmpty ? report.policy.domain : row.headerFrom
        let results = row.dkim.isEmpty ? [AggregateRow.DKIMResult(domain: "", selector: "", result: "none")] : row.dkim
        for result in results {
            let sighting = DKIMSighting(
                day: day, policyDomain: report.policy.domain, headerFrom: headerFrom, dkimDomain: result.domain,
                selector: result.selector, result: result.result,
                aligned: aligned(result.domain, headerFrom, strict, &alignment),
                reporter: report.reporter)
            sums[sighting, default: SightingCount()].add(messages: row.count, from: row.sourceIP)
        }
    }
}
