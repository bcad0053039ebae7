/* qmp.c: the QMP client `trust vm` needs to stop a VM cleanly: connect to
 * the VM's qmp.sock, check the greeting, negotiate capabilities, run one
 * command and wait for its return (QEMU's docs/interop/qmp-spec). */
#include "machine/qmp.h"
#include "machine/vmdir.h"
#include "base/util.h"

#include <poll.h>
#include <sys/socket.h>

/* QMP: newline-delimited JSON. We only need to know whether a command
 * returned, so replies are matched by their leading key; events are skipped.
 * Bounded reads with a 10 s deadline: a wedged QEMU cannot hang `vm stop`. */
struct qmp {
        int fd;
        char buf[65536];
        size_t len;
};

static int qmp_line(struct qmp *q, char **ret)
{
        double end = now_s() + 10;

        for (;;) {
                char *nl = memchr(q->buf, '\n', q->len);
                struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
                ssize_t n;
                int left;

                if (nl) {
                        size_t l = (size_t)(nl - q->buf);
                        char *s = xmalloc0(l + 1);

                        memcpy(s, q->buf, l);
                        memmove(q->buf, nl + 1, q->len - l - 1);
                        q->len -= l + 1;
                        *ret = s;
                        return 0;
                }
                if (q->len == sizeof(q->buf))
                        return errf(-EBADMSG, "QMP: reply line longer than %zu bytes",
                                    sizeof(q->buf));
                left = (int)((end - now_s()) * 1000);
                if (left <= 0)
                        return errf(-ETIMEDOUT, "QMP: no reply within 10 s");
                if (poll(&pfd, 1, left) < 0) {
                        if (errno == EINTR)
                                continue;
                        return errf(-errno, "QMP: %s", strerror(errno));
                }
                n = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0)
                        return errf(-errno, "QMP: %s", strerror(errno));
                if (n == 0)
                        return errf(-ECONNRESET, "QMP: QEMU closed the connection");
                q->len += (size_t)n;
        }
}

static int qmp_call(struct qmp *q, const char *command)
{
        _cleanup_free_ char *msg = xasprintf("{\"execute\":\"%s\"}\n", command);
        size_t off = 0, len = strlen(msg);

        while (off < len) {
                ssize_t n = send(q->fd, msg + off, len - off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errf(-errno, "QMP %s: %s", command, strerror(errno));
                off += (size_t)n;
        }
        for (;;) {
                _cleanup_free_ char *line = NULL;
                const char *p;
                int r = qmp_line(q, &line);

                if (r < 0)
                        return r;
                p = line + strspn(line, " \t{");
                if (!strncmp(p, "\"return\"", 8))
                        return 0;
                if (!strncmp(p, "\"error\"", 7)) {
                        size_t l = strlen(line);
                        return errf(-EIO, "QMP %s: %.*s", command, (int)(l > 200 ? 200 : l),
                                    line);
                }
                /* events ({"event": ...}) and anything else: keep reading */
        }
}

int qmp_execute(const char *dir, const char *command)
{
        _cleanup_free_ struct qmp *q = xmalloc0(sizeof(*q));
        _cleanup_free_ char *greeting = NULL;
        int r;

        q->fd = -1;
        r = vm_socket_connect(dir, VM_QMP_SOCK, &q->fd);
        if (r < 0)
                return r;
        r = qmp_line(q, &greeting);
        if (r >= 0 && !strstr(greeting, "\"QMP\""))
                r = errf(-EPROTO, "%s/%s: not a QMP greeting", dir, VM_QMP_SOCK);
        if (r >= 0)
                r = qmp_call(q, "qmp_capabilities");
        if (r >= 0) {
                r = qmp_call(q, command);
                /* quit may close the socket before its reply arrives */
                if (r == -ECONNRESET && !strcmp(command, "quit"))
                        r = 0;
        }
        close(q->fd);
        return r;
}
