/* runtime.c: setup, preinit, tpm admin-password and extend-pcr7 on the
 * target (spec tpm.md, "Workflows on the target"), written over the
 * truststore interface with the fail-closed rules of workflow.h, and what
 * they share: where pcr7data is, passphrases, the private tmpfs. */
#include "target/runtime.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/dirlist.h"
#include "base/crypto.h"
#include "formats/gpt.h"
#include "target/workflow.h"

int passphrase_new(size_t len, struct secret *ret)
{
        static const char alphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        struct secret s = {};
        size_t n = 0;
        int r;

        r = secret_alloc(&s, len);
        if (r < 0)
                return r;
        while (n < len) {
                uint8_t b[64];

                r = random_bytes(b, sizeof(b));
                if (r < 0) {
                        secret_free(&s);
                        return r;
                }
                /* rejection sampling: 248 = 4 * 62 keeps the choice uniform */
                for (size_t i = 0; i < sizeof(b) && n < len; i++)
                        if (b[i] < 248)
                                s.data[n++] = (uint8_t)alphabet[b[i] % 62];
                explicit_bzero(b, sizeof(b));
        }
        *ret = s;
        return 0;
}

char *partition_path(const char *dev, unsigned n)
{
        size_t l = strlen(dev);
        bool digit = l > 0 && dev[l - 1] >= '0' && dev[l - 1] <= '9';

        return xasprintf("%s%s%u", dev, digit ? "p" : "", n);
}

/* The pbf partition is found by its GPT type on the disks the kernel knows
 * (as the older tool did), which needs no udev. */
static int find_pbf(char **ret)
{
        _cleanup_(closedirp) DIR *d = opendir("/sys/block");
        struct dirent *de;
        uint8_t type[16];

        if (!d)
                return -errno;
        if (gpt_guid_parse(PBF_TYPE_GUID, type) < 0)
                return -EINVAL;
        while ((de = readdir(d))) {
                _cleanup_free_ char *dev = NULL, *part = NULL;
                uint32_t n;

                if (de->d_name[0] == '.' || !strncmp(de->d_name, "ram", 3) ||
                    !strncmp(de->d_name, "zram", 4) || !strncmp(de->d_name, "sr", 2) ||
                    !strncmp(de->d_name, "fd", 2))
                        continue;
                dev = xasprintf("/dev/%s", de->d_name);
                if (gpt_disk_find_type(dev, type, &n, NULL) < 0)
                        continue;
                part = partition_path(dev, n);
                if (!path_exists(part))
                        continue;
                *ret = TAKE_PTR(part);
                return 0;
        }
        return -ENOENT;
}

int pcr7data_root(const struct runtime_opts *o, char **ret)
{
        _cleanup_free_ char *dev = NULL;
        int r;

        if (o->pcr7data) {
                if (!path_exists(o->pcr7data))
                        return errf(-ENOENT, "pcr7data '%s': does not exist", o->pcr7data);
                *ret = xstrdup(o->pcr7data);
                return 0;
        }
        if (path_exists(DEFAULT_PCR7DATA)) {
                *ret = xstrdup(DEFAULT_PCR7DATA);
                return 0;
        }
        if (path_exists(PBF_MOUNTPOINT "/pcr7data")) {
                *ret = xstrdup(PBF_MOUNTPOINT "/pcr7data");
                return 0;
        }
        r = find_pbf(&dev);
        if (r < 0)
                return errf(-ENOENT, "pcr7data: no %s and no 'pbf' partition (use --pcr7data DIR)",
                            DEFAULT_PCR7DATA);
        r = mkdir_p(PBF_MOUNTPOINT, 0755);
        if (r < 0)
                return errf(r, "%s: %s", PBF_MOUNTPOINT, strerror(-r));
        if (mount(dev, PBF_MOUNTPOINT, "ext4", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  NULL) < 0)
                return errf(-errno, "pbf partition %s: mounting on %s: %s", dev, PBF_MOUNTPOINT,
                            strerror(errno));
        if (!path_exists(PBF_MOUNTPOINT "/pcr7data"))
                return errf(-ENOENT, "pbf partition %s: has no pcr7data", dev);
        *ret = xstrdup(PBF_MOUNTPOINT "/pcr7data");
        return 0;
}

