import Foundation

/// UTC timestamps as dkimctl prints and parses them (ISO 8601).
public enum Timestamp {
    /// `2026-11-23T15:59:51Z`.
    public static func iso8601(_ date: Date) -> String {
        format(date, milliseconds: false)
    }

    /// `2026-11-23T15:59:51.123Z`, the event log's form.
    public static func iso8601Milliseconds(_ date: Date) -> String {
        format(date, milliseconds: true)
    }

    /// `2026-11-23`.
    public static func day(_ date: Date) -> String {
        String(iso8601(date).prefix(10))
    }

    /// Parses `2026-11-23`, `2026-11-23T10:00:00Z`, `2026-11-23T10:00:00.5+01:00` and the like.
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingWhitespace
        if trimmed.count == 10 {
            return parse(trimmed + "T00:00:00Z")
        }
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds],
        ] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: trimmed) { return date }
        }
        return nil
    }

    /// Parses GRDB's storage form, `2026-11-23 16:06:39.682` (UTC), without
    /// going through `Calendar`: listing a large registry decodes many of these.
    static func parseDatabaseForm(_ text: String) -> Date? {
        var result: Date?
        var text = text
        text.withUTF8 { utf8 in
            guard utf8.count == 19 || utf8.count == 23 else { return }
            func number(_ range: Range<Int>) -> Int? {
                var value = 0
                for index in range {
                    let digit = Int(utf8[index]) - 48
                    guard (0...9).contains(digit) else { return nil }
                    value = value * 10 + digit
                }
                return value
            }
            guard utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"), utf8[10] == UInt8(ascii: " "),
                utf8[13] == UInt8(ascii: ":"), utf8[16] == UInt8(ascii: ":"),
                let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
                let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
                (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
            else { return }
            var milliseconds = 0
            if utf8.count == 23 {
                guard utf8[19] == UInt8(ascii: "."), let fraction = number(20..<23) else { return }
                milliseconds = fraction
            }
            // Days from the civil date (Howard Hinnant's algorithm), proleptic Gregorian.
            let y = month <= 2 ? year - 1 : year
            let era = (y >= 0 ? y : y - 399) / 400
            let yearOfEra = y - era * 400
            let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
            let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
            let days = era * 146_097 + dayOfEra - 719_468
            let seconds = days * 86400 + hour * 3600 + minute * 60 + second
            result = Date(timeIntervalSince1970: Double(seconds) + Double(milliseconds) / 1000)
        }
        return result
    }

    /// `2026-11-23 16:06:39.682` (UTC, to the nearest millisecond): the form GRDB stores dates in,
    /// made with gmtime. GRDB's own conversion builds an ICU date formatter and loads time
    /// zone data, a few milliseconds of every command that writes.
    public static func databaseForm(_ date: Date) -> String {
        // Foundation's formatter rounds half a millisecond up (towards the future, also
        // before 1970), from the interval since 2001 moved to 1970: the same arithmetic here.
        let milliseconds = Int64(((date.timeIntervalSinceReferenceDate + 978_307_200) * 1000 + 0.5).rounded(.down))
        let (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let whole = fraction < 0 ? seconds - 1 : seconds
        let text = format(Date(timeIntervalSince1970: TimeInterval(whole)), milliseconds: false)
        let digits = String(fraction < 0 ? fraction + 1000 : fraction)
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).dropLast()) + "." + String(repeating: "0", count: 3 - digits.count) + digits
    }

    /// Whole milliseconds: what the registry can store and give back unchanged.
    public static func truncatedToMilliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    private static func format(_ date: Date, milliseconds: Bool) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Built byte by byte: listing 100,000 keys formats 600,000 of these.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8((rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        bytes.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        if milliseconds {
            let fraction = Int(((interval - interval.rounded(.down)) * 1000).rounded(.toNearestOrAwayFromZero))
            bytes.append(UInt8(ascii: "."))
            digits(min(fraction, 999), 3)
        }
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A length of time given as `90s`, `15m`, `12h`, `30d` or `2w`.
public struct TimeSpan: Sendable, Equatable, CustomStringConvertible {
    public let seconds: Int

    public init(seconds: Int) { self.seconds = seconds }

    public init(parsing input: String) throws {
        let units: [(String, Int)] = [("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800)]
        let text = input.trimmingWhitespace.lowercased()
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let value = Int(text.dropLast(suffix.count)), value >= 0, value <= 100 * 366 * 86400 / factor {
                seconds = value * factor
                return
            }
        }
        throw DKIMError.invalid("duration '\(input)' is not valid (expected a whole number and a unit: 90s, 15m, 12h, 30d, 2w)")
    }

    /// `1h 5m 3s`, for people.
    public var humanReadable: String {
        var parts: [String] = []
        var rest = seconds
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where rest >= size {
            parts.append("\(rest / size)\(unit)")
            rest %= size
        }
        if rest > 0 || parts.isEmpty { parts.append("\(rest)s") }
        return parts.joined(separator: " ")
    }

    public var description: String {
        if seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
