/* provision.c: the provision workflow (spec tpm.md, "provision"): take the
 * store, put the machine's secrets in it, lock, and optionally lay out the
 * pbf/sbf partitions. The admin password exists only in memory and in its
 * own slot. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <linux/blkpg.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "base/crypto.h"
#include "base/process.h"
#include "formats/policy.h"
#include "target/luks.h"
#include "target/runtime.h"
#include "target/workflow.h"

extern char **environ;

#define MiB (1024ull * 1024ull)
#define SYS_BLOCK "/sys/block" /* whole disks; their partitions are subdirectories */

/* Runs argv (no shell) with optional stdin text; on failure the message names
 * the program and its last line of output (process_run). */
static int run_program(char *const argv[], const char *input)
{
        const struct process_run o = { .input = input, .stdout_null = true, .last_line = true };

        return process_run(argv, &o);
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
        _cleanup_free_ char *script = NULL, *pbf = NULL, *sbf = NULL;
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
        if (r >= 0)
                r = pbf_format(pbf, pcr7data);
        if (r >= 0)
                r = sbf_format(sbf, sbf_pass, NULL);
        return r;
}

int pbf_format(const char *target, const char *pcr7data)
{
        _cleanup_free_ char *tmp = xstrdup("/tmp/trust-pbf-XXXXXX"), *copy = NULL;
        int r;

        /* mkfs.ext4 -d fills it from a directory holding pcr7data */
        if (!mkdtemp(tmp))
                return errf(-errno, "temporary directory: %s", strerror(errno));
        copy = path_join(tmp, "pcr7data");
        r = run_program((char *const[]){ "cp", "-a", "--", (char *)pcr7data, copy, NULL }, NULL);
        if (r >= 0)
                r = run_program((char *const[]){ "mkfs.ext4", "-q", "-F", "-L", "pbf", "-d", tmp,
                                                 (char *)target, NULL },
                                NULL);
        (void)rm_rf(tmp);
        return r < 0 ? errf_prefix(r, "pbf %s", target) : 0;
}

int sbf_format(const char *target, const struct secret *pass, uint64_t *ret_data_offset)
{
        int r = luks_format(target, pass->data, pass->len, NULL, ret_data_offset);

        return r < 0 ? r : luks_check_passphrase(target, pass->data, pass->len);
}

/* Checks CERT and KEY belong together and returns their exact bytes, and
 * the name the TPM will give the key when it holds it (*held false for a key
 * that is not RSA-2048: it cannot be held). */
static int load_identity(const char *cert_path, const char *key_path, uint8_t **cert,
                         size_t *cert_len, struct secret *key, uint8_t held_name[34],
                         bool *held)
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
        *held = EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA && EVP_PKEY_get_bits(k) == 2048;
        if (*held) {
                r = policy_held_key_name(k, held_name);
                if (r < 0)
                        return r;
        }
        r = read_file(cert_path, 4096, cert, cert_len);
        if (r < 0)
                return r;
        r = read_file(key_path, 4096, &buf, &len);
        if (r < 0) {
                free(*cert);
                *cert = NULL;
                return r;
        }
        r = secret_alloc(key, len);
        if (r >= 0)
                memcpy(key->data, buf, len);
        explicit_bzero(buf, len);
        free(buf);
        return r;
}

/* The pcr7data entry of `measured`, which must be a production one signed
 * for `version`: its policy keys are the ones the slots get bound to, and
 * setup will read them back with its signed policy. */
static int provision_entry(const char *root, const uint8_t measured[32], const char *version,
                           struct pcr7data_match *m)
{
        _cleanup_free_ char *hex = hex_encode(measured, 32);
        int r;

        r = pcr7data_lookup_version(root, measured, version, m);
        if (r == -EKEYREJECTED)
                return errf_prefix(r, "pcr7data for PCR7 %s is not signed for policy version %s",
                                   hex, version);
        if (r < 0)
                return r;
        if (strcmp(m->key_type, "production") || !m->signed_policy)
                return errf(-EACCES, "PCR7 %s is the '%s' value of keyset '%s': provision from "
                                     "a production-signed image",
                            hex, m->key_type, m->key);
        return 0;
}

