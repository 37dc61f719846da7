import Foundation
import Yams

/// Reads `dkimctl.yaml` (YAML through Yams, Codable) into a checked `Configuration`.
///
/// Every problem is reported with the file, line and column and the key's path
/// (`domains.example.org.slots[1].provider`); unknown keys and wrong types are
/// errors, never ignored.
public enum ConfigurationFile {
    public static let fileName = "dkimctl.yaml"

    /// Loads and checks the configuration at `path`.
    /// - Parameter checkEnvironment: also check what lies outside the file
    ///   (TSIG secret files and their modes, hook commands on `PATH`).
    public static func load(path: String, defaultOwner: Owner? = nil, checkEnvironment: Bool = true) throws -> LifecycleConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DKIMError(.notFound, "configuration file \(path) does not exist or cannot be read", remedy: .writeConfiguration(path: nil))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DKIMError(.invalidInput, "configuration file \(path) is not UTF-8 text")
        }
        return try parse(text, file: path, defaultOwner: defaultOwner, checkEnvironment: checkEnvironment)
    }

    /// The `registry:` URL of the file at `path`, read before anything else (the registry must be
    /// open before the rest of the configuration is read); nil when the file, or the key, is not there.
    public static func registryURL(inFileAt path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
            case .mapping(let mapping)? = try? Yams.compose(yaml: text, .basic)
        else { return nil }
        return mapping["registry"]?.scalar?.string
    }

    public static func parse(
        _ text: String, file: String = "<config>", defaultOwner: Owner? = nil, checkEnvironment: Bool = true
    ) throws -> LifecycleConfiguration {
        let node: Node
        do {
            // Plain strings only (no implicit tags): Yams resolves implicit tags with regular
            // expressions on every key comparison, which made 10,000 slots take 1.8 s to decode.
            // Numbers and booleans are still parsed by the typed decoding below.
            guard let composed = try Yams.compose(yaml: text, .basic) else { return LifecycleConfiguration() }
            node = composed
        } catch let error as YamlError {
            let problem = yamlProblem(error)
            throw DKIMError(.invalidInput, "\(file):\(problem.first?.isNumber == true ? "" : " ")\(problem)")
        }
        let document = ConfigurationDocument(root: node, file: file)
        try document.checkShape()
        let raw: RawFile
        do {
            raw = try YAMLDecoder().decode(RawFile.self, from: node)
        } catch let error as DecodingError {
            throw document.error(decoding: error)
        }
        return try ConfigurationBuilder(document: document, checkEnvironment: checkEnvironment, defaultOwner: defaultOwner).build(raw)
    }

    private static func yamlProblem(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return "\(mark.line):\(mark.column): YAML syntax error: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, _):
            return "YAML mapping repeats the key \(duplicates.map { "'\($0)'" }.joined(separator: ", "))"
        default:
            return "YAML error: \(error)"
        }
    }
}

// MARK: - The file as written

struct RawFile: Decodable {
    var defaults: SlotOptions?
    var dns: RawDNS?
    var templates: String?
    var providers: [String: RawProvider]?
    var domains: [String: RawDomain]?
    var reports: RawReports?
    var registrySlots: RawRegistrySlots?
    var keyStore: String?
    var keyEncryptionKey: RawKeyEncryptionKey?
    var registry: String?
    enum CodingKeys: String, CodingKey, CaseIterable {
        case defaults, dns, templates, providers, domains, reports, registrySlots, keyStore, keyEncryptionKey, registry
    }
}

/// `keyEncryptionKey:`: where the KEK of `keyStore: registry` comes from (exactly one).
struct RawKeyEncryptionKey: Decodable {
    var file: String?
    var credential: String?
    var command: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case file, credential, command }
}

/// `registrySlots:`: the publisher and deploy hook of domains whose slots only the registry defines.
struct RawRegistrySlots: Decodable {
    var publisher: RawPublisher?
    var deploy: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case publisher, deploy }
}

/// `reports:`: what is kept of DMARC aggregate reports.
struct RawReports: Decodable {
    var retention: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case retention }
}

