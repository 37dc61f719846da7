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
    ///
    /// Read with a small DER walk rather than OpenSSL's decoders: the audit reads every
    /// key of the register, and OpenSSL 3 spends ~80 µs building each EVP_PKEY.
    public static func facts(dkimPublicKey bytes: Data) -> (algorithm: KeyAlgorithm, bits: Int)? {
        if bytes.count == 32 { return (.ed25519, 256) }
        return RSASubjectPublicKeyInfo.modulusBits(Array(bytes)).map { (.rsa, $0) }
    }

    /// The key's size in bits (the RSA modulus; 256 for Ed25519).
    /// - Throws: `DKIMError.crypto` when `p=` does not decode as a key of `algorithm`.
    public static func bits(algorithm: KeyAlgorithm, dkimPublicKey bytes: Data) throws -> Int {
        try EVPKey.publicKey(algorithm: algorithm, dkimPublicKey: bytes).bits
    }
}

/// Just enough DER (X.690) to read an RSA SubjectPublicKeyInfo (RFC 5280 §4.1.2.7,
/// RFC 8017 A.1.1): the modulus size, every length bounds-checked.
enum RSASubjectPublicKeyInfo {
    /// OID 1.2.840.113549.1.1.1 (rsaEncryption), DER-encoded with its tag and length.
    private static let rsaEncryption: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]

    static func modulusBits(_ der: [UInt8]) -> Int? {
        var reader = Reader(bytes: der[...])
        guard var spki = reader.element(tag: 0x30), reader.isAtEnd,
            var algorithm = spki.element(tag: 0x30), algorithm.take(rsaEncryption.count) == rsaEncryption[...],
            var bitString = spki.element(tag: 0x03), spki.isAtEnd,
            bitString.take(1) == [0x00],
            var rsaKey = bitString.element(tag: 0x30), bitString.isAtEnd,
            let modulus = rsaKey.element(tag: 0x02), rsaKey.element(tag: 0x02) != nil, rsaKey.isAtEnd
        else { return nil }
        var octets = modulus.rest
        while octets.first == 0 { octets = octets.dropFirst() }
        guard let top = octets.first else { return nil }
        return (octets.count - 1) * 8 + (8 - top.leadingZeroBitCount)
    }

    private struct Reader {
        var bytes: ArraySlice<UInt8>

        var isAtEnd: Bool { bytes.isEmpty }
        var rest: ArraySlice<UInt8> { bytes }

        mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, bytes.count >= count else { return nil }
            defer { bytes = bytes.dropFirst(count) }
            return bytes.prefix(count)
        }

        /// The contents of the next element if it has `tag` (definite lengths only).
        mutating func element(tag: UInt8) -> Reader? {
            guard let header = take(2), header.first == tag, let first = header.last else { return nil }
            var length = Int(first)
            if first & 0x80 != 0 {
                let count = Int(first & 0x7F)
                guard (1...4).contains(count), let octets = take(count) else { return nil }
                length = octets.reduce(0) { $0 << 8 | Int($1) }
            }
            return take(length).map { Reader(bytes: $0) }
        }
    }
}
