internal import COpenSSL
import Foundation

// The thin wall around libcrypto. Every unsafe pointer in DKIMKit lives in this
// file; the rest of the library sees `EVPKey` and plain `Data`.

/// Drains OpenSSL's thread-local error queue into one readable `DKIMError`.
func openSSLError(_ operation: String) -> DKIMError {
    var reasons: [String] = []
    while case let code = ERR_get_error(), code != 0 {
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        reasons.append(String(decoding: bytes, as: UTF8.self))
    }
    let detail = reasons.isEmpty ? "no detail from OpenSSL" : reasons.joined(separator: "; ")
    return DKIMError(.crypto, "OpenSSL failed to \(operation): \(detail)")
}

/// Owns an `EVP_PKEY` and frees it when the last reference goes.
///
/// `@unchecked Sendable`: the key is never mutated after construction, and
/// OpenSSL 3 documents `EVP_PKEY` as safe for concurrent read-only use.
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer

    private init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// Generates a fresh keypair with OpenSSL's default provider.
    static func generate(_ specification: KeySpecification) throws -> EVPKey {
        ERR_clear_error()
        let name = specification.algorithm == .rsa ? "RSA" : "ED25519"
        guard let context = EVP_PKEY_CTX_new_from_name(nil, name, nil) else {
            throw openSSLError("create a \(name) key-generation context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else { throw openSSLError("initialise \(name) key generation") }
        if specification.algorithm == .rsa {
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(specification.bits)) == 1 else {
                throw openSSLError("set the RSA key size to \(specification.bits)")
            }
        }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(context, &key) == 1, let key else {
            throw openSSLError("generate a \(specification.bits)-bit \(name) key")
        }
        return EVPKey(key)
    }

    /// Reads a private key from PEM (PKCS#8 or traditional).
    static func privateKey(pem: Data) throws -> EVPKey {
        ERR_clear_error()
        let key: OpaquePointer? = try withMemoryBIO(pem) { bio in PEM_read_bio_PrivateKey(bio, nil, nil, nil) }
        guard let key else { throw openSSLError("read the private key PEM") }
        return EVPKey(key)
    }

    /// Builds a public-only key from the `p=` bytes of a DKIM record.
    static func publicKey(algorithm: KeyAlgorithm, dkimPublicKey bytes: Data) throws -> EVPKey {
        ERR_clear_error()
        let key: OpaquePointer? = bytes.withUnsafeBytes { raw in
            let base = raw.bindMemory(to: UInt8.self).baseAddress
            switch algorithm {
            case .rsa:
                // RFC 6376 §3.6.1: p= holds a DER SubjectPublicKeyInfo for RSA.
                var cursor = base
                return d2i_PUBKEY(nil, &cursor, raw.count)
            case .ed25519:
                // RFC 8463 §4.2: p= holds the raw 32-byte Ed25519 public key.
                return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, base, raw.count)
            }
        }
        guard let key else { throw openSSLError("decode the \(algorithm.rawValue) public key") }
        return EVPKey(key)
    }

    /// `RSA` or `ED25519` as OpenSSL names the key type; nil for anything else.
    var algorithm: KeyAlgorithm? {
        if EVP_PKEY_is_a(pointer, "RSA") == 1 { return .rsa }
        if EVP_PKEY_is_a(pointer, "ED25519") == 1 { return .ed25519 }
        return nil
    }

    var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// The DER SubjectPublicKeyInfo (`openssl pkey -pubout -outform DER`).
    func subjectPublicKeyInfo() throws -> Data {
        ERR_clear_error()
        let length = i2d_PUBKEY(pointer, nil)
        guard length > 0 else { throw openSSLError("encode the public key as DER") }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_PUBKEY(pointer, &cursor)
        }
        guard written == length else { throw openSSLError("encode the public key as DER") }
        return Data(bytes)
    }

    /// The raw public key (32 bytes for Ed25519).
    func rawPublicKey() throws -> Data {
        ERR_clear_error()
        var length = 0
        guard EVP_PKEY_get_raw_public_key(pointer, nil, &length) == 1 else {
            throw openSSLError("read the raw public key")
        }
        var bytes = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_get_raw_public_key(pointer, &bytes, &length) == 1 else {
            throw openSSLError("read the raw public key")
        }
        return Data(bytes.prefix(length))
    }

    /// The private key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY").
    ///
    /// Written through a secure-memory BIO, which OpenSSL clears when it is freed.
    func pkcs8PEM() throws -> Data {
        ERR_clear_error()
        guard let bio = BIO_new(BIO_s_secmem()) else { throw openSSLError("allocate a memory BIO") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PKCS8PrivateKey(bio, pointer, nil, nil, 0, nil, nil) == 1 else {
            throw openSSLError("write the private key as PKCS#8 PEM")
        }
        var data: UnsafeMutablePointer<CChar>?
        let length = dkimctl_BIO_get_mem_data(bio, &data)
        guard length > 0, let data else { throw openSSLError("read the PEM back from memory") }
        return Data(bytes: data, count: length)
    }

    /// Signs `message` as DKIM does: SHA-256 then RSA PKCS#1 v1.5 for RSA
    /// (RFC 6376 §3.3.1), pure Ed25519 over the digest input for Ed25519 (RFC 8463).
    func sign(_ message: Data) throws -> Data {
        try withDigestContext(EVP_DigestSignInit, "initialise signing") { context in
            try sign(message, context: context)
        }
    }

    private func sign(_ message: Data, context: OpaquePointer) throws -> Data {
        var length = 0
        let sized = message.withUnsafeBytes { raw in
            EVP_DigestSign(context, nil, &length, raw.bindMemory(to: UInt8.self).baseAddress, raw.count)
        }
        guard sized == 1 else { throw openSSLError("size the signature") }
        var signature = [UInt8](repeating: 0, count: length)
        let signed = message.withUnsafeBytes { raw in
            EVP_DigestSign(context, &signature, &length, raw.bindMemory(to: UInt8.self).baseAddress, raw.count)
        }
        guard signed == 1 else { throw openSSLError("sign the test message") }
        return Data(signature.prefix(length))
    }

    /// Whether `signature` over `message` verifies with this key's public half.
    func verify(_ signature: Data, over message: Data) throws -> Bool {
        try withDigestContext(EVP_DigestVerifyInit, "initialise verification") { context in
            verify(signature, over: message, context: context)
        }
    }

    private func verify(_ signature: Data, over message: Data, context: OpaquePointer) -> Bool {
        let result = signature.withUnsafeBytes { signatureBytes in
            message.withUnsafeBytes { messageBytes in
                EVP_DigestVerify(
                    context,
                    signatureBytes.bindMemory(to: UInt8.self).baseAddress, signatureBytes.count,
                    messageBytes.bindMemory(to: UInt8.self).baseAddress, messageBytes.count)
            }
        }
        ERR_clear_error()
        return result == 1
    }
}

