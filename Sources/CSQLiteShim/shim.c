#include "CSQLiteShim.h"

#include <pthread.h>
#include <unistd.h>

int dkimctl_sqlite_no_checkpoint_on_close(sqlite3 *db) {
    int enabled = 0;
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &enabled) != SQLITE_OK) return -1;
    return enabled == 1 ? 0 : -1;
}

static sqlite3_vfs *base_vfs;
static sqlite3_vfs dkimctl_vfs;
static int registration_result = -1;
static pthread_once_t registration = PTHREAD_ONCE_INIT;

static int dkimctl_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs;
    if ((flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) && name != NULL && access(name, F_OK) == 0) {
        int rc = base_vfs->xOpen(base_vfs, name, file, flags & ~SQLITE_OPEN_CREATE, out_flags);
        // Removed between the check and the open (another program checkpointed and deleted it).
        if (rc != SQLITE_CANTOPEN) return rc;
    }
    return base_vfs->xOpen(base_vfs, name, file, flags, out_flags);
}

static void register_vfs(void) {
    base_vfs = sqlite3_vfs_find("unix");
    if (base_vfs == NULL) return;
    dkimctl_vfs = *base_vfs;
    dkimctl_vfs.zName = "dkimctl-unix";
    dkimctl_vfs.pNext = NULL;
    dkimctl_vfs.xOpen = dkimctl_open;
    registration_result = sqlite3_vfs_register(&dkimctl_vfs, 1) == SQLITE_OK ? 0 : -1;
}

int dkimctl_sqlite_use_vfs(void) {
    pthread_once(&registration, register_vfs);
    return registration_result;
}
