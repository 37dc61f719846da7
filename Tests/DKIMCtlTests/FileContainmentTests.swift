import DKIMKit
import DKIMTestSupport
import Foundation
import Testing

/// Files cannot be redirected: an edited key path, a planted symbolic link, a
/// copied state directory, a directory owned by someone else or writable by all.
@Suite(.serialized) struct FileContainmentTests {
    let hour: TimeInterval = 3600

    private func tamper(_ registry: String, _ sql: String) throws {
        try RegistryTampering.run(sql, on: registry)
    }

    @Test func anEditedKeyPathIsNeverDestroyed() throws {
        let world = try RotationWorld(domains: ["example.org"])
        try world.writeConfiguration(.rfc2136)
        #expect(try world.rotate(at: 0).status == 0)
        #expect(try world.rotate(at: hour).status == 0)
        let first = try #require(try world.keys("example.org").first)
        #expect(first.state == .active)

        let victim = world.scratch.file("victim.txt")
        try "precious\n".write(toFile: victim, atomically: true, encoding: .utf8)
        try tamper(world.scratch.file("state/registry.sqlite"), "UPDATE key SET private_key_path = '\(victim)' WHERE id = \(first.id);")

        let emergency = try world.rotate(at: 2 * hour, ["--emergency", first.selector.name, "--domain", "example.org", "--reason", "test"])
        #expect(emergency.status != 0)
        #expect(emergency.standardOutput.contains("leads outside") || emergency.standardError.contains("leads outside"), "\(emergency.standardOutput)\(emergency.standardError)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        // The audit names it too.
        let audit = try world.dkimctl.run(["audit", "--no-dns", "--config", world.configPath], environment: world.at(2 * hour))
        #expect(audit.standardOutput.contains("path outside the state directory"), "\(audit.standardOutput)")
    }

    @Test func aSymbolicLinkPlantedInThePlaceOfAKeyFileIsRefused() throws {
        let world = try RotationWorld(domains: ["example.org"])
        try world.writeConfiguration(.rfc2136)
        #expect(try world.rotate(at: 0).status == 0)
        let key = try #require(try world.keys("example.org").first)
        let path = try #require(key.privateKeyPath)
        let victim = world.scratch.file("victim.txt")
        try "precious\n".write(toFile: victim, atomically: true, encoding: .utf8)
        #expect(unlink(path) == 0 && symlink(victim, path) == 0)
        let revoked = try world.dkimctl.run(
            ["revoke", key.selector.name, "--domain", "example.org", "--config", world.configPath, "--immediately", "--reason", "x"],
            environment: world.at(hour))
        #expect(revoked.status != 0)
        #expect(revoked.standardError.contains("is a symbolic link"), "\(revoked.standardError)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
    }

    @Test func aCopiedStateDirectoryNeverTouchesTheOriginalsKeys() throws {
        let world = try RotationWorld(domains: ["example.org"])
        try world.writeConfiguration(.rfc2136)
        #expect(try world.rotate(at: 0).status == 0)
        let key = try #require(try world.keys("example.org").first)
        let original = try #require(key.privateKeyPath)
        let copy = world.scratch.file("copy")
        #expect(try ProcessRunner.run("/bin/cp", ["-a", world.scratch.file("state"), copy]).status == 0)
        let copied = DKIMCtlBinary(stateDirectory: copy)

        // Stored as a name inside keys/: the copy revokes and destroys its own file.
        let revoked = try copied.run(
            ["revoke", key.selector.name, "--domain", "example.org", "--config", world.configPath, "--immediately", "--reason", "copy"],
            environment: world.at(hour))
        #expect(revoked.status == 0, "\(revoked.standardOutput)\(revoked.standardError)")
        #expect(FileManager.default.fileExists(atPath: original), "the original's key file was destroyed by the copy")
        #expect(!FileManager.default.fileExists(atPath: copy + "/keys/" + (original as NSString).lastPathComponent))

        // An older registry stored absolute paths: in a copy they lead to the original's keys and are refused.
        let second = world.scratch.file("copy2")
        #expect(try ProcessRunner.run("/bin/cp", ["-a", world.scratch.file("state"), second]).status == 0)
        try tamper(second + "/registry.sqlite", "UPDATE key SET private_key_path = '\(original)' WHERE id = \(key.id);")
        let refused = try DKIMCtlBinary(stateDirectory: second).run(
            ["revoke", key.selector.name, "--domain", "example.org", "--config", world.configPath, "--immediately", "--reason", "copy"],
            environment: world.at(hour))
        #expect(refused.standardOutput.contains("leads outside") || refused.standardError.contains("leads outside"), "\(refused.standardOutput)\(refused.standardError)")
        #expect(FileManager.default.fileExists(atPath: original))
    }

    @Test func aStateDirectoryOwnedBySomeoneElseIsRefusedWithTheFix() throws {
        let scratch = try TemporaryDirectory("owner")
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"))
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        #expect(chown(scratch.file("state"), 65534, 65534) == 0)
        let listed = try dkimctl.run(["list"])
        #expect(listed.status != 0)
        #expect(listed.errorLines.first?.contains("belongs to") == true && listed.errorLines.first?.contains("chown -R 0 ") == true, "\(listed.standardError)")
        #expect(chown(scratch.file("state"), 0, 0) == 0)
        #expect(chown(scratch.file("state/keys"), 65534, 65534) == 0)
        #expect(try dkimctl.run(["list"]).errorLines.first?.contains("key directory") == true)
    }

    @Test func outputIntoADirectoryWritableByAllIsRefusedUnlessSticky() throws {
        let scratch = try TemporaryDirectory("output")
        let dkimctl = DKIMCtlBinary(stateDirectory: scratch.file("state"))
        #expect(try dkimctl.run(["init", "--owner", "team@example.org"]).status == 0)
        let open = scratch.file("open")
        #expect(mkdir(open, 0o777) == 0 && chmod(open, 0o777) == 0)
        let refused = try dkimctl.run(["metrics", "--output", open + "/dkimctl.prom"])
        #expect(refused.status != 0)
        #expect(refused.errorLines.first?.contains("writable by everyone without the sticky bit") == true, "\(refused.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: open).isEmpty)

        #expect(chmod(open, 0o1777) == 0)
        // A symbolic link planted at the target is replaced, never followed.
        let victim = scratch.file("victim.txt")
        try "precious\n".write(toFile: victim, atomically: true, encoding: .utf8)
        #expect(symlink(victim, open + "/dkimctl.prom") == 0)
        let written = try dkimctl.run(["metrics", "--output", open + "/dkimctl.prom"])
        #expect(written.status == 0, "\(written.standardError)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(try String(contentsOfFile: open + "/dkimctl.prom", encoding: .utf8).contains("dkimctl_keys"))
    }
}
