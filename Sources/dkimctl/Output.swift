import Foundation

/// Buffered standard output (listing 100,000 keys is one write per 64 KiB,
/// not one per line) and one-line diagnostics on standard error.
final class Output: @unchecked Sendable {
    // @unchecked Sendable: dkimctl writes its output from the main thread only.
    static let standard = Output(descriptor: STDOUT_FILENO)

    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private let limit = 64 * 1024

    private init(descriptor: Int32) {
        self.descriptor = descriptor
        buffer.reserveCapacity(limit)
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= limit { flush() }
    }

    func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { raw in
                Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                break  // stdout closed (e.g. `| head`): nothing useful left to do with the rest.
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    static func error(_ message: String) {
        writeStandardError("dkimctl: error: \(message)\n")
    }

    static func warning(_ message: String) {
        writeStandardError("dkimctl: warning: \(message)\n")
    }

    static func note(_ message: String) {
        writeStandardError("dkimctl: \(message)\n")
    }

    private static func writeStandardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
