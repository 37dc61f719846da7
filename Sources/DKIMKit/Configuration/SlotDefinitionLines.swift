import Foundation

/// Slot definitions as JSON lines (`dkimctl slot import`; `slot list --format json` writes
/// them): one object per line, `domain` and `provider` required, `usage`, `owner` and the
/// configuration file's slot options optional, each with the type the file gives it.
public enum SlotDefinitionLines {
    /// The definitions and their line numbers, in file order; empty lines skipped.
    /// - Parameter owner: the owner of a line that names none (given the line's options).
    /// - Throws: `DKIMError.invalidInput` naming the file, the line and the field.
    public static func parse(
        _ data: Data, file: String, owner: (SlotOptions) throws -> Owner
    ) throws -> [(line: Int, definition: SlotDefinition)] {
        guard let text = String(data: data, encoding: .utf8) else { throw DKIMError(.invalidInput, "\(file) is not UTF-8 text") }
        var definitions: [(line: Int, definition: SlotDefinition)] = []
        let allowed = ["domain"] + SlotOptions.CodingKeys.allCases.map(\.rawValue)
        // Written back by `slot list --format json`; read and ignored.
        let informational: Set<String> = ["definedAt", "changedAt", "definedInFileToo"]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            func problem(_ message: String) -> DKIMError { DKIMError(.invalidInput, "\(file):\(number): \(message)") }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
                throw problem("not a JSON object")
            }
            for key in object.keys.sorted() where !allowed.contains(key) && !informational.contains(key) {
                throw problem("unknown key '\(key)' (allowed: \(allowed.joined(separator: ", ")))")
            }
            struct Domain: Decodable { var domain: String? }
            let options: SlotOptions
            let domainText: String?
            do {
                options = try JSONDecoder().decode(SlotOptions.self, from: Data(trimmed.utf8))
                domainText = try JSONDecoder().decode(Domain.self, from: Data(trimmed.utf8)).domain
            } catch let DecodingError.typeMismatch(type, context) {
                let key = context.codingPath.first?.stringValue ?? "?"
                let expected = type == Int.self ? "a whole number" : type == Bool.self ? "true or false" : type == String.self ? "text" : "a list of text"
                throw problem("\(key): expected \(expected)")
            } catch {
                throw problem("not a slot definition (\(error))")
            }
            guard let domainText else { throw problem("the key 'domain' is required") }
            guard let providerText = options.provider else { throw problem("the key 'provider' is required") }
            func named<T>(_ key: String, _ make: () throws -> T) throws -> T {
                do { return try make() } catch let error as DKIMError { throw problem("\(key): \(error.message)") }
            }
            let definition = SlotDefinition(
                domain: try named("domain") { try DomainName(domainText) },
                provider: try named("provider") { try Provider(providerText) },
                usage: try named("usage") { try options.usage.map(Usage.init) ?? .default },
                owner: try named("owner") { try owner(options) },
                options: options)
            definitions.append((number, definition))
        }
        return definitions
    }
}
