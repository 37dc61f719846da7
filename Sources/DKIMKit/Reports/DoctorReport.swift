/// `dkimctl doctor` as text and JSON.
public enum DoctorReport {
    /// The steps of a fix, in order, as the front end words them.
    static func fix(_ check: DoctorCheck, _ wording: RemedyWording) -> String? {
        check.fix.isEmpty ? nil : check.fix.map(wording.step).joined(separator: "; ")
    }

    public static func text(_ checks: [DoctorCheck], wording: RemedyWording) -> String {
        var text = ""
        for check in checks {
            text += check.ok ? "ok       \(check.name): \(check.message)\n" : "PROBLEM  \(check.name): \(check.message)\n         fix: \(fix(check, wording) ?? "-")\n"
        }
        let problems = checks.filter { !$0.ok }.count
        return text + (problems == 0 ? "no problem found\n" : "\(problems) problem(s) found\n")
    }

    public static func json(_ checks: [DoctorCheck], wording: RemedyWording) -> String {
        var writer = JSONWriter(pretty: true)
        writer.beginObject()
        writer.field("problems", checks.filter { !$0.ok }.count)
        writer.key("checks")
        writer.beginArray()
        for check in checks {
            writer.beginObject()
            writer.field("name", check.name)
            writer.field("ok", check.ok)
            writer.field("message", check.message)
            writer.field("fix", fix(check, wording))
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.text + "\n"
    }
}
