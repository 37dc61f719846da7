import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

@Suite struct RecordRenderingTests {
    static let specifications: [KeySpecification] = [
        try! KeySpecification(algorithm: .rsa, bits: 1024), try! KeySpecification(algorithm: .rsa, bits: 2048),
        try! KeySpecification(algorithm: .rsa, bits: 3072), try! KeySpecification(algorithm: .rsa, bits: 4096),
        try! KeySpecification(algorithm: .ed25519),
    ]

    private func record(for pair: KeyPair, options: RecordOptions = RecordOptions()) -> DKIMKeyRecord {
        DKIMKeyRecord(
            hashAlgorithms: options.hashAlgorithms, keyType: pair.algorithm.rawValue, notes: options.notes,
            publicKey: pair.dkimPublicKey, serviceTypes: options.serviceTypes, flags: options.flags)
    }

    @Test(arguments: specifications)
    func stringsAreAtMost255OctetsAndJoinToTheValue(specification: KeySpecification) throws {
        let pair = try KeyPair.generate(specification)
        let record = record(for: pair)
        let data = TXTRecordData(splitting: record.text)
        #expect(data.strings.allSatisfy { $0.utf8.count <= 255 })
        #expect(data.strings.dropLast().allSatisfy { $0.utf8.count == 255 }, "as few strings as possible")
        #expect(data.joined == record.text)
        #expect(try DKIMKeyRecord(parsingStrings: data.strings) == record)
        #expect(try DKIMKeyRecord(parsing: record.text).publicKeyBytes == pair.publicKeyBytes)
    }

    @Test func optionalTagsRoundTrip() throws {
        let pair = try KeyPair.generate(KeySpecification(algorithm: .ed25519))
        let record = record(
            for: pair,
            options: RecordOptions(hashAlgorithms: ["sha256"], serviceTypes: ["email"], flags: ["y", "s"], notes: "rotated by dkimctl; see runbook=1"))
        #expect(record.text.hasPrefix("v=DKIM1; h=sha256; k=ed25519; s=email; t=y:s; n="))
        #expect(record.text.contains("n=rotated=20by=20dkimctl=3B=20see=20runbook=3D1;"))
        #expect(try DKIMKeyRecord(parsing: record.text) == record)
        #expect(record.isTesting)
    }

    @Test func splittingNeverCutsAUTF8Sequence() {
        let value = String(repeating: "é", count: 300)  // 600 octets
        let data = TXTRecordData(splitting: value)
        #expect(data.strings.map(\.utf8.count) == [254, 254, 92])
        #expect(data.joined == value)
    }

    @Test func zoneTextEscapesQuotesAndBackslashes() throws {
        let name = try KeyRecordName(selector: Selector("s"), domain: DomainName("example.org"))
        let published = PublishedRecord(name: name, ttl: 1800, record: DKIMKeyRecord(publicKey: ""))
        #expect(published.zoneText() == "s._domainkey.example.org. 1800 IN TXT ( \"v=DKIM1; k=rsa; p=\" )\n")
        #expect(TXTRecordData(strings: ["a\"b\\c"]).quotedStrings == ["\"a\\\"b\\\\c\""])
    }

    /// `named-checkzone` (BIND) must accept a zone that `$INCLUDE`s every rendering.
    @Test func namedCheckzoneAcceptsTheZoneOutput() throws {
        let checker = try #require(ProcessRunner.which("named-checkzone"), "install bind9-utils")
        let directory = try TemporaryDirectory()
        var fragment = ""
        var expected: [String: String] = [:]
        for (index, specification) in Self.specifications.enumerated() {
            let pair = try KeyPair.generate(specification)
            let name = try KeyRecordName(selector: Selector("k\(index)-\(specification.bits)"), domain: DomainName("example.org"))
            let published = PublishedRecord(name: name, ttl: 1800, record: record(for: pair, options: RecordOptions(notes: "say \"hi\"")))
            fragment += published.zoneText(comment: "key \(index)")
            expected[name.absolute] = published.record.text
        }
        try fragment.write(toFile: directory.file("dkim.fragment"), atomically: true, encoding: .utf8)
        let zone = """
            $ORIGIN example.org.
            $TTL 3600
            @ IN SOA ns1.example.org. hostmaster.example.org. 1 3600 600 86400 300
            @ IN NS ns1.example.org.
            ns1 IN A 192.0.2.1
            $INCLUDE \(directory.file("dkim.fragment"))

            """
        try zone.write(toFile: directory.file("example.org.zone"), atomically: true, encoding: .utf8)
        let check = try ProcessRunner.run(checker, ["-q", "example.org", directory.file("example.org.zone")])
        #expect(check.status == 0, "named-checkzone: \(check.standardOutput)\(check.standardError)")

        // Read the zone back as BIND does and compare the joined strings with the records.
        let compiler = try #require(ProcessRunner.which("named-compilezone"))
        let canonical = try ProcessRunner.run(compiler, ["-q", "-s", "full", "-o", "-", "example.org", directory.file("example.org.zone")])
        #expect(canonical.status == 0)
        for (name, value) in expected {
            let line = try #require(canonical.standardOutput.split(separator: "\n").first { $0.hasPrefix(name) && $0.contains("TXT") })
            #expect(Self.characterStrings(in: String(line)).joined() == value, "BIND reads back \(name) as the rendered value")
        }
    }
}