/// A `custom:NAME` provider's profile, keyed by NAME under `providers:`.
struct RawProvider: Decodable {
    var name: String?
    var generates: String?
    var algorithms: [String]?
    var bits: [Int]?
    var maxSelectorLength: Int?
    var singleLabelSelector: Bool?
    var handoff: String?
    var managed: String?
    var selectors: [String]?
    var targetSuffixes: [String]?
    var mta: Bool?
    var notes: String?
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, generates, algorithms, bits, maxSelectorLength, singleLabelSelector, handoff, managed, selectors,
            targetSuffixes, mta, notes
    }
}

struct RawDomain: Decodable {
    var publisher: RawPublisher?
    var deploy: String?
    var slots: [SlotOptions]?
    enum CodingKeys: String, CodingKey, CaseIterable { case publisher, deploy, slots }
}

struct RawPublisher: Decodable {
    var type: String
    var path: String?
    var reload: String?
    var command: String?
    var server: String?
    var zone: String?
    var timeout: Double?
    var tsig: RawTSIG?
    enum CodingKeys: String, CodingKey, CaseIterable { case type, path, reload, command, server, zone, timeout, tsig }
    /// Which keys each publisher type takes besides `type`.
    static let keysByType: [String: Set<String>] = [
        "manual": [], "zonefile": ["path", "reload"], "command": ["command"], "rfc2136": ["server", "zone", "timeout", "tsig"],
    ]
}

struct RawTSIG: Decodable {
    var name: String
    var algorithm: String?
    var secretFile: String
    enum CodingKeys: String, CodingKey, CaseIterable { case name, algorithm, secretFile }
}

struct RawDNS: Decodable {
    var nameservers: [String]?
    var resolvers: [String]?
    var authoritativePort: Int?
    var timeout: Double?
    var retries: Int?
    enum CodingKeys: String, CodingKey, CaseIterable { case nameservers, resolvers, authoritativePort, timeout, retries }
}

// MARK: - Locating problems

/// One step of a path into the document: a mapping key or a sequence index.
enum ConfigurationPath: Equatable {
    case key(String)
    case index(Int)

    static func describe(_ path: [ConfigurationPath]) -> String {
        var text = ""
        for element in path {
            switch element {
            case .key(let key): text += text.isEmpty ? key : "." + key
            case .index(let index): text += "[\(index)]"
            }
        }
        return text.isEmpty ? "(top level)" : text
    }
}

/// The composed YAML tree, to check its shape and turn paths into line numbers.
struct ConfigurationDocument {
    let root: Node
    let file: String

    func node(at path: [ConfigurationPath]) -> Node? {
        var current = root
        for element in path {
            switch (element, current) {
            case (.key(let key), .mapping(let mapping)):
                guard let value = mapping.first(where: { $0.key.string == key })?.value else { return nil }
                current = value
            case (.index(let index), .sequence(let sequence)):
                guard index < sequence.count else { return nil }
                current = sequence[index]
            default:
                return nil
            }
        }
        return current
    }

    /// The key's own position for a mapping entry (where the user typed it), else the value's.
    func mark(at path: [ConfigurationPath]) -> Mark? {
        var path = path
        while !path.isEmpty {
            if case .key(let key) = path.last!, case .mapping(let mapping)? = node(at: path.dropLast()),
                let entry = mapping.first(where: { $0.key.string == key })
            {
                return entry.key.mark
            }
            if let mark = node(at: path)?.mark { return mark }
            path.removeLast()
        }
        return root.mark
    }

    func error(_ path: [ConfigurationPath], _ message: String, remedy: Remedy? = nil) -> DKIMError {
        let position = mark(at: path).map { "\($0.line):\($0.column): " } ?? ""
        return DKIMError(.invalidInput, "\(file):\(position)\(ConfigurationPath.describe(path)): \(message)", remedy: remedy)
    }

