import Foundation

/// The values templates see. Each context is a dictionary of strings, numbers,
/// booleans and lists; the names are documented in `Templates/README.md`.
///
/// Values are given ready to paste into each target syntax (`…JSON` is a JSON
/// string literal with its quotes, `…HCL` the inside of a Terraform string,
/// `…Shell` a single-quoted shell word), so templates never escape anything.
public enum TemplateContexts {
    /// One key's DNS record: for `record/*` and `handoff/*` templates.
    /// - Parameter server: the RFC 2136 server configured for the domain, if any (`nsupdate`).
    public static func record(_ key: RegisteredKey, server: DNSServer? = nil) -> [String: Any] {
        let published = key.publishedRecord
        let value = published.record.text
        let data = published.data
        let quoted = data.quotedStrings
        let comment = KeyReport.zoneComment(key)
        var context: [String: Any] = [
            "domain": key.domain.ascii,
            "selector": key.selector.name,
            "name": published.name.relative,
            "fqdn": published.name.absolute,
            "label": key.selector.name + "._domainkey",
            "ttl": key.ttl,
            "value": value,
            "strings": zip(data.strings, quoted).enumerated().map { index, pair in
                ["text": pair.0, "quoted": pair.1, "last": index == quoted.count - 1] as [String: Any]
            },
            "zoneStrings": quoted.joined(separator: " "),
            "comment": comment,
            "provider": key.provider.identifier,
            "usage": key.usage.name,
            "owner": key.owner.address,
            "algorithm": key.algorithm.rawValue,
            "bits": key.bits,
            "fingerprint": key.fingerprint,
            "state": key.state.rawValue,
            "resource": terraformIdentifier(published.name.relative),
            "fqdnJSON": json(published.name.absolute),
            "nameJSON": json(published.name.relative),
            "valueJSON": json(value),
            "commentJSON": json(comment),
            "route53CommentJSON": json("dkimctl: " + comment),
            "route53ValueJSON": json(quoted.joined(separator: " ")),
            "valueHCL": hcl(value),
            "commentHCL": hcl(comment),
            "route53HCL": data.strings.map(hcl).joined(separator: "\\\"\\\""),
        ]
        if let path = key.privateKeyPath {
            context["privateKeyPath"] = path
            context["privateKeyPathShell"] = shellWord(path)
        }
        if let server {
            context["server"] = ["address": server.address, "port": Int(server.port)] as [String: Any]
        }
        return context
    }

    /// The signing configuration of an MTA: for `mta/*` templates.
    ///
    /// `keys` lists every key; `signers` says which addresses each key signs (a key of
    /// usage `default`, or a domain's only key, signs `*@domain`; others `<usage>@domain`,
    /// listed first; a domain without a `default` key has its first usage sign the rest);
    /// `domains` holds the one key per domain that signs `*@domain`, for domain-keyed maps.
    public static func mta(keys: [RegisteredKey], directory: String, at time: Date) -> [String: Any] {
        let sorted = keys.sorted { ($0.domain.ascii, $0.usage.name, $0.selector.name) < ($1.domain.ascii, $1.usage.name, $1.selector.name) }
        let byDomain = Dictionary(grouping: sorted, by: \.domain.ascii)
        var specific: [[String: Any]] = []
        var wildcard: [[String: Any]] = []
        var domains: [[String: Any]] = []
        for domain in byDomain.keys.sorted() {
            let domainKeys = byDomain[domain]!
            let primary = domainKeys.first { $0.usage == .default } ?? domainKeys[0]
            for key in domainKeys where key != primary {
                specific.append(["pattern": "\(key.usage.name)@\(domain)", "name": key.publishedRecord.name.relative])
            }
            wildcard.append(["pattern": "*@\(domain)", "name": primary.publishedRecord.name.relative])
            domains.append(mtaKey(primary))
        }
        return [
            "version": DKIMKitVersion.current,
            "generatedAt": Timestamp.iso8601(time),
            "directory": directory,
            "keys": sorted.map(mtaKey),
            "signers": specific + wildcard,
            "domains": domains,
        ]
    }

