import Foundation
import Mustache

/// The Mustache templates dkimctl renders for other programs: the defaults
/// embedded into the binary at build time from the package's `Templates/`,
/// overridden by name by the `*.mustache` files of a user directory.
///
/// Every template is rendered as plain text: nothing is HTML-escaped, whether
/// or not the template carries the `{{% CONTENT_TYPE: TEXT}}` pragma.
public struct TemplateLibrary: Sendable {
    /// One template and where it comes from.
    public struct Entry: Sendable, Equatable {
        /// The path under the template root without `.mustache`: `record/zone`, `mta/opendkim/KeyTable`.
        public let name: String
        /// The user file it was read from; nil for the embedded default.
        public let file: String?
        /// Whether a user file replaces an embedded default of the same name.
        public let overridesDefault: Bool
    }

    public static let fileExtension = "mustache"
    /// Prepended to every template so that nothing is HTML-escaped; a standalone line, so it renders as nothing.
    static let textPragma = "{{% CONTENT_TYPE: TEXT}}\n"

    public private(set) var entries: [Entry] = []
    /// Parsed on the first render: most commands never render, and parsing every
    /// embedded template on each start is a measurable share of a `new`.
    private let library: ParsedOnFirstUse

    /// The embedded defaults, then the user directory's templates (if any) by name.
    /// - Throws: `DKIMError.invalidInput` for a missing directory or a template that does
    ///   not parse, naming the file, line and column (user templates are parsed here, at once).
    public init(userDirectory: String? = nil) throws {
        var byName: [String: Entry] = [:]
        for (name, _) in EmbeddedTemplates.all {
            byName[name] = Entry(name: name, file: nil, overridesDefault: false)
        }
        var user: [String: (text: String, template: MustacheTemplate)] = [:]
        if let userDirectory {
            for (name, file) in try Self.userFiles(in: userDirectory) {
                guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                    throw DKIMError(.invalidInput, "template \(file) cannot be read as UTF-8 text")
                }
                user[name] = (text, try Self.parse(text, file: file))
                byName[name] = Entry(name: name, file: file, overridesDefault: byName[name] != nil)
            }
        }
        entries = byName.values.sorted { $0.name < $1.name }
        library = ParsedOnFirstUse(user: user)
    }

    /// The Mustache library, filled as templates are rendered: the one asked for, parsed on
    /// its first render; every template at once when one may use others (partials `{{>`,
    /// inheritance `{{<`), since those are found by name while rendering.
    private final class ParsedOnFirstUse: @unchecked Sendable {
        // @unchecked Sendable: `library`, `registered` and `complete` are only touched under `lock`.
        private let lock = NSLock()
        private let user: [String: (text: String, template: MustacheTemplate)]
        private var library = MustacheLibrary()
        private var registered: Set<String> = []
        private var complete = false
        private static let embedded = Dictionary(uniqueKeysWithValues: EmbeddedTemplates.all.map { ($0.name, $0.text) })

        init(user: [String: (text: String, template: MustacheTemplate)]) {
            self.user = user
        }

        func library(toRender name: String) throws -> MustacheLibrary {
            lock.lock()
            defer { lock.unlock() }
            if complete || registered.contains(name) { return library }
            if let text = user[name]?.text ?? Self.embedded[name], !Self.usesOtherTemplates(text) {
                try register(name)
            } else {
                for name in Set(Self.embedded.keys).union(user.keys) where !registered.contains(name) { try register(name) }
                complete = true
            }
            return library
        }

        private func register(_ name: String) throws {
            if let parsed = user[name] {
                library.register(parsed.template, named: name)
            } else if let text = Self.embedded[name] {
                library.register(try TemplateLibrary.parse(text, file: "Templates/\(name).\(TemplateLibrary.fileExtension) (embedded)"), named: name)
            }
            registered.insert(name)
        }

        private static func usesOtherTemplates(_ text: String) -> Bool {
            text.contains("{{>") || text.contains("{{<") || text.contains("{{=")
        }
    }

    /// The names of the templates in a group (`record`, `mta/opendkim`), relative to it, sorted.
    public func names(in group: String) -> [String] {
        entries.compactMap { entry in
            entry.name.hasPrefix(group + "/") ? String(entry.name.dropFirst(group.count + 1)) : nil
        }
    }

    public func entry(_ name: String) -> Entry? {
        entries.first { $0.name == name }
    }

    /// Renders the template `name` with `context` (dictionaries, arrays, strings, numbers, booleans).
    public func render(_ name: String, _ context: [String: Any]) throws -> String {
        guard let text = try library.library(toRender: name).render(context, withTemplate: name) else {
            throw DKIMError(.notFound, "no template named '\(name)'", remedy: .listTemplates)
        }
        return text
    }

    static func parse(_ text: String, file: String) throws -> MustacheTemplate {
        do {
            return try MustacheTemplate(string: textPragma + text)
        } catch let error as MustacheTemplate.ParserError {
            // One line was prepended: the pragma.
            let line = max(1, error.context.lineNumber - 1)
            throw DKIMError(
                .invalidInput,
                "\(file):\(line):\(error.context.columnNumber): template error: \(describe(error.error)) in '\(error.context.line.trimmingCharacters(in: .whitespacesAndNewlines))'")
        }
    }

    private static func describe(_ error: Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return "\(error)" }
        switch error {
        case .sectionCloseNameIncorrect: return "the closing tag does not match the open section"
        case .unfinishedName: return "unfinished tag (a '}}' is missing)"
        case .expectedSectionEnd: return "a section is never closed ({{/name}} missing)"
        case .invalidSetDelimiter: return "malformed set-delimiter tag"
        case .transformAppliedToInheritanceSection: return "a transform cannot apply to an inheritance section"
        case .illegalTokenInsideInheritSection: return "illegal tag inside an inheritance section"
        case .textInsideInheritSection: return "text inside an inheritance section"
        case .invalidConfigVariableSyntax: return "malformed pragma"
        case .unrecognisedConfigVariable: return "unknown pragma"
        @unknown default: return "\(error)"
        }
    }

    /// `name → file` for every `*.mustache` below `directory`.
    private static func userFiles(in directory: String) throws -> [(String, String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DKIMError(.invalidInput, "template directory '\(directory)' does not exist or is not a directory")
        }
        let root = URL(fileURLWithPath: directory).standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [(String, String)] = []
        for case let relative as String in walker where relative.hasSuffix("." + fileExtension) {
            found.append((String(relative.dropLast(fileExtension.count + 1)), root + "/" + relative))
        }
        return found.sorted { $0.0 < $1.0 }
    }
}
