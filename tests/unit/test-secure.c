/* test-secure.c: secret buffers (pages of their own, locked, NUL-terminated,
 * a fault right after the NUL, zero in a fork()ed child, wiped on release)
 * and process_harden() (non-dumpable, no core limit, OpenSSL's allocator
 * taken over, refused once OpenSSL has allocated). Checks that change the
 * process run in a child. stack_wipe() is checked by tests/tpm/test-memory.sh
 * (without it, provision leaves the admin password on the stack). */
#include <errno.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/secure.h"
#include "harness.h"

#ifdef __SANITIZE_ADDRESS__
#define MLOCK_WORKS false /* ASan turns mlock() into a no-op */
#else
#define MLOCK_WORKS true
#endif

/* Runs fn in a child; returns its wait status. */
static int in_child(int (*fn)(struct secret *), struct secret *s)
{
        int status = 0;
        pid_t pid = fork();

        if (pid == 0)
                _exit(fn(s));
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        return status;
}

static int overrun(struct secret *s)
{
        volatile uint8_t *p = s->data;

        p[s->len + 1] = 1; /* past the NUL: the guard page */
        return 0;
}

static int nul_write(struct secret *s)
{
        s->data[s->len] = 0; /* the NUL is the secret's own */
        return 0;
}

static int reads_zero(struct secret *s)
{
        for (size_t i = 0; i < s->len; i++)
                if (s->data[i])
                        return 1;
        return 0;
}

static long locked_kib(void)
{
        char line[256];
        long kib = -1;
        FILE *f = fopen("/proc/self/status", "re");

        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmLck: %ld kB", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

static void test_secret_pages(void)
{
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        struct secret s = {}, t = {};
        long before = locked_kib();
        int status;

        ASSERT_OK(secret_alloc(&s, 40));
        ASSERT_EQ(s.len, 40);
        ASSERT_EQ(s.data[40], 0);
        for (size_t i = 0; i < 40; i++)
                ASSERT_EQ(s.data[i], 0);
        memset(s.data, 'x', 40);
        ASSERT_EQ(strlen((char *)s.data), 40);
        /* its own pages: the mapping starts on a page boundary, the NUL ends it */
        ASSERT_EQ((uintptr_t)s.map % page, 0);
        ASSERT_TRUE(s.data + 41 == (uint8_t *)s.map + s.map_len - page);
        /* locked, unless RLIMIT_MEMLOCK said no (then counted) */
        if (MLOCK_WORKS && secret_unlocked_count() == 0)
                ASSERT_EQ(locked_kib() - before, (long)(page / 1024));
        /* a second secret does not share the first one's pages */
        ASSERT_OK(secret_alloc(&t, page + 5));
        ASSERT_TRUE((uint8_t *)t.map >= (uint8_t *)s.map + s.map_len ||
                    (uint8_t *)t.map + t.map_len <= (uint8_t *)s.map);
        ASSERT_EQ(t.map_len, 3 * page);

        status = in_child(nul_write, &s);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        /* SIGSEGV (ASan reports it and exits 1 instead) */
        status = in_child(overrun, &s);
        ASSERT_TRUE(status != -1 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0));
        ASSERT_TRUE(!WIFSIGNALED(status) || WTERMSIG(status) == SIGSEGV);
        /* MADV_WIPEONFORK: a child (of a fork, not an exec) never sees it */
        status = in_child(reads_zero, &s);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        secret_free(&s);
        ASSERT_TRUE(s.data == NULL && s.len == 0 && s.map == NULL);
        secret_free(&s); /* twice is harmless */
        secret_free(&t);
        if (MLOCK_WORKS && secret_unlocked_count() == 0)
                ASSERT_EQ(locked_kib(), before);
}

static void test_secret_empty(void)
{
        struct secret s = {};

        ASSERT_OK(secret_alloc(&s, 0));
        ASSERT_EQ(s.len, 0);
        ASSERT_EQ(s.data[0], 0);
        secret_free(&s);
        ASSERT_TRUE(s.data == NULL);
}

static int harden_child(struct secret *unused)
{
        struct rlimit rl;
        void *p;

        (void)unused;
        if (process_harden() < 0)
                return 1;
        if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
                return 2;
        if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_cur || rl.rlim_max)
                return 3;
        /* OpenSSL's allocations go through trust's (which wipes on free) */
        p = OPENSSL_malloc(100);
        if (!p)
                return 4;
        memset(p, 'k', 100);
        p = OPENSSL_realloc(p, 5000);
        if (!p || memcmp(p, "kkkk", 4))
                return 5;
        OPENSSL_free(p);
        return 0;
}

static int harden_late_child(struct secret *unused)
{
        (void)unused;
        OPENSSL_free(OPENSSL_malloc(1));
        return process_harden() == -EBUSY ? 0 : 1;
}

static void test_harden(void)
{
        int status = in_child(harden_child, NULL);

        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);
        /* OpenSSL used before hardening: refused, so no key passes through an
         * allocator that does not wipe */
        status = in_child(harden_late_child, NULL);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);
}

int main(void)
{
        RUN(test_secret_pages);
        RUN(test_secret_empty);
        RUN(test_harden);
        return test_exit();
}
