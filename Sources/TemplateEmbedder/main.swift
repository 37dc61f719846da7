// Build-time tool: turns the package's Templates/**/*.mustache into Swift source,
// so that the dkimctl binary carries its default templates and works when copied
// alone to another machine.
//
// Usage: TemplateEmbedder OUTPUT TEMPLATES-DIRECTORY FILE...
import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: TemplateEmbedder OUTPUT TEMPLATES-DIRECTORY FILE...\n".utf8))
    exit(64)
}
let output = arguments[arguments.startIndex]
let root = URL(fileURLWithPath: arguments[arguments.startIndex + 1]).standardizedFileURL.path
let suffix = ".mustache"

/// A Swift raw string literal holding `text` exactly, with enough `#` that nothing inside ends it.
func literal(_ text: String) -> String {
    var hashes = "#"
    while text.contains("\"" + hashes) || text.contains(hashes + "\"") { hashes += "#" }
    return hashes + "\"\"\"\n" + text + "\n\"\"\"" + hashes
}

var entries: [(name: String, text: String)] = []
for file in arguments.dropFirst(2) {
    let path = URL(fileURLWithPath: file).standardizedFileURL.path
    guard path.hasPrefix(root + "/"), path.hasSuffix(suffix) else { continue }
    let name = String(path.dropFirst(root.count + 1).dropLast(suffix.count))
    guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) }) else {
        FileHandle.standardError.write(Data("error: template name '\(name)' may only hold letters, digits, '-', '_', '.' and '/'\n".utf8))
        exit(1)
    }
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        FileHandle.standardError.write(Data("error: cannot read template \(path) as UTF-8\n".utf8))
        exit(1)
    }
    entries.append((name, text))
}
entries.sort { $0.name < $1.name }

var source = "// Generated at build time from Templates/ by TemplateEmbedder. Do not edit.\n\n"
source += "enum EmbeddedTemplates {\n"
source += "    /// Template name (path under Templates/ without `.mustache`) → template text.\n"
source += "    static let all: [(name: String, text: String)] = [\n"
for entry in entries {
    source += "        (\"\(entry.name)\", \(literal(entry.text))),\n"
}
source += "    ]\n}\n"
do {
    try source.write(toFile: output, atomically: true, encoding: .utf8)
} catch {
    FileHandle.standardError.write(Data("error: cannot write \(output): \(error)\n".utf8))
    exit(1)
}
