import Foundation

/// How selectors are named from a slot and a generation date.
///
/// Tokens: `{provider}`, `{usage}`, `{yyyymmdd}`, `{yyyymm}`, `{yyyy}`, `{mm}`,
/// `{dd}` (dates in UTC). The default, `{provider}-{usage}-{yyyymmdd}`, puts
/// the generation date in the selector as CCCS ITSP.40.065 recommends.
public struct SelectorPattern: Sendable, Hashable, CustomStringConvertible {
    public static let `default` = SelectorPattern(trusted: "{provider}-{usage}-{yyyymmdd}")
    static let tokens = ["provider", "usage", "yyyymmdd", "yyyymm", "yyyy", "mm", "dd"]

    public let pattern: String

    public init(_ pattern: String) throws {
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw DKIMError.invalid("selector pattern '\(pattern)' has an unclosed '{'")
            }
            let token = rest[rest.index(after: open)..<close]
            if !SelectorPattern.tokens.contains(String(token)) {
                throw DKIMError.invalid(
                    "selector pattern '\(pattern)' uses unknown token '{\(token)}' (allowed: \(SelectorPattern.tokens.map { "{\($0)}" }.joined(separator: ", ")))")
            }
            rest = rest[rest.index(after: close)...]
        }
        self.pattern = pattern
    }

    init(trusted pattern: String) { self.pattern = pattern }

    public var description: String { pattern }

    /// The selector for a key of `provider`/`usage` generated at `date`, before any same-day suffix.
    public func selector(provider: Provider, usage: Usage, date: Date) throws -> Selector {
        // The UTC day as 2026-11-23 (gmtime, not Calendar: ICU's calendar costs milliseconds to set up).
        let day = Array(Timestamp.day(date))
        let (yyyy, mm, dd) = (String(day[0..<4]), String(day[5..<7]), String(day[8..<10]))
        let values = [
            "provider": provider.selectorToken, "usage": usage.name,
            "yyyymmdd": yyyy + mm + dd, "yyyymm": yyyy + mm, "yyyy": yyyy, "mm": mm, "dd": dd,
        ]
        // Each {token} replaced in one pass (an unknown one stays, and the selector check refuses it).
        var name = ""
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{") {
            name += rest[..<open]
            let afterOpen = rest.index(after: open)
            if let close = rest[afterOpen...].firstIndex(of: "}"), let value = values[String(rest[afterOpen..<close])] {
                name += value
                rest = rest[rest.index(after: close)...]
            } else {
                name += "{"
                rest = rest[afterOpen...]
            }
        }
        name += rest
        do {
            return try Selector(name)
        } catch let error as DKIMError {
            throw DKIMError.invalid("selector pattern '\(pattern)' produced an invalid selector: \(error.message)")
        }
    }

    /// The suffixes tried, in order, when a selector is already taken on the same day: "", "b", "c", … "z".
    static let sameDaySuffixes: [String] = [""] + "bcdefghijklmnopqrstuvwxyz".map { String($0) }
}
