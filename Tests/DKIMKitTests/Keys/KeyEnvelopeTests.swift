@testable import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// Envelope encryption of private keys kept in the registry: AES-256-GCM against the
/// published test vectors, KEKs read from their three sources, and every way an
/// envelope must refuse to open.
@Suite struct KeyEnvelopeTests {
    static func hex(_ text: String) -> Data {
        var bytes = Data()
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    /// McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 96-bit IV, with AAD).
    @Test func aesGCMOpensTheStandardsTestVectorAndRefusesAnAlteredOne() throws {
        let key = Self.hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
        let nonce = Self.hex("cafebabefacedbaddecaf888")
        let plaintext = Self.hex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
        let aad = Self.hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
        let ciphertext = Self.hex(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662")
        let tag = Self.hex("76fc6ece0f4e1768cddf8853bb2d551b")
        #expect(try AESGCM.open(nonce + ciphertext + tag, key: key, associatedData: aad) == plaintext)
        var flipped = ciphertext
        flipped[flipped.startIndex + 3] ^= 0x01
        #expect(try AESGCM.open(nonce + flipped + tag, key: key, associatedData: aad) == nil)
        #expect(try AESGCM.open(nonce + ciphertext + tag, key: key, associatedData: aad + Data([0])) == nil)
        // What seal makes, open reads back; two seals of the same text differ (fresh nonces).
        let first = try AESGCM.seal(plaintext, key: key, associatedData: aad)
        let second = try AESGCM.seal(plaintext, key: key, associatedData: aad)
        #expect(first != second && first.count == 12 + plaintext.count + 16)
        #expect(try AESGCM.open(first, key: key, associatedData: aad) == plaintext)
    }

    @Test func aKeyEncryptionKeyIsReadRawHexOrBase64() throws {
        let raw = Data((0..<32).map { UInt8($0 + 1) })
        let hex = raw.map { String(format: "%02x", $0) }.joined()
        let keys = try [
            KeyEncryptionKey(material: raw, origin: "raw"),
            KeyEncryptionKey(material: Data((hex + "\n").utf8), origin: "hex"),
            KeyEncryptionKey(material: Data((hex.uppercased()).utf8), origin: "HEX"),
            KeyEncryptionKey(material: Data((raw.base64EncodedString() + "\n").utf8), origin: "base64"),
        ]
        #expect(Set(keys.map(\.bytes)) == [raw])
        #expect(Set(keys.map(\.id)).count == 1 && keys[0].id.count == 16)
        #expect(keys[0].id != KeyEncryptionKey.sha256Hex(raw).prefix(16), "the id is not a bare hash of the key")
    }

    @Test(arguments: [
        ("deadbeef\n", "found 9 octets"),
        (String(repeating: "ab", count: 31) + "zz", "found 64 octets"),
        (String(repeating: "0", count: 64), "all zero octets"),
        ("", "found 0 octets"),
    ])
    func aKeyThatIsNot256BitsIsRefused(text: String, fragment: String) throws {
        let error = try #require(throws: DKIMError.self) { try KeyEncryptionKey(material: Data(text.utf8), origin: "file /etc/kek") }
        #expect(error.message.contains("the key-encryption key from file /etc/kek"), "\(error.message)")
        #expect(error.message.contains(fragment), "\(error.message)")
    }

    @Test func anEnvelopeOpensOnlyWithItsKEKForItsOwnKey() throws {
        let kek = try KeyEncryptionKey(material: Data(repeating: 7, count: 32), origin: "file a")
        let other = try KeyEncryptionKey(material: Data(repeating: 8, count: 32), origin: "file b")
        let pair = try KeyPair.generate(KeySpecification(algorithm: .ed25519, bits: nil))
        let pem = try pair.pkcs8PEM()
        let name = "s1._domainkey.example.org"
        let sealed = try KeyEnvelope.seal(pem, recordName: name, fingerprint: pair.fingerprint, under: kek)
        #expect(sealed.kekID == kek.id)
        #expect(sealed.ciphertext.range(of: pem.prefix(40)) == nil && sealed.ciphertext.range(of: Data("PRIVATE KEY".utf8)) == nil)
        #expect(try KeyEnvelope.open(sealed, recordName: name, fingerprint: pair.fingerprint, with: kek, subject: "s1") == pem)

        let wrongKEK = try #require(throws: DKIMError.self) {
            try KeyEnvelope.open(sealed, recordName: name, fingerprint: pair.fingerprint, with: other, subject: "s1 (example.org)")
        }
        #expect(wrongKEK.message == "the key-encryption key from file b (id \(other.id)) is not the one the private key of s1 (example.org) was sealed with (id \(kek.id))")
        // Same KEK id but another key's binding, or a flipped bit: it does not authenticate.
        let moved = try #require(throws: DKIMError.self) {
            try KeyEnvelope.open(sealed, recordName: "s2._domainkey.example.org", fingerprint: pair.fingerprint, with: kek, subject: "s2")
        }
        #expect(moved.message.contains("does not authenticate"))
        var altered = sealed.ciphertext
        altered[altered.startIndex + 20] ^= 0x80
        #expect(throws: DKIMError.self) {
            try KeyEnvelope.open(
                SealedPrivateKey(kekID: kek.id, wrappedDataKey: sealed.wrappedDataKey, ciphertext: altered),
                recordName: name, fingerprint: pair.fingerprint, with: kek, subject: "s1")
        }
        // Two envelopes of the same key under the same KEK share nothing: one data key each.
        let again = try KeyEnvelope.seal(pem, recordName: name, fingerprint: pair.fingerprint, under: kek)
        #expect(again.wrappedDataKey != sealed.wrappedDataKey && again.ciphertext != sealed.ciphertext)
    }

    @Test func theKEKComesFromAFileACredentialOrACommand() throws {
        let scratch = try TemporaryDirectory("kek")
        let hex = String(repeating: "5a", count: 32)
        try (hex + "\n").write(toFile: scratch.file("kek"), atomically: true, encoding: .utf8)
        chmod(scratch.file("kek"), 0o600)
        let fromFile = try KeyEncryptionKeySource.file(scratch.file("kek")).load()
        #expect(fromFile.bytes == Data(repeating: 0x5a, count: 32) && fromFile.origin == "file \(scratch.file("kek"))")

        chmod(scratch.file("kek"), 0o640)
        let readable = try #require(throws: DKIMError.self) { try KeyEncryptionKeySource.file(scratch.file("kek")).load() }
        #expect(readable.message == "the key-encryption key file \(scratch.file("kek")) has mode 640: others may read it; fix with: chmod 600 \(scratch.file("kek"))")
        let missing = try #require(throws: DKIMError.self) { try KeyEncryptionKeySource.file(scratch.file("none")).load() }
        #expect(missing.kind == .notFound && missing.message.contains(scratch.file("none")))

        try FileManager.default.createDirectory(atPath: scratch.file("credentials"), withIntermediateDirectories: false)
        try Data(repeating: 0x5a, count: 32).write(to: URL(fileURLWithPath: scratch.file("credentials/dkimctl-kek")))
        let credential = try KeyEncryptionKeySource.credential("dkimctl-kek").load(environment: ["CREDENTIALS_DIRECTORY": scratch.file("credentials")])
        #expect(credential.id == fromFile.id)
        let unset = try #require(throws: DKIMError.self) { try KeyEncryptionKeySource.credential("dkimctl-kek").load(environment: [:]) }
        #expect(unset.message.contains("$CREDENTIALS_DIRECTORY is not set"))
        #expect(throws: DKIMError.self) { try KeyEncryptionKeySource.credential("../kek").load(environment: ["CREDENTIALS_DIRECTORY": scratch.path]) }

        let command = try KeyEncryptionKeySource.command("echo progress >&2; printf '%s\\n' \(hex)").load(environment: ["PATH": "/usr/bin:/bin"])
        #expect(command.id == fromFile.id, "standard error is not part of the key")
        let failing = try #require(throws: DKIMError.self) { try KeyEncryptionKeySource.command("exit 3").load(environment: [:]) }
        #expect(failing.message == "the key-encryption key command 'exit 3' exited with status 3; no key read")
        let garbage = try #require(throws: DKIMError.self) { try KeyEncryptionKeySource.command("echo not-a-key").load(environment: ["PATH": "/usr/bin:/bin"]) }
        #expect(garbage.message.contains("is not a 256-bit key (found 10 octets"), "\(garbage.message)")
    }
}

extension KeyEncryptionKey {
    static func sha256Hex(_ data: Data) -> String { DKIMKit.sha256(data).map { String(format: "%02x", $0) }.joined() }
}