extension EVPKey {
    /// Runs `body` with a digest context initialised by `initialise`
    /// (`EVP_DigestSignInit` or `EVP_DigestVerifyInit`) for this key: SHA-256
    /// for RSA, no separate digest for Ed25519.
    fileprivate func withDigestContext<T>(
        _ initialise: (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>?, OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32,
        _ operation: String,
        _ body: (OpaquePointer) throws -> T
    ) throws -> T {
        ERR_clear_error()
        guard let context = EVP_MD_CTX_new() else { throw openSSLError("allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        let digest = algorithm == .rsa ? EVP_sha256() : nil
        guard initialise(context, nil, digest, nil, pointer) == 1 else { throw openSSLError(operation) }
        return try body(context)
    }
}

/// SHA-256 through libcrypto (used for fingerprints and the event hash chain).
func sha256(_ data: Data) -> Data {
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let status = data.withUnsafeBytes { raw in
        EVP_Digest(raw.baseAddress, raw.count, &digest, &length, EVP_sha256(), nil)
    }
    precondition(status == 1, "EVP_Digest(SHA-256) cannot fail on in-memory input")
    return Data(digest.prefix(Int(length)))
}

private func withMemoryBIO<T>(_ data: Data, _ body: (OpaquePointer) throws -> T) throws -> T {
    try data.withUnsafeBytes { raw in
        guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
            throw openSSLError("allocate a memory BIO")
        }
        defer { BIO_free(bio) }
        return try body(bio)
    }
}
