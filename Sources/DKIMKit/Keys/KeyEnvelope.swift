import Foundation

/// A key-encryption key (KEK): 32 octets that wrap the data key of every private key
/// kept in the registry. It never leaves memory; the registry only holds its `id`.
public struct KeyEncryptionKey: Sendable {
    let bytes: Data
    /// 16 hex digits naming the KEK (the first 8 octets of SHA-256 over a fixed label and
    /// the key): tells which KEK sealed a key without revealing anything of it.
    public let id: String
    /// Where it came from ("file /etc/dkimctl/kek", "credential dkimctl-kek", …), for messages.
    public let origin: String

    /// Reads a KEK: exactly 32 raw octets, or (surrounding white space ignored) 64 hex
    /// digits or the base64 of 32 octets — what `openssl rand -hex 32` or
    /// `openssl rand -base64 32` print.
    /// - Throws: `DKIMError.invalidInput` naming the origin and what is allowed.
    public init(material: Data, origin: String) throws {
        var key: Data?
        if material.count == AESGCM.keyLength {
            key = material
        } else if material.count < 200 {
            let text = String(decoding: material, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.count == 64, let bytes = Self.hexBytes(text) {
                key = bytes
            } else if let bytes = Data(base64Encoded: text), bytes.count == AESGCM.keyLength {
                key = bytes
            }
        }
        guard let key else {
            throw DKIMError(
                .invalidInput,
                "the key-encryption key from \(origin) is not a 256-bit key (found \(material.count) octets; allowed: 32 raw octets, 64 hex digits or base64 of 32 octets, e.g. from 'openssl rand -hex 32')")
        }
        guard key.contains(where: { $0 != 0 }) else {
            throw DKIMError(.invalidInput, "the key-encryption key from \(origin) is all zero octets; generate one with 'openssl rand -hex 32'")
        }
        bytes = key
        id = sha256(Data("dkimctl key-encryption key id\u{0}".utf8) + key).prefix(8).hexadecimal
        self.origin = origin
    }

    private static func hexBytes(_ text: String) -> Data? {
        var bytes = Data()
        var high: UInt8?
        for character in text.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return high == nil ? bytes : nil
    }
}

/// A private key as the registry keeps it: encrypted under its own random data key,
/// which is itself encrypted (wrapped) under the KEK — both with AES-256-GCM, both
/// bound to the key's record name and fingerprint, so an envelope moved onto another
/// key's row does not open.
public struct SealedPrivateKey: Sendable, Equatable {
    /// The `KeyEncryptionKey.id` of the KEK that wrapped the data key.
    public let kekID: String
    /// The data key, AES-256-GCM under the KEK: nonce ‖ ciphertext ‖ tag.
    public let wrappedDataKey: Data
    /// The PKCS#8 PEM, AES-256-GCM under the data key: nonce ‖ ciphertext ‖ tag.
    public let ciphertext: Data

    public init(kekID: String, wrappedDataKey: Data, ciphertext: Data) {
        self.kekID = kekID
        self.wrappedDataKey = wrappedDataKey
        self.ciphertext = ciphertext
    }
}

/// Envelope encryption of private keys (the pattern of cloud KMS "data keys"): one
/// fresh data key per private key, so erasing a key's envelope erases that key alone
/// (crypto-erase) and changing the KEK only re-wraps 60-octet data keys.
public enum KeyEnvelope {
    public static let cipher = "AES-256-GCM"

    /// What each envelope is bound to (GCM associated data): the key's record name and fingerprint.
    static func binding(recordName: String, fingerprint: String) -> Data {
        Data("dkimctl private key envelope v1\u{0}\(recordName)\u{0}\(fingerprint)".utf8)
    }

    /// Seals `pem` for the key published at `recordName` with `fingerprint`.
    public static func seal(_ pem: Data, recordName: String, fingerprint: String, under kek: KeyEncryptionKey) throws -> SealedPrivateKey {
        let binding = binding(recordName: recordName, fingerprint: fingerprint)
        var dataKey = try randomBytes(AESGCM.keyLength)
        defer { wipe(&dataKey) }
        let ciphertext = try AESGCM.seal(pem, key: dataKey, associatedData: binding)
        let wrapped = try AESGCM.seal(dataKey, key: kek.bytes, associatedData: binding)
        return SealedPrivateKey(kekID: kek.id, wrappedDataKey: wrapped, ciphertext: ciphertext)
    }

    /// The same envelope with its data key wrapped under `next` instead of `previous` (KEK
    /// rotation): the ciphertext is untouched, the data key is checked to open it first.
    /// - Throws: as `open`, when `previous` is not the KEK that sealed it.
    public static func rewrap(
        _ sealed: SealedPrivateKey, recordName: String, fingerprint: String, from previous: KeyEncryptionKey, to next: KeyEncryptionKey,
        subject: String
    ) throws -> SealedPrivateKey {
        var pem = try open(sealed, recordName: recordName, fingerprint: fingerprint, with: previous, subject: subject)
        wipe(&pem)
        let binding = binding(recordName: recordName, fingerprint: fingerprint)
        guard var dataKey = try AESGCM.open(sealed.wrappedDataKey, key: previous.bytes, associatedData: binding) else {
            throw DKIMError(.crypto, "the data key of \(subject) does not open under key-encryption key \(previous.id)")
        }
        defer { wipe(&dataKey) }
        return SealedPrivateKey(
            kekID: next.id, wrappedDataKey: try AESGCM.seal(dataKey, key: next.bytes, associatedData: binding), ciphertext: sealed.ciphertext)
    }

    /// Opens an envelope made by `seal`; `subject` names the key in messages.
    /// - Throws: `DKIMError.crypto` when `kek` is not the KEK that sealed it (both ids named),
    ///   or when the envelope does not authenticate (altered, or moved from another key).
    public static func open(
        _ sealed: SealedPrivateKey, recordName: String, fingerprint: String, with kek: KeyEncryptionKey, subject: String
    ) throws -> Data {
        guard sealed.kekID == kek.id else {
            throw DKIMError(
                .crypto,
                "the key-encryption key from \(kek.origin) (id \(kek.id)) is not the one the private key of \(subject) was sealed with (id \(sealed.kekID))")
        }
        let binding = binding(recordName: recordName, fingerprint: fingerprint)
        let altered = DKIMError(
            .crypto,
            "the sealed private key of \(subject) does not authenticate under key-encryption key \(kek.id): its envelope in the registry was altered or belongs to another key",
            remedy: .verifyRegister)
        guard var dataKey = try AESGCM.open(sealed.wrappedDataKey, key: kek.bytes, associatedData: binding), dataKey.count == AESGCM.keyLength else {
            throw altered
        }
        defer { wipe(&dataKey) }
        guard let pem = try AESGCM.open(sealed.ciphertext, key: dataKey, associatedData: binding) else { throw altered }
        return pem
    }
}
