/* util.c: helpers shared by every module (see util.h). */
#include "base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

void erase_and_freep(void *p)
{
        void *s = *(void **)p;

        if (!s)
                return;
        /* the whole block: a string may have been shortened in place */
        explicit_bzero(s, malloc_usable_size(s));
        free(s);
}

void *xmalloc0(size_t n)
{
        void *p = calloc(1, n ? n : 1);

        if (!p)
                abort();
        return p;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s);

        if (!p)
                abort();
        return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
        char *p;

        if (vasprintf(&p, fmt, ap) < 0)
                abort();
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *p;

        va_start(ap, fmt);
        p = xvasprintf(fmt, ap);
        va_end(ap);
        return p;
}

char *path_join(const char *a, const char *b)
{
        size_t la = strlen(a);

        if (la > 0 && a[la - 1] == '/')
                return xasprintf("%s%s", a, b);
        return xasprintf("%s/%s", a, b);
}

/* A buffer of twice the capacity (at most limit), the old one wiped: what
 * is read may be a private key. */
static uint8_t *grow_wiped(uint8_t *buf, size_t len, size_t *cap, size_t limit)
{
        size_t n = *cap > limit / 2 ? limit : *cap * 2;
        uint8_t *p = xmalloc0(n);

        memcpy(p, buf, len);
        explicit_bzero(buf, len);
        free(buf);
        *cap = n;
        return p;
}

int read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = -1;
        _cleanup_(erase_and_freep) uint8_t *buf = NULL; /* a failed read of a key leaves nothing */
        struct stat st;
        size_t len = 0, cap;

        if (max > SIZE_MAX - 2)
                max = SIZE_MAX - 2;
        /* Regular files only. O_NONBLOCK: a FIFO planted where a file is
         * expected (a pcr7data tree, a keyset) must not hang open() or read(). */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return errf(-errno, "%s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return errf(-errno, "%s: %s", path, strerror(errno));
        if (S_ISDIR(st.st_mode))
                return errf(-EISDIR, "%s: is a directory", path);
        if (!S_ISREG(st.st_mode))
                return errf(-EINVAL, "%s: not a regular file", path);
        if ((uint64_t)st.st_size > max)
                return errf(-EFBIG, "%s: larger than %zu bytes", path, max);

        /* What fstat reports, not max (a 2 GiB bound must not cost 2 GiB),
         * plus a byte to see the end by and one for the NUL. */
        cap = (size_t)st.st_size;
        cap = (cap < max ? cap : max) + 2;
        buf = xmalloc0(cap);
        for (;;) {
                ssize_t n;

                if (len + 1 == cap) /* longer than it said */
                        buf = grow_wiped(buf, len, &cap, max + 2);
                n = read(fd, buf + len, cap - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errf(-errno, "%s: %s", path, strerror(errno));
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return errf(-EFBIG, "%s: larger than %zu bytes", path, max);
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int sparse_file_create(const char *path, uint64_t size, mode_t mode)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

        if (fd < 0)
                return errf(-errno, "%s: %s", path, strerror(errno));
        if (ftruncate(fd, (off_t)size) < 0)
                return errf(-errno, "%s: %s", path, strerror(errno));
        return 0;
}

size_t text_chomp(uint8_t *buf, size_t len)
{
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                buf[--len] = 0;
        return len;
}

int read_file_exact(const char *path, void *out, size_t len, const char *what)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t n;
        int r;

        r = read_file(path, len, &buf, &n);
        if (r == -EFBIG || (r >= 0 && n != len))
                return errf(-EBADMSG, "%s: not a %zu-byte %s", path, len, what);
        if (r < 0)
                return r;
        memcpy(out, buf, len);
        return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
        const uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int write_file_excl(const char *path, const void *buf, size_t len, mode_t mode)
{
        _cleanup_close_ int fd = -1;
        int r;

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return errf(-errno, "%s: %s", path, strerror(errno));
        /* umask may have narrowed the mode; set exactly what was asked. */
        if (fchmod(fd, mode) < 0 || (r = write_all(fd, buf, len)) < 0 || fsync(fd) < 0) {
                r = -errno;
                (void)unlink(path);
                return errf(r, "%s: %s", path, strerror(-r));
        }
        return 0;
}

int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
        static const uint8_t none;
        /* A NULL base would mean zeros to write_file_atomic_iov. */
        struct iovec iov = { (void *)(buf ? buf : &none), len };

        return write_file_atomic_iov(path, &iov, 1, mode);
}

int write_file_atomic_iov(const char *path, const struct iovec *iov, size_t n, mode_t mode)
{
        static const uint8_t zeros[4096];
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        uint8_t rnd[6];
        int r;

        r = random_bytes(rnd, sizeof(rnd));
        if (r < 0)
                return r;
        tmp = xasprintf("%s.tmp-%d-%02x%02x%02x%02x%02x%02x", path, (int)getpid(), rnd[0], rnd[1],
                        rnd[2], rnd[3], rnd[4], rnd[5]);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return errf(-errno, "%s: %s", tmp, strerror(errno));
        r = fchmod(fd, mode) < 0 ? -errno : 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                size_t left = iov[i].iov_len;

                if (iov[i].iov_base) {
                        r = write_all(fd, iov[i].iov_base, left);
                        continue;
                }
                while (r >= 0 && left > 0) {
                        size_t k = left < sizeof(zeros) ? left : sizeof(zeros);

                        r = write_all(fd, zeros, k);
                        left -= k;
                }
        }
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlink(tmp);
                return errf(r, "%s: %s", path, strerror(-r));
        }
        return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = xstrdup(path);

        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return errf(-errno, "%s: %s", p, strerror(errno));
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return errf(-errno, "%s: %s", p, strerror(errno));
        return 0;
}

