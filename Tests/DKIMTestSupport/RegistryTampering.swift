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

    /// Damages the registry as a failing disk would: its WAL is first folded into the file
    /// and emptied (dkimctl leaves the last commits in the WAL), so the overwritten pages
    /// are the ones SQLite reads; then `count` bytes from `offset` become 0xA5.
    public static func damage(_ path: String, offset: UInt64, count: Int) throws {
        let checkpoint = try ProcessRunner.run("/usr/bin/python3", ["-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            busy, log, folded = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            sys.exit(1 if busy or log != folded else 0)
            """, path])
        guard checkpoint.status == 0 else { throw TestSupportError("folding the WAL of \(path) failed: \(checkpoint.standardError)") }
        guard let handle = FileHandle(forUpdatingAtPath: path) else { throw TestSupportError("cannot open \(path)") }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        guard size > offset else { throw TestSupportError("\(path) has \(size) bytes, nothing at \(offset)") }
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: min(Int(size - offset), count)))
    }
}
