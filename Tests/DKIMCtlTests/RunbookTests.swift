import DKIMTestSupport
import Foundation
import Testing

/// The runbooks' commands are real: every `dkimctl` command line in their code
/// blocks names a command that exists and only options that command takes.
@Suite struct RunbookTests {
    static let runbooks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("runbooks").path

    /// `dkimctl …` lines inside ``` blocks, continuation lines joined.
    static func commandLines(in text: String) -> [String] {
        var lines: [String] = []
        var inBlock = false
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") {
                inBlock.toggle()
                continue
            }
            guard inBlock else { continue }
            if !pending.isEmpty {
                pending += " " + line
            } else if let range = line.range(of: "dkimctl ") , line[..<range.lowerBound].allSatisfy({ " |(&;=".contains($0) || $0.isLetter || $0.isNumber || "_.-$".contains($0) }) {
                pending = String(line[range.lowerBound...])
            }
            if pending.hasSuffix("\\") {
                pending = String(pending.dropLast())
                continue
            }
            if !pending.isEmpty {
                lines.append(pending)
                pending = ""
            }
        }
        return lines
    }

    @Test func everyCommandAndOptionExists() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.runbooks).filter { $0.hasSuffix(".md") }.sorted()
        #expect(files.count >= 8)
        let binary = DKIMCtlBinary.locate()
        var helpCache: [String: String] = [:]
        var checked = 0
        for file in files {
            let text = try String(contentsOfFile: Self.runbooks + "/" + file, encoding: .utf8)
            for line in Self.commandLines(in: text) {
                // Stop at the first shell operator: the rest is another program.
                let words = line.split(separator: " ").map(String.init).prefix { !["|", ">", "&&", ";", "2>/dev/null"].contains($0) }
                var path: [String] = []
                for word in words.dropFirst() {
                    guard !word.hasPrefix("-"), path.count < 2 else { break }
                    let candidate = path + [word]
                    let help = try helpCache[candidate.joined(separator: " ")] ?? ProcessRunner.run(binary, candidate + ["--help"]).standardOutput
                    // A word is a subcommand if `dkimctl … WORD --help` shows that command's own usage.
                    guard help.contains("USAGE: dkimctl \(candidate.joined(separator: " "))") else { break }
                    helpCache[candidate.joined(separator: " ")] = help
                    path = candidate
                }
                #expect(!path.isEmpty, "\(file): '\(line)' names no dkimctl command")
                let help = helpCache[path.joined(separator: " ")] ?? ""
                for option in words where option.hasPrefix("--") {
                    let name = String(option.split(separator: "=")[0])
                    #expect(help.contains(name), "\(file): '\(line)': \(path.joined(separator: " ")) has no option \(name)")
                }
                checked += 1
            }
        }
        #expect(checked >= 30, "\(checked) command lines checked")
    }
}
