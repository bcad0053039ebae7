/* provision.c: take the TPM, store the machine's secrets in NV layout v4 and
 * optionally lay out the pbf/sbf partitions (spec tpm.md, "provision"). The
 * admin password exists only in memory and in its own NV index. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <linux/blkpg.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "base/crypto.h"
#include "target/luks.h"
#include "formats/policy.h"
#include "target/runtime.h"
#include "target/tpm2.h"

extern char **environ;

/* Dictionary-attack limits. The version indices are read with an empty
 * password and their attributes (no NO_DA) are fixed by the deployed layout,
 * so every unclean power-off after setup counts as a failed try: a finite
 * limit would lock a machine out of its own boot after enough power losses
 * (the fault-injection test hits it). The passwords are 32 random characters,
 * so no limit is needed against guessing; the older tool made the same
 * choice. A failed lockout-password use waits 2 minutes. */
#define DA_MAX_TRIES UINT32_MAX
#define DA_RECOVERY_S 600
#define DA_LOCKOUT_RECOVERY_S 120

#define MiB (1024ull * 1024ull)
#define SYS_BLOCK "/sys/block" /* whole disks; their partitions are subdirectories */
#define PBF_START (4 * MiB)
#define PBF_SIZE (64 * MiB)
#define SBF_START (PBF_START + PBF_SIZE)
#define SBF_SIZE (256 * MiB)

/* Runs argv (no shell) with optional stdin text; on failure the message names
 * the program and its last line of stderr. */
static int run_program(char *const argv[], const char *input)
{
        int in[2] = { -1, -1 }, err[2] = { -1, -1 }, status, r;
        posix_spawn_file_actions_t fa;
        char buf[4096], *last;
        size_t len = 0;
        pid_t pid;

        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail_pipes;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, err[1], 2);
        r = -posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(err[1]);
        in[0] = err[1] = -1;
        if (r < 0)
                goto fail_pipes;
        if (input) {
                size_t n = strlen(input);

                while (n > 0) {
                        ssize_t w = write(in[1], input, n);

                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                break;
                        input += w;
                        n -= (size_t)w;
                }
        }
        close(in[1]);
        in[1] = -1;
        for (;;) {
                ssize_t n = read(err[0], buf + len, sizeof(buf) - 1 - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
                if (len == sizeof(buf) - 1) /* keep the tail */
                        len = 0;
        }
        close(err[0]);
        buf[len] = 0;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return errf(-errno, "%s: %s", argv[0], strerror(errno));
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                buf[--len] = 0;
        last = strrchr(buf, '\n');
        last = last ? last + 1 : buf;
        return errf(-EIO, "%s failed (%s %d)%s%s", argv[0],
                    WIFEXITED(status) ? "exit" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), *last ? ": " : "",
                    last);
fail_pipes:
        for (int i = 0; i < 2; i++) {
                if (in[i] >= 0)
                        close(in[i]);
                if (err[i] >= 0)
                        close(err[i]);
        }
        return errf(r, "%s: %s", argv[0], strerror(-r));
}

static bool sysfs_flag(const char *sys_block, const char *name, const char *attr,
                       unsigned long long *ret)
{
        _cleanup_free_ char *p = xasprintf("%s/%s/%s", sys_block, name, attr);
        _cleanup_free_ uint8_t *buf = NULL;

        if (read_file(p, 64, &buf, NULL) < 0)
                return false;
        *ret = strtoull((char *)buf, NULL, 10);
        return true;
}

static bool has_partitions(const char *sys_block, const char *name)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", sys_block, name);
        DIR *d = opendir(p);
        struct dirent *de;
        bool found = false;

        if (!d)
                return false;
        while (!found && (de = readdir(d))) {
                _cleanup_free_ char *q = NULL;

                if (strncmp(de->d_name, name, strlen(name)))
                        continue;
                q = xasprintf("%s/%s/partition", p, de->d_name);
                found = path_exists(q);
        }
        closedir(d);
        return found;
}

/* A disk is blank when the kernel knows no partition on it and its first two
 * sectors carry neither an MBR signature nor a GPT header. */
