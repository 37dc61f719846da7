import Foundation

/// Who holds private keys and where their plaintext goes: read from a key file or opened
/// from the registry's envelope, written on signing hosts (`materialize`), handed to
/// deploy hooks for the time they run, revealed or erased at the end of a key's life.
public struct PrivateKeyCustody: Sendable {
    public let registry: any KeyRegistry
    public let state: StateDirectory
    public let store: PrivateKeyStore

    public init(registry: any KeyRegistry, state: StateDirectory, store: PrivateKeyStore) {
        self.registry = registry
        self.state = state
        self.store = store
    }

    /// The states whose private keys a signing host needs: the active key, and a published
    /// successor so that it is in place before its activation switches the signer over.
    public static let signingStates: [KeyState] = [.published, .active]

    /// This host's name, as materialized copies are recorded under.
    public static var localHost: String { ProcessInfo.processInfo.hostName }

    /// The key's private key (PKCS#8 PEM), from its file or its envelope, checked against
    /// the registered public key.
    /// - Throws: `DKIMError` when the key has none (external, disposed of, erased), the file is
    ///   unsafe, the KEK is wrong or missing, or the key found is not the registered one.
    public func privateKeyPEM(of key: RegisteredKey) throws -> Data {
        let subject = "\(key.selector) (\(key.domain))"
        guard key.kind == .local else { throw DKIMError(.conflict, "\(subject) is a provider-managed selector: its private key is not ours") }
        let pem: Data
        if key.privateKeyInRegistry {
            switch try registry.storedPrivateKey(keyID: key.id) {
            case .sealed(let sealed)?:
                let kek = try store.kek(for: "the private key of \(subject), sealed in the registry,")
                pem = try KeyEnvelope.open(sealed, recordName: key.recordName.relative, fingerprint: key.fingerprint, with: kek, subject: subject)
            case .erased(let time)?:
                throw DKIMError(.notFound, "the private key of \(subject) was crypto-erased on \(Timestamp.iso8601(time)) (\(key.state.rawValue))")
            case nil:
                throw DKIMError(.registry, "the registry says it keeps the private key of \(subject) but holds no envelope for it", remedy: .verifyRegister)
            }
        } else {
            guard let path = try state.privateKeyFile(of: key) else {
                throw DKIMError(.notFound, "\(subject) has no private key file")
            }
            pem = try PrivateKeyFile.read(path)
        }
        let pair: KeyPair
        do { pair = try KeyPair(pem: pem) } catch {
            throw DKIMError(.crypto, "the private key of \(subject) cannot be read as a private key", remedy: .verifyRegister)
        }
        guard pair.fingerprint == key.fingerprint else {
            throw DKIMError(
                .crypto, "the private key found for \(subject) is not the registered key (\(pair.fingerprint), registered \(key.fingerprint))",
                remedy: .verifyRegister)
        }
        return pem
    }

    /// Runs `body` with a file holding the key's private key: its own file, or for a sealed key
    /// a 0600 copy in the state directory's `run/` that is destroyed when `body` returns.
    public func withPrivateKeyFile<T>(of key: RegisteredKey, _ body: (String) throws -> T) throws -> T {
        guard key.privateKeyInRegistry else {
            guard let path = try state.privateKeyFile(of: key) else { throw DKIMError(.notFound, "\(key.selector) (\(key.domain)) has no private key file") }
            return try body(path)
        }
        let directory = state.path + "/run"
        try AtomicFile.makeDirectory(directory, mode: PrivateKeyFile.directoryMode)
        try checkSigningDirectory(directory)
        let path = "\(directory)/\(state.privateKeyFileName(for: key.recordName)).\(AtomicFile.randomSuffix())"
        try PrivateKeyFile.write(try privateKeyPEM(of: key), to: path)
        defer { try? PrivateKeyFile.destroy(path) }
        return try body(path)
    }

    /// Writes a sealed key's private key into `revealed/` (0600) for publication; returns the path.
    public func revealSealed(_ key: RegisteredKey) throws -> String {
        try AtomicFile.makeDirectory(state.revealedPath, mode: PrivateKeyFile.directoryMode)
        let path = state.revealedPath + "/" + state.privateKeyFileName(for: key.recordName)
        if FileManager.default.fileExists(atPath: path) { try PrivateKeyFile.destroy(path) }
        try PrivateKeyFile.write(try privateKeyPEM(of: key), to: path)
        return path
    }

    /// Moves the private keys of live keys kept in files into the registry, sealed under the
    /// configured KEK, one key per transaction; each file is destroyed once its key is sealed.
    /// A file an interrupted run left behind a key it had sealed is destroyed too.
    /// - Returns: the keys sealed now.
    public func sealKeyFiles(matching filter: KeyFilter, actor: Actor, at time: Date) throws -> [RegisteredKey] {
        let kek = try store.kek(for: "sealing private keys in the registry")
        var wanted = filter
        wanted.kinds = [.local]
        wanted.states = [.pending, .published, .active, .retired]
        var sealed: [RegisteredKey] = []
        for key in try registry.keys(matching: wanted) {
            if key.privateKeyInRegistry {
                let leftover = state.privateKeyPath(for: key.recordName)
                if FileManager.default.fileExists(atPath: leftover),
                    (try? KeyPair(pem: PrivateKeyFile.read(leftover)))?.fingerprint == key.fingerprint
                {
                    try PrivateKeyFile.destroy(leftover)
                }
                continue
            }
            guard let path = try state.privateKeyFile(of: key) else { continue }
            var pem = try privateKeyPEM(of: key)
            defer { wipe(&pem) }
            let envelope = try KeyEnvelope.seal(pem, recordName: key.recordName.relative, fingerprint: key.fingerprint, under: kek)
            sealed.append(try registry.sealPrivateKey(keyID: key.id, envelope, actor: actor, at: time))
            try PrivateKeyFile.destroy(path)
        }
        return sealed
    }

