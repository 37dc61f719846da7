import Foundation

/// An owner of a slot: the person or team address that answers for it in audits.
public struct Owner: Sendable, Hashable, CustomStringConvertible {
    public let address: String

    /// Accepts `local@domain` addresses (the usual case) and plain team names;
    /// refuses empty values, control characters and anything longer than 254 octets.
    public init(_ input: String) throws {
        let trimmed = input.trimmingWhitespace
        if trimmed.isEmpty {
            throw DKIMError.invalid("owner '\(input)' is empty (expected an address such as mail-team@example.org)")
        }
        if trimmed.utf8.count > 254 {
            throw DKIMError.invalid("owner '\(trimmed.prefix(40))…' is \(trimmed.utf8.count) octets long (at most 254)")
        }
        if trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "," || $0 == "\"" }) {
            throw DKIMError.invalid("owner '\(trimmed)' contains a control character, comma or quote (expected an address such as mail-team@example.org)")
        }
        if trimmed.utf8.contains(UInt8(ascii: "@")) {
            let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty || parts[1].utf8.contains(UInt8(ascii: " ")) || parts[0].utf8.contains(UInt8(ascii: " ")) {
                throw DKIMError.invalid("owner '\(trimmed)' is not a valid address (expected local@domain, e.g. mail-team@example.org)")
            }
        }
        address = trimmed
    }

    init(trusted address: String) { self.address = address }

    public var description: String { address }
}