static int copy_tree_depth(const char *src, const char *dst, mode_t dir_mode,
                           mode_t (*file_mode)(const char *name, mode_t src_mode),
                           size_t file_max, int depth)
{
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (depth > 8)
                return errf(-ELOOP, "%s: nested too deeply", src);
        d = opendir(src);
        if (!d)
                return errf(-errno, "%s: %s", src, strerror(errno));
        while (r >= 0 && (de = readdir(d))) {
                _cleanup_free_ char *s = NULL, *t = NULL;
                _cleanup_free_ uint8_t *buf = NULL;
                struct stat st;
                size_t len = 0;

                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                s = path_join(src, de->d_name);
                t = path_join(dst, de->d_name);
                if (lstat(s, &st) < 0) {
                        r = errf(-errno, "%s: %s", s, strerror(errno));
                } else if (S_ISDIR(st.st_mode)) {
                        if (mkdir(t, dir_mode) < 0 || chmod(t, dir_mode) < 0)
                                r = errf(-errno, "%s: %s", t, strerror(errno));
                        else
                                r = copy_tree_depth(s, t, dir_mode, file_mode, file_max,
                                                    depth + 1);
                } else if (S_ISREG(st.st_mode)) {
                        r = read_file(s, file_max, &buf, &len);
                        if (r >= 0)
                                r = write_file_excl(t, buf, len,
                                                    file_mode(de->d_name, st.st_mode & 0777));
                        if (buf)
                                explicit_bzero(buf, len);
                } else {
                        r = errf(-EBADMSG, "%s: not a regular file or directory", s);
                }
        }
        closedir(d);
        return r;
}

int copy_tree(const char *src, const char *dst, mode_t dir_mode,
              mode_t (*file_mode)(const char *name, mode_t src_mode), size_t file_max)
{
        return copy_tree_depth(src, dst, dir_mode, file_mode, file_max, 0);
}

static int rm_one(const char *path, const struct stat *st _unused_, int type,
                  struct FTW *ftw _unused_)
{
        if (type == FTW_DP)
                return rmdir(path) < 0 ? -1 : 0;
        return unlink(path) < 0 ? -1 : 0;
}

void wipe_file(const char *path)
{
        static const char zero[4096];
        struct stat st;
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

        if (fd >= 0) {
                if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
                        for (off_t o = 0; o < st.st_size; o += (off_t)sizeof(zero)) {
                                size_t n = (size_t)(st.st_size - o) < sizeof(zero)
                                                   ? (size_t)(st.st_size - o)
                                                   : sizeof(zero);
                                if (pwrite(fd, zero, n, o) != (ssize_t)n)
                                        break;
                        }
                        (void)fsync(fd);
                }
                close(fd);
        }
        (void)unlink(path);
}

/* Stale temporaries may hold private keys (keyset add, sudi issue) or a
 * VM's SUDI disk: small regular files are overwritten before they go.
 * Larger ones (VM disk images, no key in clear) are only unlinked. */
#define WIPE_MAX_BYTES (64 << 20)

static int rm_wipe_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        if (type == FTW_F && S_ISREG(st->st_mode) && st->st_size <= WIPE_MAX_BYTES) {
                wipe_file(path);
                return 0;
        }
        return rm_one(path, st, type, ftw);
}

int rm_rf(const char *path)
{
        if (!path_exists(path))
                return 0;
        if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
                return errf(-errno, "%s: cannot remove: %s", path, strerror(errno));
        return 0;
}

void rm_rf_after_failure(const char *path)
{
        err_freeze();
        (void)rm_rf(path);
        err_thaw();
}

bool path_exists(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0;
}

int exe_relative_dir(const char *const *rel, size_t n_rel, const char *probe, char **ret,
                     char **ret_exe)
{
        char exe[PATH_MAX];
        ssize_t n;

        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n < 0)
                return errf(-errno, "/proc/self/exe: %s", strerror(errno));
        exe[n] = 0;
        if (ret_exe)
                *ret_exe = xstrdup(exe);
        *strrchr(exe, '/') = 0;
        for (size_t i = 0; i < n_rel; i++) {
                _cleanup_free_ char *d = path_join(exe, rel[i]);
                _cleanup_free_ char *p = path_join(d, probe);
                if (path_exists(p)) {
                        char *real = realpath(d, NULL); /* for messages: no "bin/../" */
                        *ret = real ? real : TAKE_PTR(d);
                        return 0;
                }
        }
        return -ENOENT;
}

