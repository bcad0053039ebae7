/* vm.c: the state directory of a `trust vm` and the launch sequence
 * (prepare → provision → install → detach), start, stop, list and delete.
 * Processes are handled by qemu.c; the directory layout is in vm/README.md. */
#include "machine/vm.h"
#include "keys/sudi.h"
#include "base/util.h"
#include "keys/keyset-path.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define VM_CONF "vm.conf"
#define VM_OS_DISK "os.img"
#define VM_DATA_DISK "trust-data.img"
#define VM_BOOT_DISK "boot.img"
#define VM_PAYLOAD_LINK "payload.img" /* symlink to the images' os/payload.img */
#define VM_SUDI_CERT "sudi-cert.pem"
#define VM_OS_DISK_SIZE (8ULL << 30) /* sparse */
#define VM_DATA_DISK_KIB 8192

volatile int vm_interrupted;

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

static void vm_info_donep(struct vm_info *i)
{
        vm_info_done(i);
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
static int conf_write(const char *dir, const struct vm_info *i)
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

static int conf_read(const char *dir, struct vm_info *i)
{
        _cleanup_free_ char *path = path_join(dir, VM_CONF);
        _cleanup_free_ uint8_t *buf = NULL;
        char *line, *save = NULL;
        int r;

        r = read_file(path, 64 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '='), **slot = NULL;

                if (!eq)
                        return errf(-EBADMSG, "%s: line without '='", path);
                *eq = 0;
                if (!strcmp(line, "name"))
                        continue; /* the directory name is authoritative */
                else if (!strcmp(line, "keyset"))
                        slot = &i->keyset;
                else if (!strcmp(line, "project"))
                        slot = &i->project;
                else if (!strcmp(line, "serial"))
                        slot = &i->serial;
                else if (!strcmp(line, "images"))
                        slot = &i->images;
                else if (!strcmp(line, "created"))
                        slot = &i->created;
                else if (!strcmp(line, "accel"))
                        slot = &i->accel;
                else
                        continue; /* written by a newer trust */
                free(*slot);
                *slot = xstrdup(eq + 1);
        }
        if (!i->keyset || !i->project)
                return errf(-EBADMSG, "%s: keyset or project missing", path);
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

static int copy_small_file(const char *src, const char *dst, mode_t mode)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        r = read_file(src, 64 << 20, &buf, &len);
        if (r < 0)
                return r;
        return write_file_excl(dst, buf, len, mode);
}

/* Overwrite before unlinking: the SUDI private key passed through these. */
static void wipe_file(const char *path)
{
        struct stat st;
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd >= 0) {
                if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
                        static const char zero[4096];
                        for (off_t o = 0; o < st.st_size; o += (off_t)sizeof(zero))
                                if (write(fd, zero, sizeof(zero)) < 0)
                                        break;
                        (void)fsync(fd);
                }
                close(fd);
        }
        (void)unlink(path);
}

static int regular_file(const char *path, const char *what)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return errf(-errno, "%s %s: %s", what, path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return errf(-EINVAL, "%s %s: not a regular file", what, path);
        return 0;
}

/* A bare FAT image holding \EFI\BOOT\BOOTX64.EFI = uki: what OVMF boots
 * from a disk without boot entries. Built with mtools, no mounting. */
static int make_boot_disk(const char *dir, const char *uki)
{
        _cleanup_free_ char *img = path_join(dir, VM_BOOT_DISK);
        _cleanup_free_ char *kib = NULL;
        struct stat st;
        unsigned long long k;
        int r;

        (void)unlink(img);
        if (stat(uki, &st) < 0)
                return errf(-errno, "%s: %s", uki, strerror(errno));
        /* room for the UKI plus FAT overhead, at least 64 MiB (FAT32-sized) */
        k = ((unsigned long long)st.st_size / 1024) * 11 / 10 + 8192;
        if (k < 65536)
                k = 65536;
        kib = xasprintf("%llu", k);
        {
                char *argv[] = { "mkfs.vfat", "-C", "-n", "TRUST-BOOT", img, kib, NULL };
                r = run_tool(argv, 120);
        }
        if (r < 0)
                return r;
        {
                char *argv[] = { "mmd", "-i", img, "::/EFI", "::/EFI/BOOT", NULL };
                r = run_tool(argv, 60);
        }
        if (r < 0)
                return r;
        {
                char *uki_c = (char *)uki;
                char *argv[] = { "mcopy", "-i", img, uki_c, "::/EFI/BOOT/BOOTX64.EFI", NULL };
                r = run_tool(argv, 120);
        }
        return r;
}

