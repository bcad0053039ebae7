/* tpm2-libctx.c: one OpenSSL library context for tpm2-tss's ESAPI.
 *
 * The OpenSSL backend of tpm2-tss 3.2 (Debian 12's) makes a new
 * OSSL_LIB_CTX for every hash and HMAC it computes (cpHash, rpHash, the
 * session HMACs, KDFa, parameter encryption) and frees it after that one
 * use. Each new context loads the default provider and builds its algorithm
 * tables and a DRBG from nothing: 36 of them in one `trust setup`, two
 * thirds of its CPU time (callgrind: 76 M instructions, 26 M with one
 * context).
 *
 * So trust defines OSSL_LIB_CTX_new and OSSL_LIB_CTX_free. The linker
 * exports them from the executable (libtss2-esys, linked in, uses them),
 * and the dynamic linker resolves every library's calls to the
 * executable's definitions before libcrypto's. Calls made from
 * libtss2-esys get one context, made by libcrypto's own OSSL_LIB_CTX_new on
 * the first call and kept (their frees do nothing) until tpm2_close() ends
 * the ESAPI context that used it (tpm2_libctx_release); every other caller,
 * and every other context, goes straight to libcrypto. What the context holds is what each fresh one held (the
 * default provider, its tables, a DRBG seeded from the OS), never a key or
 * the state of a computation: those live in the EVP contexts tpm2-tss
 * makes and frees per use, with OpenSSL's allocations wiped on free
 * (base/secure.c). */
#include <dlfcn.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "target/tpm2-internal.h"

OSSL_LIB_CTX *OSSL_LIB_CTX_new(void);
void OSSL_LIB_CTX_free(OSSL_LIB_CTX *ctx);

static OSSL_LIB_CTX *(*real_new)(void);
static void (*real_free)(OSSL_LIB_CTX *);
static OSSL_LIB_CTX *esys_ctx;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
        real_new = (OSSL_LIB_CTX * (*)(void)) dlsym(RTLD_NEXT, "OSSL_LIB_CTX_new");
        real_free = (void (*)(OSSL_LIB_CTX *))dlsym(RTLD_NEXT, "OSSL_LIB_CTX_free");
}

static bool called_from_esys(const void *ret_addr)
{
        Dl_info info;

        return dladdr(ret_addr, &info) && info.dli_fname &&
               strstr(info.dli_fname, "/libtss2-esys.so");
}

OSSL_LIB_CTX *OSSL_LIB_CTX_new(void)
{
        (void)pthread_once(&once, resolve);
        if (!real_new)
                return NULL; /* callers take NULL as a failure */
        if (!called_from_esys(__builtin_return_address(0)))
                return real_new();
        /* trust is single-threaded; ESAPI contexts are not shared between
         * threads either */
        if (!esys_ctx)
                esys_ctx = real_new();
        return esys_ctx;
}

void OSSL_LIB_CTX_free(OSSL_LIB_CTX *ctx)
{
        (void)pthread_once(&once, resolve);
        if (!ctx || ctx == esys_ctx || !real_free)
                return;
        real_free(ctx);
}

void tpm2_libctx_release(void)
{
        OSSL_LIB_CTX *ctx = esys_ctx;

        esys_ctx = NULL;
        if (ctx && real_free)
                real_free(ctx); /* its DRBG and tables, wiped as OpenSSL frees them */
}