int make_tmp_sibling(const char *final_path, char **ret_tmp)
{
        _cleanup_free_ char *copy = xstrdup(final_path);
        _cleanup_free_ char *tmpl = NULL;
        char *slash = strrchr(copy, '/');
        const char *dir = ".", *base = copy;

        if (slash) {
                *slash = 0;
                dir = copy[0] ? copy : "/";
                base = slash + 1;
        }
        tmpl = xasprintf("%s/.tmp-%s-%d-XXXXXX", dir, base, (int)getpid());
        if (!mkdtemp(tmpl))
                return errf(-errno, "%s: cannot create a temporary directory: %s", dir,
                            strerror(errno));
        *ret_tmp = TAKE_PTR(tmpl);
        return 0;
}

int commit_tmp_dir(const char *tmp, const char *final_path, mode_t final_mode)
{
        if (chmod(tmp, final_mode) < 0)
                return errf(-errno, "%s: %s", tmp, strerror(errno));
        /* renameat2(RENAME_NOREPLACE): a concurrent creator must not be
         * overwritten, and rename() would replace an empty directory. */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final_path, RENAME_NOREPLACE) < 0) {
                int r = -errno;
                if (r == -EEXIST)
                        return errf(r, "%s: already exists", final_path);
                return errf(r, "%s: %s", final_path, strerror(-r));
        }
        return 0;
}

int clean_stale_tmp(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                const char *p;
                char *end;
                long pid;

                if (strncmp(de->d_name, ".tmp-", 5) != 0)
                        continue;
                /* .tmp-<name>-<pid>-XXXXXX: the pid sits before the last '-'. */
                p = strrchr(de->d_name, '-');
                if (!p || p == de->d_name)
                        continue;
                {
                        const char *q = p - 1;
                        while (q > de->d_name && *q != '-')
                                q--;
                        pid = strtol(q + 1, &end, 10);
                        if (end != p || pid <= 0)
                                continue;
                }
                if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
                        continue; /* creator still running */
                _cleanup_free_ char *path = path_join(dir, de->d_name);
                (void)nftw(path, rm_wipe_one, 16, FTW_DEPTH | FTW_PHYS);
        }
        closedir(d);
        return 0;
}

int name_validate(const char *what, const char *name)
{
        size_t n = strlen(name);

        if (n == 0)
                return errf(-EINVAL, "%s name is empty", what);
        if (n > 128)
                return errf(-EINVAL, "%s name is longer than 128 bytes", what);
        if (name[0] == '.' || name[0] == '-')
                return errf(-EINVAL, "%s name '%s' must not start with '%c'", what, name, name[0]);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)name[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-')
                        continue;
                if (c == '/' || c == ':') /* ':' separates KEYSET:PROJECT */
                        return errf(-EINVAL, "%s name '%s' must not contain '%c'", what, name, c);
                return errf(-EINVAL, "%s name has a character outside [A-Za-z0-9._-] (byte 0x%02x)",
                            what, c);
        }
        return 0;
}

int xdg_dir(const char *env, const char *home_fallback, const char *sub, char **ret)
{
        const char *v = getenv(env), *home = getenv("HOME");

        if (v && v[0] == '/')
                *ret = xasprintf("%s/%s", v, sub);
        else if (home && home[0] == '/')
                *ret = xasprintf("%s/%s/%s", home, home_fallback, sub);
        else
                return errf(-ENOENT, "neither $%s nor $HOME is set to an absolute path", env);
        return 0;
}

char *hex_encode(const uint8_t *buf, size_t len)
{
        static const char digits[] = "0123456789abcdef";
        char *s = xmalloc0(len * 2 + 1);

        for (size_t i = 0; i < len; i++) {
                s[2 * i] = digits[buf[i] >> 4];
                s[2 * i + 1] = digits[buf[i] & 15];
        }
        return s;
}

int unhexchar(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int hex_decode(const char *hex, uint8_t *out, size_t out_len)
{
        if (strlen(hex) != out_len * 2)
                return -EINVAL;
        for (size_t i = 0; i < out_len; i++) {
                int hi = unhexchar(hex[2 * i]), lo = unhexchar(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                out[i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
}

int random_bytes(void *buf, size_t len)
{
        uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = getrandom(p, len, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errf(-errno, "getrandom: %s", strerror(errno));
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int uuid_random(char out[static 37])
{
        uint8_t u[16];
        int r = random_bytes(u, sizeof(u));

        if (r < 0)
                return r;
        u[6] = (u[6] & 0x0f) | 0x40; /* version 4 (RFC 4122 4.4) */
        u[8] = (u[8] & 0x3f) | 0x80; /* variant 10 */
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
                 u[13], u[14], u[15]);
        return 0;
}

double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sleep_ms(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}
