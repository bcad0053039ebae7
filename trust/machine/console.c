/* console.c: a VM's serial console, which QEMU appends to console.log and
 * serves on console.sock: scanning the guest's output (untrusted bytes) for
 * the phase markers, its printable tail, and a terminal attached to it. */
#include "machine/console.h"
#include "base/util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>

static bool line_has(const char *line, const char *needle)
{
        return needle && needle[0] && strstr(line, needle);
}

static bool scan_line(struct console_scan *sc, const char *success, const char *failure,
                      enum console_result *ret)
{
        sc->line[sc->len] = 0;
        if (line_has(sc->line, success))
                *ret = CONSOLE_SUCCESS;
        else if (line_has(sc->line, failure))
                *ret = CONSOLE_FAILURE;
        else if (strstr(sc->line, "Access Denied"))
                *ret = CONSOLE_DENIED;
        else
                return false;
        return true;
}

bool console_scan_feed(struct console_scan *sc, const char *buf, size_t n, const char *success,
                       const char *failure, enum console_result *ret)
{
        for (size_t i = 0; i < n; i++) {
                char c = buf[i];
                bool eol = c == '\n' || c == '\r';

                if (!eol) {
                        sc->line[sc->len++] = c ? c : ' ';
                        /* A line longer than the buffer is checked in pieces
                         * that overlap by a marker's length, so no marker is
                         * split between two pieces. */
                        if (sc->len < sizeof(sc->line) - 1)
                                continue;
                        if (scan_line(sc, success, failure, ret))
                                return true;
                        memmove(sc->line, sc->line + sc->len - CONSOLE_OVERLAP, CONSOLE_OVERLAP);
                        sc->len = CONSOLE_OVERLAP;
                        continue;
                }
                if (scan_line(sc, success, failure, ret))
                        return true;
                sc->len = 0;
        }
        return false;
}

bool console_scan_finish(struct console_scan *sc, const char *success, const char *failure,
                         enum console_result *ret)
{
        return scan_line(sc, success, failure, ret);
}

int vm_wait_console(const char *dir, const struct vm_proc *p, off_t from, const char *success,
                    const char *failure, unsigned timeout_s, volatile int *stop,
                    enum console_result *ret)
{
        _cleanup_free_ char *path = path_join(dir, VM_CONSOLE_LOG);
        _cleanup_free_ struct console_scan *sc = xmalloc0(sizeof(*sc));
        _cleanup_close_ int fd = -1;
        char chunk[4096];
        double end = now_s() + timeout_s;
        bool last_round = false;

        for (;;) {
                bool qemu_alive;
                ssize_t n;

                if (fd < 0) {
                        fd = open(path, O_RDONLY | O_CLOEXEC);
                        if (fd >= 0 && lseek(fd, from, SEEK_SET) < 0)
                                return errf(-errno, "%s: %s", path, strerror(errno));
                }
                qemu_alive = vm_proc_alive(dir, p->qemu, p->children);
                while (fd >= 0 && (n = read(fd, chunk, sizeof(chunk))) > 0)
                        if (console_scan_feed(sc, chunk, (size_t)n, success, failure, ret))
                                return 0;
                /* An unterminated last line still counts once QEMU is gone. */
                if (last_round) {
                        if (!console_scan_finish(sc, success, failure, ret))
                                *ret = CONSOLE_EXITED;
                        return 0;
                }
                if (!qemu_alive) {
                        last_round = true; /* read what QEMU wrote before it ended */
                        continue;
                }
                if (stop && *stop) {
                        *ret = CONSOLE_INTERRUPTED;
                        return 0;
                }
                if (now_s() > end) {
                        *ret = CONSOLE_TIMEOUT;
                        return 0;
                }
                sleep_ms(100);
        }
}

char *console_sanitize(const char *buf, size_t len)
{
        char *out = xmalloc0(len + 1);
        size_t o = 0;

        /* Printable text only: the firmware draws with ANSI escape sequences
         * (ESC [ parameters final-byte, ECMA-48), which are dropped whole. */
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)buf[i];

                if (c == 0x1b) {
                        if (i + 1 < len && buf[i + 1] == '[') {
                                i += 2;
                                while (i < len && !((unsigned char)buf[i] >= 0x40 &&
                                                    (unsigned char)buf[i] <= 0x7e))
                                        i++;
                        }
                        continue;
                }
                if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f))
                        out[o++] = (char)c;
        }
        out[o] = 0;
        return out;
}

char *console_tail_of(const char *buf, size_t len, unsigned lines)
{
        size_t start = len;
        unsigned seen = 0;

        /* Count lines back from the end (a trailing newline ends the last). */
        if (start > 0 && buf[start - 1] == '\n')
                start--;
        while (start > 0) {
                if (buf[start - 1] == '\n' && ++seen == lines)
                        break;
                start--;
        }
        return console_sanitize(buf + start, len - start);
}

char *vm_console_tail(const char *dir, unsigned lines)
{
        _cleanup_free_ char *path = path_join(dir, VM_CONSOLE_LOG);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        const size_t max = 16384;
        _cleanup_free_ char *buf = xmalloc0(max);
        off_t size;
        ssize_t n;

        if (fd < 0)
                return xstrdup("");
        size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return xstrdup("");
        if (lseek(fd, size > (off_t)max ? size - (off_t)max : 0, SEEK_SET) < 0)
                return xstrdup("");
        n = read(fd, buf, max);
        if (n <= 0)
                return xstrdup("");
        return console_tail_of(buf, (size_t)n, lines);
}

static struct termios saved_tty;
static bool tty_raw;

off_t vm_console_size(const char *dir)
{
        _cleanup_free_ char *path = path_join(dir, VM_CONSOLE_LOG);
        struct stat st;

        return stat(path, &st) == 0 ? st.st_size : 0;
}

void vm_console_mark(const char *dir, const char *text)
{
        _cleanup_free_ char *path = path_join(dir, VM_CONSOLE_LOG);
        _cleanup_free_ char *line = xasprintf("\n=== trust vm: %s ===\n", text);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);

        if (fd < 0)
                return;
        (void)!write(fd, line, strlen(line));
        close(fd);
}

static void tty_restore(void)
{
        if (tty_raw)
                (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
        tty_raw = false;
}

int vm_console_attach(const char *dir)
{
        _cleanup_close_ int fd = -1;
        bool in_open = true;
        char buf[4096];
        int r;

        r = vm_socket_connect(dir, VM_CONSOLE_SOCK, &fd);
        if (r < 0)
                return r;
        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tty) == 0) {
                struct termios raw = saved_tty;
                cfmakeraw(&raw);
                if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0)
                        tty_raw = true;
        }
        for (;;) {
                struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
                                         { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
                ssize_t n;

                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (pfd[0].revents) {
                        n = read(fd, buf, sizeof(buf));
                        if (n <= 0) {
                                r = 0; /* QEMU closed the console: the VM ended */
                                break;
                        }
                        for (ssize_t o = 0; o < n;) {
                                ssize_t w = write(STDOUT_FILENO, buf + o, (size_t)(n - o));
                                if (w < 0 && errno == EINTR)
                                        continue;
                                if (w <= 0) {
                                        r = 0;
                                        goto out;
                                }
                                o += w;
                        }
                }
                if (pfd[1].revents) {
                        n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n <= 0) {
                                in_open = false; /* keep showing output */
                                continue;
                        }
                        if (memchr(buf, 0x1d, (size_t)n)) { /* Ctrl-] detaches */
                                r = 0;
                                break;
                        }
                        if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0) {
                                r = 0;
                                break;
                        }
                }
        }
out:
        tty_restore();
        return r;
}
