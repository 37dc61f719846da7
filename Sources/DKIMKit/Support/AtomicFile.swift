import Foundation

/// Writes files so that a reader (named, an MTA, a crash) never sees half of
/// one: a temporary file in the same directory, fsync, then rename (or link,
/// to refuse replacing), then fsync of the directory.
///
/// The temporary file has a random name and is created with
/// `O_CREAT|O_EXCL|O_NOFOLLOW`: a file or symbolic link planted under a
/// predictable name cannot redirect the write. A directory others can write to
/// is refused unless it has the sticky bit (like /tmp), where they cannot
/// replace or remove our file.
public enum AtomicFile {
    /// 16 random hex digits, for a temporary name nobody can predict.
    static func randomSuffix() -> String {
        Data((0..<8).map { _ in UInt8.random(in: .min ... .max) }).hexadecimal
    }

    /// - Parameter replacing: true to replace an existing file (rename); false to
    ///   refuse one that exists or appears meanwhile (link + unlink, `.conflict`).
    public static func write(_ contents: Data, to path: String, mode: mode_t, replacing: Bool) throws {
        var directory = (path as NSString).deletingLastPathComponent
        if directory.isEmpty { directory = "." }
        var info = stat()
        if stat(directory, &info) == 0, info.st_mode & 0o002 != 0, info.st_mode & S_ISVTX == 0 {
            throw DKIMError(
                .unsafePermissions,
                "directory \(directory) is writable by everyone without the sticky bit: another user could replace \(path); write it elsewhere")
        }
        var temporary = ""
        var descriptor: Int32 = -1
        for _ in 0..<8 {
            temporary = "\(directory)/.\((path as NSString).lastPathComponent).\(randomSuffix()).tmp"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else { throw systemError("create", temporary) }
        var placed = false
        defer {
            if !placed { unlink(temporary) }
        }
        do {
            defer { close(descriptor) }
            // The umask may have narrowed the mode; make it exact.
            guard fchmod(descriptor, mode) == 0 else { throw systemError("chmod", temporary) }
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
        if replacing {
            guard rename(temporary, path) == 0 else { throw systemError("move into place", path) }
            placed = true
        } else {
            guard link(temporary, path) == 0 else {
                if errno == EEXIST { throw DKIMError(.conflict, "\(path) already exists; refusing to overwrite it") }
                throw systemError("move into place", path)
            }
            placed = true
            unlink(temporary)
        }
        try syncDirectory(directory)
    }

    /// Creates `path` and missing parents with `mode` (nothing if it exists).
    public static func makeDirectory(_ path: String, mode: mode_t) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)])
        } catch {
            throw DKIMError(.io, "cannot create directory \(path): \(error.localizedDescription)")
        }
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
