import DKIMTestSupport
import Foundation
import Testing

/// The library's folders form a layered graph: no folder uses one that uses it back.
@Suite struct FolderLayeringTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func noFolderCycle() throws {
        let script = Self.repository.appendingPathComponent("scripts/folder-dependencies.py").path
        let result = try ProcessRunner.run("/usr/bin/python3", [script])
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        #expect(result.standardOutput.hasSuffix("no cycle\n"))
    }

    @Test func theLayeringReadmeNamesEveryFolder() throws {
        let sources = Self.repository.appendingPathComponent("Sources/DKIMKit").path
        let readme = try String(contentsOfFile: sources + "/README.md", encoding: .utf8)
        for folder in try FileManager.default.contentsOfDirectory(atPath: sources).sorted() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: sources + "/" + folder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            #expect(readme.contains("| `\(folder)/` |"), "Sources/DKIMKit/README.md does not describe \(folder)/")
        }
    }

    /// DKIMKit says what to do (a `Remedy`); the command line words it. No string in the
    /// library's code names a dkimctl command: a renamed command or option changes one file.
    @Test func theLibraryNamesNoCommand() throws {
        let commands = try FileManager.default.contentsOfDirectory(
            atPath: Self.repository.appendingPathComponent("Sources/dkimctl/Commands").path
        ).map { $0.replacingOccurrences(of: ".swift", with: "").lowercased() }
        #expect(commands.contains("rotate") && commands.contains("track"))
        let pattern = try NSRegularExpression(pattern: "dkimctl (\(commands.joined(separator: "|")))\\b")
        let sources = Self.repository.appendingPathComponent("Sources/DKIMKit").path
        var offenders: [String] = []
        for file in FileManager.default.enumerator(atPath: sources)?.compactMap({ $0 as? String }) ?? [] where file.hasSuffix(".swift") {
            let lines = try String(contentsOfFile: sources + "/" + file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() {
                let code = String(line.trimmingCharacters(in: .whitespaces))
                if code.hasPrefix("//") { continue }
                if pattern.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil {
                    offenders.append("\(file):\(number + 1): \(code)")
                }
            }
        }
        #expect(offenders.isEmpty, "command hints in the library:\n\(offenders.joined(separator: "\n"))")
    }
}