    private static func mtaKey(_ key: RegisteredKey) -> [String: Any] {
        [
            "domain": key.domain.ascii, "selector": key.selector.name, "name": key.publishedRecord.name.relative,
            "usage": key.usage.name, "provider": key.provider.identifier, "privateKeyPath": key.privateKeyPath ?? "",
        ]
    }

    /// Where the scheduler units find things: for `units/*` templates. Every path comes
    /// raw and quoted for each target: `…Systemd` (one systemd word: `%`, `$`, `\`, `"`
    /// escaped) and `…Cron` (one shell word with cron's `%` escaped).
    /// - Throws: `DKIMError.invalidInput` for a user name that is not one, an interval that
    ///   is not a duration, or a path holding a control character (a newline would start a new line of the unit).
    public static func units(binary: String, stateDirectory: String, configuration: String?, user: String, interval: String) throws -> [String: Any] {
        guard user.range(of: #"^[a-z_][a-z0-9_-]{0,31}$"#, options: .regularExpression) != nil else {
            throw DKIMError.invalid("user '\(TextEscaping.controlCharactersEscaped(user))' is not a user name (allowed: a lowercase letter or _, then up to 31 of a-z 0-9 _ -)")
        }
        let span: TimeSpan
        do { span = try TimeSpan(parsing: interval) } catch {
            throw DKIMError.invalid("interval '\(TextEscaping.controlCharactersEscaped(interval))' is not a duration (e.g. 15m, 1h)")
        }
        for (what, path) in [("binary", binary), ("state directory", stateDirectory), ("configuration", configuration ?? "")]
        where path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw DKIMError.invalid("the \(what) path '\(TextEscaping.controlCharactersEscaped(path))' holds a control character; units cannot name it")
        }
        var context: [String: Any] = [
            "binary": binary, "stateDirectory": stateDirectory, "user": user, "interval": span.description,
            "version": DKIMKitVersion.current,
            "binarySystemd": systemdWord(binary), "stateDirectorySystemd": systemdWord(stateDirectory),
            "binaryCron": cronWord(binary), "stateDirectoryCron": cronWord(stateDirectory),
            "lastRotateCron": cronWord(stateDirectory + "/last-rotate.json"), "lastTrackCron": cronWord(stateDirectory + "/last-track.txt"),
        ]
        if let configuration {
            context["config"] = configuration
            context["configSystemd"] = systemdWord(configuration)
            context["configCron"] = cronWord(configuration)
        }
        return context
    }

    /// One argument of a systemd `ExecStart=` line: double-quoted, with `\` and `"` escaped,
    /// `%` doubled (specifiers) and `$` doubled (environment expansion), see systemd.service(5).
    static func systemdWord(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "%", with: "%%").replacingOccurrences(of: "$", with: "$$") + "\""
    }

    /// One shell word on a crontab line: single-quoted, with `%` escaped (cron turns a bare `%` into a newline), see crontab(5).
    static func cronWord(_ text: String) -> String {
        shellWord(text).replacingOccurrences(of: "%", with: "\\%")
    }

    // MARK: Escaping for each target syntax

    /// A JSON string literal, quotes included.
    static func json(_ text: String) -> String {
        var writer = JSONWriter()
        writer.string(text)
        return writer.text
    }

    /// The inside of a Terraform (HCL) quoted string: `\` and `"` escaped, `${` and `%{` not interpolated.
    static func hcl(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "${", with: "$${").replacingOccurrences(of: "%{", with: "%%{")
    }

    /// One single-quoted shell word.
    static func shellWord(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A Terraform resource name: letters, digits and underscores, not starting with a digit.
    static func terraformIdentifier(_ text: String) -> String {
        let mapped = String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        return mapped.first?.isNumber == true ? "_" + mapped : mapped
    }
}
