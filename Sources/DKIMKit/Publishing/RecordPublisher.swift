import Foundation

/// Brings key records to DNS: by hand (`manual`), a zone fragment (`zonefile`),
/// a user hook (`command`) or DNS UPDATE (`rfc2136`).
///
/// A publisher only reports what happened; the caller records each success in
/// the registry (`record.pushed`), so a failed change is retried on the next run.
public protocol RecordPublisher: Sendable {
    /// What the event log and messages call it, e.g. `rfc2136 192.0.2.53:53`.
    var name: String { get }

    /// Applies `changes` in order.
    /// - Parameter domainRecords: every record the domain must have once the
    ///   changes are applied (what a zone fragment holds).
    /// - Returns: for each change, the publisher's response, or why it failed.
    func apply(_ changes: [RecordChange], domain: DomainName, domainRecords: [PublishedRecord]) -> [Result<String, DKIMError>]
}

extension PublisherConfiguration {
    /// The publisher this configuration describes.
    public func makePublisher(state: StateDirectory) -> any RecordPublisher {
        switch self {
        case .manual: ManualPublisher(outbox: state.outboxPath)
        case .zonefile(let path, let reload): ZoneFilePublisher(path: path, reload: reload.map { ShellCommand($0) })
        case .command(let command): CommandPublisher(hook: ShellCommand(command))
        case .rfc2136(let settings): RFC2136Publisher(settings: settings)
        }
    }
}

extension RecordChange {
    /// The `DKIM_*` variables hooks receive.
    public var hookEnvironment: [String: String] {
        let strings = action == .delete ? [] : record.data.strings
        var writer = JSONWriter()
        writer.beginArray()
        for string in strings { writer.string(string) }
        writer.endArray()
        return [
            "DKIM_ACTION": action.rawValue, "DKIM_DOMAIN": domain.ascii, "DKIM_SELECTOR": selector.name,
            "DKIM_NAME": record.name.relative, "DKIM_TTL": String(record.ttl),
            "DKIM_VALUE": action == .delete ? "" : record.record.text, "DKIM_STRINGS_JSON": writer.text,
        ]
    }
}

/// Writes each change to `<outbox>/<domain>/<selector>.{zone,txt}` for a person
/// to publish; DNS proof alone then moves the key on.
public struct ManualPublisher: RecordPublisher {
    public let outbox: String
    public var name: String { "manual" }

    public init(outbox: String) { self.outbox = outbox }

    public func apply(_ changes: [RecordChange], domain: DomainName, domainRecords: [PublishedRecord]) -> [Result<String, DKIMError>] {
        changes.map { change in
            Result {
                let directory = "\(outbox)/\(domain.ascii)"
                try AtomicFile.makeDirectory(directory, mode: 0o700)
                let base = "\(directory)/\(change.selector.name)"
                let zone: String
                switch change.action {
                case .publish:
                    zone = change.record.zoneText(comment: "publish: \(change.record.name.absolute)")
                case .revoke:
                    zone = change.record.zoneText(comment: "revoke: replace the record at \(change.record.name.absolute) by this one (empty p=)")
                case .delete:
                    zone = "; delete: remove every TXT record at \(change.record.name.absolute)\n"
                }
                try AtomicFile.write(Data(zone.utf8), to: base + ".zone", mode: 0o644, replacing: true)
                let value = change.action == .delete ? "" : change.record.record.text + "\n"
                try AtomicFile.write(Data(value.utf8), to: base + ".txt", mode: 0o644, replacing: true)
                return "written to \(base).zone (\(change.action.rawValue) \(change.record.name.absolute) by hand)"
            }.mapError { $0 as? DKIMError ?? DKIMError(.io, "\($0)") }
        }
    }
}

/// Keeps a zone fragment for the domain (`$INCLUDE`-able, absolute names,
/// sorted, written atomically), then runs the reload command.
public struct ZoneFilePublisher: RecordPublisher {
    public let path: String
    public let reload: ShellCommand?
    public var name: String { "zonefile \(path)" }

    public init(path: String, reload: ShellCommand?) {
        self.path = path
        self.reload = reload
    }

