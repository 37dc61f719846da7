import Foundation

/// Writes and checks private key files: PKCS#8 PEM, mode 0600, in a 0700 directory.
public enum PrivateKeyFile {
    public static let fileMode: mode_t = 0o600
    public static let directoryMode: mode_t = 0o700

    /// Writes `contents` to `path` atomically: a temporary file in the same
    /// directory created with mode 0600, fsync, rename over the target, fsync
    /// of the directory. Refuses to replace an existing file.
    /// - Throws: `DKIMError.io` naming the path and the system error.
    public static func write(_ contents: Data, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if FileManager.default.fileExists(atPath: path) {
            throw DKIMError(.conflict, "key file \(path) already exists; refusing to overwrite it")
        }
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        guard descriptor >= 0 else { throw systemError("create", temporary) }
        var succeeded = false
        defer {
            if !succeeded { unlink(temporary) }
        }
        do {
            defer { close(descriptor) }
            // The umask may have narrowed the mode; make it exactly 0600.
            guard fchmod(descriptor, fileMode) == 0 else { throw systemError("chmod", temporary) }
            try contents.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw systemError("write", temporary)
                    }
                    offset += written
                }
            }
            guard fsync(descriptor) == 0 else { throw systemError("fsync", temporary) }
        }
        // link() + unlink() instead of rename(): never replaces a file that appeared meanwhile.
        guard link(temporary, path) == 0 else { throw systemError("move into place", path) }
        succeeded = true
        unlink(temporary)
        try syncDirectory(directory)
    }

    /// Removes a key file written by a step that then failed (best effort).
    public static func discard(_ path: String) {
        unlink(path)
        try? syncDirectory((path as NSString).deletingLastPathComponent)
    }

    static func syncDirectory(_ directory: String) throws {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw systemError("open", directory) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw systemError("fsync", directory) }
    }

    static func systemError(_ action: String, _ path: String) -> DKIMError {
        DKIMError(.io, "cannot \(action) \(path): \(String(cString: strerror(errno)))")
    }
}
