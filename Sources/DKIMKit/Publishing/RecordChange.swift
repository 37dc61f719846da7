import Foundation

/// One change for a publisher: the record as it must be after the change.
public struct RecordChange: Sendable, Equatable {
    public let action: RecordAction
    /// The record to publish; for `revoke`, the same name with an empty `p=`.
    public let record: PublishedRecord
    public let domain: DomainName
    public let selector: Selector

    public init(action: RecordAction, record: PublishedRecord, domain: DomainName, selector: Selector) {
        self.action = action
        self.record = record
        self.domain = domain
        self.selector = selector
    }

    /// The change that brings `key`'s name to `action`.
    public static func of(_ key: RegisteredKey, action: RecordAction) -> RecordChange {
        var record = key.publishedRecord
        if action == .revoke {
            record = PublishedRecord(
                name: key.recordName, ttl: key.ttl,
                record: DKIMKeyRecord(keyType: key.algorithm.rawValue, publicKey: ""))
        }
        return RecordChange(action: action, record: record, domain: key.domain, selector: key.selector)
    }
}
