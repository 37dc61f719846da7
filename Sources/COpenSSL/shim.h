#ifndef DKIMCTL_COPENSSL_SHIM_H
#define DKIMCTL_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

// BIO_get_mem_data is a macro over BIO_ctrl; Swift cannot see it.
static inline long dkimctl_BIO_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

// OPENSSL_free is a macro that passes __FILE__/__LINE__.
static inline void dkimctl_OPENSSL_free(void *pointer) {
    OPENSSL_free(pointer);
}

#endif
