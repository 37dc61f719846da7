import Foundation

/// A directory under the system temporary directory, removed when the value goes away.
public final class TemporaryDirectory: @unchecked Sendable {
    // @unchecked Sendable: `path` is immutable; removal happens once, in deinit.
    public let path: String

    public init(_ label: String = "dkimctl-test") throws {
        var template = Array("\(NSTemporaryDirectory())/\(label).XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else {
            throw NSError(domain: "TemporaryDirectory", code: Int(errno))
        }
        path = String(cString: result)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    public func file(_ name: String) -> String { path + "/" + name }
}
