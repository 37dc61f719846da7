import Foundation

/// A signed statement of the event log's head: "at TIME the log ended at event N
/// whose hash is H, with K keys". Kept outside the registry (`seals.log`) and
/// signed with an Ed25519 audit key kept outside the state directory, it catches
/// what the hash chain alone cannot: a whole-chain rewrite with recomputed hashes.
///
/// One seal is one line of `seals.log`:
///
///     dkimctl-seal-v1 event=N hash=H time=T keys=K signer=F sig=BASE64
///
/// The signature is pure Ed25519 (RFC 8032) over the line up to, not including,
/// ` sig=` — so an auditor checks it with `openssl pkeyutl -verify -rawin` alone
/// (runbooks/audit-event-chain.md).
public struct AuditSeal: Sendable, Equatable {
    public let eventID: Int64
    public let eventHash: String
    /// UTC, ISO 8601 with milliseconds.
    public let time: String
    public let keyCount: Int
    /// `SHA256:` fingerprint of the signer's raw Ed25519 public key.
    public let signer: String
    public let signature: Data

    public static let version = "dkimctl-seal-v1"

    /// The signed text.
    public var message: String {
        Self.message(eventID: eventID, eventHash: eventHash, time: time, keyCount: keyCount, signer: signer)
    }

    private static func message(eventID: Int64, eventHash: String, time: String, keyCount: Int, signer: String) -> String {
        "\(version) event=\(eventID) hash=\(eventHash) time=\(time) keys=\(keyCount) signer=\(signer)"
    }

    /// The line in `seals.log` (without the newline).
    public var line: String { message + " sig=" + signature.base64EncodedString() }

    /// Signs the head with `key` (an Ed25519 key).
    public init(eventID: Int64, eventHash: String, time: Date, keyCount: Int, key: AuditSealKey) throws {
        let time = Timestamp.iso8601Milliseconds(time)
        let message = Self.message(eventID: eventID, eventHash: eventHash, time: time, keyCount: keyCount, signer: key.fingerprint)
        self.init(
            eventID: eventID, eventHash: eventHash, time: time, keyCount: keyCount, signer: key.fingerprint,
            signature: try key.sign(Data(message.utf8)))
    }

    private init(eventID: Int64, eventHash: String, time: String, keyCount: Int, signer: String, signature: Data) {
        self.eventID = eventID
        self.eventHash = eventHash
        self.time = time
        self.keyCount = keyCount
        self.signer = signer
        self.signature = signature
    }

    /// Parses one line of `seals.log`; nil when it is not a seal of this version.
    public init?(line: String) {
        // Exactly the version, then these fields in this order, each `name=value`.
        let names = ["event", "hash", "time", "keys", "signer", "sig"]
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == names.count + 1, fields[0] == Self.version else { return nil }
        var values: [String] = []
        for (field, name) in zip(fields.dropFirst(), names) {
            guard field.hasPrefix(name + "=") else { return nil }
            values.append(String(field.dropFirst(name.count + 1)))
        }
        guard let event = Int64(values[0]), values[1].count == 64, let keys = Int(values[3]),
            let signature = Data(base64Encoded: values[5])
        else { return nil }
        let (hash, time, signer) = (values[1], values[2], values[4])
        self.init(eventID: event, eventHash: hash, time: time, keyCount: keys, signer: signer, signature: signature)
    }

    /// Whether the signature verifies with `publicKey` (raw Ed25519).
    public func verifies(with publicKey: Data) -> Bool {
        (try? KeyPair.verify(signature, over: Data(message.utf8), algorithm: .ed25519, dkimPublicKey: publicKey)) == true
    }
}

/// The Ed25519 key that signs seals. It lives outside the state directory, so
/// whoever can rewrite the registry cannot also sign a new history.
public struct AuditSealKey: Sendable {
    private let pair: KeyPair

    /// The raw 32-octet public key.
    public var publicKey: Data { pair.publicKeyBytes }
    public var fingerprint: String { PublicKeyFingerprint.of(pair.publicKeyBytes) }
    /// The public key as PEM (SubjectPublicKeyInfo), for the auditor and for OpenSSL.
    public var publicKeyPEM: String { Self.pem(rawPublicKey: pair.publicKeyBytes) }

    /// Generates a new key and writes it (PKCS#8 PEM, mode 0600) to `path`; refuses an existing file.
    public static func create(at path: String) throws -> AuditSealKey {
        let pair = try KeyPair.generate(KeySpecification(algorithm: .ed25519))
        try PrivateKeyFile.write(try pair.pkcs8PEM(), to: path)
        return AuditSealKey(pair: pair)
    }

