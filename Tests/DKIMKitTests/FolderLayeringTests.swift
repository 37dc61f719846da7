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
}
