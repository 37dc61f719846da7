/// What `dkimctl track` prints.
public enum TrackingReport {
    public static func text(_ outcomes: [TrackingOutcome]) -> String {
        var text = ""
        for outcome in outcomes {
            let key = outcome.key
            let via = key.cnameTarget.map { " via CNAME \($0)" } ?? ""
            switch outcome.change {
            case .tracked:
                text += "tracking \(key.recordName)\(via): \(key.provider)/\(key.usage), owner \(key.owner), \(key.algorithm.rawValue)-\(key.bits) \(key.fingerprint)\n"
            case .unchanged:
                text += "unchanged \(key.recordName)\(via): \(key.fingerprint)\n"
            case .changed(let previous, let previousTarget):
                let moved = previousTarget != key.cnameTarget ? " (CNAME \(previousTarget ?? "none") → \(key.cnameTarget ?? "none"))" : ""
                text += "changed \(key.recordName): \(previous) → \(key.fingerprint)\(moved): the provider rotated its key\n"
            case .unresolved(let reasons):
                text += "attention: \(key.recordName): \(reasons.joined(separator: "; ")) (registered key \(key.fingerprint) kept)\n"
            }
            for warning in outcome.warnings { text += "  warning: \(warning)\n" }
        }
        return text
    }

    /// One object per selector: `change` (`tracked`, `unchanged`, `changed`, `unresolved`), the
    /// previous fingerprint and CNAME target when changed, `problems`, `verdict`, `warnings`, and
    /// `key`, the key as `list --format json` shows it.
    public static func json(_ outcomes: [TrackingOutcome]) -> String {
        var writer = JSONWriter(pretty: true)
        writer.beginArray()
        for outcome in outcomes {
            writer.beginObject()
            switch outcome.change {
            case .tracked: writer.field("change", "tracked")
            case .unchanged: writer.field("change", "unchanged")
            case .changed(let previous, let previousTarget):
                writer.field("change", "changed")
                writer.field("previousFingerprint", previous)
                writer.field("previousCnameTarget", previousTarget)
            case .unresolved(let reasons):
                writer.field("change", "unresolved")
                writer.field("problems", reasons)
            }
            writer.field("verdict", outcome.check.verdict.rawValue)
            writer.field("warnings", outcome.warnings)
            writer.key("key")
            KeyReport.object(outcome.key, includeZone: false, into: &writer)
            writer.endObject()
        }
        writer.endArray()
        return writer.text + "\n"
    }
}
