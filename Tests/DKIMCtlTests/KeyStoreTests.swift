import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// `keyStore: registry`: private keys sealed in the registry, rotated against BIND, written on
/// signing hosts by `keys materialize`, and crypto-erased with every copy when revoked — with
/// hostile hosts and registries as well as honest ones.
@Suite struct KeyStoreTests {
    /// A RotationWorld whose configuration seals keys under a KEK file; returns the KEK's path.
    @discardableResult
    func sealing(_ world: RotationWorld, store: String = "registry") throws -> String {
        try world.writeSealingConfiguration(store: store)
    }

    func materialize(_ world: RotationWorld, _ directory: String, _ extra: [String] = [], at offset: TimeInterval) throws -> ProcessResult {
        try world.dkimctl.run(
            ["keys", "materialize", "--config", world.configPath, "--host-dir", directory, "--format", "json"] + extra, environment: world.at(offset))
    }

    func materialized(_ result: ProcessResult) throws -> [String: Any] {
        #expect(result.status == 0, "\(result.standardError)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    }

    /// Signs `message` with the private key file through the openssl command, and verifies the
    /// signature with the public key BIND serves for `selector`.
    func signatureVerifiesThroughDNS(_ world: RotationWorld, keyFile: String, selector: String) throws -> Bool {
        let message = world.scratch.file("message")
        try Data("From: a@a.example\r\nSubject: sealed\r\n\r\nbody\r\n".utf8).write(to: URL(fileURLWithPath: message))
        let signed = try ProcessRunner.run(
            try #require(ProcessRunner.which("openssl")),
            ["pkeyutl", "-sign", "-inkey", keyFile, "-rawin", "-in", message, "-out", world.scratch.file("signature")])
        #expect(signed.status == 0, "\(signed.standardError)")
        let served = try #require(world.served(selector, in: "a.example")).value
        let p = try #require(served.components(separatedBy: "p=").last.flatMap { Data(base64Encoded: $0.trimmingCharacters(in: .whitespaces)) })
        return try KeyPair.verify(
            try Data(contentsOf: URL(fileURLWithPath: world.scratch.file("signature"))), over: try Data(contentsOf: URL(fileURLWithPath: message)),
            algorithm: .ed25519, dkimPublicKey: p)
    }

    /// A path as dkimctl prints it (no doubled slashes: the temporary directory has one).
    static func standard(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    func mode(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    /// The whole life of a sealed key against BIND: created with no file, activated (the deploy
    /// hook gets a file that lives as long as the hook), written on two hosts, signing verified
    /// with the copy and the record BIND serves, then rotated out: the envelope is erased, this
    /// host's copy at once, the other host's at its next run, and the audit says when one lingers.
    @Test(arguments: RegistryBackend.allCases)
    func aSealedKeyLivesAndDiesWithoutAKeyFile(backend: RegistryBackend) throws {
        let world = try RotationWorld(domains: ["a.example"], backend: backend)
        try sealing(world)
        for offset in [0.0, 3600] {
            let ran = try world.rotate(at: offset)
            #expect(ran.status == 0, "\(ran.standardOutput)\(ran.standardError)")
        }
        let first = try #require(try world.keys("a.example").first)
        #expect(first.state == .active && first.privateKeyInRegistry && first.privateKeyPath == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: world.scratch.file("state/keys")).isEmpty, "no key file is written")
        #expect(world.lines(world.deployLog).contains("activate \(first.selector) key-present"), "the hook got a file")
        #expect(try FileManager.default.contentsOfDirectory(atPath: world.scratch.file("state/run")).isEmpty, "and it is gone after the hook")

        let here = Self.standard(world.scratch.file("mta"))
        let there = Self.standard(world.scratch.file("mx2"))
        let written = try materialized(try materialize(world, here, at: 3700))
        let copy = here + "/\(first.selector)._domainkey.a.example.pem"
        #expect(written["written"] as? [String] == [copy] && written["erased"] as? [String] == [])
        #expect(mode(copy) == 0o600 && mode(here) == 0o700)
        #expect(try signatureVerifiesThroughDNS(world, keyFile: copy, selector: first.selector.name))
        #expect(try materialized(try materialize(world, there, ["--host", "mx2.example"], at: 3700))["written"] as? [String] != [])
        let again = try materialized(try materialize(world, here, at: 3800))
        #expect(again["unchanged"] as? Int == 1 && again["written"] as? [String] == [], "a second run rewrites nothing")

        // The successor is created (day 168), proved, activated at the rotation date (day 182),
        // and the predecessor revoked after the grace week; its private key goes with it.
        let offsets: [TimeInterval] = [168 * 86400, 168 * 86400 + 3600, 182 * 86400 + 3600, 182 * 86400 + 7200, 189 * 86400 + 7200, 189 * 86400 + 10800]
        for offset in offsets {
            let ran = try world.rotate(at: offset)
            #expect(ran.status == 0, "\(ran.standardOutput)\(ran.standardError)")
        }
        let keys = try world.keys("a.example")
        let old = try #require(keys.first { $0.id == first.id })
        let successor = try #require(keys.first { $0.state == .active })
        #expect(old.state == .revoked && old.privateKeyDisposal == .destroyed, "\(old.state) \(String(describing: old.privateKeyDisposal))")
        #expect(try world.registry().storedPrivateKey(keyID: old.id) == .erased(at: try #require(old.privateKeyDisposedAt)))
        #expect(mode(copy) == nil, "this host's copy was erased with the key")
        let revokedAudit = try world.dkimctl.run(["audit", "--format", "json", "--config", world.configPath], environment: world.at(190 * 86400))
        #expect(revokedAudit.standardOutput.contains("private-key-copy-lingers") && revokedAudit.standardOutput.contains("mx2.example:"), "\(revokedAudit.standardOutput)")

        let otherCopy = there + "/\(first.selector)._domainkey.a.example.pem"
        #expect(mode(otherCopy) == 0o600, "the other host keeps its copy until it runs")
        let otherRun = try materialized(try materialize(world, there, ["--host", "mx2.example"], at: 190 * 86400))
        #expect(otherRun["erased"] as? [String] == [otherCopy] && mode(otherCopy) == nil)
        #expect(otherRun["written"] as? [String] == [there + "/\(successor.selector)._domainkey.a.example.pem"] || otherRun["unchanged"] as? Int == 1)
        let copies = try world.dkimctl.run(["keys", "copies", "--format", "json"])
        #expect(!copies.standardOutput.contains(first.selector.name), "\(copies.standardOutput)")
        let audit = try world.dkimctl.run(["audit", "--format", "json", "--config", world.configPath], environment: world.at(190 * 86400))
        #expect(!audit.standardOutput.contains("private-key-copy-lingers"))
        #expect(audit.standardOutput.contains("sealed in the registry (KEK"), "\(audit.standardError)")
        let verified = try world.dkimctl.run(["audit", "verify"])
        #expect(verified.status == 0, "\(verified.standardOutput)\(verified.standardError)")
        let doctor = try world.dkimctl.run(["doctor", "--config", world.configPath, "--no-dns"])
        #expect(doctor.standardOutput.contains("opens the 1 sealed private key(s)"), "\(doctor.standardOutput)")
        try world.checkInvariants("a.example")
    }

    @Test func aWrongKeyEncryptionKeyIsOneLineAndWritesNothing() throws {
        let world = try RotationWorld(domains: ["a.example"])
        let kek = try sealing(world)
        for offset in [0.0, 3600] { #expect(try world.rotate(at: offset).status == 0) }
        let key = try #require(try world.keys("a.example").first)
        let wrong = world.scratch.file("wrong-kek")
        try Data(repeating: 0x42, count: 32).write(to: URL(fileURLWithPath: wrong))
        chmod(wrong, 0o600)
        let text = try String(contentsOfFile: world.configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "file: \(kek)", with: "file: \(wrong)").write(toFile: world.configPath, atomically: true, encoding: .utf8)
        let wrongID = try KeyEncryptionKey(material: Data(repeating: 0x42, count: 32), origin: "").id
        let rightID = try KeyEncryptionKeySource.file(kek).load().id
        let before = try world.registryFingerprint()
        let target = world.scratch.file("mta")
        let refused = try materialize(world, target, at: 4000)
        #expect(refused.status != 0)
        #expect(refused.errorLines == [
            "dkimctl: error: the key-encryption key from file \(wrong) (id \(wrongID)) is not the one the private key of \(key.selector) (a.example) was sealed with (id \(rightID))"
        ], "\(refused.standardError)")
        #expect(refused.standardOutput.isEmpty && mode(target) == nil, "nothing written, not even the directory")
        #expect(try world.registryFingerprint() == before)
        let doctor = try world.dkimctl.run(["doctor", "--config", world.configPath, "--no-dns"])
        #expect(doctor.status != 0 && doctor.standardOutput.contains("key-encryption-key"), "\(doctor.standardOutput)")
        #expect(doctor.standardOutput.contains("(id \(wrongID)) is not the one the private key of \(key.selector) (a.example) was sealed with"))

        // A KEK file others may read is refused before anything else.
        chmod(wrong, 0o644)
        let loose = try materialize(world, target, at: 4000)
        #expect(loose.errorLines == ["dkimctl: error: the key-encryption key file \(wrong) has mode 644: others may read it; fix with: chmod 600 \(wrong)"], "\(loose.standardError)")
    }

    @Test(arguments: [
        ("keyStore: registry\n", "keyStore: registry seals keys under a key-encryption key; add keyEncryptionKey: with file, credential or command"),
        ("keyStore: vault\n", "key store 'vault' is not known (allowed: files, registry)"),
        ("keyEncryptionKey:\n  file: /k\n  command: cat /k\n", "give exactly one of file, credential or command (found 2)"),
        ("keyEncryptionKey:\n  file: kek.hex\n", "key-encryption key file 'kek.hex' is not an absolute path"),
        ("keyEncryptionKey:\n  credential: ../kek\n", "credential name '../kek' is not a file name (allowed: a name without '/', as in LoadCredential=NAME:…)"),
        ("keyEncryptionKey:\n  kms: arn\n", "kms"),
    ])
    func aKeyStoreConfigurationMistakeIsNamed(yaml: String, message: String) throws {
        let scratch = try TemporaryDirectory("keystore-config")
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"))
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        try ("domains: {}\n" + yaml).write(toFile: scratch.file("c.yaml"), atomically: true, encoding: .utf8)
        let before = DirectorySnapshot(scratch.file("state"), ignoring: ["-shm"])
        let result = try dkimctl.run(["new", "--config", scratch.file("c.yaml"), "--domain", "example.org", "--provider", "self-hosted"])
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1 && result.standardError.contains(message), "\(result.standardError)")
        #expect(DirectorySnapshot(scratch.file("state"), ignoring: ["-shm"]) == before, "nothing written")
    }

    /// The signing host's directory and the registry's copy records are hostile input: a link
    /// planted under a key's name is replaced, not followed; an unsafe directory is refused; a
    /// copy record pointing at another file never makes dkimctl touch that file; an envelope
    /// moved onto another key's row does not open.
    @Test func hostileHostDirectoriesAndRegistriesAreRefused() throws {
        let world = try RotationWorld(domains: ["a.example"])
        try sealing(world)
        for offset in [0.0, 3600] { #expect(try world.rotate(at: offset).status == 0) }
        let key = try #require(try world.keys("a.example").first)
        let victim = world.scratch.file("victim")
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: victim))
        let directory = world.scratch.file("mta")
        mkdir(directory, 0o700)
        let name = directory + "/\(key.selector)._domainkey.a.example.pem"
        symlink(victim, name)
        _ = try materialized(try materialize(world, directory, at: 4000))
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n", "the link's target is untouched")
        #expect(mode(name) == 0o600, "a regular file replaced the link")

        let linked = Self.standard(world.scratch.file("linked"))
        symlink(directory, linked)
        let viaLink = try materialize(world, linked, at: 4000)
        #expect(viaLink.errorLines == ["dkimctl: error: \(linked) is not a directory (a symbolic link?); private keys are only written into a directory of their own"], "\(viaLink.standardError)")
        let open = Self.standard(world.scratch.file("open"))
        mkdir(open, 0o700)
        chmod(open, 0o777)
        let shared = try materialize(world, open, at: 4000)
        #expect(shared.errorLines == ["dkimctl: error: \(open) is writable by others (mode 777); fix with: chmod 700 \(open)"], "\(shared.standardError)")
        let inside = try materialize(world, world.scratch.file("state/mine"), at: 4000)
        #expect(inside.status != 0 && inside.standardError.contains("is inside the state directory"))

        // A forged copy record: the key is no longer wanted there (another --domain), so dkimctl
        // would erase "its" copy — at another file's path. It refuses and touches nothing.
        let registry = world.scratch.file("state/registry.sqlite")
        let neighbour = Self.standard(directory + "/opendkim.conf")
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: neighbour))
        try RegistryTampering.run("UPDATE private_key_copy SET path = '\(neighbour)' WHERE key_id = \(key.id)", on: registry)
        let forged = try materialize(world, directory, ["--domain", "b.example"], at: 4100)
        #expect(forged.errorLines == [
            "dkimctl: error: the registry records a copy of key \(key.id) at '\(neighbour)', which is not that key's file; refusing to touch it: was the registry edited? ('dkimctl audit verify' lists every difference)"
        ], "\(forged.standardError)")
        #expect(try String(contentsOfFile: neighbour, encoding: .utf8) == "precious\n")

        // Another sealed key, then the two envelopes swapped by someone with the file.
        let second = try world.dkimctl.run(
            ["new", "--config", world.configPath, "--domain", "a.example", "--provider", "self-hosted", "--usage", "support", "--algorithm", "ed25519"],
            environment: world.at(4200))
        #expect(second.status == 0, "\(second.standardError)")
        #expect(second.standardError.contains("private key sealed in the registry"))
        let other = try #require(try world.keys("a.example").first { $0.usage.name == "support" })
        try RegistryTampering.run(
            """
            CREATE TEMP TABLE saved AS SELECT key_id, wrapped_data_key, ciphertext FROM private_key_envelope;
            UPDATE private_key_envelope SET wrapped_data_key = (SELECT wrapped_data_key FROM saved WHERE key_id = \(other.id)),
                ciphertext = (SELECT ciphertext FROM saved WHERE key_id = \(other.id)) WHERE key_id = \(key.id);
            """, on: registry)
        let swapped = try materialize(world, world.scratch.file("fresh"), at: 4300)
        #expect(swapped.errorLines == [
            "dkimctl: error: the sealed private key of \(key.selector) (a.example) does not authenticate under key-encryption key \(try KeyEncryptionKeySource.file(world.scratch.file("kek")).load().id): its envelope in the registry was altered or belongs to another key ('dkimctl audit verify' lists every difference)"
        ], "\(swapped.standardError)")
        #expect(mode(world.scratch.file("fresh")) == nil)
    }

    /// A state directory switching over: its file keys are sealed (files destroyed, the register
    /// still verifies), then the KEK is changed: the data keys are re-wrapped and no wrapping under
    /// the previous KEK is left in the registry's files.
    @Test func fileKeysAreSealedAndTheKEKIsChanged() throws {
        let world = try RotationWorld(domains: ["a.example"])
        let kek = try sealing(world, store: "files")
        for offset in [0.0, 3600] { #expect(try world.rotate(at: offset).status == 0) }
        let filed = try #require(try world.keys("a.example").first)
        let filedPath = try #require(filed.privateKeyPath)
        #expect(!filed.privateKeyInRegistry && mode(filedPath) == 0o600)

        let sealed = try world.dkimctl.run(["keys", "seal", "--config", world.configPath], environment: world.at(4000))
        #expect(sealed.status == 0 && sealed.standardOutput == "sealed \(filed.selector) (a.example)\n", "\(sealed.standardError)")
        let key = try #require(try world.keys("a.example").first)
        #expect(key.privateKeyInRegistry && key.privateKeyPath == nil)
        #expect(mode(filedPath) == nil, "the file is gone")
        #expect(try world.dkimctl.run(["keys", "seal", "--config", world.configPath]).standardOutput.isEmpty, "nothing left to seal")
        let verified = try world.dkimctl.run(["audit", "verify"])
        #expect(verified.status == 0, "\(verified.standardOutput)\(verified.standardError)")
        let copy = Self.standard(world.scratch.file("mta")) + "/\(key.selector)._domainkey.a.example.pem"
        _ = try materialized(try materialize(world, world.scratch.file("mta"), at: 4100))
        #expect(try signatureVerifiesThroughDNS(world, keyFile: copy, selector: key.selector.name))

        // A new KEK in the configuration: the keys no longer open until they are re-wrapped.
        let next = world.scratch.file("kek2")
        try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: next))
        chmod(next, 0o600)
        let text = try String(contentsOfFile: world.configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "file: \(kek)", with: "file: \(next)").write(toFile: world.configPath, atomically: true, encoding: .utf8)
        #expect(try materialize(world, world.scratch.file("mta"), at: 4200).status != 0)
        guard case .sealed(let before)? = try world.registry().storedPrivateKey(keyID: key.id) else { Issue.record("not sealed"); return }
        let previousID = try KeyEncryptionKeySource.file(kek).load().id
        let nextID = try KeyEncryptionKeySource.file(next).load().id

        let stranger = world.scratch.file("kek3")
        try String(repeating: "ab", count: 32).write(toFile: stranger, atomically: true, encoding: .utf8)
        chmod(stranger, 0o600)
        let fingerprint = try world.registryFingerprint()
        let strangerID = try KeyEncryptionKeySource.file(stranger).load().id
        let wrong = try world.dkimctl.run(["keys", "rewrap", "--config", world.configPath, "--previous-kek-file", stranger])
        #expect(wrong.status == 0 && wrong.standardOutput == "re-wrapped 0 sealed key(s) from KEK \(strangerID) to KEK \(nextID)\n", "no key was sealed under it")
        #expect(try world.registryFingerprint() == fingerprint)
        let same = try world.dkimctl.run(["keys", "rewrap", "--config", world.configPath, "--previous-kek-file", next])
        #expect(same.errorLines == ["dkimctl: error: the previous KEK (file \(next)) is the configured one (id \(nextID)); put the new KEK in keyEncryptionKey: first"])
        let both = try world.dkimctl.run(["keys", "rewrap", "--config", world.configPath, "--previous-kek-file", kek, "--previous-kek-command", "cat \(kek)"])
        #expect(both.errorLines == ["dkimctl: error: give the previous KEK once: --previous-kek-file, --previous-kek-credential or --previous-kek-command (found 2)"])

        let rewrapped = try world.dkimctl.run(["keys", "rewrap", "--config", world.configPath, "--previous-kek-file", kek], environment: world.at(4300))
        #expect(rewrapped.standardOutput == "re-wrapped 1 sealed key(s) from KEK \(previousID) to KEK \(nextID)\n", "\(rewrapped.standardError)")
        guard case .sealed(let after)? = try world.registry().storedPrivateKey(keyID: key.id) else { Issue.record("not sealed"); return }
        #expect(after.kekID == nextID && after.ciphertext == before.ciphertext && after.wrappedDataKey != before.wrappedDataKey)
        let files = ["", "-wal"].reduce(Data()) {
            $0 + ((try? Data(contentsOf: URL(fileURLWithPath: world.scratch.file("state/registry.sqlite") + $1))) ?? Data())
        }
        #expect(files.range(of: before.wrappedDataKey.subdata(in: 12..<44)) == nil, "the previous wrapping is gone from the files")
        #expect(try materialized(try materialize(world, world.scratch.file("mta"), at: 4400))["unchanged"] as? Int == 1)
        #expect(try world.dkimctl.run(["audit", "verify"]).status == 0)
    }
}
