/* vm-attest.c: see vm-attest.h. */
#include "machine/vm-attest.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "base/base64.h"
#include "base/util.h"
#include "formats/attest.h"
#include "machine/console.h"
#include "machine/vm.h"

/* base64 of the largest bundle, and room for the console around it */
#define CONSOLE_READ_MAX (ATTEST_BUNDLE_MAX / 3 * 4 + ((size_t)8 << 20))

/* Where mark is in line[0, len), or NULL. */
static const char *find_mark(const char *line, size_t len, const char *mark)
{
        return memmem(line, len, mark, strlen(mark));
}

int console_attest_extract(const char *buf, size_t len, uint8_t **ret, size_t *ret_len)
{
        _cleanup_free_ char *b64 = xmalloc0(len + 1);
        const char *failed = NULL; /* into buf: the guest's words after FAILED */
        size_t n = 0, failed_len = 0;
        bool in = false, done = false;

        for (size_t i = 0; i < len;) {
                const char *line = buf + i, *nl = memchr(line, '\n', len - i), *cr, *m;
                size_t l = nl ? (size_t)(nl - line) : len - i;

                i += l + (nl ? 1 : 0);
                if (memchr(line, 0, l))
                        continue; /* a NUL inside: not a line of ours */
                cr = memchr(line, '\r', l);
                if (cr)
                        l = (size_t)(cr - line); /* the line ends at its first CR */
                if (find_mark(line, l, ATTEST_MARK_BEGIN)) {
                        in = true, done = false, n = 0;
                        failed = NULL;
                } else if (in && find_mark(line, l, ATTEST_MARK_END)) {
                        in = false, done = true;
                } else if (in && (m = find_mark(line, l, ATTEST_MARK_FAILED))) {
                        failed = m + strlen(ATTEST_MARK_FAILED);
                        failed_len = (size_t)(line + l - failed);
                } else if (in && (m = find_mark(line, l, ATTEST_MARK_LINE))) {
                        size_t k = (size_t)(line + l - m) - strlen(ATTEST_MARK_LINE);

                        memcpy(b64 + n, m + strlen(ATTEST_MARK_LINE), k);
                        n += k;
                }
        }
        if (!done)
                return errf(-EBADMSG, "no whole attestation bundle on the console");
        if (failed) {
                _cleanup_free_ char *clean = console_sanitize(failed, failed_len);

                return errf(-EREMOTEIO, "the guest could not quote: %s", clean);
        }
        b64[n] = 0;
        if (base64_decode(b64, ATTEST_BUNDLE_MAX, ret, ret_len) < 0)
                return errf(-EBADMSG, "the bundle on the console is not base64 (%zu characters)",
                            n);
        return 0;
}

/* The console log from `from` on, at most CONSOLE_READ_MAX bytes. */
static int console_since(const char *dir, off_t from, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *path = path_join(dir, VM_CONSOLE_LOG);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        ssize_t k;

        if (fd < 0 || lseek(fd, from, SEEK_SET) < 0)
                return errf(-errno, "%s: %s", path, strerror(errno));
        buf = xmalloc0(CONSOLE_READ_MAX + 1);
        while (n < CONSOLE_READ_MAX && (k = read(fd, buf + n, CONSOLE_READ_MAX - n)) > 0)
                n += (size_t)k;
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

/* The failure line of a boot that went wrong (its console from `from`). */
static int failure_words(const char *dir, off_t from, enum console_result res, unsigned timeout_s)
{
        _cleanup_free_ char *text = NULL, *clean = NULL;
        const char *m;
        size_t len;

        switch (res) {
        case CONSOLE_DENIED:
                return errf(-EACCES, "the firmware refused the boot image (Access Denied)");
        case CONSOLE_TIMEOUT:
                return errf(-ETIMEDOUT, "no attestation bundle within %u s", timeout_s);
        case CONSOLE_INTERRUPTED:
                return errf(-EINTR, "interrupted");
        case CONSOLE_EXITED:
                return errf(-EIO, "the VM powered off before it printed an attestation bundle");
        default:
                break;
        }
        if (console_since(dir, from, &text, &len) < 0 || !(m = strstr(text, "XXX FAIL XXX")))
                return errf(-EIO, "the boot failed");
        clean = console_sanitize(m, strcspn(m, "\r\n"));
        return errf(-EIO, "the boot failed before the OS could answer: %s", clean);
}

int vm_attest_collect(const char *name, const char *nonce_hex, unsigned timeout_s,
                      volatile int *stop, uint8_t **ret, size_t *ret_len, char **ret_tail)
{
        _cleanup_free_ char *dir = NULL, *text = NULL;
        enum console_result res = CONSOLE_TIMEOUT;
        struct vm_proc p = {};
        off_t from;
        size_t len;
        int r, q;

        *ret_tail = NULL;
        r = vm_dir(name, &dir);
        if (r < 0)
                return r;
        from = vm_console_size(dir);
        r = vm_start(name, nonce_hex, NULL);
        if (r < 0)
                return r;
        r = vm_proc_load(dir, &p);
        if (r >= 0)
                r = vm_wait_console(dir, &p, from, ATTEST_MARK_END, "XXX FAIL XXX", timeout_s, stop,
                                    &res);
        if (r >= 0 && res != CONSOLE_SUCCESS)
                r = failure_words(dir, from, res, timeout_s);
        if (r >= 0)
                r = console_since(dir, from, &text, &len);
        if (r >= 0)
                r = console_attest_extract(text, len, ret, ret_len);
        if (r < 0)
                *ret_tail = vm_console_tail(dir, 15);
        /* A booted OS powers off on the button; a failed boot has powered
         * itself off or sits in the firmware: no grace for those. */
        err_freeze();
        q = vm_stop(name, res == CONSOLE_SUCCESS ? 60 : 5, NULL);
        err_thaw();
        if (r >= 0 && q < 0) {
                free(*ret);
                *ret = NULL;
                return q;
        }
        return r;
}
