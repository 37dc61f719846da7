#ifndef DKIMCTL_CIDN2_SHIM_H
#define DKIMCTL_CIDN2_SHIM_H

#include <stdlib.h>
#include <idn2.h>

// idn2 allocates its results with malloc; free() is what releases them.
static inline void dkimctl_idn2_free(void *pointer) {
    idn2_free(pointer);
}

#endif
