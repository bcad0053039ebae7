/* vm.c: the state directory of a `trust vm`: vm.conf, list, start, stop and
 * delete, one operation at a time per VM. The launch sequence is
 * vm-launch.c, processes are qemu.c; the layout is in vm/README.md. */
#include "machine/vm.h"
#include "base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

void vm_names_freep(char ***p)
{
        if (!*p)
                return;
        for (char **s = *p; *s; s++)
                free(*s);
        free(*p);
}

void vm_info_done(struct vm_info *i)
{
        free(i->name);
        free(i->dir);
        free(i->keyset);
        free(i->project);
        free(i->serial);
        free(i->images);
        free(i->created);
        free(i->accel);
        *i = (struct vm_info){};
}

int vms_root(char **ret)
{
        return xdg_dir("XDG_STATE_HOME", ".local/state", "machine/trust/vms", ret);
}

int vm_dir(const char *name, char **ret)
{
        _cleanup_free_ char *root = NULL, *dir = NULL, *conf = NULL;
        int r;

        r = name_validate("vm", name);
        if (r < 0)
                return r;
        r = vms_root(&root);
        if (r < 0)
                return r;
        dir = path_join(root, name);
        conf = path_join(dir, VM_CONF);
        if (!path_exists(conf))
                return errf(-ENOENT, "vm '%s' does not exist", name);
        *ret = TAKE_PTR(dir);
        return 0;
}

/* vm.conf: "key=value" lines written by us; read strictly anyway. */
int vm_conf_write(const char *dir, const struct vm_info *i)
{
        _cleanup_free_ char *path = path_join(dir, VM_CONF);
        _cleanup_free_ char *text = NULL;
        const char *vals[] = { i->name, i->keyset, i->project, i->serial, i->images, i->created,
                               i->accel };

        for (size_t k = 0; k < ELEMENTSOF(vals); k++)
                if (vals[k] && strpbrk(vals[k], "\n\r"))
                        return errf(-EINVAL, "vm '%s': a setting contains a newline", i->name);
        text = xasprintf("name=%s\nkeyset=%s\nproject=%s\nserial=%s\nimages=%s\ncreated=%s\n"
                         "accel=%s\n",
                         i->name, i->keyset, i->project, i->serial ?: "", i->images ?: "",
                         i->created ?: "", i->accel ?: "");
        return write_file_atomic(path, text, strlen(text), 0644);
}

/* Every key vm_conf_write writes must be there: a hand-made or truncated
 * vm.conf is named, not shown with holes. "name" is not read: the directory
 * name is authoritative. Unknown keys were written by a newer trust. */
static int conf_read(const char *dir, struct vm_info *i)
{
        _cleanup_free_ char *path = path_join(dir, VM_CONF);
        _cleanup_free_ uint8_t *buf = NULL;
        const struct {
                const char *key;
                char **slot;
                bool is_name; /* keyset, project and serial follow the naming rule */
        } keys[] = {
                { "keyset", &i->keyset, true },   { "project", &i->project, true },
                { "serial", &i->serial, true },   { "images", &i->images, false },
                { "created", &i->created, false }, { "accel", &i->accel, false },
        };
        char *line, *save = NULL;
        int r;

        r = read_file(path, 64 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');

                if (!eq)
                        return errf(-EBADMSG, "%s: line without '='", path);
                *eq = 0;
                for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                        if (!strcmp(line, keys[k].key)) {
                                free(*keys[k].slot);
                                *keys[k].slot = xstrdup(eq + 1);
                        }
        }
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                if (!*keys[k].slot)
                        return errf(-EBADMSG, "%s: '%s' is missing", path, keys[k].key);
                if (keys[k].is_name && (r = name_validate(keys[k].key, *keys[k].slot)) < 0)
                        return errf_prefix(r, "%s", path);
        }
        return 0;
}

