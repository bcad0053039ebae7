/* vmdir.c: connecting to the sockets of a VM state directory (vmdir.h). */
#include "machine/vmdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "base/util.h"

#define VM_CONNECT_TIMEOUT_MS 5000

int vm_socket_connect(const char *dir, const char *name, int *ret)
{
        _cleanup_close_ int dfd = -1, fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r;

        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errf(-errno, "%s: %s", dir, strerror(errno));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, name);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return errf(-errno, "socket: %s", strerror(errno));
        /* A blocking connect() to a listener whose backlog is full (QEMU
         * serves one monitor client at a time) waits for ever; non-blocking,
         * it says EAGAIN and we retry for a bounded time. */
        for (unsigned ms = 0;; ms += 50) {
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        break;
                if ((errno != EAGAIN && errno != EINTR) || ms >= VM_CONNECT_TIMEOUT_MS)
                        return errf(-errno, "%s/%s: %s", dir, name, strerror(errno));
                sleep_ms(50);
        }
        r = fcntl(fd, F_GETFL);
        if (r < 0 || fcntl(fd, F_SETFL, r & ~O_NONBLOCK) < 0)
                return errf(-errno, "%s/%s: %s", dir, name, strerror(errno));
        *ret = fd;
        fd = -1;
        return 0;
}