    public func apply(_ changes: [RecordChange], domain: DomainName, domainRecords: [PublishedRecord]) -> [Result<String, DKIMError>] {
        let outcome: Result<String, DKIMError> = Result {
            try AtomicFile.write(Data(Self.fragment(for: domain, records: domainRecords).utf8), to: path, mode: 0o644, replacing: true)
            guard let reload else { return "wrote \(path)" }
            let ran = try reload.run(environment: ["DKIM_DOMAIN": domain.ascii, "DKIM_ZONE_FILE": path])
            guard ran.succeeded else {
                throw DKIMError(.io, "reload command '\(reload.command)' failed after writing \(path): \(ran.summary)")
            }
            return "wrote \(path); reload: \(ran.output.split(separator: "\n").last.map(String.init) ?? "done")"
        }.mapError { $0 as? DKIMError ?? DKIMError(.io, "\($0)") }
        return changes.map { _ in outcome }
    }

    /// The fragment's text: a header, then the records sorted by name.
    public static func fragment(for domain: DomainName, records: [PublishedRecord]) -> String {
        var text = "; DKIM key records for \(domain.ascii), managed by dkimctl: do not edit, changes are overwritten.\n"
        text += "; Include it in the zone with: $INCLUDE <this file>\n"
        for record in records.sorted(by: { $0.name.relative < $1.name.relative }) {
            text += record.zoneText()
        }
        return text
    }
}

/// Runs a user hook for every change, like certbot's manual hooks, with
/// `DKIM_ACTION`, `DKIM_DOMAIN`, `DKIM_SELECTOR`, `DKIM_NAME`, `DKIM_TTL`,
/// `DKIM_VALUE` and `DKIM_STRINGS_JSON`; a non-zero exit is a failure.
public struct CommandPublisher: RecordPublisher {
    public let hook: ShellCommand
    public var name: String { "command \(hook.command)" }

    public init(hook: ShellCommand) { self.hook = hook }

    public func apply(_ changes: [RecordChange], domain: DomainName, domainRecords: [PublishedRecord]) -> [Result<String, DKIMError>] {
        changes.map { change in
            Result {
                let ran = try hook.run(environment: change.hookEnvironment)
                guard ran.succeeded else {
                    throw DKIMError(.io, "publisher command '\(hook.command)' failed for \(change.action.rawValue) \(change.record.name): \(ran.summary)")
                }
                return ran.output.isEmpty ? "exit 0" : "exit 0: \(ran.output.split(separator: "\n").last!)"
            }.mapError { $0 as? DKIMError ?? DKIMError(.io, "\($0)") }
        }
    }
}

/// Replaces the TXT RRset at each name by DNS UPDATE signed with TSIG.
public struct RFC2136Publisher: RecordPublisher {
    public let settings: RFC2136Settings
    public var name: String { "rfc2136 \(settings.server)" }

    public init(settings: RFC2136Settings) { self.settings = settings }

    public func apply(_ changes: [RecordChange], domain: DomainName, domainRecords: [PublishedRecord]) -> [Result<String, DKIMError>] {
        let updater = LDNSUpdater(server: settings.server, key: settings.key, timeout: settings.timeout)
        var zones: [String: Result<String, DKIMError>] = [:]
        return changes.map { change in
            let name = change.record.name.absolute
            let zone: Result<String, DKIMError>
            if let configured = settings.zone {
                zone = .success(configured)
            } else {
                let parent = String(name.drop(while: { $0 != "." }).dropFirst())
                zone = zones[parent] ?? findZone(of: name)
                zones[parent] = zone
            }
            return zone.flatMap { zone in
                updater.replaceTXT(
                    zone: zone, name: name, ttl: change.record.ttl, strings: change.action == .delete ? nil : change.record.data.strings
                ).flatMap { rcode in
                    rcode == .noError
                        ? .success("NOERROR from \(settings.server) (zone \(zone))")
                        : .failure(DKIMError(.io, "\(settings.server) answered \(rcode) to the UPDATE of \(name) in zone \(zone)"))
                }
            }
        }
    }

    /// The zone holding `name`, asked of the primary server itself.
    private func findZone(of name: String) -> Result<String, DKIMError> {
        LDNSTransport(options: DNSQueryOptions(timeout: settings.timeout, retries: 1))
            .zone(of: name, askingAuthoritative: settings.server)
            .mapError { DKIMError(.io, "cannot find the zone of \(name) on \(settings.server): \($0.reason); set the publisher's zone") }
    }
}
