import Foundation
import PackagePlugin

/// Embeds the package's top-level `Templates/**/*.mustache` into the target
/// as Swift source (`EmbeddedTemplates.all`), at build time.
@main
struct EmbedTemplates: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let templates = context.package.directoryURL.appending(path: "Templates")
        var files: [URL] = []
        if let walker = FileManager.default.enumerator(at: templates, includingPropertiesForKeys: nil) {
            for case let url as URL in walker where url.pathExtension == "mustache" { files.append(url) }
        }
        files.sort { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedTemplates.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) templates from Templates/",
                executable: try context.tool(named: "TemplateEmbedder").url,
                arguments: [output.path, templates.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output])
        ]
    }
}
