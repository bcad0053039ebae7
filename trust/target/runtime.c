/* runtime.c: setup, preinit, extend-pcr7 and status on the target (spec
 * tpm.md, "Workflows on the target"). All TPM work goes through tpm2.h; the
 * policy math and the pcr7data lookup come from policy.h and pcr7data.h. */
#include "target/runtime.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/crypto.h"
#include "formats/gpt.h"
#include "formats/policy.h"
#include "target/tpm2.h"

const uint8_t pcr7_lock_digest[32] = {
        0xb7, 0x13, 0x5c, 0xbb, 0x32, 0x1a, 0x66, 0xfa, 0x84, 0x8b, 0x07, 0x28, 0x8b, 0xd0, 0x08, 0xb8,
        0x9b, 0xd5, 0xb7, 0x49, 0x6c, 0x45, 0x69, 0xc5, 0xe1, 0xa4, 0xef, 0xd5, 0xf7, 0xc8, 0xe0, 0xa7,
};

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

static void closedirp_(DIR **d)
{
        if (*d)
                closedir(*d);
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
        _cleanup_(closedirp_) DIR *d = opendir("/sys/block");
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
                if (gpt_disk_find_type(dev, type, &n) < 0)
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

/* A version index holds ASCII digits; anything else is shown as absent. */
static char *read_version(struct tpm2 *t, uint32_t index)
{
        struct secret s = {};
        char *v = NULL;

        if (tpm2_nv_read_authread(t, index, &s) < 0)
                return NULL;
        if (s.len > 0 && s.len <= 16 && strspn((char *)s.data, "0123456789") == s.len)
                v = xstrdup((char *)s.data);
        secret_free(&s);
        return v;
}

/* A signed policy of the pcr7data tree, ready for a TPM session: the entry of
 * one PCR7 value (pcr7data_lookup has checked its signature offline, so a
 * mismatch is said in words before the TPM is asked) and the session inputs.
 * A production entry gives the luks policy, a tpm entry the passwd policy. */
struct signed_policy {
        struct pcr7data_match m;
        struct tpm2_policy p;
        uint8_t *sig;
};

static void signed_policy_done(struct signed_policy *sp)
{
        pcr7data_match_free(&sp->m);
        free(sp->sig);
        *sp = (struct signed_policy){};
}

/* The session inputs of sp->m, the entry pcr7data_lookup_version found for
 * pcr7 and the EA policy version `version` (the luks policy's PolicyNV). */
static int signed_policy_prepare(const uint8_t pcr7[32], const char *version,
                                 struct signed_policy *sp)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;
        bool luks;
        size_t sig_len = 0;
        int r;

        if (!sp->m.signed_policy || !sp->m.pubkey)
                return errf(-ENOENT, "pcr7data entry %s ('%s'): no signed policy", sp->m.dir,
                            sp->m.key_type);
        luks = !strcmp(sp->m.key_type, "production");
        r = pem_load_pubkey(sp->m.pubkey, &pub);
        if (r < 0)
                return r;
        r = read_file(sp->m.signed_policy, 4096, &sp->sig, &sig_len);
        if (r < 0)
                return r;
        memcpy(sp->p.pcr7, pcr7, 32);
        sp->p.nv_version = luks;
        memcpy(sp->p.version, version, POLICY_VERSION_LEN);
        r = luks ? policy_luks_digest(pcr7, sp->p.version, sp->p.approved)
                 : policy_passwd_digest(pcr7, sp->p.approved);
        if (r < 0)
                return r;
        r = policy_rsa_modulus(pub, sp->p.modulus);
        if (r < 0)
                return r;
        sp->p.sig = sp->sig;
        sp->p.sig_len = sig_len;
        return 0;
}

