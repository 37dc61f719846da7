import DKIMKit
import DKIMTestSupport
import Foundation
import GRDB
import Testing

/// The registry as a key store: envelopes stored with their key in one transaction,
/// never changed but by erasure, and erased so that no byte of them is left in the
/// database file or its write-ahead log.
@Suite struct SealedKeyRegistryTests {
    let actor = Actor("tester@test-host")
    let time = Timestamp.parse("2026-11-23T10:00:00Z")!

    func sealedRegistration(_ selector: String, kek: KeyEncryptionKey) throws -> (NewKeyRegistration, Data) {
        let pair = try KeyPair.generate(KeySpecification(algorithm: .rsa, bits: 2048))
        let pem = try pair.pkcs8PEM()
        let name = try KeyRecordName(selector: Selector(selector), domain: DomainName("example.org"))
        let sealed = try KeyEnvelope.seal(pem, recordName: name.relative, fingerprint: pair.fingerprint, under: kek)
        return (
            NewKeyRegistration(
                domain: try DomainName("example.org"), provider: try Provider("self-hosted"), usage: try Usage("noreply"),
                owner: try Owner("team@example.org"), selector: try Selector(selector), algorithm: .rsa, bits: 2048,
                publicKey: pair.dkimPublicKey, fingerprint: pair.fingerprint, privateKeyPath: nil, sealedPrivateKey: sealed,
                ttl: 1800, recordOptions: RecordOptions()),
            pem)
    }

    /// The database file and its WAL, as bytes.
    func fileBytes(_ path: String) -> Data {
        ["", "-wal"].reduce(Data()) { $0 + ((try? Data(contentsOf: URL(fileURLWithPath: path + $1))) ?? Data()) }
    }

    @Test func anErasedEnvelopeLeavesNoByteInTheFiles() throws {
        let scratch = try TemporaryDirectory("sealed")
        let path = scratch.file("registry.sqlite")
        let registry = try SQLRegistry.open(path: path, create: true)
        let kek = try KeyEncryptionKey(material: Data(repeating: 3, count: 32), origin: "test")
        var sealed: [(RegisteredKey, SealedPrivateKey)] = []
        for index in 0..<4 {
            let (registration, _) = try sealedRegistration("s\(index)", kek: kek)
            let key = try registry.register(registration, actor: actor, at: time)
            #expect(key.privateKeyInRegistry && key.privateKeyPath == nil)
            #expect(try registry.storedPrivateKey(keyID: key.id) == .sealed(registration.sealedPrivateKey!))
            sealed.append((key, registration.sealedPrivateKey!))
        }
        let events = try registry.events(forKey: sealed[0].0.id)
        let created = try #require(events.first?.details)
        #expect(created.contains("\"private_key_store\":\"registry\"") && created.contains("\"kek_id\":\"\(kek.id)\""), "\(created)")
        // Both blobs are in the files now: the scan below can find them.
        let (victim, envelope) = sealed[1]
        let probe = envelope.ciphertext.subdata(in: 40..<72)
        let wrappedProbe = envelope.wrappedDataKey.subdata(in: 12..<44)
        #expect(fileBytes(path).range(of: probe) != nil && fileBytes(path).range(of: wrappedProbe) != nil)

        _ = try registry.revoke(keyID: victim.id, reason: "test", style: .emptyP, allowedStates: [.pending], actor: actor, at: time)
        let disposed = try registry.recordPrivateKeyDisposal(keyID: victim.id, disposal: .destroyed, location: nil, actor: actor, at: time)
        #expect(disposed.privateKeyDisposal == .destroyed)
        #expect(try registry.storedPrivateKey(keyID: victim.id) == .erased(at: time))
        #expect(try registry.events(forKey: victim.id).last?.details.contains("\"envelope\":\"erased\"") == true)
        #expect(fileBytes(path).range(of: probe) == nil, "no copy of the ciphertext is left in the database or its WAL")
        #expect(fileBytes(path).range(of: wrappedProbe) == nil, "no copy of the wrapped data key is left")
        // The neighbours are intact.
        #expect(try registry.storedPrivateKey(keyID: sealed[2].0.id) == .sealed(sealed[2].1))
        #expect(try registry.verifyEventChain().isIntact)
    }