extension RecordRenderingTests {
    /// The character-strings of a master-file line, unescaped (RFC 1035 §5.1: `\X` and `\DDD`).
    static func characterStrings(in line: String) -> [String] {
        var strings: [String] = []
        var current: [UInt8] = []
        var inside = false
        var bytes = Array(line.utf8)[...]
        while let byte = bytes.popFirst() {
            if !inside {
                if byte == UInt8(ascii: "\"") { inside = true }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                strings.append(String(decoding: current, as: UTF8.self))
                current = []
                inside = false
            case UInt8(ascii: "\\"):
                if let next = bytes.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
                    let digits = bytes.prefix(3)
                    bytes = bytes.dropFirst(3)
                    current.append(UInt8(String(decoding: digits, as: UTF8.self))!)
                } else if let next = bytes.popFirst() {
                    current.append(next)
                }
            default:
                current.append(byte)
            }
        }
        return strings
    }
}

@Suite struct RecordParserTests {
    /// RFC 6376 Appendix C's key record for brisbane._domainkey.example.com.
    static let rfc6376Example = """
        v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYt\
        IxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhi\
        tdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB
        """
    /// RFC 8463 Appendix A.2's Ed25519 key record for brisbane._domainkey.football.example.com.
    static let rfc8463Example = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

    @Test func theRFCExamplesParse() throws {
        let rsa = try DKIMKeyRecord(parsing: Self.rfc6376Example)
        #expect(rsa.version == "DKIM1")
        #expect(rsa.keyType == "rsa", "k= defaults to rsa")
        let message = Data("m".utf8)
        // The key decodes as a 1024-bit RSA SubjectPublicKeyInfo: a bogus signature is simply "no".
        #expect(try !KeyPair.verify(Data(count: 128), over: message, algorithm: .rsa, dkimPublicKey: rsa.publicKeyBytes!))
        let ed = try DKIMKeyRecord(parsing: Self.rfc8463Example)
        #expect(ed.keyType == "ed25519")
        #expect(ed.publicKeyBytes?.count == 32)
    }

    @Test func foldingWhitespaceAndUnknownTagsAreAccepted() throws {
        let record = try DKIMKeyRecord(parsing: " v = DKIM1 ;\r\n\tk=rsa; xfuture_1=1; t = y : s ; p = MIGf MA0G ;  ")
        #expect(record.publicKey == "MIGfMA0G")
        #expect(record.flags == ["y", "s"])
        #expect(record.isTesting)
        let revoked = try DKIMKeyRecord(parsing: "v=DKIM1; k=rsa; p=")
        #expect(revoked.isRevoked)
    }

    @Test(arguments: [
        ("v=DKIM1; p=abc; p=abc", "more than once"),
        ("k=rsa; v=DKIM1; p=", "first"),
        ("v=DKIM2; p=", "not DKIM1"),
        ("v=DKIM1; k=rsa", "'p' is missing"),
        ("v=DKIM1; p=\"MIGf\"", "not valid base64"),
        ("v=DKIM1; p=MIG!", "not valid base64"),
        ("v=DKIM1; p=MIGfM", "not valid base64"),
        ("v=DKIM1;; p=", "empty tag"),
        ("v=DKIM1; 1x=2; p=", "not a valid tag name"),
        ("v=DKIM1; garbage; p=", "not a tag=value pair"),
        ("v=DKIM1; n=caf\u{e9}; p=", "U+00E9"),
        ("v=DKIM1; n=bad=Z; p=", "quoted-printable"),
    ])
    func syntaxErrorsAreReported(text: String, reason: String) throws {
        let error = try #require(throws: RecordSyntaxError.self) { try DKIMKeyRecord(parsing: text) }
        #expect(error.reason.contains(reason), "\(error.reason)")
    }
}