/* The session and its reads give errors a reader can act on. */
static int explain(int r, const struct signed_policy *sp)
{
        char m[1024];

        err_copy(r, m, sizeof(m));

        if (strstr(m, "PolicyNV"))
                return errf(r, "the TPM's policy version is not %.4s (revoked): %s",
                            sp->p.version, m);
        if (strstr(m, "NV_Read") && strstr(m, "(0x99d)"))
                return errf(r, "this TPM's secrets are not guarded by the key that signed this "
                               "pcr7data (another keyset?): %s",
                            m);
        if (strstr(m, "VerifySignature") || strstr(m, "PolicyPCR"))
                return errf(r, "the TPM refused the signed policy for this PCR7: %s", m);
        return r;
}

/* Opens the TPM and starts the signed policy session of the current PCR7,
 * whose pcr7data entry must be of class `class` ("production": the luks
 * policy, "tpm": the passwd policy); `gets` says what that class is for. */
/* The EA policy version in NV index 0x01500020: the luks policy's PolicyNV
 * operand, so pcr7data signed for an older version is revoked once the owner
 * bumps it (spec tpm.md). */
static int policy_version_read(struct tpm2 *t, char **ret)
{
        char *v = read_version(t, NV_POLICY_VERSION);

        if (!v || strlen(v) != POLICY_VERSION_LEN) {
                free(v);
                return errf(-ENOENT, "NV index 0x%08x holds no %d-digit policy version: this TPM "
                                     "was not provisioned by trust",
                            NV_POLICY_VERSION, POLICY_VERSION_LEN);
        }
        *ret = v;
        return 0;
}

/* Opens the TPM and starts the signed policy session of the current PCR7,
 * whose pcr7data entry must be of class `class` ("production": the luks
 * policy, "tpm": the passwd policy); `gets` says what that class is for. */
/* Finds the pcr7data entry of pcr7 and the EA policy version its luks policy
 * is signed for: 0001 (every deployment until a revocation) without asking
 * the TPM, else the version the TPM holds now (one NV_Read), which pcr7data
 * re-signed after a revocation carries. pcr7data signed for 0001 on a TPM
 * that moved on is refused by the TPM itself (PolicyNV). */
static int lookup_signed(struct tpm2 *t, const char *root, const uint8_t pcr7[32],
                         struct signed_policy *sp, char version[static POLICY_VERSION_LEN + 1])
{
        _cleanup_free_ char *tpm_version = NULL, *hex = NULL;
        char m[1024];
        int r;

        snprintf(version, POLICY_VERSION_LEN + 1, "%s", POLICY_VERSION);
        r = pcr7data_lookup_version(root, pcr7, version, &sp->m);
        if (r != -EKEYREJECTED)
                return r;
        err_copy(r, m, sizeof(m));
        r = policy_version_read(t, &tpm_version);
        if (r < 0)
                return r;
        hex = hex_encode(pcr7, 32);
        if (!strcmp(tpm_version, POLICY_VERSION))
                return errf(-EKEYREJECTED, "pcr7data for PCR7 %s is not signed for the TPM's "
                                           "policy version %s: %s",
                            hex, tpm_version, m);
        r = pcr7data_lookup_version(root, pcr7, tpm_version, &sp->m);
        if (r == -EKEYREJECTED)
                return errf(r, "pcr7data for PCR7 %s is signed neither for policy version %s nor "
                               "for the TPM's %s: %s",
                            hex, POLICY_VERSION, tpm_version, m);
        if (r < 0)
                return r;
        snprintf(version, POLICY_VERSION_LEN + 1, "%s", tpm_version);
        return 0;
}

/* Opens the TPM and starts the signed policy session of the current PCR7,
 * whose pcr7data entry must be of class `class` ("production": the luks
 * policy, "tpm": the passwd policy); `gets` says what that class is for. */
static int policy_session_open(const char *root, const char *class, const char *gets,
                               struct tpm2 **ret, struct signed_policy *sp)
{
        _cleanup_(tpm2_closep) struct tpm2 *t = NULL;
        _cleanup_free_ char *hex = NULL;
        char version[POLICY_VERSION_LEN + 1];
        uint8_t pcr7[32];
        int r;

