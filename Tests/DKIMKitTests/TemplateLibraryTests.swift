import DKIMKit
import Foundation
import Testing

/// The embedded templates are parsed on the first render, not on every start: each must
/// still parse and render, and a user's template that does not parse is refused at once.
@Suite struct TemplateLibraryTests {
    @Test func everyEmbeddedTemplateParsesAndRenders() throws {
        let library = try TemplateLibrary()
        #expect(library.entries.count >= 10 && library.entries.allSatisfy { $0.file == nil })
        for entry in library.entries {
            #expect(throws: Never.self, "\(entry.name)") { _ = try library.render(entry.name, [:]) }
        }
    }

    @Test func aUserTemplateThatDoesNotParseIsRefusedWhenTheLibraryLoads() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/record", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "{{#open}} never closed\n".write(toFile: directory + "/record/zone.mustache", atomically: true, encoding: .utf8)
        let error = try #require(throws: DKIMError.self) { _ = try TemplateLibrary(userDirectory: directory) }
        #expect(error.message.contains("record/zone.mustache:") && error.message.contains("a section is never closed"), "\(error.message)")
    }

    /// A user's template may use the others as partials: they are found by name when it renders.
    @Test func aUserTemplateRendersOtherTemplatesAsPartials() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/custom", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "before {{> record/value}} after\n".write(toFile: directory + "/custom/wrapper.mustache", atomically: true, encoding: .utf8)
        let library = try TemplateLibrary(userDirectory: directory)
        let context: [String: Any] = ["value": "v=DKIM1; k=ed25519; p=abc", "strings": ["v=DKIM1; k=ed25519; p=abc"]]
        let alone = try TemplateLibrary().render("record/value", context)
        #expect(!alone.isEmpty)
        #expect(try library.render("custom/wrapper", context) == "before \(alone) after\n")
    }
}
