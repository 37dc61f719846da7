import Foundation

/// Edits a registry file as an attacker with access to it would: Debian's python3
/// and its sqlite3 module, every protective trigger dropped first.
public enum RegistryTampering {
    /// Runs `sql` (one or more statements) on the registry at `path`.
    /// - Parameter ignoringChecks: also switch off CHECK constraints (to store an unknown state, say).
    /// - Throws: `TestSupportError` with Python's error output when the SQL fails.
    public static func run(_ sql: String, on path: String, ignoringChecks: Bool = false) throws {
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                db.execute('DROP TRIGGER "%s"' % name)
            if sys.argv[3] == "1":
                db.execute("PRAGMA ignore_check_constraints = ON")
            db.executescript(sys.argv[2])
            db.commit()
            """
        let result = try ProcessRunner.run("/usr/bin/python3", ["-c", script, path, sql, ignoringChecks ? "1" : "0"])
        guard result.status == 0 else { throw TestSupportError("tampering with \(path) failed: \(result.standardError)") }
    }
}
