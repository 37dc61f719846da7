import Foundation

/// The slots the registry defines, as `dkimctl slot list` prints them.
public enum SlotDefinitionReport {
    public static let tableColumns = ["DOMAIN", "PROVIDER", "USAGE", "OWNER", "OPTIONS", "CHANGED", "NOTE"]
    public static let csvHeader = "domain,provider,usage,owner,options,defined_at,changed_at,defined_in_file_too\r\n"

    /// `rotation=90d grace=7d`: the options set (the rest follow the configuration's defaults).
    static func optionsText(_ definition: SlotDefinition) -> String {
        definition.options.fields.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    public static func table(_ definitions: [SlotDefinition], definedInFileToo: Set<String>) -> String {
        let rows = definitions.map { definition -> [String] in
            [
                definition.domain.description, definition.provider.identifier, definition.usage.name, definition.owner.address,
                optionsText(definition).isEmpty ? "(defaults)" : optionsText(definition),
                definition.changedAt.map(Timestamp.iso8601) ?? "",
                definedInFileToo.contains(definition.label) ? "the configuration file's policy applies" : "",
            ].map(TextEscaping.controlCharactersEscaped)
        }
        return KeyReport.table(header: tableColumns, rows: rows)
    }

    public static func csvRow(_ definition: SlotDefinition, definedInFileToo: Bool) -> String {
        [
            definition.domain.ascii, definition.provider.identifier, definition.usage.name, definition.owner.address,
            optionsText(definition), definition.definedAt.map(Timestamp.iso8601) ?? "", definition.changedAt.map(Timestamp.iso8601) ?? "",
            definedInFileToo ? "yes" : "no",
        ].map(KeyReport.csvField).joined(separator: ",") + "\r\n"
    }

    /// One JSON object: the fields `slot import` reads back (domain, provider, usage, owner
    /// and each option set, as written), then when it was defined and changed.
    public static func json(_ definition: SlotDefinition, definedInFileToo: Bool) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("domain", definition.domain.ascii)
        for field in definition.writtenOptions.fields {
            switch field.key {
            case SlotOptions.CodingKeys.bits.rawValue, SlotOptions.CodingKeys.ttl.rawValue, SlotOptions.CodingKeys.stableTTL.rawValue:
                writer.field(field.key, Int(field.value) ?? 0)
            case SlotOptions.CodingKeys.reveal.rawValue:
                writer.field(field.key, field.value == "true")
            case SlotOptions.CodingKeys.fromDomains.rawValue:
                writer.field(field.key, definition.options.fromDomains ?? [])
            default:
                writer.field(field.key, field.value)
            }
        }
        writer.field("definedAt", definition.definedAt.map(Timestamp.iso8601))
        writer.field("changedAt", definition.changedAt.map(Timestamp.iso8601))
        writer.field("definedInFileToo", definedInFileToo)
        writer.endObject()
        return writer.text
    }

    /// `rotation 182d → 90d, grace (default) → 14d, owner a@x → b@x`.
    public static func changes(from before: SlotDefinition, to after: SlotDefinition) -> String {
        let old = Dictionary(uniqueKeysWithValues: before.writtenOptions.fields.map { ($0.key, $0.value) })
        let new = Dictionary(uniqueKeysWithValues: after.writtenOptions.fields.map { ($0.key, $0.value) })
        return SlotOptions.CodingKeys.allCases.map(\.rawValue).compactMap { key -> String? in
            guard old[key] != new[key] else { return nil }
            return "\(key) \(old[key] ?? "(default)") → \(new[key] ?? "(default)")"
        }.joined(separator: ", ")
    }
}
