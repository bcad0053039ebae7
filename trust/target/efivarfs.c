/* efivarfs.c: reading and writing the Secure Boot variables through
 * efivarfs (see efivarfs.h). */
#include "target/efivarfs.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "base/dirlist.h"
#include "base/endian.h"
#include "base/util.h"

static char *var_path(const char *dir, enum sbvar v)
{
        char guid[37];

        guid_format(sbvar_vendor(v), guid);
        return xasprintf("%s/%s-%s", dir, sbvar_name(v), guid);
}

/* A mounted efivarfs always shows variables (Boot*, the Secure Boot state);
 * an empty directory is the mount point without it. */
static int check_dir(const char *dir)
{
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *e;

        if (!d)
                return errf(-errno, "%s: %s", dir, strerror(errno));
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        return 0;
        return errf(-ENOENT, "%s: empty: efivarfs is not mounted there", dir);
}

int efivarfs_sbvars(const char *dir, struct sbvar_value out[_SBVAR_MAX])
{
        int r = check_dir(dir);

        if (r < 0)
                return r;
        for (int i = 0; i < _SBVAR_MAX; i++) {
                _cleanup_free_ char *p = var_path(dir, (enum sbvar)i);
                _cleanup_free_ uint8_t *buf = NULL;
                size_t len;

                out[i] = (struct sbvar_value){};
                r = read_file(p, AUTH2_MAX, &buf, &len);
                /* An empty file is a variable that does not exist: what a
                 * create whose write the firmware refused leaves behind. */
                if (r == -ENOENT || (r >= 0 && len == 0))
                        continue;
                if (r < 0) {
                        sbvar_values_done(out);
                        return r;
                }
                if (len < 4) {
                        sbvar_values_done(out);
                        return errf(-EBADMSG, "%s: %zu bytes, no attributes", p, len);
                }
                out[i].exists = true;
                out[i].len = len - 4;
                out[i].data = xmalloc0(len - 4 + 1);
                memcpy(out[i].data, buf + 4, len - 4);
        }
        return 0;
}

/* FS_IOC_GETFLAGS/SETFLAGS take an int in practice (the kernel's own
 * users do); filesystems without them (a test's plain directory) answer
 * ENOTTY or EOPNOTSUPP, which is no immutable flag to clear. */
static int set_immutable(int fd, const char *path, bool on, bool *was)
{
        int flags;

        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) {
                if (errno == ENOTTY || errno == EOPNOTSUPP || errno == EINVAL)
                        return 0;
                return errf(-errno, "%s: reading its flags: %s", path, strerror(errno));
        }
        if (was)
                *was = flags & FS_IMMUTABLE_FL;
        if (!!(flags & FS_IMMUTABLE_FL) == on)
                return 0;
        flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
        if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
                return errf(-errno, "%s: %s the immutable flag: %s", path,
                            on ? "setting" : "clearing", strerror(errno));
        return 0;
}

int efivarfs_write_update(const char *dir, const struct auth2_target *t, const uint8_t *payload,
                          size_t len)
{
        _cleanup_free_ char *path = var_path(dir, t->var);
        _cleanup_free_ uint8_t *buf = xmalloc0(len + 4);
        _cleanup_close_ int rfd = -1, wfd = -1;
        bool immutable = false;
        ssize_t n;
        int r;

        put_le32(buf, EFI_SECURE_BOOT_VAR_ATTRS | (t->append ? EFI_VARIABLE_APPEND_WRITE : 0));
        memcpy(buf + 4, payload, len);

        rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (rfd < 0 && errno != ENOENT)
                return errf(-errno, "%s: %s", path, strerror(errno));
        if (rfd >= 0) {
                r = set_immutable(rfd, path, false, &immutable);
                if (r < 0)
                        return r;
        }
        wfd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (wfd < 0) {
                r = errf(-errno, "%s: %s", path, strerror(errno));
                goto restore;
        }
        /* One write: efivarfs hands each write() to SetVariable() whole. */
        n = write(wfd, buf, len + 4);
        if (n < 0)
                r = errf(-errno, "%s: the firmware refused the update: %s", path, strerror(errno));
        else if ((size_t)n != len + 4)
                r = errf(-EIO, "%s: short write (%zd of %zu bytes)", path, n, len + 4);
        else
                r = 0;
restore:
        if (immutable && rfd >= 0) {
                err_freeze();
                (void)set_immutable(rfd, path, true, NULL);
                err_thaw();
        }
        return r;
}