static int make_os_disk(const char *dir)
{
        _cleanup_free_ char *img = path_join(dir, VM_OS_DISK);
        _cleanup_close_ int fd = -1;

        fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return errf(-errno, "%s: %s", img, strerror(errno));
        if (ftruncate(fd, (off_t)VM_OS_DISK_SIZE) < 0)
                return errf(-errno, "%s: %s", img, strerror(errno));
        return 0;
}

/* The `trust-data` FAT disk for the provisioning image: cert.pem and
 * privkey.pem of the VM's SUDI identity at its root. */
static int make_data_disk(const char *dir, const char *keyset, const char *project,
                          const char *serial, char **ret_serial)
{
        _cleanup_free_ char *sudi = path_join(dir, "sudi");
        _cleanup_free_ char *img = path_join(dir, VM_DATA_DISK);
        _cleanup_free_ char *cert = path_join(sudi, "cert.pem");
        _cleanup_free_ char *key = path_join(sudi, "privkey.pem");
        _cleanup_free_ char *keep = path_join(dir, VM_SUDI_CERT);
        _cleanup_free_ char *kib = xasprintf("%d", VM_DATA_DISK_KIB);
        int r;

        if (mkdir(sudi, 0700) < 0)
                return errf(-errno, "%s: %s", sudi, strerror(errno));
        r = sudi_issue(keyset, project, serial, sudi, ret_serial);
        if (r < 0)
                goto out;
        r = copy_small_file(cert, keep, 0644);
        if (r < 0)
                goto out;
        {
                char *argv[] = { "mkfs.vfat", "-C", "-n", "trust-data", img, kib, NULL };
                r = run_tool(argv, 60);
        }
        if (r < 0)
                goto out;
        (void)chmod(img, 0600);
        {
                char *argv[] = { "mcopy", "-i", img, cert, key, "::/", NULL };
                r = run_tool(argv, 60);
        }
out:
        wipe_file(key);
        (void)unlink(cert);
        (void)rmdir(sudi);
        return r;
}

static char *now_iso(void)
{
        char buf[64];
        time_t t = time(NULL);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        return xstrdup(buf);
}

static off_t console_size(const char *dir)
{
        _cleanup_free_ char *path = path_join(dir, VM_CONSOLE_LOG);
        struct stat st;

        return stat(path, &st) == 0 ? st.st_size : 0;
}

/* A line in console.log between phases, so the log reads as a story. */
static void console_mark(const char *dir, const char *text)
{
        _cleanup_free_ char *path = path_join(dir, VM_CONSOLE_LOG);
        _cleanup_free_ char *line = xasprintf("\n=== trust vm: %s ===\n", text);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);

        if (fd < 0)
                return;
        (void)!write(fd, line, strlen(line));
        close(fd);
}

/* What differs between the launch phases (provision, install). */
struct phase {
        const char *name; /* in progress and error messages */
        const char *uki;
        const struct qemu_disk *extra; /* the phase's own disk, or NULL */
        const char *success;           /* console marker */
        const char *wipe;              /* a file to wipe once done, or NULL */
        const char *detail;            /* of the progress line */
};

/* Boots ph's image until its success marker, then until the guest powers
 * off; then wipes ph->wipe and reports progress with the elapsed time.
 * Nothing runs when this returns. */
