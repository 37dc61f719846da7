import Foundation

/// The directory that holds dkimctl's state: the registry and the private keys.
///
/// Layout: `registry.sqlite` (with its WAL files) and `keys/`, one PKCS#8 PEM
/// file per key named after its record name. Both directories are 0700.
public struct StateDirectory: Sendable, Equatable {
    public let path: String

    public init(path: String) {
        // Keep paths absolute so that stored key paths stay valid from any working directory.
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        self.path = (absolute as NSString).standardizingPath
    }

    public var registryPath: String { path + "/registry.sqlite" }
    public var keysPath: String { path + "/keys" }
    /// Records waiting for a person to publish them (manual publisher), one folder per domain.
    public var outboxPath: String { path + "/outbox" }
    /// Private keys of revoked keys moved aside for publication (`reveal: true`).
    public var revealedPath: String { path + "/revealed" }
    /// `rotate`'s lock file: two runs never act at once.
    public var rotationLockPath: String { path + "/rotate.lock" }
    /// The scheduler leader's lock when the registry is this directory's SQLite file.
    public var schedulerLockPath: String { path + "/scheduler.lock" }
    /// The default configuration file.
    public var configurationPath: String { path + "/dkimctl.yaml" }
    /// When the last complete, error-free `rotate` tick over every domain ended (ISO 8601), for `metrics`.
    public var lastRotatePath: String { path + "/last-rotate" }
    /// Seals of the event log's head, one per line (`dkimctl audit seal`).
    public var sealsLogPath: String { path + "/seals.log" }
    /// The state directory's copy of the audit public key (written by `audit seal --init-key`).
    public var sealPublicKeyPath: String { path + "/seal-public.pem" }

    /// Whether `path` (existing or not) lies inside this state directory, symbolic links resolved.
    public func contains(_ path: String) -> Bool {
        func resolved(_ path: String) -> String {
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            if let real = Self.realPath(absolute) { return real }
            let parent = (absolute as NSString).deletingLastPathComponent
            guard parent != absolute, !parent.isEmpty else { return absolute }
            return resolved(parent) + "/" + (absolute as NSString).lastPathComponent
        }
        let root = resolved(self.path)
        let target = resolved(path)
        return target == root || target.hasPrefix(root + "/")
    }

    /// The time recorded by the last successful `rotate` tick, if any.
    public func lastSuccessfulRotate() -> Date? {
        guard let data = FileManager.default.contents(atPath: lastRotatePath),
            let text = String(data: data, encoding: .utf8)
        else { return nil }
        return Timestamp.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Where the private key of `name` is written.
    public func privateKeyPath(for name: KeyRecordName) -> String {
        "\(keysPath)/\(privateKeyFileName(for: name))"
    }

    /// The key file's name inside `keys/`: what the registry stores, so a copied
    /// state directory uses its own copies of the keys, never the original's.
    public func privateKeyFileName(for name: KeyRecordName) -> String {
        "\(name.relative).pem"
    }

    /// The file a key's stored private key path names, in this state directory.
    ///
    /// The registry stores a file name inside `keys/` (older registries: an absolute
    /// path). Whatever it holds, the file must lie directly in this state directory's
    /// `keys/` or `revealed/` (symbolic links resolved) and must not itself be a
    /// symbolic link: destroying, revealing or handing over a key never touches
    /// another file, even when the registry was edited.
    /// - Returns: the absolute path, or nil when the key has no private key file.
    /// - Throws: `DKIMError.unsafePermissions` naming the stored value when it leads elsewhere.
    public func privateKeyFile(of key: RegisteredKey) throws -> String? {
        guard let stored = key.privateKeyPath else { return nil }
        let refusal = DKIMError(
            .unsafePermissions,
            "the registry's private key path '\(TextEscaping.controlCharactersEscaped(stored))' of \(key.selector) (\(key.domain)) leads outside \(keysPath); refusing to touch it: was the registry edited?", remedy: .verifyRegister)
        let candidate: String
        if stored.hasPrefix("/") {
            candidate = stored
        } else {
            guard !stored.isEmpty, !stored.contains("/"), stored != ".", stored != ".." else { throw refusal }
            candidate = keysPath + "/" + stored
        }
        let parent = Self.realPath((candidate as NSString).deletingLastPathComponent)
        guard let parent, parent == Self.realPath(keysPath) || parent == Self.realPath(revealedPath) else { throw refusal }
        var info = stat()
        if lstat(candidate, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            throw DKIMError(
                .unsafePermissions,
                "private key file \(candidate) of \(key.selector) (\(key.domain)) is not a regular file (a symbolic link?); refusing to touch it")
        }
        return candidate
    }

    /// `key` with its private key path resolved to the absolute file (see `privateKeyFile(of:)`).
    public func resolvingPrivateKeyFile(_ key: RegisteredKey) throws -> RegisteredKey {
        key.withPrivateKeyPath(try privateKeyFile(of: key))
    }

    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The default location: `$DKIMCTL_HOME`, else `/var/lib/dkimctl` for root,
    /// else `$XDG_DATA_HOME/dkimctl`, else `~/.local/share/dkimctl`.
    public static func defaultPath(environment: (String) -> String? = ProcessEnvironment.value) -> String {
        if let home = environment("DKIMCTL_HOME"), !home.isEmpty { return home }
        if geteuid() == 0 { return "/var/lib/dkimctl" }
        if let data = environment("XDG_DATA_HOME"), !data.isEmpty { return data + "/dkimctl" }
        let home = environment("HOME") ?? NSHomeDirectory()
        return home + "/.local/share/dkimctl"
    }

    /// Creates the state and key directories (0700) if missing; returns whether anything was created.
    /// - Throws: `DKIMError.unsafePermissions` when an existing directory is unsafe, `.io` when creation fails.
    @discardableResult
    public func create() throws -> Bool {
        var created = false
        for directory in [path, keysPath] {
            var info = stat()
            if stat(directory, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    throw DKIMError(.io, "\(directory) exists and is not a directory")
                }
                continue
            }
            if directory == path {
                let parent = (path as NSString).deletingLastPathComponent
                do {
                    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
                } catch {
                    throw DKIMError(.io, "cannot create \(parent): \(error.localizedDescription)")
                }
            }
            guard mkdir(directory, PrivateKeyFile.directoryMode) == 0 else {
                throw AtomicFile.systemError("create directory", directory)
            }
            guard chmod(directory, PrivateKeyFile.directoryMode) == 0 else {
                throw AtomicFile.systemError("chmod", directory)
            }
            created = true
        }
        try checkSafety()
        return created
    }

