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

/* The vector registers: memcpy and friends move secrets through them, and
 * they keep the last bytes moved until something else is loaded. Code that
 * runs later may store them all: the dynamic linker's lazy-binding
 * trampoline saves every one of them on the stack (XSAVE) at a function's
 * first call, which at exit put a line of the machine key's PEM below the
 * wiped band (tests/tpm/test-memory.sh, under ASan). All of them are
 * caller-saved, so zeroing them in a function of its own breaks nothing. */
__attribute__((noinline)) static void vector_registers_wipe(void)
{
#if defined(__x86_64__)
        if (__builtin_cpu_supports("avx"))
                __asm__ __volatile__("vzeroall" ::: "memory"); /* ymm0-15, whole */
        else
                __asm__ __volatile__("pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\t"
                                     "pxor %%xmm2, %%xmm2\n\tpxor %%xmm3, %%xmm3\n\t"
                                     "pxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
                                     "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\t"
                                     "pxor %%xmm8, %%xmm8\n\tpxor %%xmm9, %%xmm9\n\t"
                                     "pxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
                                     "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\t"
                                     "pxor %%xmm14, %%xmm14\n\tpxor %%xmm15, %%xmm15" ::
                                             : "memory");
        /* glibc's EVEX string functions use zmm16-31, which vzeroall
         * leaves (no clobber list: they are caller-saved, and naming them
         * would need -mavx512f) */
        if (__builtin_cpu_supports("avx512f"))
                __asm__ __volatile__(
                        "vpxord %%zmm16, %%zmm16, %%zmm16\n\tvpxord %%zmm17, %%zmm17, %%zmm17\n\t"
                        "vpxord %%zmm18, %%zmm18, %%zmm18\n\tvpxord %%zmm19, %%zmm19, %%zmm19\n\t"
                        "vpxord %%zmm20, %%zmm20, %%zmm20\n\tvpxord %%zmm21, %%zmm21, %%zmm21\n\t"
                        "vpxord %%zmm22, %%zmm22, %%zmm22\n\tvpxord %%zmm23, %%zmm23, %%zmm23\n\t"
                        "vpxord %%zmm24, %%zmm24, %%zmm24\n\tvpxord %%zmm25, %%zmm25, %%zmm25\n\t"
                        "vpxord %%zmm26, %%zmm26, %%zmm26\n\tvpxord %%zmm27, %%zmm27, %%zmm27\n\t"
                        "vpxord %%zmm28, %%zmm28, %%zmm28\n\tvpxord %%zmm29, %%zmm29, %%zmm29\n\t"
                        "vpxord %%zmm30, %%zmm30, %%zmm30\n\tvpxord %%zmm31, %%zmm31, %%zmm31" ::
                                : "memory");
#endif
}

__attribute__((noinline)) void stack_wipe(void)
{
        uint8_t area[STACK_WIPE_BYTES];

        explicit_bzero(area, sizeof(area));
        __asm__ __volatile__("" : : "r"(area) : "memory");
        vector_registers_wipe();
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
