/* secure.c: process hardening and locked secret memory (see secure.h). */
#include "base/secure.h"

#include <errno.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/error.h"

/* OpenSSL's allocations, wiped when freed or moved: its decoders free copies
 * of a private key's DER (for EC keys even the raw scalar, in blocks small
 * enough for glibc's per-thread cache, which M_PERTURB does not reach). */
static void *ossl_malloc(size_t n, const char *file, int line)
{
        (void)file;
        (void)line;
        return malloc(n);
}

static void ossl_free(void *p, const char *file, int line)
{
        (void)file;
        (void)line;
        if (!p)
                return;
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
        size_t old;
        void *q;

        if (!p)
                return ossl_malloc(n, file, line);
        if (n == 0) {
                ossl_free(p, file, line);
                return NULL;
        }
        old = malloc_usable_size(p);
        q = malloc(n);
        if (!q)
                return NULL;
        memcpy(q, p, old < n ? old : n);
        ossl_free(p, file, line);
        return q;
}

int process_harden(void)
{
        struct rlimit rl = {};

        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return errf(-errno, "cannot make the process non-dumpable (PR_SET_DUMPABLE): %s",
                            strerror(errno));
        if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
                return errf(-EPERM, "the process is still dumpable after PR_SET_DUMPABLE 0");
        if (setrlimit(RLIMIT_CORE, &rl) < 0)
                return errf(-errno, "cannot disable core dumps (RLIMIT_CORE 0): %s",
                            strerror(errno));
        if (getrlimit(RLIMIT_CORE, &rl) < 0)
                return errf(-errno, "cannot read RLIMIT_CORE back: %s", strerror(errno));
        if (rl.rlim_cur != 0 || rl.rlim_max != 0)
                return errf(-EPERM, "RLIMIT_CORE is not 0 after setting it");
        /* Only possible before OpenSSL's first allocation: a caller that
         * used OpenSSL first is a bug, found by the first test that runs it. */
        if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free))
                return errf(-EBUSY, "OpenSSL allocated memory before the process was hardened");
        /* Freed heap blocks are overwritten, whoever frees them (tpm2-tss's
         * command buffer, libc's), except those glibc keeps in its per-thread
         * cache (up to 1032 bytes): those are wiped by their owners. ASan's
         * allocator ignores this (its max_free_fill_size does the same). */
        (void)mallopt(M_PERTURB, 0xa5);
        return 0;
}

__attribute__((noinline)) void stack_wipe(void)
{
        uint8_t area[STACK_WIPE_BYTES];

        explicit_bzero(area, sizeof(area));
        __asm__ __volatile__("" : : "r"(area) : "memory");
}

static unsigned unlocked;

unsigned secret_unlocked_count(void)
{
        return unlocked;
}

static size_t page_size(void)
{
        long p = sysconf(_SC_PAGESIZE);

        return p > 0 ? (size_t)p : 4096;
}

int secret_alloc(struct secret *s, size_t len)
{
        size_t page = page_size(), dlen;
        uint8_t *base;

        if (len > SIZE_MAX - 3 * page)
                return -ENOMEM;
        /* data pages (the secret and its NUL end where they end), then a
         * guard page */
        dlen = (len + 1 + page - 1) / page * page;
        base = mmap(NULL, dlen + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED)
                return -ENOMEM;
        if (mprotect(base + dlen, page, PROT_NONE) < 0) {
                (void)munmap(base, dlen + page);
                return -ENOMEM;
        }
        /* Best effort: RLIMIT_MEMLOCK (EPERM, ENOMEM) or a kernel without
         * these advices does not keep a secret from being used. */
        if (mlock(base, dlen) < 0)
                unlocked++;
        (void)madvise(base, dlen, MADV_DONTDUMP);
        (void)madvise(base, dlen, MADV_WIPEONFORK);
        *s = (struct secret){
                .data = base + dlen - (len + 1),
                .len = len,
                .map = base,
                .map_len = dlen + page,
        };
        return 0;
}

void secret_free(struct secret *s)
{
        if (s->map) {
                explicit_bzero(s->map, s->map_len - page_size()); /* not the guard page */
                (void)munmap(s->map, s->map_len); /* unlocks them as well */
        }
        *s = (struct secret){};
}