static int disk_blank(const char *sys_block, const char *dev, const char *name)
{
        _cleanup_close_ int fd = -1;
        uint8_t b[1024];

        if (has_partitions(sys_block, name))
                return 0;
        fd = open(dev, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || pread(fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
                return errf(-errno ? -errno : -EIO, "disk %s: cannot read", dev);
        return !(b[510] == 0x55 && b[511] == 0xaa) && memcmp(b + 512, "EFI PART", 8);
}

/* The kernel refuses an exclusive open of a disk that is mounted, or has a
 * mounted partition, or is otherwise held (swap, RAID, device-mapper). */
static bool disk_in_use(const char *dev)
{
        int fd = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);

        if (fd < 0)
                return errno == EBUSY;
        close(fd);
        return false;
}

int disk_pick_any(const char *sys_block, const char *dev_dir, bool wipe, char **ret)
{
        struct dirent **list = NULL;
        unsigned long long v;
        char *found = NULL;
        int n;

        n = scandir(sys_block, &list, NULL, alphasort);
        if (n < 0)
                return errf(-errno, "%s: %s", sys_block, strerror(errno));
        for (int i = 0; i < n; i++) {
                const char *d = list[i]->d_name;
                _cleanup_free_ char *dev = NULL;

                if (!found && d[0] != '.' && strncmp(d, "loop", 4) && strncmp(d, "ram", 3) &&
                    strncmp(d, "sr", 2) && strncmp(d, "zram", 4) && strncmp(d, "dm-", 3) &&
                    strncmp(d, "md", 2) && strncmp(d, "nbd", 3) && strncmp(d, "fd", 2) &&
                    sysfs_flag(sys_block, d, "removable", &v) && v == 0 &&
                    sysfs_flag(sys_block, d, "size", &v) && v * 512 >= 1024 * MiB) {
                        dev = xasprintf("%s/%s", dev_dir, d);
                        if (!disk_in_use(dev) && (wipe || disk_blank(sys_block, dev, d) > 0))
                                found = TAKE_PTR(dev);
                }
                free(list[i]);
        }
        free(list);
        if (!found)
                return errf(-ENOENT, "disk any: no unused fixed disk of 1 GiB or more%s",
                            wipe ? "" : " without a partition table (--wipe to take one)");
        *ret = found;
        return 0;
}

static int disk_resolve(const char *disk, bool wipe, char **ret)
{
        struct stat st;
        const char *name;
        int r;

        if (!strcmp(disk, "any"))
                return disk_pick_any(SYS_BLOCK, "/dev", wipe, ret);
        if (stat(disk, &st) < 0)
                return errf(-errno, "disk %s: %s", disk, strerror(errno));
        if (!S_ISBLK(st.st_mode))
                return errf(-ENOTBLK, "disk %s: not a block device", disk);
        name = strrchr(disk, '/');
        name = name ? name + 1 : disk;
        if (disk_in_use(disk))
                return errf(-EBUSY, "disk %s: in use (mounted or held)", disk);
        if (!wipe) {
                r = disk_blank(SYS_BLOCK, disk, name);
                if (r < 0)
                        return r;
                if (!r)
                        return errf(-EEXIST, "disk %s: holds a partition table (--wipe to "
                                             "overwrite it)",
                                    disk);
        }
        *ret = xstrdup(disk);
        return 0;
}

static bool wait_for_node(const char *path, int tries)
{
        struct stat st;

        for (int i = 0; i < tries; i++) {
                if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
                        return true;
                nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
        }
        return false;
}

/* sfdisk asks the kernel to re-read the table; where that does not create the
 * partitions (loop devices without partition scanning, some kernels), they
 * are added one by one with BLKPG, which needs no udev either. */
static int partition_appear(const char *dev, int n, unsigned long long start,
                            unsigned long long size, char **ret)
{
        _cleanup_free_ char *path = partition_path(dev, (unsigned)n);
        struct blkpg_partition part = { .start = (long long)start, .length = (long long)size,
                                        .pno = n };
        struct blkpg_ioctl_arg arg = { .op = BLKPG_ADD_PARTITION, .datalen = sizeof(part),
                                       .data = &part };
        _cleanup_close_ int fd = -1;

        if (!wait_for_node(path, 20)) {
                fd = open(dev, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return errf(-errno, "disk %s: %s", dev, strerror(errno));
                if (ioctl(fd, BLKPG, &arg) < 0 && errno != EBUSY)
                        return errf(-errno, "disk %s: adding partition %d: %s", dev, n,
                                    strerror(errno));
                if (!wait_for_node(path, 100))
                        return errf(-ENOENT, "%s: the partition did not appear", path);
        }
        *ret = TAKE_PTR(path);
        return 0;
}

static int disk_provision(const char *dev, const char *pcr7data, const struct secret *sbf_pass)
{
        _cleanup_free_ char *script = NULL, *pbf = NULL, *sbf = NULL, *tmp = NULL,
                            *copy = NULL;
        int r;

        script = xasprintf("label: gpt\n"
                           "start=%llu, size=%llu, type=%s, name=pbf\n"
                           "start=%llu, size=%llu, type=%s, name=sbf\n",
                           PBF_START / 512, PBF_SIZE / 512, PBF_TYPE_GUID, SBF_START / 512,
                           SBF_SIZE / 512, SBF_TYPE_GUID);
        r = run_program((char *const[]){ "sfdisk", "--quiet", "--wipe", "always",
                                         "--wipe-partitions", "always", (char *)dev, NULL },
                        script);
        if (r < 0)
                return errf_prefix(r, "disk %s: partitioning", dev);
        r = partition_appear(dev, 1, PBF_START, PBF_SIZE, &pbf);
        if (r >= 0)
                r = partition_appear(dev, 2, SBF_START, SBF_SIZE, &sbf);
        if (r < 0)
                return r;

        /* pbf: ext4 holding a copy of pcr7data (mkfs.ext4 -d fills it). */
        tmp = xstrdup("/tmp/trust-pbf-XXXXXX");
        if (!mkdtemp(tmp))
                return errf(-errno, "temporary directory: %s", strerror(errno));
        copy = path_join(tmp, "pcr7data");
        r = run_program((char *const[]){ "cp", "-a", "--", (char *)pcr7data, copy, NULL }, NULL);
        if (r >= 0)
                r = run_program((char *const[]){ "mkfs.ext4", "-q", "-F", "-L", "pbf", "-d", tmp,
                                                 pbf, NULL },
                                NULL);
        (void)rm_rf(tmp);
        if (r < 0)
                return errf_prefix(r, "pbf %s", pbf);

        /* sbf: LUKS2 keyed by the 0x01500030 passphrase, checked back. */
        r = luks_format(sbf, sbf_pass->data, sbf_pass->len, NULL);
        if (r < 0)
                return r;
        return luks_check_passphrase(sbf, sbf_pass->data, sbf_pass->len);
}

/* Checks CERT and KEY belong together and returns their exact bytes. */
static int load_identity(const char *cert_path, const char *key_path, uint8_t **cert,
                         size_t *cert_len, struct secret *key)
{
        _cleanup_(X509_freep) X509 *c = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        r = pem_load_cert(cert_path, &c);
        if (r < 0)
                return r;
        r = pem_load_privkey(key_path, &k);
        if (r < 0)
                return r;
        if (X509_check_private_key(c, k) != 1)
                return openssl_errf(-EINVAL, "%s: is not the key of %s", key_path, cert_path);
        r = read_file(cert_path, 4096, cert, cert_len);
        if (r < 0)
                return r;
        r = read_file(key_path, 4096, &buf, &len);
        if (r < 0) {
                free(*cert);
                return r;
        }
        r = secret_alloc(key, len);
        if (r >= 0)
                memcpy(key->data, buf, len);
        explicit_bzero(buf, len);
        free(buf);
        return r;
}

static int define_write(struct tpm2 *t, uint32_t index, const uint8_t *policy, const void *data,
                        size_t len)
{
        int r;

        if (len > UINT16_MAX)
                return errf(-EFBIG, "NV index 0x%08x: %zu bytes is too much", index, len);
        r = tpm2_nv_define(t, index, tpm2_nv_layout_attributes(NV_LAYOUT, index), policy,
                           (uint16_t)len);
        if (r < 0)
                return r;
        return tpm2_nv_write_owner(t, index, data, len);
}

static int provision_tpm(struct tpm2 *t, const char *policy_version, const uint8_t luks_auth[32],
                         const uint8_t pass_auth[32], const uint8_t *cert, size_t cert_len,
                         const struct secret *key,
                         const struct secret *admin, const struct secret *sbf,
                         const struct secret *os)
{
        int r;

        r = tpm2_clear(t);
        if (r < 0)
                return r;
        r = tpm2_da_parameters(t, DA_MAX_TRIES, DA_RECOVERY_S, DA_LOCKOUT_RECOVERY_S);
        if (r < 0)
                return r;
        r = tpm2_change_auth(t, 'o', (const char *)admin->data);
        if (r < 0)
                return r;
        r = define_write(t, NV_LAYOUT_VERSION, NULL, LAYOUT_VERSION, strlen(LAYOUT_VERSION));
        if (r >= 0)
                r = define_write(t, NV_POLICY_VERSION, NULL, policy_version,
                                 strlen(policy_version));
        if (r >= 0)
                r = define_write(t, NV_ADMIN_PASSWORD, pass_auth, admin->data, admin->len);
        if (r >= 0)
                r = define_write(t, NV_CERT, luks_auth, cert, cert_len);
        if (r >= 0)
                r = define_write(t, NV_KEY, luks_auth, key->data, key->len);
        if (r >= 0)
                r = define_write(t, NV_SBF_PASSPHRASE, luks_auth, sbf->data, sbf->len);
        if (r >= 0)
                r = define_write(t, NV_OS_PASSPHRASE, luks_auth, os->data, os->len);
        if (r < 0)
                return r;
        /* Lockout last: until here a failed run is undone by the next one's
         * Clear with the empty lockout password. */
        r = tpm2_change_auth(t, 'e', (const char *)admin->data);
        if (r < 0)
                return r;
        tpm2_owner_last(t);
        return tpm2_change_auth(t, 'l', (const char *)admin->data);
}

int runtime_provision(const struct runtime_opts *o, const char *cert_path, const char *key_path)
{
        _cleanup_(tpm2_closep) struct tpm2 *t = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *luks_pub = NULL, *pass_pub = NULL;
        _cleanup_free_ char *root = NULL, *pubdir = NULL, *p_luks = NULL, *p_pass = NULL,
                            *dev = NULL, *hex = NULL;
        _cleanup_free_ uint8_t *cert = NULL, *sig = NULL;
        struct pcr7data_match m = {};
        struct secret key = {}, admin = {}, sbf = {}, os = {};
        const char *version = o->policy_version ? o->policy_version : POLICY_VERSION;
        uint8_t pcr7[32], luks_auth[32], pass_auth[32], approved[32];
        size_t cert_len = 0, sig_len = 0;
        int r;

        r = load_identity(cert_path, key_path, &cert, &cert_len, &key);
        if (r < 0)
                return r;
        r = pcr7data_root(o, &root);
        if (r < 0)
                goto out;
        if (o->disk) {
                r = disk_resolve(o->disk, o->wipe, &dev);
                if (r < 0)
                        goto out;
        }

        r = tpm2_open_pcr7(&t, pcr7);
        if (r < 0)
                goto out;
        hex = hex_encode(pcr7, 32);
        r = pcr7data_lookup_version(root, pcr7, version, &m);
        if (r == -EKEYREJECTED)
                r = errf_prefix(r, "pcr7data for PCR7 %s is not signed for policy version %s",
                                hex, version);
        if (r < 0)
                goto out;
        if (!m.key_type || strcmp(m.key_type, "production") || !m.key || !m.signed_policy) {
                r = errf(-EACCES, "PCR7 %s is the '%s' value of keyset '%s': provision from a "
                                  "production-signed image",
                         hex, m.key_type ? m.key_type : "?", m.key ? m.key : "?");
                goto out;
        }
        /* .../policy-N/<h0h1>/<rest> -> .../policy-N/pubkeys */
        pubdir = xasprintf("%s/../../pubkeys", m.dir);
        p_luks = xasprintf("%s/luks-%s.pem", pubdir, m.key);
        p_pass = xasprintf("%s/tpmpass-%s.pem", pubdir, m.key);
        r = pem_load_pubkey(p_luks, &luks_pub);
        if (r >= 0)
                r = pem_load_pubkey(p_pass, &pass_pub);
        if (r >= 0)
                r = policy_authorize_digest(luks_pub, luks_auth);
        if (r >= 0)
                r = policy_authorize_digest(pass_pub, pass_auth);
        if (r < 0)
                goto out;
        /* Refuse to provision a TPM that setup could not read back. */
        r = read_file(m.signed_policy, 4096, &sig, &sig_len);
        if (r >= 0)
                r = policy_luks_digest(pcr7, version, approved);
        if (r < 0)
                goto out;
        if (policy_verify(luks_pub, approved, sig, sig_len) < 0) {
                r = errf(-EACCES, "%s: does not verify with %s for PCR7 %s and policy version %s",
                         m.signed_policy, p_luks, hex, version);
                goto out;
        }

        r = passphrase_new(32, &admin);
        if (r >= 0)
                r = passphrase_new(40, &sbf);
        if (r >= 0)
                r = passphrase_new(40, &os);
        if (r < 0)
                goto out;
        r = provision_tpm(t, version, luks_auth, pass_auth, cert, cert_len, &key, &admin, &sbf,
                          &os);
        if (r < 0)
                goto out;
        if (dev)
                r = disk_provision(dev, root, &sbf);
out:
        pcr7data_match_free(&m);
        secret_free(&key);
        secret_free(&admin);
        secret_free(&sbf);
        secret_free(&os);
        return r;
}
