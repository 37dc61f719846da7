import Foundation

/// What receivers said of one DKIM signature on one day: the key the aggregates are
/// summed under (RFC 7489 rows, per day, policy domain, From domain, `d=`, selector,
/// result, alignment and reporter).
public struct DKIMSighting: Hashable, Sendable {
    /// `YYYY-MM-DD`, the UTC day the report's period begins.
    public var day: String
    public var policyDomain: String
    public var headerFrom: String
    /// `d=`; empty for messages that carried no DKIM signature.
    public var dkimDomain: String
    /// Empty when the receiver did not name it: never taken for one of ours.
    public var selector: String
    public var result: String
    /// `d=` aligned with the From domain under the published `adkim`.
    public var aligned: Bool
    public var reporter: String

    public init(
        day: String, policyDomain: String, headerFrom: String, dkimDomain: String, selector: String, result: String, aligned: Bool,
        reporter: String
    ) {
        (self.day, self.policyDomain, self.headerFrom, self.dkimDomain) = (day, policyDomain, headerFrom, dkimDomain)
        (self.selector, self.result, self.aligned, self.reporter) = (selector, result, aligned, reporter)
    }
}

/// The messages of a sighting, and how many distinct source IPs sent them (in one report).
public struct SightingCount: Sendable, Equatable {
    public var messages = 0
    public var sourceIPs: Set<String> = []

    /// One row's messages and its source, with one dictionary access.
    mutating func add(messages count: Int, from sourceIP: String) {
        messages += count
        sourceIPs.insert(sourceIP)
    }

    public init(messages: Int = 0, sourceIPs: Set<String> = []) {
        self.messages = messages
        self.sourceIPs = sourceIPs
    }
}

/// Per selector, across days and reporters: what `reports summary` shows.
public struct SelectorEvidence: Sendable, Equatable {
    public var dkimDomain: String
    public var selector: String
    /// Whether the registry holds a key with this selector for this domain.
    public var known: Bool
    public var firstSeen: String
    public var lastSeen: String
    public var messages: Int
    public var passingMessages: Int
    public var alignedMessages: Int
    /// Messages whose signature passed but whose `d=` did not align with the From domain.
    public var passingUnalignedMessages: Int = 0
    public var reporters: Int

    public var passRate: Double { messages == 0 ? 0 : Double(passingMessages) / Double(messages) }
    public var alignedShare: Double { messages == 0 ? 0 : Double(alignedMessages) / Double(messages) }
}
