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

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
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

/// Formats a stream of items on background threads while the caller keeps
/// producing them (reading the registry), and writes the results in order.
///
/// Listing 100,000 keys spends about as long decoding rows as formatting
/// them; overlapping the two, and formatting batches side by side, uses
/// every core.
final class BackgroundFormatter<Item: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `batch` is touched only by the producing thread;
    // each `Slot` is written by one worker before its semaphore is signalled
    // and read by the writer only after waiting on it.
    private final class Slot: @unchecked Sendable {
        var bytes: [UInt8] = []
        let done = DispatchSemaphore(value: 0)
    }

    private let workers = DispatchQueue(label: "dkimctl.format", attributes: .concurrent)
    private let writer = DispatchQueue(label: "dkimctl.output")
    private let inFlight = DispatchSemaphore(value: 8)
    private let batchSize: Int
    private let format: @Sendable ([Item]) -> [UInt8]
    private var batch: [Item] = []

    init(batchSize: Int = 256, format: @escaping @Sendable ([Item]) -> [UInt8]) {
        self.batchSize = batchSize
        self.format = format
        batch.reserveCapacity(batchSize)
    }

    func add(_ item: Item) {
        batch.append(item)
        if batch.count >= batchSize { submit() }
    }

    /// Formats what is left and waits until everything has been written.
    func finish() {
        submit()
        writer.sync {}
    }

    private func submit() {
        guard !batch.isEmpty else { return }
        let items = batch
        batch.removeAll(keepingCapacity: true)
        let slot = Slot()
        inFlight.wait()
        workers.async { [format] in
            slot.bytes = format(items)
            slot.done.signal()
        }
        writer.async { [inFlight] in
            slot.done.wait()
            Output.standard.write(slot.bytes)
            inFlight.signal()
        }
    }
}
