/* vm-launch.c: the launch sequence of a `trust vm` (vm-launch.h): check the
 * inputs, prepare the state directory, provision, install (on the host,
 * vm-prepare.c, or by booting the images), then rename it into place.
 * Processes are qemu.c's; the layout is in vm/README.md. */
#include "machine/vm-launch.h"
#include "machine/vm-prepare.h"
#include "machine/vm.h"
#include "keys/sudi.h"
#include "base/util.h"
#include "keys/keyset-path.h"
#include "base/secure.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#define VM_OS_DISK_SIZE (8ULL << 30) /* sparse */
#define VM_DATA_DISK_KIB 8192

volatile int vm_interrupted;

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

/* For a file that only lives while a function runs. */
static void unlink_freep(char **path)
{
        if (*path)
                (void)unlink(*path);
        free(*path);
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

        return sparse_file_create(img, VM_OS_DISK_SIZE, 0600);
}

/* The VM's SUDI identity, issued into VM_SUDI_DIR (cert.pem, privkey.pem;
 * 0700) for the phase that puts it in the TPM; the cert is also kept as
 * VM_SUDI_CERT. sudi_done wipes the key whatever happened. */
#define VM_SUDI_DIR "sudi"
static int sudi_make(const char *dir, const char *keyset, const char *project, const char *serial,
                     char **ret_serial)
{
        _cleanup_free_ char *sudi = path_join(dir, VM_SUDI_DIR);
        _cleanup_free_ char *cert = path_join(sudi, "cert.pem");
        _cleanup_free_ char *keep = path_join(dir, VM_SUDI_CERT);
        int r;

        if (mkdir(sudi, 0700) < 0)
                return errf(-errno, "%s: %s", sudi, strerror(errno));
        r = sudi_issue(keyset, project, serial, sudi, ret_serial);
        if (r >= 0)
                r = copy_small_file(cert, keep, 0644);
        return r;
}

static void sudi_done(const char *dir)
{
        _cleanup_free_ char *sudi = path_join(dir, VM_SUDI_DIR);
        _cleanup_free_ char *cert = path_join(sudi, "cert.pem");
        _cleanup_free_ char *key = path_join(sudi, "privkey.pem");

        wipe_file(key);
        (void)unlink(cert);
        (void)rmdir(sudi);
}

/* The `trust-data` FAT disk for the provisioning image: cert.pem and
 * privkey.pem of the VM's SUDI identity (sudi_make) at its root. On failure
 * the caller wipes what was written of it. */
