#ifndef DKIMCTL_CZLIB_SHIM_H
#define DKIMCTL_CZLIB_SHIM_H

#include <zlib.h>

// inflateInit2 is a macro: Swift cannot call it.
static inline int dkimctl_inflate_init(z_stream *stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}

#endif
