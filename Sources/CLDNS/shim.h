#ifndef DKIMCTL_CLDNS_SHIM_H
#define DKIMCTL_CLDNS_SHIM_H

// Must come first: without it ldns defines its own `bool` (signed char) and
// every ldns bool imports into Swift as Int8.
#include <stdbool.h>
#include <sys/time.h>
#include <ldns/ldns.h>

#endif