static int make_data_disk(const char *dir)
{
        _cleanup_free_ char *sudi = path_join(dir, VM_SUDI_DIR);
        _cleanup_free_ char *img = path_join(dir, VM_DATA_DISK);
        _cleanup_free_ char *cert = path_join(sudi, "cert.pem");
        _cleanup_free_ char *key = path_join(sudi, "privkey.pem");
        _cleanup_free_ char *kib = xasprintf("%d", VM_DATA_DISK_KIB);
        char *mkfs[] = { "mkfs.vfat", "-C", "-n", "trust-data", img, kib, NULL };
        char *mcopy[] = { "mcopy", "-i", img, cert, key, "::/", NULL };
        int r;

        r = run_tool(mkfs, 60);
        if (r < 0)
                return r;
        (void)chmod(img, 0600);
        return run_tool(mcopy, 60);
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

/* What differs between the launch phases (provision, install). */
struct phase {
        const char *name; /* in progress and error messages */
        const char *uki;
        const struct qemu_disk *extra; /* the phase's own disk, or NULL */
        const char *success;           /* console marker */
        const char *wipe;              /* a file to wipe once done, or NULL */
        const char *detail;            /* of the progress line */
};

static int console_error(enum console_result res, const struct phase *ph, unsigned timeout_s)
{
        switch (res) {
        case CONSOLE_SUCCESS:
                return 0;
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
}

/* Boots ph's image until its success marker, then until the guest powers
 * off; then wipes ph->wipe and reports progress with the elapsed time.
 * Nothing runs, and the boot disk is gone, when this returns. */
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
        _cleanup_(unlink_freep) char *boot = path_join(dir, VM_BOOT_DISK);
        struct vm_proc p = {};
        enum console_result res;
        double t0 = now_s();
        off_t from;
        int r;

        r = make_boot_disk(dir, ph->uki);
        if (r < 0)
                return r;
        vm_console_mark(dir, ph->name);
        from = vm_console_size(dir);
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
        r = console_error(res, ph, timeout_s);
        if (r < 0)
                return r;
        if (ph->wipe) {
                _cleanup_free_ char *path = path_join(dir, ph->wipe);
                wipe_file(path);
        }
        if (a->progress)
                a->progress(ph->name, now_s() - t0, ph->detail);
        return 0;
}

/* One launch: its inputs, resolved before anything is created, and what it
 * has made so far. */
struct launch {
        const struct vm_launch_args *a;
        char *images, *prov, *inst, *vars;
        char *payload; /* NULL: the images have no OS payload disk */
        char *final;   /* the state directory */
        char *tmp;     /* its temporary sibling, where everything is built */
        const char *phase, *accel;
        struct vm_info info; /* info.name set: vm.conf is written */
        double t0;
};

static void launch_done(struct launch *l)
{
        free(l->images);
        free(l->prov);
        free(l->inst);
        free(l->vars);
        free(l->payload);
        free(l->final);
        free(l->tmp);
        vm_info_done(&l->info);
}

/* The names, the keyset and the images directory. */
static int launch_check(struct launch *l)
{
        const struct vm_launch_args *a = l->a;
        _cleanup_free_ char *kdir = NULL, *want = NULL, *payload = NULL;
        int r;

        r = name_validate("vm", a->name);
        if (r < 0)
                return r;
        r = keyset_path(a->keyset, &kdir);
        if (r < 0)
                return r;
        r = name_validate("project", a->project);
        if (r < 0)
                return r;
        if (a->serial && (r = name_validate("serial", a->serial)) < 0)
                return r;
        want = a->images ? xstrdup(a->images) : xasprintf("build/images/%s", a->keyset);
        l->images = realpath(want, NULL);
        if (!l->images)
                return errf(-errno, "images directory %s: %s%s", want, strerror(errno),
                            a->images ? ""
                                      : " (build it with 'make images KEYSET=...' or "
                                        "pass --images DIR)");
        l->prov = path_join(l->images, VM_IMG_PROVISION);
        l->inst = path_join(l->images, VM_IMG_INSTALL);
        l->vars = path_join(l->images, VM_IMG_VARS);
        if (a->in_guest && ((r = regular_file(l->prov, "provisioning image")) < 0 ||
                            (r = regular_file(l->inst, "installer image")) < 0))
                return r;
        r = regular_file(l->vars, "enrolled OVMF vars");
        if (r < 0)
                return r;
        payload = path_join(l->images, VM_IMG_PAYLOAD);
        /* the installer image can install without one; the host installs
         * nothing else */
        if (path_exists(payload) || !a->in_guest) {
                r = regular_file(payload, "OS payload disk");
                if (r < 0)
                        return a->in_guest ? r
                                           : errf_prefix(r, "the host-side launch installs "
                                                            "the images' OS payload");
                l->payload = TAKE_PTR(payload);
        }
        return 0;
}

/* The temporary sibling of a state directory that must not exist yet. */
static int launch_tmpdir(struct launch *l)
{
        _cleanup_free_ char *root = NULL;
        int r;

        r = vms_root(&root);
        if (r < 0)
                return r;
        r = mkdir_p(root, 0700);
        if (r < 0)
                return r;
        (void)clean_stale_tmp(root);
        l->final = path_join(root, l->a->name);
        if (path_exists(l->final))
                return errf(-EEXIST, "vm '%s' already exists (%s)", l->a->name, l->final);
        return make_tmp_sibling(l->final, &l->tmp);
}

/* prepare: everything the machine needs before its first boot. */
static int launch_prepare(struct launch *l)
{
        const struct vm_launch_args *a = l->a;
        _cleanup_free_ char *vars = path_join(l->tmp, VM_VARS);
        _cleanup_free_ char *tpm = path_join(l->tmp, VM_SWTPM_DIR);
        _cleanup_free_ char *serial = NULL;
        int r;

        r = copy_small_file(l->vars, vars, 0600);
        if (r < 0)
                return r;
        if (mkdir(tpm, 0700) < 0)
                return errf(-errno, "%s: %s", tpm, strerror(errno));
        r = make_os_disk(l->tmp);
        if (r < 0)
                return r;
        if (l->payload) {
                _cleanup_free_ char *link = path_join(l->tmp, VM_PAYLOAD_LINK);
                if (symlink(l->payload, link) < 0)
                        return errf(-errno, "%s: %s", link, strerror(errno));
        }
        r = sudi_make(l->tmp, a->keyset, a->project, a->serial, &serial);
        if (r >= 0 && a->in_guest)
                r = make_data_disk(l->tmp);
        /* in the guest, the data disk carries it from now on; on the host,
         * launch_host reads it, then wipes it */
        if (a->in_guest || r < 0)
                sudi_done(l->tmp);
        if (r < 0)
                return r;
        r = vm_accel_probe(l->tmp, &l->accel);
        if (r < 0)
                return r;
        l->info = (struct vm_info){
                .name = xstrdup(a->name),
                .keyset = xstrdup(a->keyset),
                .project = xstrdup(a->project),
                .serial = TAKE_PTR(serial),
                .images = xstrdup(l->images),
                .created = now_iso(),
                .accel = xstrdup(l->accel),
        };
        r = vm_conf_write(l->tmp, &l->info);
        if (r < 0)
                return r;
        if (a->progress) {
                _cleanup_free_ char *d = xasprintf("serial %s, %s", l->info.serial, l->accel);
                a->progress("prepare", now_s() - l->t0, d);
        }
        return 0;
}

/* provision, then install, on the host (vm-prepare.h). */
static int launch_host(struct launch *l)
{
        _cleanup_free_ char *cert = path_join(l->tmp, VM_SUDI_DIR "/cert.pem");
        _cleanup_free_ char *key = path_join(l->tmp, VM_SUDI_DIR "/privkey.pem");
        _cleanup_free_ char *kdir = NULL, *pcr7data = NULL;
        struct secret sbf = {}, os = {};
        struct vm_prepare_args p = { .dir = l->tmp, .images = l->images, .payload = l->payload,
                                     .sudi_cert = cert, .sudi_key = key };
        double t0 = now_s();
        int r;

        l->phase = "provision";
        r = keyset_path(l->a->keyset, &kdir);
        if (r >= 0) {
                pcr7data = path_join(kdir, "pcr7data");
                p.pcr7data = pcr7data;
                r = vm_prepare_tpm(&p, &sbf, &os);
        }
        sudi_done(l->tmp); /* the key is in the TPM, or nowhere */
        if (r >= 0 && l->a->progress)
                l->a->progress("provision", now_s() - t0, VM_PROVISIONED ", on the host");
        if (r >= 0) {
                l->phase = "install";
                t0 = now_s();
                r = vm_prepare_disk(&p, &sbf, &os);
        }
        if (r >= 0 && l->a->progress)
                l->a->progress("install", now_s() - t0, VM_INSTALLED ", on the host");
        secret_free(&sbf);
        secret_free(&os);
        return r;
}

/* provision, then install, each a boot of its image. */
static int launch_phases(struct launch *l)
{
        const struct qemu_disk data = { VM_DATA_DISK, "trust-data", -1, true };
        /* a relative path for QEMU; the images dir may hold commas */
        const struct qemu_disk payload = { VM_PAYLOAD_LINK, "trust-payload", -1, true };
        const struct phase phases[] = {
                /* The SUDI key now lives in the TPM: the disk that carried
                 * it goes before anything else boots (the installer does
                 * not need it). */
                { "provision", l->prov, &data, VM_PROVISIONED, VM_DATA_DISK,
                  VM_PROVISIONED ", SUDI disk detached" },
                { "install", l->inst, l->payload ? &payload : NULL, VM_INSTALLED, NULL,
                  VM_INSTALLED },
        };
        unsigned timeout = l->a->phase_timeout_s ? l->a->phase_timeout_s : 1200;
        int r;

        for (size_t k = 0; k < ELEMENTSOF(phases); k++) {
                l->phase = phases[k].name;
                r = run_phase(l->tmp, l->accel, &phases[k], timeout, l->a);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int launch_commit(struct launch *l)
{
        _cleanup_free_ char *link = path_join(l->tmp, VM_PAYLOAD_LINK);
        int r;

        (void)unlink(link);
        vm_console_mark(l->tmp, "launched");
        r = commit_tmp_dir(l->tmp, l->final, 0700);
        if (r < 0)
                return r;
        if (l->a->progress)
                l->a->progress("launch", now_s() - l->t0, l->final);
        return 0;
}

/* The SUDI disk is wiped whatever happens to the rest: removed, or with
 * --keep-on-failure (once vm.conf exists) renamed into place. */
static void launch_fail(struct launch *l, char **ret_phase, char **ret_tail)
{
        _cleanup_free_ char *data = path_join(l->tmp, VM_DATA_DISK);

        *ret_phase = xstrdup(l->phase);
        *ret_tail = vm_console_tail(l->tmp, 20);
        err_freeze(); /* the cause stays the failure's, whatever the cleanup meets */
        wipe_file(data);
        sudi_done(l->tmp);
        if (l->a->keep_on_failure && l->info.name && commit_tmp_dir(l->tmp, l->final, 0700) >= 0)
                l->tmp[0] = 0;
        if (l->tmp[0])
                (void)rm_rf(l->tmp);
        err_thaw();
}

int vm_launch(const struct vm_launch_args *a, char **ret_phase, char **ret_tail)
{
        _cleanup_(launch_done) struct launch l = { .a = a, .phase = "prepare", .accel = "tcg",
                                                   .t0 = now_s() };
        int r;

        *ret_phase = NULL;
        *ret_tail = NULL;
        r = launch_check(&l);
        if (r < 0)
                return r;
        r = launch_tmpdir(&l);
        if (r < 0)
                return r;
        r = launch_prepare(&l);
        if (r >= 0)
                r = a->in_guest ? launch_phases(&l) : launch_host(&l);
        if (r >= 0)
                r = launch_commit(&l);
        if (r < 0)
                launch_fail(&l, ret_phase, ret_tail);
        return r;
}
