import Foundation

/// Where the key-encryption key comes from (`keyEncryptionKey:` in the configuration).
public enum KeyEncryptionKeySource: Sendable, Equatable, CustomStringConvertible {
    /// A file only its owner can read (`openssl rand -hex 32 > kek; chmod 600 kek`).
    case file(String)
    /// A systemd credential: `$CREDENTIALS_DIRECTORY/NAME`, given by `LoadCredential=` or
    /// `LoadCredentialEncrypted=` (sealed with `systemd-creds encrypt`, TPM2 or host key).
    case credential(String)
    /// A command run through `/bin/sh -c` that prints the key on standard output (a KMS or
    /// Vault client); its standard error is passed through. Killed after 60 s.
    case command(String)

    public var description: String {
        switch self {
        case .file(let path): "file \(path)"
        case .credential(let name): "credential \(name)"
        case .command(let command): "command '\(command)'"
        }
    }

    /// Reads the KEK.
    /// - Throws: `DKIMError` naming the source: missing, readable by others, not a 256-bit key, command failed.
    public func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KeyEncryptionKey {
        switch self {
        case .file(let path):
            return try KeyEncryptionKey(material: try Self.readSecretFile(path, what: "key-encryption key file", checkMode: true), origin: description)
        case .credential(let name):
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                throw DKIMError(.invalidInput, "credential name '\(name)' is not a file name (allowed: a name without '/', as in LoadCredential=NAME:…)")
            }
            guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                throw DKIMError(
                    .notFound,
                    "credential \(name): $CREDENTIALS_DIRECTORY is not set; run under systemd with LoadCredential=\(name):PATH or LoadCredentialEncrypted=\(name):PATH")
            }
            // systemd makes the directory and its files readable by the service alone.
            return try KeyEncryptionKey(
                material: try Self.readSecretFile(directory + "/" + name, what: "credential", checkMode: false), origin: description)
        case .command(let command):
            let result: ChildProcess.Result
            do {
                result = try ChildProcess.run(
                    "/bin/sh", ["-c", command], environment: environment, timeout: 60, outputLimit: 4096, errorOutput: .inherited)
            } catch let error as DKIMError {
                throw DKIMError(.io, "cannot run the key-encryption key command '\(command)': \(error.message)")
            }
            guard result.status == 0, !result.timedOut else {
                let how = result.timedOut ? "was killed after 60 s" : result.signal.map { "was killed by signal \($0)" } ?? "exited with status \(result.status)"
                throw DKIMError(.io, "the key-encryption key command '\(command)' \(how); no key read")
            }
            var output = result.output
            defer { wipe(&output) }
            return try KeyEncryptionKey(material: output, origin: description)
        }
    }

    /// A secret file's bytes; refused when it is not a regular file or (with `checkMode`)
    /// when others than its owner may read it.
    static func readSecretFile(_ path: String, what: String, checkMode: Bool) throws -> Data {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw DKIMError(errno == ENOENT ? .notFound : .io, "cannot read the \(what) \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw DKIMError(.invalidInput, "the \(what) \(path) is not a regular file")
        }
        if checkMode, info.st_mode & 0o077 != 0 {
            throw DKIMError(
                .unsafePermissions,
                "the \(what) \(path) has mode \(String(info.st_mode & 0o7777, radix: 8)): others may read it; fix with: chmod 600 \(path)")
        }
        guard info.st_size <= 4096 else { throw DKIMError(.invalidInput, "the \(what) \(path) is \(info.st_size) octets; a key is at most a few dozen") }
        var buffer = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        let count = read(descriptor, &buffer, buffer.count)
        guard count >= 0 else { throw AtomicFile.systemError("read", path) }
        defer { for index in buffer.indices { buffer[index] = 0 } }
        return Data(buffer.prefix(count))
    }
}

/// Loads the KEK once per process, when a private key is first sealed or opened: a
/// command such as a Vault client runs at most once, and never for commands that do not need it.
public final class KeyEncryptionKeyLoader: @unchecked Sendable {
    public let source: KeyEncryptionKeySource
    private let lock = NSLock()
    private var loaded: KeyEncryptionKey?

    public init(_ source: KeyEncryptionKeySource) {
        self.source = source
    }

    public func key() throws -> KeyEncryptionKey {
        lock.lock()
        defer { lock.unlock() }
        if let loaded { return loaded }
        let key = try source.load()
        loaded = key
        return key
    }
}

/// Where new private keys are kept (`keyStore:` in the configuration), and the KEK that
/// opens the keys the registry keeps (`keyEncryptionKey:`): a KEK may be configured with
/// `keyStore: files` too, to keep reading keys sealed while the store was `registry`.
public struct PrivateKeyStore: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// One PKCS#8 PEM file per key in the state directory's `keys/` (the default).
        case files
        /// Sealed in the registry (`KeyEnvelope`) under the KEK.
        case registry
    }

    public var kind: Kind
    public var keyEncryptionKey: KeyEncryptionKeyLoader?

    public init(kind: Kind, keyEncryptionKey: KeyEncryptionKeyLoader?) {
        self.kind = kind
        self.keyEncryptionKey = keyEncryptionKey
    }

    public static let files = PrivateKeyStore(kind: .files, keyEncryptionKey: nil)

    /// The KEK, loaded on first use.
    /// - Throws: `DKIMError.invalidInput` when none is configured (`subject` names what needs it).
    public func kek(for subject: String) throws -> KeyEncryptionKey {
        guard let loader = keyEncryptionKey else {
            throw DKIMError(
                .invalidInput,
                "\(subject) needs the key-encryption key, and the configuration names none (keyEncryptionKey: with file, credential or command)")
        }
        return try loader.key()
    }
}
