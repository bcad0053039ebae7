/* tpm2-libctx.c: one OpenSSL library context for all of ESAPI's own crypto.
 *
 * tpm2-tss 3.2 (Debian 12) computes every hash and HMAC of a session (cpHash,
 * rpHash, the command and response HMACs, each KDFa round of parameter
 * encryption) in a brand-new OSSL_LIB_CTX, so that a tpm2 provider loaded in
 * the default context can never serve ESAPI's own session crypto. Every new
 * context activates the default provider and builds its name map and method
 * store from nothing: for `trust setup` that was 50 of its 82 million
 * instructions (callgrind). tpm2-tss 4 lets a caller install crypto
 * callbacks; 3.2 has no hook, so trust interposes OpenSSL's two functions.
 *
 * Only calls made from inside libtss2-esys are changed: they all get one
 * context of trust's, created by OpenSSL's own OSSL_LIB_CTX_new (so it is as
 * separate from the default context as tpm2-tss wants), and their frees of it
 * are ignored until tpm2_close() ends it with tss2_libctx_release(). Every
 * other caller (trust itself never makes a context; libcryptsetup does) gets
 * OpenSSL's functions untouched. The executable's definitions win over
 * libcrypto's because the dynamic linker searches the executable first;
 * libtss2-esys references both symbols, so the linker exports them. */
#include <dlfcn.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <tss2/tss2_esys.h>

#include "target/tpm2-internal.h"

#define OPENSSL_SYMVER "OPENSSL_3.0.0"

typedef OSSL_LIB_CTX *new_fn(void);
typedef void free_fn(OSSL_LIB_CTX *ctx);

static OSSL_LIB_CTX *shared;

/* The next definition after the executable's: libcrypto's. A process where it
 * cannot be found has no OpenSSL 3 at all, so it cannot have reached here. */
static void *real(const char *name)
{
        void *f = dlvsym(RTLD_NEXT, name, OPENSSL_SYMVER);

        return f ? f : dlsym(RTLD_NEXT, name);
}

/* Whether `addr` (a return address) lies in libtss2-esys. */
static bool from_esys(const void *addr)
{
        static const void *esys_base;
        Dl_info here, esys;

        if (!esys_base) {
                if (!dladdr((const void *)Esys_Initialize, &esys) || !esys.dli_fbase)
                        return false;
                esys_base = esys.dli_fbase;
        }
        return dladdr(addr, &here) && here.dli_fbase == esys_base;
}

OSSL_LIB_CTX *OSSL_LIB_CTX_new(void)
{
        new_fn *make = (new_fn *)real("OSSL_LIB_CTX_new");

        if (!make)
                return NULL;
        if (!from_esys(__builtin_return_address(0)))
                return make();
        if (!shared)
                shared = make();
        return shared;
}

void OSSL_LIB_CTX_free(OSSL_LIB_CTX *ctx)
{
        free_fn *drop;

        if (!ctx || ctx == shared)
                return;
        drop = (free_fn *)real("OSSL_LIB_CTX_free");
        if (drop)
                drop(ctx);
}

void tss2_libctx_release(void)
{
        free_fn *drop = (free_fn *)real("OSSL_LIB_CTX_free");

        if (shared && drop)
                drop(shared);
        shared = NULL;
}