    /// Reads the key from `path`.
    /// - Throws: `.notFound`/`.io` for a missing or unreadable file, `.invalidInput` when it is not an Ed25519 private key.
    public static func load(from path: String) throws -> AuditSealKey {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DKIMError(.notFound, "cannot read the audit key \(path): \((error as NSError).localizedDescription)")
        }
        let pair: KeyPair
        do {
            pair = try KeyPair(pem: data)
        } catch {
            throw DKIMError(.invalidInput, "\(path) is not a PEM private key", remedy: .createAuditKey)
        }
        guard pair.algorithm == .ed25519 else {
            throw DKIMError(.invalidInput, "\(path) is a \(pair.algorithm.rawValue) key; audit seals are signed with Ed25519", remedy: .createAuditKey)
        }
        return AuditSealKey(pair: pair)
    }

    func sign(_ message: Data) throws -> Data { try pair.sign(message) }

    /// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4): SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING }.
    private static let spkiPrefix = Data([0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00])

    public static func pem(rawPublicKey: Data) -> String {
        let base64 = (spkiPrefix + rawPublicKey).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN PUBLIC KEY-----\n\(base64)\n-----END PUBLIC KEY-----\n"
    }

    /// The raw Ed25519 public key of a PEM public key file.
    /// - Throws: `DKIMError.invalidInput` when the text is not an Ed25519 public key in PEM.
    public static func rawPublicKey(pem text: String) throws -> Data {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN PUBLIC KEY-----"), let end = lines.firstIndex(of: "-----END PUBLIC KEY-----"),
            begin < end, let der = Data(base64Encoded: lines[(begin + 1)..<end].joined()),
            der.count == spkiPrefix.count + 32, der.prefix(spkiPrefix.count) == spkiPrefix
        else {
            throw DKIMError(.invalidInput, "not an Ed25519 public key in PEM (-----BEGIN PUBLIC KEY-----)", remedy: .createAuditKey)
        }
        return der.suffix(32)
    }
}

/// `<state>/seals.log`: one seal per line, appended, never rewritten.
public enum SealLog {
    /// Appends `seal` as one line (O_APPEND, then fsync).
    public static func append(_ seal: AuditSeal, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { throw AtomicFile.systemError("open", path) }
        defer { close(descriptor) }
        let bytes = Array((seal.line + "\n").utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw AtomicFile.systemError("append to", path) }
        guard fsync(descriptor) == 0 else { throw AtomicFile.systemError("fsync", path) }
    }

    /// The seals of the file with their line numbers; lines that are not seals are returned as nil.
    public static func read(_ path: String) throws -> [(line: Int, seal: AuditSeal?)] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DKIMError(.io, "cannot read \(path): \((error as NSError).localizedDescription)")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { !$0.element.isEmpty }
            .map { (line: $0.offset + 1, seal: AuditSeal(line: String($0.element))) }
    }

    /// The outcome of checking every seal against the chain.
    public struct Verification: Sendable, Equatable {
        public let path: String
        public let sealCount: Int
        public let problems: [String]
        /// When the newest seal was made.
        public let lastSealTime: String?
        public var isIntact: Bool { problems.isEmpty && sealCount > 0 }
    }

    /// Checks every seal of `path`: it parses, its signature verifies with one of `publicKeys`
    /// (raw Ed25519), and the event it names still has the hash it sealed (`hashOfEvent`).
    public static func verify(_ path: String, publicKeys: [Data], hashOfEvent: (Int64) throws -> String?) throws -> Verification {
        let entries = try read(path)
        var problems: [String] = []
        let signers = Dictionary(publicKeys.map { (PublicKeyFingerprint.of($0), $0) }) { first, _ in first }
        for entry in entries {
            guard let seal = entry.seal else {
                problems.append("\(path) line \(entry.line) is not a seal")
                continue
            }
            let label = "seal of event \(seal.eventID) made \(seal.time) (\(path) line \(entry.line))"
            if let publicKey = signers[seal.signer] {
                if !seal.verifies(with: publicKey) {
                    problems.append("\(label): the signature does not verify: the line was edited")
                }
            } else {
                problems.append("\(label) is signed by \(seal.signer), not by a given public key (\(signers.keys.sorted().joined(separator: ", ")))")
            }
            switch try hashOfEvent(seal.eventID) {
            case nil:
                problems.append("\(label): event \(seal.eventID) is no longer in the log: the chain was cut or rewritten")
            case let hash? where hash != seal.eventHash:
                problems.append("\(label): event \(seal.eventID) now has hash \(hash), not the sealed \(seal.eventHash): the chain was rewritten at or before it")
            default:
                break
            }
        }
        if entries.isEmpty { problems.append("\(path) holds no seal: seal the register's head with the audit key first") }
        return Verification(
            path: path, sealCount: entries.count, problems: problems,
            lastSealTime: entries.compactMap(\.seal).last?.time)
    }
}