        r = tpm2_open_pcr7(&t, pcr7);
        if (r < 0)
                return r;
        r = lookup_signed(t, root, pcr7, sp, version);
        if (r < 0)
                return r;
        hex = hex_encode(pcr7, 32);
        if (strcmp(sp->m.key_type, class))
                return errf(-EACCES, "PCR7 %s is the '%s' value of keyset '%s': only a %s-signed "
                                     "OS %s",
                            hex, sp->m.key_type, sp->m.key, class, gets);
        r = signed_policy_prepare(pcr7, version, sp);
        if (r < 0)
                return r;
        r = tpm2_policy_start(t, &sp->p);
        if (r < 0)
                return explain(r, sp);
        *ret = TAKE_PTR(t);
        return 0;
}

static int extend_lock(struct tpm2 *t, bool *pcr7_unlocked)
{
        int r = tpm2_pcr7_extend(t, pcr7_lock_digest);
        char m[1024];

        if (r < 0) {
                *pcr7_unlocked = true;
                err_copy(r, m, sizeof(m));
                return errf(r, "%s: PCR7 is not locked, the secrets stay readable in this boot: "
                               "power off",
                            m);
        }
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

int runtime_setup(const struct runtime_opts *o, bool *pcr7_unlocked)
{
        _cleanup_(tpm2_closep) struct tpm2 *t = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL;
        _cleanup_free_ uint8_t *ca_pem = NULL;
        _cleanup_free_ char *root = NULL, *f_cert = NULL, *f_key = NULL, *f_ca = NULL;
        struct signed_policy sp = {};
        struct secret cert = {}, key = {}, pass = {};
        size_t ca_len = 0;
        int32_t serial;
        int r;

        /* Everything that can fail without the TPM fails first. */
        r = pem_load_cert(o->manifest_ca, &ca);
        if (r < 0)
                return r;
        r = read_file(o->manifest_ca, 64 * 1024, &ca_pem, &ca_len);
        if (r < 0)
                return r;
        r = pcr7data_root(o, &root);
        if (r < 0)
                return r;

        r = policy_session_open(root, "production", "gets the secrets", &t, &sp);
        if (r < 0)
                goto out;
        r = tpm2_nv_read_policy(t, NV_CERT, &cert);
        if (r >= 0)
                r = tpm2_nv_read_policy(t, NV_KEY, &key);
        if (r >= 0) {
                tpm2_policy_last(t);
                r = tpm2_nv_read_policy(t, NV_OS_PASSPHRASE, &pass);
        }
        if (r < 0) {
                r = explain(r, &sp);
                goto out;
        }

        /* Lock before anything leaves this process: if the extend fails the
         * caller powers off and nothing was released. */
        r = extend_lock(t, pcr7_unlocked);
        if (r < 0)
                goto out;

        r = secure_dir_mount(o->secure_dir);
        if (r < 0)
                goto out;
        f_cert = path_join(o->secure_dir, "server.crt");
        f_key = path_join(o->secure_dir, "server.key");
        f_ca = path_join(o->secure_dir, "manifestCA.pem");
        r = write_file_excl(f_cert, cert.data, cert.len, 0600);
        if (r >= 0)
                r = write_file_excl(f_key, key.data, key.len, 0600);
        if (r >= 0)
                r = write_file_excl(f_ca, ca_pem, ca_len, 0600);
        if (r >= 0)
                r = keyring_add(o->keyring, KEYRING_LUKS_DESCRIPTION, pass.data, pass.len, &serial);
        if (r < 0) {
                secure_dir_unmount(o->secure_dir);
                goto out;
        }
        r = 0;
out:
        secret_free(&cert);
        secret_free(&key);
        secret_free(&pass);
        signed_policy_done(&sp);
        return r;
}

int runtime_preinit(const struct runtime_opts *o, bool *pcr7_unlocked)
{
        _cleanup_(tpm2_closep) struct tpm2 *t = NULL;
        _cleanup_free_ char *root = NULL;
        struct signed_policy sp = {};
        struct secret pass = {};
        int32_t serial;
        int r;

        r = pcr7data_root(o, &root);
        if (r < 0)
                return r;
        r = passphrase_new(40, &pass);
        if (r < 0)
                return r;
        r = policy_session_open(root, "production", "gets the secrets", &t, &sp);
        if (r < 0)
                goto out;
        /* The keyring first: it can be undone, the TPM write cannot. */
        r = keyring_add(o->keyring, KEYRING_LUKS_DESCRIPTION, pass.data, pass.len, &serial);
        if (r < 0)
                goto out;
        tpm2_policy_last(t);
        r = tpm2_nv_write_policy(t, NV_OS_PASSPHRASE, pass.data, pass.len);
        if (r < 0) {
                r = explain(r, &sp);
                (void)keyring_remove(o->keyring, serial);
                goto out;
        }
        r = extend_lock(t, pcr7_unlocked);
out:
        secret_free(&pass);
        signed_policy_done(&sp);
        return r;
}

int runtime_admin_password(const struct runtime_opts *o, const char *output, bool *pcr7_unlocked)
{
        _cleanup_(tpm2_closep) struct tpm2 *t = NULL;
        _cleanup_free_ char *root = NULL;
        struct signed_policy sp = {};
        struct secret pw = {};
        int32_t serial;
        int r;

        if (output && strcmp(output, "-") && path_exists(output))
                return errf(-EEXIST,
                            "%s: already exists (the password is never written over a file)",
                            output);
        r = pcr7data_root(o, &root);
        if (r < 0)
                return r;
        r = policy_session_open(root, "tpm", "reads the admin password", &t, &sp);
        if (r < 0)
                goto out;
        tpm2_policy_last(t);
        r = tpm2_nv_read_policy(t, NV_ADMIN_PASSWORD, &pw);
        if (r < 0) {
                r = explain(r, &sp);
                goto out;
        }
        r = extend_lock(t, pcr7_unlocked);
        if (r < 0)
                goto out;
        /* After the lock: a password the TPM does not take is not handed out. */
        r = tpm2_owner_verify(t, pw.data, pw.len);
        if (r < 0) {
                r = errf_prefix(r, "NV index 0x%08x", NV_ADMIN_PASSWORD);
                goto out;
        }
        if (!output)
                r = keyring_add(o->keyring, KEYRING_ADMIN_DESCRIPTION, pw.data, pw.len, &serial);
        else if (!strcmp(output, "-")) {
                r = write_all(STDOUT_FILENO, pw.data, pw.len);
                if (r < 0)
                        r = errf(r, "standard output: %s", strerror(-r));
        } else
                r = write_file_excl(output, pw.data, pw.len, 0600);
out:
        secret_free(&pw);
        signed_policy_done(&sp);
        return r;
}

/* The indices a locked boot must not read, and the policy class that guards
 * each: "production" entries sign the luks policy, "tpm" ones the passwd one. */
static const struct {
        uint32_t index;
        const char *role;
        const char *class;
} guarded[] = {
        { NV_ADMIN_PASSWORD, "admin-password", "tpm" },
        { NV_CERT, "certificate", "production" },
        { NV_KEY, "private-key", "production" },
        { NV_SBF_PASSPHRASE, "sbf-passphrase", "production" },
        { NV_OS_PASSPHRASE, "os-passphrase", "production" },
};

/* One attempt per index and signed policy of that index's class; the first
 * refusal is kept as the account, a release wins over any refusal. */
static int probe_one(struct tpm2 *t, const struct tpm2_policy *p, size_t i,
                     struct tpm2_probe *res, bool *tried)
{
        struct tpm2_probe pr;
        int r;

        r = tpm2_nv_probe(t, p, guarded[i].index, &pr);
        if (r < 0)
                return r;
        if (!tried[i] || (pr.readable && !res[i].readable))
                res[i] = pr;
        tried[i] = true;
        return 0;
}

/* check-locked's admin password: --admin-password-file (one trailing newline
 * dropped), else the keyring's machine:tpm-admin; none is no error. */
static int admin_password_get(const struct runtime_opts *o, struct secret *ret)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0, n;
        int r;

        if (!o->admin_password_file) {
                r = keyring_find(KEYRING_ADMIN_DESCRIPTION, ret);
                return r == -ENOKEY ? 0 : r;
        }
        r = read_file(o->admin_password_file, 256, &buf, &len);
        if (r < 0)
                return r;
        n = len > 0 && buf[len - 1] == '\n' ? len - 1 : len;
        r = n ? secret_alloc(ret, n) : errf(-EINVAL, "%s: empty", o->admin_password_file);
        if (r >= 0)
                memcpy(ret->data, buf, n);
        explicit_bzero(buf, len);
        return r;
}