    @Test func anEnvelopeIsNeitherChangedNorDeletedNorErasedTwice() throws {
        let scratch = try TemporaryDirectory("sealed")
        let path = scratch.file("registry.sqlite")
        let registry = try SQLRegistry.open(path: path, create: true)
        let kek = try KeyEncryptionKey(material: Data(repeating: 3, count: 32), origin: "test")
        let key = try registry.register(try sealedRegistration("s1", kek: kek).0, actor: actor, at: time)
        let other = try registry.register(try sealedRegistration("s2", kek: kek).0, actor: actor, at: time)
        let queue = try DatabaseQueue(path: path)
        for statement in [
            "DELETE FROM private_key_envelope WHERE key_id = \(key.id)",
            "UPDATE private_key_envelope SET ciphertext = (SELECT ciphertext FROM private_key_envelope WHERE key_id = \(other.id)) WHERE key_id = \(key.id)",
            "UPDATE private_key_envelope SET kek_id = '0000000000000000', wrapped_data_key = NULL, ciphertext = NULL, erased_at = 'x' WHERE key_id = \(key.id)",
            "UPDATE private_key_envelope SET wrapped_data_key = NULL WHERE key_id = \(key.id)",
        ] {
            #expect(throws: DatabaseError.self, "\(statement)") { try queue.write { try $0.execute(sql: statement) } }
        }
        try queue.write { try $0.execute(sql: "UPDATE private_key_envelope SET wrapped_data_key = NULL, ciphertext = NULL, erased_at = '2026-11-23 10:00:00.000' WHERE key_id = \(key.id)") }
        #expect(throws: DatabaseError.self) {
            try queue.write { try $0.execute(sql: "UPDATE private_key_envelope SET erased_at = '2026-11-24 10:00:00.000' WHERE key_id = \(key.id)") }
        }
    }

    @Test(arguments: RegistryBackend.allCases)
    func materializedCopiesAreRecordedWithOneEventPerRun(backend: RegistryBackend) throws {
        let registry = try backend.freshRegistry()
        let kek = try KeyEncryptionKey(material: Data(repeating: 3, count: 32), origin: "test")
        let key = try registry.register(try sealedRegistration("s1", kek: kek).0, actor: actor, at: time)
        let head = try registry.eventHead()
        try registry.recordMaterialization(MaterializationChanges(host: "mx1", directory: "/k"), actor: actor, at: time)
        #expect(try registry.eventHead()?.id == head?.id, "nothing changed, nothing written")
        try registry.recordMaterialization(
            MaterializationChanges(host: "mx1", directory: "/k", written: [(key.id, "/k/s1.pem")]), actor: actor, at: time)
        try registry.recordMaterialization(
            MaterializationChanges(host: "mx2", directory: "/k", written: [(key.id, "/k/s1.pem")]), actor: actor, at: time)
        // Rewritten at the same place: the earlier record is closed, one stays live.
        try registry.recordMaterialization(
            MaterializationChanges(host: "mx1", directory: "/k", written: [(key.id, "/k/s1.pem")]), actor: actor, at: time)
        let live = try registry.materializedCopies(host: nil, keyID: key.id, includingErased: false)
        #expect(live.map(\.host) == ["mx2", "mx1"])
        #expect(try registry.materializedCopies(host: "mx1", keyID: nil, includingErased: true).count == 2)
        try registry.recordMaterialization(
            MaterializationChanges(host: "mx2", directory: "/k", erased: [live[0]]), actor: actor, at: time)
        #expect(try registry.materializedCopies(host: nil, keyID: nil, includingErased: false).map(\.host) == ["mx1"])
        var actions: [String] = []
        try registry.forEachEvent(since: nil) { actions.append($0.action) }
        #expect(actions.filter { $0 == "keys.materialized" }.count == 4)
    }
}