    /// Whether `init` has been run here.
    public var exists: Bool {
        FileManager.default.fileExists(atPath: registryPath)
    }

    /// Refuses a state or key directory that others can write to, a registry
    /// others can write to, and any key file others can read.
    /// - Throws: `DKIMError.unsafePermissions` saying what is wrong and how to fix it.
    /// - Parameter keyFiles: also check every key file (`audit` reports unsafe key files as findings instead).
    public func checkSafety(keyFiles: Bool = true) throws {
        try checkNotWritableByOthers(path, what: "state directory", fix: "chmod 700")
        try checkNotWritableByOthers(keysPath, what: "key directory", fix: "chmod 700")
        var info = stat()
        if lstat(keysPath, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
            throw DKIMError(.unsafePermissions, "key directory \(keysPath) is a symbolic link; it must be a directory of its own (move the link away)")
        }
        try checkOwner(path, what: "state directory")
        try checkOwner(keysPath, what: "key directory")
        if FileManager.default.fileExists(atPath: registryPath) {
            try checkNotWritableByOthers(registryPath, what: "registry", fix: "chmod 600")
            try checkOwner(registryPath, what: "registry")
        }
        guard keyFiles else { return }
        guard let directory = opendir(keysPath) else {
            throw AtomicFile.systemError("read the key directory", keysPath)
        }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let file = keysPath + "/" + name
            var info = stat()
            guard lstat(file, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFLNK {
                throw DKIMError(.unsafePermissions, "key file \(file) is a symbolic link; key files must be regular files (move it away)")
            }
            if info.st_uid != geteuid() {
                throw ownerError(file, what: "key file", owner: info.st_uid)
            }
            if info.st_mode & 0o077 != 0 {
                throw DKIMError(
                    .unsafePermissions,
                    "key file \(file) is readable or writable by others (mode \(String(info.st_mode & 0o7777, radix: 8))); fix with: chmod 600 \(file)")
            }
        }
    }

    /// Refuses a file or directory the running user does not own: root using a directory
    /// that belongs to someone else would let that user plant links and files for root to follow.
    private func checkOwner(_ file: String, what: String) throws {
        var info = stat()
        guard stat(file, &info) == 0 else { return }
        if info.st_uid != geteuid() { throw ownerError(file, what: what, owner: info.st_uid) }
    }

    private func ownerError(_ file: String, what: String, owner: uid_t) -> DKIMError {
        func name(_ uid: uid_t) -> String {
            guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
            return "\(String(cString: name)) (uid \(uid))"
        }
        let me = geteuid()
        return DKIMError(
            .unsafePermissions,
            "\(what) \(file) belongs to \(name(owner)), not to \(name(me)) who runs dkimctl; run dkimctl as its owner, or take it over: chown -R \(me) \(path)")
    }

    private func checkNotWritableByOthers(_ file: String, what: String, fix: String) throws {
        var info = stat()
        guard stat(file, &info) == 0 else {
            if errno == ENOENT {
                throw DKIMError(.notInitialized, "\(what) \(file) does not exist")
            }
            throw AtomicFile.systemError("inspect the \(what)", file)
        }
        if info.st_mode & 0o022 != 0 {
            throw DKIMError(
                .unsafePermissions,
                "\(what) \(file) is writable by group or others (mode \(String(info.st_mode & 0o7777, radix: 8))); fix with: \(fix) \(file)")
        }
    }
}
