internal import COpenSSL
import Foundation

// AES-256-GCM (NIST SP 800-38D) and random bytes through libcrypto, for the envelope
// encryption of private keys kept in the registry (`KeyEnvelope`).

/// AES-256-GCM with a random 96-bit nonce and a 128-bit tag. A box is
/// `nonce ‖ ciphertext ‖ tag`; the associated data is authenticated, not stored.
enum AESGCM {
    static let keyLength = 32
    static let nonceLength = 12
    static let tagLength = 16

    /// Encrypts `plaintext` under `key` (32 octets) with a fresh random nonce.
    static func seal(_ plaintext: Data, key: Data, associatedData: Data) throws -> Data {
        precondition(key.count == keyLength, "AES-256-GCM takes a 32-octet key")
        let nonce = try randomBytes(nonceLength)
        return try withCipherContext("encrypt with AES-256-GCM") { context in
            try prepare(context, encrypting: true, key: key, nonce: nonce, associatedData: associatedData)
            var output = [UInt8](repeating: 0, count: plaintext.count + 16)
            var total: Int32 = 0
            let encrypted = plaintext.withUnsafeBytes { input in
                EVP_EncryptUpdate(context, &output, &total, input.bindMemory(to: UInt8.self).baseAddress, Int32(input.count))
            }
            guard encrypted == 1 else { throw openSSLError("encrypt") }
            var finalLength: Int32 = 0
            let finished = output.withUnsafeMutableBufferPointer { buffer in
                EVP_EncryptFinal_ex(context, buffer.baseAddress! + Int(total), &finalLength)
            }
            guard finished == 1 else { throw openSSLError("finish the encryption") }
            var tag = [UInt8](repeating: 0, count: tagLength)
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), &tag) == 1 else {
                throw openSSLError("read the GCM tag")
            }
            return nonce + Data(output.prefix(Int(total + finalLength))) + Data(tag)
        }
    }

    /// Decrypts a box made by `seal`; nil when it does not authenticate (wrong key,
    /// altered box or associated data).
    static func open(_ box: Data, key: Data, associatedData: Data) throws -> Data? {
        precondition(key.count == keyLength, "AES-256-GCM takes a 32-octet key")
        guard box.count >= nonceLength + tagLength else { return nil }
        let bytes = [UInt8](box)
        let nonce = Array(bytes[0..<nonceLength])
        let ciphertext = Array(bytes[nonceLength..<(bytes.count - tagLength)])
        var tag = Array(bytes[(bytes.count - tagLength)...])
        return try withCipherContext("decrypt with AES-256-GCM") { context in
            try prepare(context, encrypting: false, key: key, nonce: Data(nonce), associatedData: associatedData)
            var output = [UInt8](repeating: 0, count: ciphertext.count + 16)
            var total: Int32 = 0
            guard EVP_DecryptUpdate(context, &output, &total, ciphertext, Int32(ciphertext.count)) == 1 else {
                throw openSSLError("decrypt")
            }
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), &tag) == 1 else {
                throw openSSLError("set the GCM tag")
            }
            var finalLength: Int32 = 0
            let authentic = output.withUnsafeMutableBufferPointer { buffer in
                EVP_DecryptFinal_ex(context, buffer.baseAddress! + Int(total), &finalLength)
            }
            ERR_clear_error()
            defer { output.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } }
            guard authentic == 1 else { return nil }
            return Data(output.prefix(Int(total + finalLength)))
        }
    }

    /// Sets the cipher, the nonce length, the key and nonce, then feeds the associated data.
    private static func prepare(_ context: OpaquePointer, encrypting: Bool, key: Data, nonce: Data, associatedData: Data) throws {
        let initialise = encrypting ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        guard initialise(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceLength), nil) == 1
        else { throw openSSLError("set up AES-256-GCM") }
        let keyed = key.withUnsafeBytes { keyBytes in
            nonce.withUnsafeBytes { nonceBytes in
                initialise(context, nil, nil, keyBytes.bindMemory(to: UInt8.self).baseAddress, nonceBytes.bindMemory(to: UInt8.self).baseAddress)
            }
        }
        guard keyed == 1 else { throw openSSLError("key AES-256-GCM") }
        let update = encrypting ? EVP_EncryptUpdate : EVP_DecryptUpdate
        var length: Int32 = 0
        let accepted = associatedData.withUnsafeBytes { aad in
            update(context, nil, &length, aad.bindMemory(to: UInt8.self).baseAddress, Int32(aad.count))
        }
        guard accepted == 1 else { throw openSSLError("authenticate the associated data") }
    }

    private static func withCipherContext<T>(_ operation: String, _ body: (OpaquePointer) throws -> T) throws -> T {
        ERR_clear_error()
        guard let context = EVP_CIPHER_CTX_new() else { throw openSSLError("allocate a cipher context to \(operation)") }
        defer { EVP_CIPHER_CTX_free(context) }
        return try body(context)
    }
}

/// `count` octets from OpenSSL's CSPRNG.
func randomBytes(_ count: Int) throws -> Data {
    var bytes = [UInt8](repeating: 0, count: count)
    guard RAND_bytes(&bytes, Int32(count)) == 1 else { throw openSSLError("draw \(count) random octets") }
    return Data(bytes)
}

/// Overwrites `data`'s bytes with zeros (OPENSSL_cleanse: not optimised away): for plaintext keys
/// held in memory no longer than needed.
public func wipe(_ data: inout Data) {
    data.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
}