/* The private tmpfs for cert and key: a bind mount of the directory on itself
 * made private first, so the tmpfs mounted on it propagates to no other mount
 * namespace, then the tmpfs (0700). */
static int secure_dir_mount(const char *dir)
{
        int r;

        r = mkdir_p(dir, 0700);
        if (r < 0)
                return errf(r, "%s: %s", dir, strerror(-r));
        if (mount(dir, dir, NULL, MS_BIND, NULL) < 0)
                return errf(-errno, "%s: bind mount: %s", dir, strerror(errno));
        if (mount(NULL, dir, NULL, MS_PRIVATE, NULL) < 0) {
                r = -errno;
                (void)umount2(dir, MNT_DETACH);
                return errf(r, "%s: making it private: %s", dir, strerror(-r));
        }
        if (mount("trust-secure", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=0700,size=1m") < 0) {
                r = -errno;
                (void)umount2(dir, MNT_DETACH);
                return errf(r, "%s: tmpfs: %s", dir, strerror(-r));
        }
        if (mount(NULL, dir, NULL, MS_PRIVATE, NULL) < 0) {
                r = -errno;
                (void)umount2(dir, MNT_DETACH);
                (void)umount2(dir, MNT_DETACH);
                return errf(r, "%s: making the tmpfs private: %s", dir, strerror(-r));
        }
        return 0;
}

static void secure_dir_unmount(const char *dir)
{
        (void)umount2(dir, MNT_DETACH); /* the tmpfs, with its files */
        (void)umount2(dir, MNT_DETACH); /* the private bind mount */
}

/* Releases what setup read, after the lock: cert, key and the manifest CA
 * into the private tmpfs, then the passphrase into the keyring; a failure
 * takes back what was released. */
static int setup_release(const struct runtime_opts *o, const struct secret *cert,
                         const struct secret *key, const uint8_t *ca, size_t ca_len,
                         const struct secret *pass)
{
        _cleanup_free_ char *f_cert = NULL, *f_key = NULL, *f_ca = NULL;
        int32_t serial;
        int r;

        r = secure_dir_mount(o->secure_dir);
        if (r < 0)
                return r;
        f_cert = path_join(o->secure_dir, "server.crt");
        f_key = path_join(o->secure_dir, "server.key");
        f_ca = path_join(o->secure_dir, "manifestCA.pem");
        r = write_file_excl(f_cert, cert->data, cert->len, 0600);
        if (r >= 0)
                r = write_file_excl(f_key, key->data, key->len, 0600);
        if (r >= 0)
                r = write_file_excl(f_ca, ca, ca_len, 0600);
        if (r >= 0)
                r = keyring_add(o->keyring, KEYRING_LUKS_DESCRIPTION, pass->data, pass->len,
                                &serial);
        if (r < 0)
                secure_dir_unmount(o->secure_dir);
        return r;
}

/* The manifest CA setup copies: a PEM certificate, its exact bytes. */
static int manifest_ca_read(const char *path, uint8_t **ret, size_t *ret_len)
{
        _cleanup_(X509_freep) X509 *ca = NULL;
        int r;

        r = pem_load_cert(path, &ca);
        if (r < 0)
                return r;
        return read_file(path, 64 * 1024, ret, ret_len);
}

int runtime_setup(const struct runtime_opts *o, bool *lock_failed)
{
        _cleanup_free_ char *root = NULL;
        _cleanup_free_ uint8_t *ca = NULL;
        struct secret cert = {}, key = {}, pass = {};
        struct workflow w;
        size_t ca_len = 0;
        int r;

        r = workflow_open(&w, o->store, o->tcti, true);
        if (r >= 0)
                r = manifest_ca_read(o->manifest_ca, &ca, &ca_len);
        if (r >= 0)
                r = pcr7data_root(o, &root);
        if (r >= 0)
                r = workflow_authorize(&w, root, "production", "gets the secrets");
        if (r >= 0)
                r = w.ops->read(w.store, SLOT_CERT, false, &cert);
        if (r >= 0)
                r = w.ops->read(w.store, SLOT_KEY, false, &key);
        if (r >= 0)
                r = w.ops->read(w.store, SLOT_OS_PASSPHRASE, true, &pass);
        /* The point of no return: nothing leaves this process unless the
         * lock holds. */
        if (r >= 0)
                r = workflow_lock(&w);
        if (r >= 0)
                r = setup_release(o, &cert, &key, ca, ca_len, &pass);
        r = workflow_end(&w, r, lock_failed);
        secret_free(&cert);
        secret_free(&key);
        secret_free(&pass);
        return r;
}

int runtime_preinit(const struct runtime_opts *o, bool *lock_failed)
{
        _cleanup_free_ char *root = NULL;
        struct secret pass = {};
        struct workflow w;
        int32_t serial;
        int r;

        r = workflow_open(&w, o->store, o->tcti, true);
        if (r >= 0)
                r = pcr7data_root(o, &root);
        if (r >= 0)
                r = passphrase_new(40, &pass);
        if (r >= 0)
                r = workflow_authorize(&w, root, "production", "gets the secrets");
        if (r >= 0)
                r = w.ops->write(w.store, SLOT_OS_PASSPHRASE, &pass, true);
        if (r >= 0)
                r = workflow_lock(&w);
        if (r >= 0) {
                r = keyring_add(o->keyring, KEYRING_LUKS_DESCRIPTION, pass.data, pass.len,
                                &serial);
                if (r < 0)
                        r = errf_prefix(r, "the TPM holds a new OS passphrase that is nowhere "
                                           "else (run preinit again)");
        }
        r = workflow_end(&w, r, lock_failed);
        secret_free(&pass);
        return r;
}

static int admin_release(const struct runtime_opts *o, const struct secret *pw)
{
        int32_t serial;
        int r;

        if (!o->output)
                return keyring_add(o->keyring, KEYRING_ADMIN_DESCRIPTION, pw->data, pw->len,
                                   &serial);
        if (!strcmp(o->output, "-")) {
                r = write_all(STDOUT_FILENO, pw->data, pw->len);
                return r < 0 ? errf(r, "standard output: %s", strerror(-r)) : 0;
        }
        return write_file_excl(o->output, pw->data, pw->len, 0600);
}

int runtime_admin_password(const struct runtime_opts *o, bool *lock_failed)
{
        _cleanup_free_ char *root = NULL;
        struct secret pw = {};
        struct workflow w;
        int r;

        r = workflow_open(&w, o->store, o->tcti, true);
        if (r >= 0 && o->output && strcmp(o->output, "-") && path_exists(o->output))
                r = errf(-EEXIST,
                         "%s: already exists (the password is never written over a file)",
                         o->output);
        if (r >= 0)
                r = pcr7data_root(o, &root);
        if (r >= 0)
                r = workflow_authorize(&w, root, "tpm", "reads the admin password");
        if (r >= 0)
                r = w.ops->read(w.store, SLOT_ADMIN_PASSWORD, true, &pw);
        if (r >= 0)
                r = workflow_lock(&w);
        /* After the lock: a password the store does not take is not handed out. */
        if (r >= 0)
                r = w.ops->check_admin(w.store, &pw);
        if (r >= 0)
                r = admin_release(o, &pw);
        r = workflow_end(&w, r, lock_failed);
        secret_free(&pw);
        return r;
}

int runtime_extend_pcr7(const struct runtime_opts *o, bool *lock_failed)
{
        struct workflow w;
        int r;

        r = workflow_open(&w, o->store, o->tcti, true);
        if (r >= 0)
                r = workflow_lock(&w);
        return workflow_end(&w, r, lock_failed);
}
