@testable import DKIMKit
import GRDB
import Foundation
import Testing

@Suite struct JSONWriterTests {
    /// Strings with every kind of character JSON must escape, at every offset
    /// around the 8-octet fast path, read back by Foundation's parser.
    @Test func escapedStringsRoundTripThroughJSONSerialization() throws {
        let specials = ["\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1F}", "é", "☃", "/"]
        var values: [String] = []
        for special in specials {
            for offset in 0..<18 {
                values.append(String(repeating: "a", count: offset) + special + String(repeating: "b", count: 17 - offset))
            }
        }
        values.append("")
        values.append(String(repeating: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", count: 20))
        var writer = JSONWriter()
        writer.beginArray()
        for value in values { writer.string(value) }
        writer.endArray()
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String])
        #expect(parsed == values)
    }

    @Test func theWordCheckAgreesWithTheOctetCheck() {
        func slow(_ word: UInt64) -> Bool {
            (0..<8).contains { index in
                let byte = UInt8(truncatingIfNeeded: word >> (8 * UInt64(index)))
                return byte < 0x20 || byte == 0x22 || byte == 0x5C
            }
        }
        var generator = SystemRandomNumberGenerator()
        for byte in UInt8.min...UInt8.max {
            // The one interesting octet at each position, amid harmless ones.
            for position in 0..<8 {
                var word: UInt64 = 0x4141_4141_4141_4141
                word &= ~(0xFF << (8 * UInt64(position)))
                word |= UInt64(byte) << (8 * UInt64(position))
                #expect(JSONWriter.needsEscape(word) == slow(word))
            }
        }
        for _ in 0..<20_000 {
            let word = UInt64.random(in: .min ... .max, using: &generator)
            #expect(JSONWriter.needsEscape(word) == slow(word))
        }
    }

    @Test func objectsAndPrettyPrinting() throws {
        var writer = JSONWriter(pretty: true)
        writer.beginObject()
        writer.field("name", "x")
        writer.field("count", 3)
        writer.field("none", nil as String?)
        writer.field("flag", true)
        writer.field("list", ["a", "b"])
        writer.key("nested")
        writer.raw("{\"k\":1}")
        writer.endObject()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
        #expect(object["name"] as? String == "x" && object["count"] as? Int == 3 && object["none"] is NSNull)
        #expect(object["flag"] as? Bool == true && object["list"] as? [String] == ["a", "b"])
        #expect(writer.text.contains("\n  \"count\": 3"))
    }
}

@Suite struct TimestampTests {
    @Test func formatsAndParsesISO8601() throws {
        let date = try #require(Timestamp.parse("2026-11-23T15:59:51.123Z"))
        #expect(Timestamp.iso8601(date) == "2026-11-23T15:59:51Z")
        #expect(Timestamp.iso8601Milliseconds(date) == "2026-11-23T15:59:51.123Z")
        #expect(Timestamp.day(date) == "2026-11-23")
        #expect(Timestamp.parse("2026-11-23") == Timestamp.parse("2026-11-23T00:00:00Z"))
        #expect(Timestamp.parse("2026-11-23T10:00:00+01:00") == Timestamp.parse("2026-11-23T09:00:00Z"))
        #expect(Timestamp.parse("yesterday") == nil)
    }

    @Test func theDatabaseFormParsesLikeFoundation() throws {
        for text in ["1970-01-01 00:00:00.000", "2000-02-29 23:59:59.999", "2026-11-23 16:06:39.682", "2100-03-01 00:00:00", "1969-12-31 23:59:59.500"] {
            let iso = text.replacingOccurrences(of: " ", with: "T") + (text.count == 19 ? "Z" : "Z")
            let expected = try #require(Timestamp.parse(iso))
            let parsed = try #require(Timestamp.parseDatabaseForm(text))
            #expect(abs(parsed.timeIntervalSince1970 - expected.timeIntervalSince1970) < 0.0005, "\(text)")
        }
        for bad in ["2026-13-01 00:00:00", "2026-11-23T16:06:39", "2026-11-23 16:06", "abcd-ef-gh ij:kl:mn"] {
            #expect(Timestamp.parseDatabaseForm(bad) == nil, "\(bad)")
        }
    }

    @Test func timeSpans() throws {
        #expect(try TimeSpan(parsing: "30d").seconds == 30 * 86400)
        #expect(try TimeSpan(parsing: "2w").seconds == 14 * 86400)
        #expect(try TimeSpan(parsing: "90s").description == "90s")
        for bad in ["3y", "d", "-1d", "1.5d", ""] {
            #expect(throws: DKIMError.self) { try TimeSpan(parsing: bad) }
        }
    }
}

/// dkimctl writes dates in GRDB's storage form itself (no ICU formatter per command):
/// the same text GRDB would write, so registries stay byte for byte what they were.
@Suite struct DatabaseTimestampTests {
    @Test func theDatabaseFormIsGRDBs() throws {
        var generator = SystemRandomNumberGenerator()
        var dates = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_795_000_000.123),
            Date(timeIntervalSince1970: 1_795_000_000.9999), Date(timeIntervalSince1970: -1.5),
            Timestamp.parse("2026-11-23T16:06:39.682Z")!, Timestamp.parse("2028-02-29T23:59:59.999Z")!,
            // Half-millisecond ties, before and after 1970 (the first one failed a CI run).
            Date(timeIntervalSince1970: -1_267_031_087.4505), Date(timeIntervalSince1970: -1.0005),
            Date(timeIntervalSince1970: -2.0015), Date(timeIntervalSince1970: 1.0005),
            Date(timeIntervalSince1970: 2.0015), Date(timeIntervalSince1970: 1_234_567.8885),
        ]
        for _ in 0..<20_000 { dates.append(Date(timeIntervalSince1970: Double.random(in: -2e9...4e9, using: &generator))) }
        for date in dates {
            #expect(Timestamp.databaseForm(date) == String.fromDatabaseValue(date.databaseValue), "\(date.timeIntervalSince1970)")
        }
    }
}
