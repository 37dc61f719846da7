import Foundation

/// A DKIM signing keypair.
///
/// Holds the OpenSSL key privately (as swift-crypto does) so no caller touches
/// C. The private half leaves this type only through `pkcs8PEM()`, called by
/// the code that writes the key file.
public struct KeyPair: Sendable {
    private let backing: EVPKey

    public let algorithm: KeyAlgorithm
    /// Modulus size for RSA, 256 for Ed25519.
    public let bits: Int
    /// The bytes published in the record's `p=` tag: the DER SubjectPublicKeyInfo
    /// for RSA (RFC 6376 §3.6.1), the raw 32-byte key for Ed25519 (RFC 8463 §4.2).
    public let publicKeyBytes: Data

    /// Generates a keypair and proves it works by signing and verifying a test
    /// message against the public half as it will be published.
    /// - Throws: `DKIMError.crypto` when OpenSSL fails or the self-test does not verify.
    public static func generate(_ specification: KeySpecification) throws -> KeyPair {
        let pair = try KeyPair(backing: EVPKey.generate(specification))
        try pair.selfTest()
        return pair
    }

    /// Reads a private key from PEM text.
    public init(pem: Data) throws {
        try self.init(backing: EVPKey.privateKey(pem: pem))
    }

    private init(backing: EVPKey) throws {
        guard let algorithm = backing.algorithm else {
            throw DKIMError(.crypto, "the key is neither RSA nor Ed25519")
        }
        self.backing = backing
        self.algorithm = algorithm
        self.bits = backing.bits
        switch algorithm {
        case .rsa: publicKeyBytes = try backing.subjectPublicKeyInfo()
        case .ed25519: publicKeyBytes = try backing.rawPublicKey()
        }
    }

    /// The `p=` value: base64 of `publicKeyBytes`, no line breaks.
    public var dkimPublicKey: String { publicKeyBytes.base64EncodedString() }

    /// `sha256:` and the hex SHA-256 of the published public-key bytes.
    public var fingerprint: String { PublicKeyFingerprint.of(publicKeyBytes) }

    /// The private key as unencrypted PKCS#8 PEM. Only key-file writers call this.
    public func pkcs8PEM() throws -> Data { try backing.pkcs8PEM() }

    /// Signs `message` with the private key (SHA-256 for RSA, pure Ed25519).
    public func sign(_ message: Data) throws -> Data { try backing.sign(message) }

    /// Signs a message, then verifies the signature with a public key rebuilt
    /// from the `p=` bytes alone, exactly as a receiver would.
    public func selfTest() throws {
        let message = Data("dkimctl self-test \(UUID().uuidString)".utf8)
        let signature = try backing.sign(message)
        let published = try EVPKey.publicKey(algorithm: algorithm, dkimPublicKey: publicKeyBytes)
        guard try published.verify(signature, over: message) else {
            throw DKIMError(.crypto, "self-test failed: a signature by the new \(algorithm.rawValue) key does not verify with its public key")
        }
    }

    /// Whether `signature` over `message` verifies against a DKIM `p=` value.
    public static func verify(
        _ signature: Data, over message: Data, algorithm: KeyAlgorithm, dkimPublicKey: Data
    ) throws -> Bool {
        try EVPKey.publicKey(algorithm: algorithm, dkimPublicKey: dkimPublicKey).verify(signature, over: message)
    }
}

/// The fingerprint dkimctl shows and stores for a public key.
public enum PublicKeyFingerprint {
    /// `sha256:<hex>` over the bytes that `p=` carries (so a record read from
    /// DNS can be fingerprinted the same way).
    public static func of(_ publicKeyBytes: Data) -> String {
        "sha256:" + sha256(publicKeyBytes).hexadecimal
    }
}

extension Data {
    var hexadecimal: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// SHA-256 as lowercase hex, for the event chain.
func sha256Hex(_ text: String) -> String {
    sha256(Data(text.utf8)).hexadecimal
}

/// Facts about a public key read from a DKIM record (a provider's key we only track).
public enum PublicKeyInfo {
    /// The algorithm and size of the key in a record's `p=` bytes, read from the key
    /// itself: a DER SubjectPublicKeyInfo holding an RSA key, or 32 raw Ed25519 octets.
    /// nil when the bytes are neither.
    public static func facts(dkimPublicKey bytes: Data) -> (algorithm: KeyAlgorithm, bits: Int)? {
        if bytes.count == 32, let key = try? EVPKey.publicKey(algorithm: .ed25519, dkimPublicKey: bytes) {
            return (.ed25519, key.bits)
        }
        if let key = try? EVPKey.publicKey(algorithm: .rsa, dkimPublicKey: bytes), key.algorithm == .rsa {
            return (.rsa, key.bits)
        }
        return nil
    }

    /// The key's size in bits (the RSA modulus; 256 for Ed25519).
    /// - Throws: `DKIMError.crypto` when `p=` does not decode as a key of `algorithm`.
    public static func bits(algorithm: KeyAlgorithm, dkimPublicKey bytes: Data) throws -> Int {
        try EVPKey.publicKey(algorithm: algorithm, dkimPublicKey: bytes).bits
    }
}
