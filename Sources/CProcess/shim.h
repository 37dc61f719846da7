#ifndef DKIMCTL_CPROCESS_SHIM_H
#define DKIMCTL_CPROCESS_SHIM_H

#include <sys/prctl.h>
#include <sys/resource.h>

// prctl is variadic: Swift cannot call it directly.
static inline int dkimctl_set_dumpable(int dumpable) {
    return prctl(PR_SET_DUMPABLE, (unsigned long)dumpable, 0UL, 0UL, 0UL);
}

static inline int dkimctl_get_dumpable(void) {
    return prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL);
}

// No core file, soft or hard limit.
static inline int dkimctl_disable_core_files(void) {
    struct rlimit none = { 0, 0 };
    return setrlimit(RLIMIT_CORE, &none);
}

#endif
