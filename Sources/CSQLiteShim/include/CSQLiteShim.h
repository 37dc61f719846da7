#ifndef DKIMCTL_CSQLITESHIM_H
#define DKIMCTL_CSQLITESHIM_H

#include <sqlite3.h>

// sqlite3_db_config is variadic, so Swift cannot call it: no checkpoint when the last
// connection closes (the WAL stays beside the database and a later commit
// checkpoints it). Returns 0 on success.
int dkimctl_sqlite_no_checkpoint_on_close(sqlite3 *db);

// Makes "dkimctl-unix" the default VFS (once per process): the platform's unix VFS,
// except that a WAL file that already exists is opened without SQLITE_OPEN_CREATE.
// SQLite fsyncs the directory after the first sync of any file it opened with CREATE
// (needed for a new WAL, whose name must survive a crash); for a WAL that was already
// there that directory sync is wasted, one sync per command. Returns 0 on success.
int dkimctl_sqlite_use_vfs(void);

#endif