static int run_phase(const char *dir, const char *accel, const struct phase *ph, unsigned timeout_s,
                     const struct vm_launch_args *a)
{
        const struct qemu_disk disks[] = {
                { VM_BOOT_DISK, "trust-boot", 0, true },
                { VM_OS_DISK, "trust-target", -1, false },
                ph->extra ? *ph->extra : (struct qemu_disk){},
        };
        struct vm_run run = { .dir = dir, .accel = accel, .disks = disks,
                              .n_disks = ph->extra ? 3 : 2, .die_with_parent = true };
        struct vm_proc p = {};
        enum console_result res;
        double t0 = now_s();
        off_t from;
        int r;

        r = make_boot_disk(dir, ph->uki);
        if (r < 0)
                return r;
        console_mark(dir, ph->name);
        from = console_size(dir);
        r = vm_spawn(&run, &p);
        if (r < 0)
                return r;
        r = vm_wait_console(dir, &p, from, ph->success, VM_FAILED, timeout_s, &vm_interrupted,
                            &res);
        if (r < 0) {
                (void)vm_shutdown(dir, &p, 0);
                return r;
        }
        /* the image powers off by itself once done; bounded anyway. The
         * shutdown then only reaps, or ends what is left, and drops the pid files. */
        if (res == CONSOLE_SUCCESS)
                (void)vm_wait_exit(dir, &p, 120);
        (void)vm_shutdown(dir, &p, 0);
        {
                _cleanup_free_ char *img = path_join(dir, VM_BOOT_DISK);
                (void)unlink(img);
        }
        switch (res) {
        case CONSOLE_SUCCESS:
                break;
        case CONSOLE_FAILURE:
                return errf(-EIO, "the guest reported '%s'", VM_FAILED);
        case CONSOLE_DENIED:
                return errf(-EACCES, "the firmware refused %s (Access Denied): not signed by "
                                     "a key enrolled in the VM's db", ph->uki);
        case CONSOLE_EXITED:
                return errf(-EIO, "the VM powered off without printing '%s'", ph->success);
        case CONSOLE_TIMEOUT:
                return errf(-ETIMEDOUT, "no '%s' within %u s", ph->success, timeout_s);
        case CONSOLE_INTERRUPTED:
        default:
                return errf(-EINTR, "interrupted");
        }
        if (ph->wipe) {
                _cleanup_free_ char *path = path_join(dir, ph->wipe);
                wipe_file(path);
        }
        if (a->progress)
                a->progress(ph->name, now_s() - t0, ph->detail);
        return 0;
}

