import Foundation

/// What one `rotate` tick did for one slot, and what comes next.
public struct SlotReport: Sendable {
    public let domain: DomainName
    public let provider: Provider
    public let usage: Usage
    /// What this run did (or, dry, would do), in order.
    public var actions: [String] = []
    /// Conditions a person should look at.
    public var attention: [String] = []
    /// Steps that failed; retried on the next run.
    public var errors: [String] = []
    /// The next step and when it is due (nil: as soon as possible / on the next run).
    public var next: String = ""
    public var nextAt: Date?
    /// The slot's active key after the run.
    public var activeSelector: String?

    public init(domain: DomainName, provider: Provider, usage: Usage) {
        self.domain = domain
        self.provider = provider
        self.usage = usage
    }

    public var label: String { "\(domain) \(provider)/\(usage)" }
}

/// The outcome of a tick.
public struct RotationReport: Sendable {
    public var slots: [SlotReport] = []
    public var dryRun = false
    /// Set when a stop was requested (SIGTERM) and slots were left for the next tick.
    public var interrupted = false

    public init() {}

    public var hasErrors: Bool { slots.contains { !$0.errors.isEmpty } }
    public var needsAttention: Bool { slots.contains { !$0.attention.isEmpty } }

    /// One block per slot, for people.
    public func text(verbose: Bool = true) -> String {
        var out = ""
        for slot in slots where verbose || !slot.actions.isEmpty || !slot.errors.isEmpty || !slot.attention.isEmpty {
            out += "\(slot.label)" + (slot.activeSelector.map { " (active: \($0))" } ?? " (no active key)") + "\n"
            for action in slot.actions { out += "  \(dryRun ? "would: " : "done: ")\(action)\n" }
            for error in slot.errors { out += "  error: \(error)\n" }
            for item in slot.attention { out += "  attention: \(item)\n" }
            out += "  next: \(slot.next)" + (slot.nextAt.map { " at \(Timestamp.iso8601($0))" } ?? "") + "\n"
        }
        let changed = slots.filter { !$0.actions.isEmpty }.count
        out += "\(slots.count) slot(s), \(changed) \(dryRun ? "with planned steps" : "changed"), "
            + "\(slots.filter { !$0.errors.isEmpty }.count) with errors, \(slots.filter { !$0.attention.isEmpty }.count) needing attention"
            + (interrupted ? "; stopped early on request" : "") + "\n"
        return out
    }

    /// - Parameter exitStatus: what the command exits with, recorded beside the report (the
    ///   command layer decides it: the library knows no exit statuses).
    public func json(pretty: Bool = true, exitStatus: Int32? = nil) -> String {
        var writer = JSONWriter(pretty: pretty)
        writer.beginObject()
        writer.field("dry_run", dryRun)
        writer.field("interrupted", interrupted)
        if let exitStatus { writer.field("exit_status", Int(exitStatus)) }
        writer.key("slots")
        writer.beginArray()
        for slot in slots {
            writer.beginObject()
            writer.field("domain", slot.domain.ascii)
            writer.field("provider", slot.provider.identifier)
            writer.field("usage", slot.usage.name)
            writer.field("active_selector", slot.activeSelector)
            writer.field("actions", slot.actions)
            writer.field("errors", slot.errors)
            writer.field("attention", slot.attention)
            writer.field("next", slot.next)
            writer.field("next_at", slot.nextAt.map(Timestamp.iso8601))
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.text + "\n"
    }
}
