import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

@Suite struct KeyPairTests {
    /// Writes `pair`'s private key with the production writer and returns the file's path.
    private func writeKey(_ pair: KeyPair, in directory: TemporaryDirectory) throws -> String {
        let path = directory.file("key.pem")
        try PrivateKeyFile.write(pair.pkcs8PEM(), to: path)
        return path
    }

    private func openssl(_ arguments: [String]) throws -> ProcessResult {
        let openssl = try #require(ProcessRunner.which("openssl"), "the openssl command is needed for these tests")
        return try ProcessRunner.run(openssl, arguments)
    }

    @Test(arguments: [1024, 2048, 3072, 4096])
    func rsaPublicKeyMatchesOpenSSLsDER(bits: Int) throws {
        let directory = try TemporaryDirectory()
        let pair = try KeyPair.generate(KeySpecification(algorithm: .rsa, bits: bits))
        #expect(pair.algorithm == .rsa)
        #expect(pair.bits == bits)
        let path = try writeKey(pair, in: directory)

        let der = directory.file("pub.der")
        let export = try openssl(["pkey", "-in", path, "-pubout", "-outform", "DER", "-out", der])
        #expect(export.status == 0, "\(export.standardError)")
        let expected = try Data(contentsOf: URL(fileURLWithPath: der)).base64EncodedString()
        #expect(pair.dkimPublicKey == expected)

        let check = try openssl(["pkey", "-in", path, "-check", "-noout"])
        #expect(check.status == 0, "openssl pkey -check refused the key: \(check.standardError)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8, not a traditional RSA PEM")
    }

    @Test func ed25519PublicKeyIsTheRaw32BytesOfTheDER() throws {
        let directory = try TemporaryDirectory()
        let pair = try KeyPair.generate(KeySpecification(algorithm: .ed25519))
        #expect(pair.bits == 256)
        let path = try writeKey(pair, in: directory)
        let der = directory.file("pub.der")
        #expect(try openssl(["pkey", "-in", path, "-pubout", "-outform", "DER", "-out", der]).status == 0)
        let spki = try Data(contentsOf: URL(fileURLWithPath: der))
        let published = try #require(Data(base64Encoded: pair.dkimPublicKey))
        #expect(published.count == 32)
        #expect(published == spki.suffix(32))
        #expect(try openssl(["pkey", "-in", path, "-check", "-noout"]).status == 0)
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func signaturesVerifyOnlyWithTheirOwnPublicKey(algorithm: KeyAlgorithm) throws {
        let specification = try KeySpecification(algorithm: algorithm, bits: algorithm == .rsa ? 1024 : nil)
        let signer = try KeyPair.generate(specification)
        let other = try KeyPair.generate(specification)
        let message = Data("From: a@example.org\r\n".utf8)
        let signature = try signer.sign(message)
        #expect(try KeyPair.verify(signature, over: message, algorithm: algorithm, dkimPublicKey: signer.publicKeyBytes))
        #expect(try !KeyPair.verify(signature, over: message, algorithm: algorithm, dkimPublicKey: other.publicKeyBytes))
        #expect(try !KeyPair.verify(signature, over: Data("From: b@example.org\r\n".utf8), algorithm: algorithm, dkimPublicKey: signer.publicKeyBytes))
    }

    @Test func aKeyReadBackFromItsPEMHasTheSamePublicKey() throws {
        for specification in [try KeySpecification(algorithm: .rsa), try KeySpecification(algorithm: .ed25519)] {
            let pair = try KeyPair.generate(specification)
            let again = try KeyPair(pem: pair.pkcs8PEM())
            #expect(again.dkimPublicKey == pair.dkimPublicKey)
            #expect(again.fingerprint == pair.fingerprint)
            #expect(pair.fingerprint.hasPrefix("sha256:") && pair.fingerprint.count == 7 + 64)
        }
    }

    @Test func garbagePEMIsAReadableCryptoError() throws {
        let error = try #require(throws: DKIMError.self) { try KeyPair(pem: Data("not a key".utf8)) }
        #expect(error.kind == .crypto)
        #expect(!error.message.contains("\n"))
    }

    @Test func keySizesFollowRFC8301AndCCCS() throws {
        #expect(try KeySpecification(algorithm: .rsa).bits == 2048)
        #expect(try KeySpecification(algorithm: .rsa).warnings.isEmpty)
        #expect(try KeySpecification(algorithm: .rsa, bits: 1024).warnings.first?.contains("RFC 8301") == true)
        #expect(try KeySpecification(algorithm: .rsa, bits: 4096).warnings.first?.contains("refuse") == true)
        for refused in [512, 1023, 2047, 8192, 0, -1] {
            let error = try #require(throws: DKIMError.self) { try KeySpecification(algorithm: .rsa, bits: refused) }
            #expect(error.kind == .invalidInput)
            #expect(error.message.contains("\(refused)") && error.message.contains("1024, 2048, 3072, 4096"))
        }
        let ed = try #require(throws: DKIMError.self) { try KeySpecification(algorithm: .ed25519, bits: 2048) }
        #expect(ed.message.contains("ed25519"))
    }
}

@Suite struct PrivateKeyFileTests {
    @Test func keyFilesAre0600InA0700Directory() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(path: directory.file("state"))
        // A permissive umask must not widen the modes.
        let previous = umask(0o000)
        defer { umask(previous) }
        try state.create()
        let path = state.keysPath + "/k.pem"
        try PrivateKeyFile.write(Data("secret".utf8), to: path)
        #expect(try mode(of: state.path) == 0o700)
        #expect(try mode(of: state.keysPath) == 0o700)
        #expect(try mode(of: path) == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "secret")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: state.keysPath)
        #expect(leftovers == ["k.pem"], "no temporary file is left behind")
    }

    @Test func anExistingKeyFileIsNeverOverwritten() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("k.pem")
        try PrivateKeyFile.write(Data("first".utf8), to: path)
        let error = try #require(throws: DKIMError.self) { try PrivateKeyFile.write(Data("second".utf8), to: path) }
        #expect(error.kind == .conflict)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first")
    }

    @Test func unsafeModesAreRefusedWithTheFix() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(path: directory.file("state"))
        try state.create()
        chmod(state.path, 0o777)
        let open = try #require(throws: DKIMError.self) { try state.checkSafety() }
        #expect(open.kind == .unsafePermissions && open.message.contains("chmod 700 \(state.path)"))
        chmod(state.path, 0o700)
        let keyFile = state.keysPath + "/k.pem"
        try PrivateKeyFile.write(Data("x".utf8), to: keyFile)
        chmod(keyFile, 0o644)
        let readable = try #require(throws: DKIMError.self) { try state.checkSafety() }
        #expect(readable.message.contains("chmod 600 \(keyFile)"))
        chmod(keyFile, 0o600)
        try state.checkSafety()
    }

    private func mode(of path: String) throws -> mode_t {
        var info = stat()
        #expect(stat(path, &info) == 0)
        return info.st_mode & 0o7777
    }
}
