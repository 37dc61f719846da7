/// `dkimctl doctor` as text and JSON.
public enum DoctorReport {
    public static func text(_ checks: [DoctorCheck]) -> String {
        var text = ""
        for check in checks {
            text += check.ok ? "ok       \(check.name): \(check.message)\n" : "PROBLEM  \(check.name): \(check.message)\n         fix: \(check.fix ?? "-")\n"
        }
        let problems = checks.filter { !$0.ok }.count
        return text + (problems == 0 ? "no problem found\n" : "\(problems) problem(s) found\n")
    }

    public static func json(_ checks: [DoctorCheck]) -> String {
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
            writer.field("fix", check.fix)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.text + "\n"
    }
}
