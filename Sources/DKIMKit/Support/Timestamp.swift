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
        let trimmed = text.trimmingCharacters(in: .whitespaces)
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

    /// Whole milliseconds: what the registry can store and give back unchanged.
    public static func truncatedToMilliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    private static func format(_ date: Date, milliseconds: Bool) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
        text += "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
        if milliseconds {
            let fraction = Int(((interval - interval.rounded(.down)) * 1000).rounded(.toNearestOrAwayFromZero))
            text += "." + pad(min(fraction, 999), 3)
        }
        return text + "Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// A length of time given as `90s`, `15m`, `12h`, `30d` or `2w`.
public struct TimeSpan: Sendable, Equatable, CustomStringConvertible {
    public let seconds: Int

    public init(seconds: Int) { self.seconds = seconds }

    public init(parsing input: String) throws {
        let units: [(String, Int)] = [("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800)]
        let text = input.trimmingCharacters(in: .whitespaces).lowercased()
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let value = Int(text.dropLast(suffix.count)), value >= 0, value <= 100 * 366 * 86400 / factor {
                seconds = value * factor
                return
            }
        }
        throw DKIMError.invalid("duration '\(input)' is not valid (expected a whole number and a unit: 90s, 15m, 12h, 30d, 2w)")
    }

    public var description: String {
        if seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