int vm_info_load(const char *name, struct vm_info *ret)
{
        _cleanup_(vm_info_donep) struct vm_info i = {};
        int r;

        r = vm_dir(name, &i.dir);
        if (r < 0)
                return r;
        i.name = xstrdup(name);
        r = conf_read(i.dir, &i);
        if (r < 0)
                return r;
        r = vm_proc_load(i.dir, &i.proc);
        if (r < 0)
                return r;
        *ret = i;
        i = (struct vm_info){};
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int vm_list(char ***ret, size_t *ret_n)
{
        _cleanup_free_ char *root = NULL;
        char **v = xmalloc0(sizeof(char *));
        size_t n = 0;
        struct dirent *de;
        DIR *d;
        int r;

        r = vms_root(&root);
        if (r < 0) {
                free(v);
                return r;
        }
        (void)clean_stale_tmp(root); /* what a killed launch or delete left */
        d = opendir(root);
        if (!d) {
                if (errno != ENOENT) {
                        r = errf(-errno, "%s: %s", root, strerror(errno));
                        free(v);
                        return r;
                }
        } else {
                while ((de = readdir(d))) {
                        _cleanup_free_ char *conf = NULL;

                        if (de->d_name[0] == '.' || name_validate("vm", de->d_name) < 0)
                                continue;
                        conf = xasprintf("%s/%s/%s", root, de->d_name, VM_CONF);
                        if (!path_exists(conf))
                                continue;
                        v = realloc(v, (n + 2) * sizeof(char *));
                        if (!v)
                                abort();
                        v[n++] = xstrdup(de->d_name);
                        v[n] = NULL;
                }
                closedir(d);
                err_clear();
        }
        qsort(v, n, sizeof(char *), cmp_str);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* One operation at a time per VM: an exclusive flock on its directory; then
 * which of its processes run, what start, stop and delete decide on. */
static int vm_lock(const char *dir, const char *name, int *ret_fd, struct vm_proc *ret_proc)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

        if (fd < 0)
                return errf(-errno, "%s: %s", dir, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                close(fd);
                if (r == -EWOULDBLOCK)
                        return errf(-EBUSY, "vm '%s': another trust command is working on it",
                                    name);
                return errf(r, "%s: %s", dir, strerror(-r));
        }
        r = vm_proc_load(dir, ret_proc);
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int vm_start(const char *name, const char *nonce, unsigned *ret_pid)
{
        _cleanup_(vm_info_donep) struct vm_info i = {};
        _cleanup_close_ int lock = -1;
        const struct qemu_disk disks[] = { { VM_OS_DISK, "trust-target", 0, false } };
        struct vm_run run = { .disks = disks, .n_disks = 1 };
        struct vm_proc p = {};
        const char *accel;
        int r;

        r = vm_info_load(name, &i);
        if (r < 0)
                return r;
        r = vm_lock(i.dir, name, &lock, &i.proc);
        if (r < 0)
                return r;
        if (i.proc.qemu)
                return errf(-EBUSY, "vm '%s' is already running (pid %d)", name, (int)i.proc.qemu);
        if (i.proc.swtpm) /* a leftover swtpm would hold the TPM state */
                (void)vm_shutdown(i.dir, &i.proc, 0);
        r = vm_accel_probe(i.dir, &accel);
        if (r < 0)
                return r;
        free(i.accel);
        i.accel = xstrdup(accel);
        r = vm_conf_write(i.dir, &i);
        if (r < 0)
                return r;
        if (nonce && (!*nonce || strspn(nonce, "0123456789abcdefABCDEF") != strlen(nonce)))
                return errf(-EINVAL, "a nonce is hex digits, not '%s'", nonce);
        vm_console_mark(i.dir, nonce ? "start (attest)" : "start");
        run.dir = i.dir;
        run.accel = accel;
        run.nonce = nonce;
        r = vm_spawn(&run, &p);
        if (r < 0)
                return r;
        if (ret_pid)
                *ret_pid = (unsigned)p.qemu;
        return 0;
}

int vm_stop(const char *name, unsigned grace_s, bool *ret_was_running)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int lock = -1;
        struct vm_proc p;
        int r;

        r = vm_dir(name, &dir);
        if (r < 0)
                return r;
        r = vm_lock(dir, name, &lock, &p);
        if (r < 0)
                return r;
        if (ret_was_running)
                *ret_was_running = p.qemu || p.swtpm;
        return vm_shutdown(dir, &p, grace_s);
}

int vm_delete(const char *name)
{
        _cleanup_free_ char *dir = NULL, *root = NULL, *grave = NULL;
        _cleanup_close_ int lock = -1;
        struct vm_proc p;
        int r;

        r = vm_dir(name, &dir);
        if (r < 0)
                return r;
        r = vm_lock(dir, name, &lock, &p);
        if (r < 0)
                return r;
        (void)vm_shutdown(dir, &p, 0);
        /* Rename first: a half-removed VM must never show up in `vm list`. */
        r = vms_root(&root);
        if (r < 0)
                return r;
        grave = xasprintf("%s/.tmp-%s-%d-delete", root, name, (int)getpid());
        if (rename(dir, grave) < 0)
                return errf(-errno, "%s: %s", dir, strerror(errno));
        return rm_rf(grave);
}
