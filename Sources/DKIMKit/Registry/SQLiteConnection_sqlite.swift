import GRDB
internal import CSQLiteShim

/// What GRDB's configuration cannot say about a registry connection, said to SQLite
/// directly (`Sources/CSQLiteShim`). Together they make a command that commits once
/// sync the registry once: the WAL's commit, no directory sync, no checkpoint.
enum SQLiteConnectionSettings {
    /// Before the first connection: the default VFS opens an existing WAL without
    /// creating it, so SQLite does not sync the state directory for it.
    static func useVFS() throws {
        guard dkimctl_sqlite_use_vfs() == 0 else {
            throw DKIMError(.registry, "SQLite's unix VFS was not found; the registry cannot be opened")
        }
    }

    /// The last connection to close does not checkpoint the WAL into the database file:
    /// that checkpoint costs two syncs more per command. The WAL stays beside the file
    /// (copy the registry with `sqlite3 … .backup`, never the file alone) until a later
    /// commit folds it back (`SQLiteStore.logFoldingThreshold`).
    static func skipCheckpointOnClose(_ db: Database) throws {
        guard dkimctl_sqlite_no_checkpoint_on_close(db.sqliteConnection) == 0 else {
            throw DKIMError(.registry, "SQLite refused SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE (SQLite 3.16 or later is needed)")
        }
    }
}