int runtime_check_locked(const struct runtime_opts *o, bool *readable)
{
        _cleanup_(tpm2_closep) struct tpm2 *t = NULL;
        _cleanup_free_ char *root = NULL;
        _cleanup_free_ uint8_t(*values)[32] = NULL;
        _cleanup_(secret_free) struct secret pw = {};
        char version[POLICY_VERSION_LEN + 1];
        struct tpm2_probe res[ELEMENTSOF(guarded)] = {};
        bool tried[ELEMENTSOF(guarded)] = {};
        size_t n_values = 0;
        unsigned n_readable = 0;
        int r;

        r = pcr7data_root(o, &root);
        if (r < 0)
                return r;
        r = pcr7data_values(root, &values, &n_values);
        if (r < 0)
                return r;
        r = admin_password_get(o, &pw);
        if (r < 0)
                return r;
        r = tpm2_open(&t);
        if (r < 0)
                return r;
        for (size_t v = 0; v < n_values; v++) {
                struct signed_policy sp = {};

                /* An entry that does not check out offline is no key anyone
                 * holds; its signature would fail in the TPM as well. */
                if (lookup_signed(t, root, values[v], &sp, version) < 0 ||
                    !strcmp(sp.m.key_type, "limited") ||
                    signed_policy_prepare(values[v], version, &sp) < 0) {
                        signed_policy_done(&sp);
                        continue;
                }
                for (size_t i = 0; i < ELEMENTSOF(guarded) && r >= 0; i++)
                        if (!strcmp(guarded[i].class, sp.m.key_type))
                                r = probe_one(t, &sp.p, i, res, tried);
                signed_policy_done(&sp);
                if (r < 0)
                        return r;
        }
        /* An index no signed policy names is still tried, with none. */
        for (size_t i = 0; i < ELEMENTSOF(guarded); i++)
                if (!tried[i]) {
                        r = probe_one(t, NULL, i, res, tried);
                        if (r < 0)
                                return r;
                }
        /* With the admin password, the owner's read of each secret too. */
        for (size_t i = 0; i < ELEMENTSOF(guarded) && pw.len; i++) {
                struct tpm2_probe pr;

                if (!tpm2_nv_policy_only(guarded[i].index))
                        continue;
                r = tpm2_nv_probe_owner(t, guarded[i].index, pw.data, pw.len, &pr);
                if (r < 0)
                        return r;
                tpm2_probe_merge(&res[i], &pr, "owner password");
        }
        for (size_t i = 0; i < ELEMENTSOF(guarded); i++) {
                n_readable += res[i].readable;
                printf("0x%08x %-14s %-8s %s\n", guarded[i].index, guarded[i].role,
                       res[i].readable ? "READABLE" : res[i].defined ? "refused" : "absent",
                       res[i].why);
        }
        if (n_readable)
                printf("READABLE: %u of trust's indices can be read in this boot\n", n_readable);
        else
                printf("locked: the TPM refused every read\n");
        *readable = n_readable > 0;
        return 0;
}

