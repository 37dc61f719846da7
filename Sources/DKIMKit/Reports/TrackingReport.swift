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

    public static func json(_ outcomes: [TrackingOutcome]) -> String {
        var writer = JSONWriter(pretty: true)
        writer.beginArray()
        for outcome in outcomes {
            let key = outcome.key
            writer.beginObject()
            writer.field("domain", key.domain.ascii)
            writer.field("selector", key.selector.name)
            writer.field("provider", key.provider.identifier)
            writer.field("usage", key.usage.name)
            writer.field("owner", key.owner.address)
            writer.field("cnameTarget", key.cnameTarget)
            writer.field("algorithm", key.algorithm.rawValue)
            writer.field("bits", key.bits)
            writer.field("fingerprint", key.fingerprint)
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
            writer.endObject()
        }
        writer.endArray()
        return writer.text + "\n"
    }
}
