/// `dkimctl providers` as a table and as JSON.
public enum ProviderReport {
    public static func table(_ catalog: ProviderCatalog) -> String {
        var text = ""
        for profile in catalog.profiles {
            text += "\(profile.provider) (\(profile.displayName))\n"
            text += "  keys:    \(profile.keyGeneration.map(\.rawValue).joined(separator: " or "))\n"
            text += "  accepts: \(profile.acceptedKeys)\n"
            if let local = profile.localKeys {
                var rules: [String] = []
                if let maximum = local.maximumSelectorLength { rules.append("1–\(maximum) characters") }
                if local.singleLabelSelector { rules.append("letters, digits and hyphens, no dots") }
                if !rules.isEmpty { text += "  selector: \(rules.joined(separator: ", "))\n" }
                text += "  handoff: \(local.handoff ?? "none (publish the record; the MTA or provider reads the key file)")\n"
            }
            for managed in profile.managed {
                let selectors = managed.selectors.isEmpty ? "" : " [\(managed.selectors.joined(separator: ", "))]"
                text += "  managed: \(managed.style.rawValue)\(selectors): \(managed.convention)\n"
            }
            text += "  notes:   \(profile.notes)\n"
        }
        return text
    }

    public static func json(_ catalog: ProviderCatalog) -> String {
        var writer = JSONWriter(pretty: true)
        writer.beginArray()
        for profile in catalog.profiles {
            writer.beginObject()
            writer.field("provider", profile.provider.identifier)
            writer.field("name", profile.displayName)
            writer.field("keyGeneration", profile.keyGeneration.map(\.rawValue))
            writer.key("localKeys")
            if let local = profile.localKeys {
                writer.beginObject()
                writer.field("algorithms", local.algorithms.map(\.rawValue))
                writer.key("rsaBits")
                writer.beginArray()
                for bits in local.rsaBits { writer.number(bits) }
                writer.endArray()
                writer.field("maximumSelectorLength", local.maximumSelectorLength)
                writer.field("singleLabelSelector", local.singleLabelSelector)
                writer.field("handoff", local.handoff)
                writer.endObject()
            } else {
                writer.null()
            }
            writer.key("managed")
            writer.beginArray()
            for managed in profile.managed {
                writer.beginObject()
                writer.field("style", managed.style.rawValue)
                writer.field("selectors", managed.selectors)
                writer.field("targetSuffixes", managed.targetSuffixes)
                writer.field("convention", managed.convention)
                writer.endObject()
            }
            writer.endArray()
            writer.field("signsOnOwnMTA", profile.signsOnOwnMTA)
            writer.field("notes", profile.notes)
            writer.endObject()
        }
        writer.endArray()
        return writer.text + "\n"
    }
}
