/// What mail a slot signs (`noreply`, `notifications`, `support`, …). It is
/// part of the default selector, so it follows the rules of a DNS label.
public struct Usage: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let `default` = Usage(trusted: "default")

    public let name: String

    public init(_ input: String) throws {
        let lowered = input.lowercased()
        if let problem = DNSLabel.problem(with: Substring(lowered)) {
            throw DKIMError.invalid("usage '\(input)' is not valid: \(problem)")
        }
        if lowered.utf8.count > 32 {
            throw DKIMError.invalid("usage '\(input)' is \(lowered.utf8.count) characters long (at most 32, it becomes part of the selector)")
        }
        name = lowered
    }

    init(trusted name: String) { self.name = name }

    public var description: String { name }
    public static func < (lhs: Usage, rhs: Usage) -> Bool { lhs.name < rhs.name }
}
