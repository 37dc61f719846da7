import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// A seal line parses only in its documented form, and its signature covers every field.
@Suite struct AuditSealLineTests {
    @Test func aSealRoundTripsAndAnyOtherShapeIsRefused() throws {
        let directory = try TemporaryDirectory()
        let key = try AuditSealKey.create(at: directory.file("seal.pem"))
        let seal = try AuditSeal(
            eventID: 42, eventHash: String(repeating: "a", count: 64), time: Timestamp.parse("2026-11-23T10:00:00Z")!, keyCount: 3, key: key)
        let parsed = try #require(AuditSeal(line: seal.line))
        #expect(parsed == seal && parsed.verifies(with: key.publicKey))
        #expect(parsed.message == "dkimctl-seal-v1 event=42 hash=\(String(repeating: "a", count: 64)) time=2026-11-23T10:00:00.000Z keys=3 signer=\(key.fingerprint)")

        var fields = seal.line.split(separator: " ").map(String.init)
        fields.swapAt(1, 2)
        for line in [
            fields.joined(separator: " "),                                   // fields reordered
            seal.line.replacingOccurrences(of: "dkimctl-seal-v1", with: "dkimctl-seal-v2"),
            seal.line + " extra=1",
            seal.line.replacingOccurrences(of: " keys=3", with: ""),
            seal.line.replacingOccurrences(of: "event=42", with: "event=forty-two"),
            seal.line.replacingOccurrences(of: String(repeating: "a", count: 64), with: "abc"),
        ] {
            #expect(AuditSeal(line: line) == nil, "\(line)")
        }
        // Any edited field breaks the signature.
        let edited = try #require(AuditSeal(line: seal.line.replacingOccurrences(of: "keys=3", with: "keys=4")))
        #expect(!edited.verifies(with: key.publicKey))
    }
}
