import Foundation

/// An exclusive `flock` on `<state-dir>/rotate.lock`, held by `rotate`, the
/// scheduler's ticks and the manual lifecycle commands, so that two runs never
/// act on the same slot. Released when the value is dropped or the process dies.
public final class RotationLock {
    private let descriptor: Int32
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Takes the lock, waiting up to `wait` seconds for another holder.
    /// - Throws: `DKIMError.busy` naming the holder's pid when it is still held.
    public static func acquire(path: String, wait: TimeInterval) throws -> RotationLock {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw AtomicFile.systemError("open the lock file", path) }
        let deadline = Date().addingTimeInterval(wait)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(descriptor)
                throw AtomicFile.systemError("lock", path)
            }
            if Date() >= deadline {
                var buffer = [UInt8](repeating: 0, count: 32)
                let count = pread(descriptor, &buffer, buffer.count, 0)
                let holder = count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
                close(descriptor)
                throw DKIMError(
                    .busy,
                    "another dkimctl run (pid \(holder)) is rotating keys in this state directory; waited \(Int(wait)) s for \(path), try again later")
            }
            usleep(50_000)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.utf8.count, 0)
        return RotationLock(descriptor: descriptor, path: path)
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