    func error(decoding error: DecodingError) -> DKIMError {
        func path(_ keys: [CodingKey]) -> [ConfigurationPath] {
            keys.map { key in key.intValue.map { .index($0) } ?? .key(key.stringValue) }
        }
        switch error {
        case .typeMismatch(let type, let context):
            return self.error(path(context.codingPath), "wrong type (expected \(Self.typeName(type)))")
        case .valueNotFound(let type, let context):
            return self.error(path(context.codingPath), "a value is required (expected \(Self.typeName(type)))")
        case .keyNotFound(let key, let context):
            return self.error(path(context.codingPath), "the key '\(key.stringValue)' is required")
        case .dataCorrupted(let context):
            return self.error(path(context.codingPath), context.debugDescription)
        @unknown default:
            return DKIMError(.invalidInput, "\(file): \(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "text"
        case is Int.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: String(describing: type).contains("Array") ? "a list" : "a mapping of keys"
        }
    }

    /// Unknown keys and misplaced lists or mappings, before decoding.
    func checkShape() throws {
        try expectMapping([], allowed: RawFile.CodingKeys.allCases.map(\.rawValue))
        let policyKeys = SlotOptions.CodingKeys.allCases.map(\.rawValue)
        try expectMapping([.key("defaults")], allowed: policyKeys.filter { !SlotOptions.slotOnlyKeys.contains($0) })
        try expectMapping([.key("dns")], allowed: RawDNS.CodingKeys.allCases.map(\.rawValue))
        try expectMapping([.key("reports")], allowed: RawReports.CodingKeys.allCases.map(\.rawValue))
        try expectMapping([.key("registrySlots")], allowed: RawRegistrySlots.CodingKeys.allCases.map(\.rawValue))
        try expectMapping([.key("keyEncryptionKey")], allowed: RawKeyEncryptionKey.CodingKeys.allCases.map(\.rawValue))
        try expectMapping([.key("registrySlots"), .key("publisher")], allowed: RawPublisher.CodingKeys.allCases.map(\.rawValue))
        try expectMapping([.key("registrySlots"), .key("publisher"), .key("tsig")], allowed: RawTSIG.CodingKeys.allCases.map(\.rawValue))
        try expectMapping([.key("providers")], allowed: nil)
        if case .mapping(let providers)? = node(at: [.key("providers")]) {
            for entry in providers {
                try expectMapping([.key("providers"), .key(entry.key.string ?? "")], allowed: RawProvider.CodingKeys.allCases.map(\.rawValue))
            }
        }
        guard case .mapping(let domains)? = node(at: [.key("domains")]) else {
            try expectMapping([.key("domains")], allowed: nil)
            return
        }
        for entry in domains {
            let name = entry.key.string ?? ""
            let domain: [ConfigurationPath] = [.key("domains"), .key(name)]
            try expectMapping(domain, allowed: RawDomain.CodingKeys.allCases.map(\.rawValue))
            try expectMapping(domain + [.key("publisher")], allowed: RawPublisher.CodingKeys.allCases.map(\.rawValue))
            try expectMapping(domain + [.key("publisher"), .key("tsig")], allowed: RawTSIG.CodingKeys.allCases.map(\.rawValue))
            let slots = domain + [.key("slots")]
            switch node(at: slots) {
            case nil: break
            case .sequence(let sequence)?:
                for index in sequence.indices {
                    try expectMapping(slots + [.index(index)], allowed: policyKeys)
                }
            default:
                throw error(slots, "expected a list of slots (- { provider: …, usage: … })")
            }
        }
    }

    /// Checks that the node at `path`, if present, is a mapping whose keys are all in `allowed` (nil: any key).
    private func expectMapping(_ path: [ConfigurationPath], allowed: [String]?) throws {
        guard let found = node(at: path) else { return }
        guard case .mapping(let mapping) = found else {
            if case .scalar(let scalar) = found, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" { return }
            throw error(path, "expected a mapping of keys")
        }
        guard let allowed else { return }
        for entry in mapping {
            guard let key = entry.key.string, allowed.contains(key) else {
                throw error(
                    path + [.key(entry.key.string ?? "?")],
                    "unknown key '\(entry.key.string ?? "?")' (allowed: \(allowed.joined(separator: ", ")))")
            }
        }
    }
}