/* What one provisioning writes; the passphrases are fresh. */
struct provision_secrets {
        uint8_t *cert;
        size_t cert_len;
        struct secret key, admin, sbf, os;
        uint8_t held_name[34];
        bool held;
};

static void provision_secrets_done(struct provision_secrets *p)
{
        free(p->cert);
        secret_free(&p->key);
        secret_free(&p->admin);
        secret_free(&p->sbf);
        secret_free(&p->os);
}

static int provision_secrets_make(const char *cert_path, const char *key_path,
                                  struct provision_secrets *p)
{
        int r;

        r = load_identity(cert_path, key_path, &p->cert, &p->cert_len, &p->key, p->held_name,
                          &p->held);
        if (r >= 0)
                r = passphrase_new(32, &p->admin);
        if (r >= 0)
                r = passphrase_new(40, &p->sbf);
        if (r >= 0)
                r = passphrase_new(40, &p->os);
        return r;
}

static int provision_store(struct workflow *w, const struct pcr7data_match *m,
                           const char *version, const struct provision_secrets *p)
{
        return w->ops->provision(w->store, &(struct truststore_contents){
                                                   .entry = m,
                                                   .version = version,
                                                   .cert = p->cert,
                                                   .cert_len = p->cert_len,
                                                   .key = &p->key,
                                                   .admin = &p->admin,
                                                   .sbf = &p->sbf,
                                                   .os = &p->os,
                                                   .held_key_name = p->held ? p->held_name
                                                                            : NULL,
                                           });
}

int runtime_provision(const struct runtime_opts *o, const char *cert_path, const char *key_path,
                      bool *lock_failed)
{
        _cleanup_free_ char *root = NULL, *dev = NULL;
        struct provision_secrets p = {};
        struct pcr7data_match m = {};
        const char *version = o->policy_version ? o->policy_version : POLICY_VERSION;
        struct workflow w;
        int r;

        r = workflow_open(&w, o->store, o->tcti, true);
        if (r >= 0)
                r = provision_secrets_make(cert_path, key_path, &p);
        if (r >= 0)
                r = pcr7data_root(o, &root);
        if (r >= 0 && o->disk)
                r = disk_resolve(o->disk, o->wipe, &dev);
        if (r >= 0)
                r = provision_entry(root, w.measured, version, &m);
        if (r >= 0)
                r = provision_store(&w, &m, version, &p);
        /* What was just written is readable in this boot: lock before the
         * disk, which needs only the sbf passphrase held here. */
        if (r >= 0)
                r = workflow_lock(&w);
        if (r >= 0 && dev)
                r = disk_provision(dev, root, &p.sbf);
        r = workflow_end(&w, r, lock_failed);
        pcr7data_match_free(&m);
        provision_secrets_done(&p);
        return r;
}

int runtime_provision_for(const struct runtime_opts *o, const uint8_t pcr7[32],
                          const char *cert_path, const char *key_path, struct secret *ret_sbf,
                          struct secret *ret_os)
{
        struct provision_secrets p = {};
        struct pcr7data_match m = {};
        const char *version = o->policy_version ? o->policy_version : POLICY_VERSION;
        struct workflow w;
        int r;

        /* Not fail-closed: no boot of the machine is measured here, there is
         * nothing to lock. */
        r = workflow_open(&w, o->store, o->tcti, false);
        if (r >= 0)
                r = provision_secrets_make(cert_path, key_path, &p);
        if (r >= 0)
                r = o->pcr7data ? 0 : errf(-EINVAL, "provision: no pcr7data directory given");
        if (r >= 0)
                r = provision_entry(o->pcr7data, pcr7, version, &m);
        if (r >= 0)
                r = provision_store(&w, &m, version, &p);
        r = workflow_end(&w, r, NULL);
        if (r >= 0) {
                *ret_sbf = p.sbf;
                *ret_os = p.os;
                p.sbf = (struct secret){};
                p.os = (struct secret){};
        }
        pcr7data_match_free(&m);
        provision_secrets_done(&p);
        return r;
}
