import DKIMKit
import Foundation

/// What a directory tree holds: every path with its mode and a hash of its
/// contents. Two snapshots are equal when nothing was created, removed,
/// rewritten or re-permissioned in between.
public struct DirectorySnapshot: Equatable, CustomStringConvertible {
    public let entries: [String: String]

    /// - Parameter ignoring: file names left out (SQLite's `-shm` index changes on reads).
    public init(_ root: String, ignoring ignored: Set<String> = []) {
        var entries: [String: String] = [:]
        let manager = FileManager.default
        if let enumerator = manager.enumerator(atPath: root) {
            for case let relative as String in enumerator {
                let name = (relative as NSString).lastPathComponent
                if ignored.contains(where: { name.hasSuffix($0) }) { continue }
                let path = root + "/" + relative
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                var value = "mode=" + String(info.st_mode & 0o7777, radix: 8)
                if info.st_mode & S_IFMT == S_IFREG, let data = manager.contents(atPath: path) {
                    value += " sha256=" + PublicKeyFingerprint.of(data)
                }
                entries[relative] = value
            }
        }
        self.entries = entries
    }

    public var description: String {
        entries.keys.sorted().map { "\($0): \(entries[$0]!)" }.joined(separator: "\n")
    }
}
