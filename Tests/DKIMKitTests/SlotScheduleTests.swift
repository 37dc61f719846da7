import DKIMKit
import Foundation
import Testing

/// The slot schedule, tick by tick over an in-memory registry: the dates every
/// consumer (the tick, its `next:`, `revoke`, the audit) reads from one place.
@Suite struct SlotScheduleTests {
    let actor = Actor("tester@test-host")
    let start = Timestamp.parse("2026-11-23T10:00:00Z")!
    let day: TimeInterval = 86400

    private func policy() throws -> SlotPolicy {
        try SlotPolicy(
            domain: DomainName("example.org"), provider: Provider("mailgun"), usage: Usage("notifications"),
            owner: Owner("team@example.org"), specification: KeySpecification(algorithm: .ed25519))
    }

    private func register(_ registry: SQLRegistry, _ selector: String, at time: Date) throws -> RegisteredKey {
        try registry.register(
            NewKeyRegistration(
                domain: DomainName("example.org"), provider: Provider("mailgun"), usage: Usage("notifications"),
                owner: Owner("team@example.org"), selector: Selector(selector), algorithm: .ed25519, bits: 256,
                publicKey: Data(repeating: 1, count: 32).base64EncodedString(), fingerprint: "sha256:00",
                privateKeyPath: "\(selector).pem", ttl: 1800, recordOptions: RecordOptions()),
            actor: actor, at: time)
    }

    @Test func aSlotsDatesFollowItsPolicy() throws {
        let policy = try policy()  // rotation 182d, lead 14d, grace 7d, stable TTL 86400
        let schedule = SlotSchedule(policy: policy)
        let registry = try SQLRegistry.inMemory()
        #expect(schedule.newKeyReason([], at: start) == "first key of the slot")

        let first = try register(registry, "k1", at: start)
        #expect(schedule.newKeyReason([first], at: start) == nil, "a pending key is on its way")
        let active = try registry.activate(
            keyID: first.id, rotationPeriod: policy.rotation, forcedReason: "test", actor: actor, at: start.addingTimeInterval(day)).active
        let expires = start.addingTimeInterval(day + 182 * day)
        #expect(active.expiresAt == expires)
        #expect(schedule.successorDue(of: active) == expires.addingTimeInterval(-14 * day))
        #expect(schedule.stableTTLDue(of: active) == start.addingTimeInterval(8 * day))
        #expect(schedule.newKeyReason([active], at: expires.addingTimeInterval(-15 * day)) == nil)
        #expect(schedule.newKeyReason([active], at: expires.addingTimeInterval(-14 * day))?.hasPrefix("successor of k1") == true)
        #expect(!SlotSchedule.isOverdue(active, at: expires.addingTimeInterval(-1)))
        #expect(SlotSchedule.isOverdue(active, at: expires))

        // The successor: published, then activated; the predecessor retires and its grace starts.
        let successor = try register(registry, "k2", at: expires.addingTimeInterval(-14 * day))
        #expect(schedule.newKeyReason([active, successor], at: expires) == nil)
        #expect(schedule.activationTime(publishedAt: start, recordTTL: 1800, negativeTTL: 3600) == start.addingTimeInterval(3600))
        let switched = expires.addingTimeInterval(-13 * day)
        let (_, retired) = try registry.activate(
            keyID: successor.id, rotationPeriod: policy.rotation, forcedReason: "test", actor: actor, at: switched)
        let old = try #require(retired)
        #expect(schedule.graceEnd(of: old) == switched.addingTimeInterval(7 * day))
        #expect(schedule.stableTTLDue(of: old) == nil && schedule.successorDue(of: old) == nil)
        #expect(schedule.graceEnd(of: active) == nil, "only a retired key has a grace end")
    }

    @Test func aStableTTLIsNotDueTwice() throws {
        let policy = try policy()
        let registry = try SQLRegistry.inMemory()
        let key = try register(registry, "k1", at: start)
        let active = try registry.activate(keyID: key.id, rotationPeriod: policy.rotation, forcedReason: "test", actor: actor, at: start).active
        let raised = try registry.changeTTL(keyID: active.id, ttl: policy.stableTTL, actor: actor, at: start.addingTimeInterval(8 * day))
        #expect(SlotSchedule(policy: policy).stableTTLDue(of: raised) == nil)
    }
}
