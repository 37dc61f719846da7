import Foundation

/// Writes, checks and disposes of private key files: PKCS#8 PEM, mode 0600, in a 0700 directory.
public enum PrivateKeyFile {
    public static let fileMode: mode_t = 0o600
    public static let directoryMode: mode_t = 0o700

    /// Writes `contents` to `path` atomically with mode 0600 (see `AtomicFile`).
    /// Refuses to replace an existing file.
    /// - Throws: `DKIMError.conflict` when the file exists; `.io` naming the path and the system error.
    public static func write(_ contents: Data, to path: String) throws {
        if FileManager.default.fileExists(atPath: path) {
            throw DKIMError(.conflict, "key file \(path) already exists; refusing to overwrite it")
        }
        try AtomicFile.write(contents, to: path, mode: fileMode, replacing: false)
    }

    /// The bytes of a key file, which must be a regular file (a symbolic link is refused).
    /// - Throws: `DKIMError.notFound` when it is missing, `.unsafePermissions` for a link or a non-file.
    public static func read(_ path: String) throws -> Data {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ELOOP { throw DKIMError(.unsafePermissions, "private key file \(path) is a symbolic link; refusing to read it") }
            throw DKIMError(errno == ENOENT ? .notFound : .io, "cannot read private key file \(path): \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw DKIMError(.unsafePermissions, "private key file \(path) is not a regular file; refusing to read it")
        }
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw DKIMError(.io, "cannot read private key file \(path): \(error.localizedDescription)")
        }
    }

    /// Removes a key file written by a step that then failed (best effort).
    public static func discard(_ path: String) {
        unlink(path)
        try? AtomicFile.syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// Overwrites the file's bytes with zeros, syncs, then unlinks it. A file
    /// that is already gone is not an error (a run that crashed after unlinking).
    ///
    /// Overwriting cannot reach copies a copy-on-write or journaling file system
    /// keeps elsewhere; it still keeps the key out of a casual undelete.
    ///
    /// A symbolic link found at `path` is removed itself: what it points to is never touched.
    public static func destroy(_ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return }
            guard errno == ELOOP else { throw AtomicFile.systemError("open", path) }
            guard unlink(path) == 0 || errno == ENOENT else { throw AtomicFile.systemError("unlink", path) }
            return try AtomicFile.syncDirectory((path as NSString).deletingLastPathComponent)
        }
        do {
            defer { close(descriptor) }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { throw AtomicFile.systemError("stat", path) }
            let zeros = [UInt8](repeating: 0, count: Int(max(info.st_size, 1)))
            guard pwrite(descriptor, zeros, zeros.count, 0) == zeros.count else { throw AtomicFile.systemError("overwrite", path) }
            guard fsync(descriptor) == 0 else { throw AtomicFile.systemError("fsync", path) }
        }
        guard unlink(path) == 0 || errno == ENOENT else { throw AtomicFile.systemError("unlink", path) }
        try AtomicFile.syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// Moves the file into `directory` (created with mode 0700) for publication;
    /// returns the new path. Already moved is not an error.
    public static func reveal(_ path: String, into directory: String) throws -> String {
        try AtomicFile.makeDirectory(directory, mode: directoryMode)
        let target = directory + "/" + (path as NSString).lastPathComponent
        if !FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: target) { return target }
        guard rename(path, target) == 0 else { throw AtomicFile.systemError("move to \(directory)", path) }
        try AtomicFile.syncDirectory(directory)
        try AtomicFile.syncDirectory((path as NSString).deletingLastPathComponent)
        return target
    }
}
