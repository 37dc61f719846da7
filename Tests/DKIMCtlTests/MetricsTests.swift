import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// `dkimctl metrics`, read by the Prometheus client library's own parser.
@Suite struct MetricsTests {
    struct Sample: Equatable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// Debian's Python, where python3-prometheus-client installs (another python3 may come first on PATH).
    static let debianPython = "/usr/bin/python3"

    /// Parses exposition text with prometheus_client (Debian python3-prometheus-client).
    private func parse(_ text: String) throws -> [Sample] {
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for family in text_string_to_metric_families(sys.stdin.read()):
                assert family.type == "gauge", family.name
                assert family.documentation, family.name
                for sample in family.samples:
                    out.append({"name": sample.name, "labels": sample.labels, "value": sample.value})
            print(json.dumps(out))
            """
        let result = try ProcessRunner.run(Self.debianPython, ["-c", script], input: text)
        #expect(result.status == 0, "\(result.standardError)")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]])
        return array.map { Sample(name: $0["name"] as! String, labels: $0["labels"] as! [String: String], value: ($0["value"] as! NSNumber).doubleValue) }
    }

    /// Needs python3-prometheus-client (scripts/install-dependencies.sh --tests installs it).
    @Test func metricsParseWithTheExpectedValues() throws {
        let world = try RotationWorld(domains: ["example.org"])
        try world.writeConfiguration(.rfc2136, revocation: "empty-p", reveal: false)
        let hour: TimeInterval = 3600
        let day: TimeInterval = 86400

        // Before any rotate: nothing active, never rotated.
        let before = try parse(try world.dkimctl.run(["metrics", "--config", world.configPath], environment: world.at(0)).standardOutput)
        #expect(before.first { $0.name == "dkimctl_seconds_since_last_successful_rotate" }?.value == -1)
        #expect(before.first { $0.name == "dkimctl_last_successful_rotate_timestamp_seconds" }?.value == 0)

        // Day 0 the key is created and proved, an hour later it is active (RotationTests shows the steps).
        #expect(try world.rotate(at: 0).status == 0)
        #expect(try world.rotate(at: hour).status == 0)
        let active = try #require(try world.keys("example.org").first)
        #expect(active.state == .active)

        let output = world.scratch.file("collector/dkimctl.prom")
        try FileManager.default.createDirectory(atPath: world.scratch.file("collector"), withIntermediateDirectories: true)
        let now = RotationWorld.start.addingTimeInterval(20 * day)
        let written = try world.dkimctl.run(["metrics", "--config", world.configPath, "--output", output], environment: world.at(20 * day))
        #expect(written.status == 0, "\(written.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: world.scratch.file("collector")) == ["dkimctl.prom"], "no temporary file left")
        let samples = try parse(try String(contentsOfFile: output, encoding: .utf8))

        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples.first { $0.name == name && $0.labels == labels }?.value
        }
        let slot = ["domain": "example.org", "provider": "self-hosted", "usage": "notifications", "selector": active.selector.name]
        // Keys per state: one active local key, every other state and kind present at 0.
        #expect(value("dkimctl_keys", ["state": "active", "kind": "local"]) == 1)
        #expect(samples.filter { $0.name == "dkimctl_keys" }.count == KeyState.allCases.count * 2)
        #expect(samples.filter { $0.name == "dkimctl_keys" }.map(\.value).reduce(0, +) == 1)
        // Activated an hour after the start, rotation 182 days: due in 182 d + 1 h − 20 d.
        #expect(value("dkimctl_rotation_due_days", slot) == ((162 * day + hour) / day * 100).rounded() / 100)
        // The activation tick proved it in DNS.
        #expect(value("dkimctl_dns_proof_ok", slot) == 1)
        #expect(value("dkimctl_dns_proof_timestamp_seconds", slot) == RotationWorld.start.addingTimeInterval(hour).timeIntervalSince1970)
        // The last complete tick ran an hour after the start.
        #expect(value("dkimctl_last_successful_rotate_timestamp_seconds") == RotationWorld.start.addingTimeInterval(hour).timeIntervalSince1970)
        #expect(value("dkimctl_seconds_since_last_successful_rotate") == 20 * day - hour)
        // Twenty days after activation with no tick since, the TTL is still 1800: one warning (ttl-not-raised).
        #expect(value("dkimctl_audit_findings", ["severity": "error"]) == 0)
        #expect(value("dkimctl_audit_findings", ["severity": "warning"]) == 1)
        #expect(value("dkimctl_metrics_generated_timestamp_seconds") == now.timeIntervalSince1970)
    }
}