int runtime_extend_pcr7(void)
{
        _cleanup_(tpm2_closep) struct tpm2 *t = NULL;
        int r;

        r = tpm2_open(&t);
        if (r < 0)
                return r;
        return tpm2_pcr7_extend(t, pcr7_lock_digest);
}

static const struct {
        uint32_t index;
        const char *role;
} layout[] = {
        { NV_ADMIN_PASSWORD, "admin-password" }, { NV_LAYOUT_VERSION, "layout-version" },
        { NV_POLICY_VERSION, "policy-version" }, { NV_CERT, "certificate" },
        { NV_KEY, "private-key" },               { NV_SBF_PASSPHRASE, "sbf-passphrase" },
        { NV_OS_PASSPHRASE, "os-passphrase" },
};

int runtime_status(bool json)
{
        _cleanup_(tpm2_closep) struct tpm2 *t = NULL;
        _cleanup_free_ char *layout_v = NULL, *policy_v = NULL, *pcr_hex = NULL;
        unsigned owner_reads = 0;
        uint8_t pcr7[32];
        int r;

        r = tpm2_open_pcr7(&t, pcr7);
        if (r < 0)
                return r;
        pcr_hex = hex_encode(pcr7, 32);
        layout_v = read_version(t, NV_LAYOUT_VERSION);
        policy_v = read_version(t, NV_POLICY_VERSION);
        if (json)
                printf("{\"pcr7\":\"%s\",\"layout_version\":%s%s%s,\"policy_version\":%s%s%s,"
                       "\"indices\":[",
                       pcr_hex, layout_v ? "\"" : "", layout_v ? layout_v : "null",
                       layout_v ? "\"" : "", policy_v ? "\"" : "", policy_v ? policy_v : "null",
                       policy_v ? "\"" : "");
        else
                printf("pcr7: %s\nlayout version: %s\npolicy version: %s\n", pcr_hex,
                       layout_v ? layout_v : "(none)", policy_v ? policy_v : "(none)");
        for (size_t i = 0; i < ELEMENTSOF(layout); i++) {
                _cleanup_free_ char *attrs = NULL;
                struct tpm2_nv_info info;

                r = tpm2_nv_info(t, layout[i].index, &info);
                if (r == -ENOENT) {
                        if (json)
                                printf("%s{\"index\":\"0x%08x\",\"role\":\"%s\",\"defined\":false}",
                                       i ? "," : "", layout[i].index, layout[i].role);
                        else
                                printf("0x%08x %-15s not defined\n", layout[i].index,
                                       layout[i].role);
                        continue;
                }
                if (r < 0)
                        return r;
                attrs = tpm2_nv_attributes_string(info.attributes);
                owner_reads += tpm2_nv_secret_owner_readable(layout[i].index, info.attributes);
                if (json)
                        printf("%s{\"index\":\"0x%08x\",\"role\":\"%s\",\"defined\":true,"
                               "\"size\":%u,\"attributes\":\"%s\",\"policy\":%s}",
                               i ? "," : "", layout[i].index, layout[i].role, info.size, attrs,
                               info.auth_policy_len ? "true" : "false");
                else
                        printf("0x%08x %-15s %5u bytes  %s%s\n", layout[i].index, layout[i].role,
                               info.size, attrs, info.auth_policy_len ? "  (policy)" : "");
        }
        if (json)
                printf("],\"owner_reads_secrets\":%s}\n", owner_reads ? "true" : "false");
        else if (owner_reads)
                printf("owner: the TPM owner (admin password) can read %u secret indices (NV "
                       "layout 3); re-provisioning moves them to layout 4, where only their "
                       "signed policy reads them\n",
                       owner_reads);
        return 0;
}