    // MARK: - Copies on signing hosts

    /// Makes `directory` hold exactly the private keys `filter` names in `signingStates`:
    /// writes missing or differing ones (0600, atomically; a symbolic link planted under a
    /// key's name is replaced, never followed), erases the copies this host recorded there
    /// whose key is no longer asked for (revoked, retired, or outside the filter), and records
    /// both in the registry with one `keys.materialized` event. Files dkimctl did not write are left alone.
    /// - Throws: `DKIMError` before writing anything when the directory is unsafe or a key cannot be opened.
    public func materialize(into directory: String, host: String, filter: KeyFilter, actor: Actor, at time: Date) throws -> MaterializationChanges {
        var info = stat()
        let existed = lstat(directory, &info) == 0
        if existed { try checkSigningDirectory(directory) }
        var wanted = filter
        wanted.states = Self.signingStates
        wanted.kinds = [.local]
        let keys = try registry.keys(matching: wanted)
        // Open every key before writing anything (the directory included): a wrong KEK writes nothing.
        let plaintexts = try keys.map { try privateKeyPEM(of: $0) }
        if !existed {
            try AtomicFile.makeDirectory(directory, mode: PrivateKeyFile.directoryMode)
            try checkSigningDirectory(directory)
        }
        guard let real = StateDirectory.realPath(directory) else { throw AtomicFile.systemError("resolve", directory) }
        var changes = MaterializationChanges(host: host, directory: real)
        let live = try registry.materializedCopies(host: host, keyID: nil, includingErased: false)
            .filter { ($0.path as NSString).deletingLastPathComponent == real }
        var recorded = Set(live.map { "\($0.keyID)|\($0.path)" })
        for (key, pem) in zip(keys, plaintexts) {
            let path = real + "/" + state.privateKeyFileName(for: key.recordName)
            if recorded.contains("\(key.id)|\(path)"), Self.holds(path, pem) {
                changes.unchanged += 1
                continue
            }
            try AtomicFile.write(pem, to: path, mode: PrivateKeyFile.fileMode, replacing: true)
            changes.written.append((key.id, path))
            recorded.insert("\(key.id)|\(path)")
        }
        let kept = Set(keys.map(\.id))
        let going = live.filter { !kept.contains($0.keyID) }
        if !going.isEmpty {
            var byID: [Int64: RegisteredKey] = [:]
            try registry.forEachKey(matching: KeyFilter(kinds: [.local])) { key in
                if going.contains(where: { $0.keyID == key.id }) { byID[key.id] = key }
            }
            for copy in going {
                try eraseFile(of: copy, key: byID[copy.keyID])
                changes.erased.append(copy)
            }
        }
        try registry.recordMaterialization(changes, actor: actor, at: time)
        return changes
    }

    /// Erases the live copies of `key` recorded for `host` (revocation, on the host that
    /// revokes); copies on other hosts go at their next `materialize`. Returns how many.
    @discardableResult
    public func eraseCopies(of key: RegisteredKey, onHost host: String, actor: Actor, at time: Date) throws -> Int {
        let copies = try registry.materializedCopies(host: host, keyID: key.id, includingErased: false)
        guard !copies.isEmpty else { return 0 }
        for copy in copies { try eraseFile(of: copy, key: key) }
        try registry.recordMaterialization(
            MaterializationChanges(host: host, directory: (copies[0].path as NSString).deletingLastPathComponent, erased: copies),
            actor: actor, at: time)
        return copies.count
    }

    /// Overwrites and removes a recorded copy. The registry is hostile input: only a file named
    /// as that key's copy is ever touched, and a symbolic link is removed without following it.
    private func eraseFile(of copy: MaterializedCopy, key: RegisteredKey?) throws {
        let name = (copy.path as NSString).lastPathComponent
        let expected = key.map { state.privateKeyFileName(for: $0.recordName) }
        guard copy.path.hasPrefix("/"), name == expected, !copy.path.contains("/../"), !copy.path.contains("/./") else {
            throw DKIMError(
                .unsafePermissions,
                "the registry records a copy of key \(copy.keyID) at '\(TextEscaping.controlCharactersEscaped(copy.path))', which is not that key's file; refusing to touch it: was the registry edited?",
                remedy: .verifyRegister)
        }
        try PrivateKeyFile.destroy(copy.path)
    }

    /// Whether `path` is a regular file of ours, mode 0600, holding exactly `contents`.
    private static func holds(_ path: String, _ contents: Data) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o777 == PrivateKeyFile.fileMode,
            info.st_uid == geteuid()
        else { return false }
        return (try? PrivateKeyFile.read(path)) == contents
    }

    /// A directory for plaintext keys: a real directory (not a link), ours, that nobody else can write to.
    private func checkSigningDirectory(_ directory: String) throws {
        var info = stat()
        guard lstat(directory, &info) == 0 else { throw AtomicFile.systemError("inspect", directory) }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw DKIMError(.unsafePermissions, "\(directory) is not a directory (a symbolic link?); private keys are only written into a directory of their own")
        }
        guard info.st_uid == geteuid() else {
            throw DKIMError(.unsafePermissions, "\(directory) belongs to uid \(info.st_uid), not to this user (uid \(geteuid())); refusing to write private keys there")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw DKIMError(
                .unsafePermissions,
                "\(directory) is writable by others (mode \(String(info.st_mode & 0o7777, radix: 8))); fix with: chmod 700 \(directory)")
        }
    }
}