int vm_launch(const struct vm_launch_args *a, char **ret_phase, char **ret_tail)
{
        _cleanup_free_ char *root = NULL, *final = NULL, *tmp = NULL, *kdir = NULL;
        _cleanup_free_ char *images = NULL, *prov = NULL, *inst = NULL, *vars = NULL;
        _cleanup_free_ char *dst_vars = NULL, *serial = NULL, *payload = NULL;
        bool has_payload;
        _cleanup_(vm_info_donep) struct vm_info info = {};
        const char *phase = "prepare", *accel = "tcg";
        unsigned timeout = a->phase_timeout_s ? a->phase_timeout_s : 1200;
        double t0 = now_s();
        int r;

        *ret_phase = NULL;
        *ret_tail = NULL;
        r = name_validate("vm", a->name);
        if (r < 0)
                return r;
        r = keyset_path(a->keyset, &kdir);
        if (r < 0)
                return r;
        r = name_validate("project", a->project);
        if (r < 0)
                return r;
        if (a->serial) {
                r = name_validate("serial", a->serial);
                if (r < 0)
                        return r;
        }
        {
                _cleanup_free_ char *want = a->images ? xstrdup(a->images)
                                                      : xasprintf("build/images/%s", a->keyset);
                images = realpath(want, NULL);
                if (!images)
                        return errf(-errno, "images directory %s: %s%s", want, strerror(errno),
                                    a->images ? ""
                                              : " (build it with 'make images KEYSET=...' or "
                                                "pass --images DIR)");
        }
        prov = path_join(images, VM_IMG_PROVISION);
        inst = path_join(images, VM_IMG_INSTALL);
        vars = path_join(images, VM_IMG_VARS);
        if ((r = regular_file(prov, "provisioning image")) < 0 ||
            (r = regular_file(inst, "installer image")) < 0 ||
            (r = regular_file(vars, "enrolled OVMF vars")) < 0)
                return r;
        payload = path_join(images, VM_IMG_PAYLOAD);
        has_payload = path_exists(payload);
        if (has_payload && (r = regular_file(payload, "OS payload disk")) < 0)
                return r;

        r = vms_root(&root);
        if (r < 0)
                return r;
        r = mkdir_p(root, 0700);
        if (r < 0)
                return r;
        (void)clean_stale_tmp(root);
        final = path_join(root, a->name);
        if (path_exists(final))
                return errf(-EEXIST, "vm '%s' already exists (%s)", a->name, final);
        r = make_tmp_sibling(final, &tmp);
        if (r < 0)
                return r;

        /* prepare: everything the machine needs before its first boot */
        dst_vars = path_join(tmp, VM_VARS);
        r = copy_small_file(vars, dst_vars, 0600);
        if (r < 0)
                goto fail;
        {
                _cleanup_free_ char *tpm = path_join(tmp, VM_SWTPM_DIR);
                if (mkdir(tpm, 0700) < 0) {
                        r = errf(-errno, "%s: %s", tpm, strerror(errno));
                        goto fail;
                }
        }
        r = make_os_disk(tmp);
        if (r < 0)
                goto fail;
        if (has_payload) {
                _cleanup_free_ char *link = path_join(tmp, VM_PAYLOAD_LINK);
                if (symlink(payload, link) < 0) {
                        r = errf(-errno, "%s: %s", link, strerror(errno));
                        goto fail;
                }
        }
        r = make_data_disk(tmp, a->keyset, a->project, a->serial, &serial);
        if (r < 0)
                goto fail;
        r = vm_accel_probe(tmp, &accel);
        if (r < 0)
                goto fail;
        info.name = xstrdup(a->name);
        info.keyset = xstrdup(a->keyset);
        info.project = xstrdup(a->project);
        info.serial = xstrdup(serial);
        info.images = xstrdup(images);
        info.created = now_iso();
        info.accel = xstrdup(accel);
        r = conf_write(tmp, &info);
        if (r < 0)
                goto fail;
        if (a->progress) {
                _cleanup_free_ char *d = xasprintf("serial %s, %s", serial, accel);
                a->progress("prepare", now_s() - t0, d);
        }

        {
                const struct qemu_disk data = { VM_DATA_DISK, "trust-data", -1, true };
                /* a relative path for QEMU; the images dir may hold commas */
                const struct qemu_disk payload_disk = { VM_PAYLOAD_LINK, "trust-payload", -1, true };
                const struct phase phases[] = {
                        /* The SUDI key now lives in the TPM: the disk that
                         * carried it goes before anything else boots (the
                         * installer does not need it). */
                        { "provision", prov, &data, VM_PROVISIONED, VM_DATA_DISK,
                          VM_PROVISIONED ", SUDI disk detached" },
                        { "install", inst, has_payload ? &payload_disk : NULL, VM_INSTALLED, NULL,
                          VM_INSTALLED },
                };

                for (size_t k = 0; k < ELEMENTSOF(phases); k++) {
                        phase = phases[k].name;
                        r = run_phase(tmp, accel, &phases[k], timeout, a);
                        if (r < 0)
                                goto fail;
                }
        }

        {
                _cleanup_free_ char *link = path_join(tmp, VM_PAYLOAD_LINK);
                (void)unlink(link);
        }
        console_mark(tmp, "launched");
        r = commit_tmp_dir(tmp, final, 0700);
        if (r < 0)
                goto fail;
        if (a->progress)
                a->progress("launch", now_s() - t0, final);
        return 0;

fail:
        *ret_phase = xstrdup(phase);
        *ret_tail = vm_console_tail(tmp, 20);
        err_freeze(); /* the cause stays r's, whatever the cleanup meets */
        if (a->keep_on_failure && info.name && commit_tmp_dir(tmp, final, 0700) >= 0)
                tmp[0] = 0;
        if (tmp[0])
                (void)rm_rf(tmp);
        err_thaw();
        return r;
}

int vm_start(const char *name, unsigned *ret_pid)
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
        r = conf_write(i.dir, &i);
        if (r < 0)
                return r;
        console_mark(i.dir, "start");
        run.dir = i.dir;
        run.accel = accel;
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
