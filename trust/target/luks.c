/* luks.c: LUKS2 through libcryptsetup (see luks.h). The OS volume is
 * checked through libcryptsetup's own reading of the header (crypt_load and
 * its getters), never by parsing it here. */
#include "target/luks.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <libcryptsetup.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "base/dirlist.h"
#include "base/util.h"

/* libcryptsetup is opened when a LUKS function first needs it, not linked:
 * it brings ten more libraries (device-mapper, udev, blkid, selinux, json-c,
 * argon2, ...) whose loading cost every trust command about 3 ms and 90 page
 * faults at exec, `trust setup` in the initrd included, which never touches
 * LUKS. Image builders copy it into initrds by name (mb-hooks/trust-initrd,
 * the initramfs-tools hook), as ldd cannot see it. */
#define CS_SONAME "libcryptsetup.so.12"

/* Every libcryptsetup function trust calls, named once: the table's fields
 * and the loader are both made from this list. */
#define CS_FUNCTIONS(X) \
        X(init) \
        X(free) \
        X(set_pbkdf_type) \
        X(format) \
        X(keyslot_add_by_volume_key) \
        X(token_luks2_keyring_set) \
        X(token_assign_keyslot) \
        X(load) \
        X(activate_by_passphrase) \
        X(set_log_callback) \
        X(get_type) \
        X(persistent_flags_get) \
        X(get_cipher) \
        X(get_cipher_mode) \
        X(get_volume_key_size) \
        X(keyslot_max) \
        X(keyslot_status) \
        X(keyslot_get_encryption) \
        X(volume_key_get) \
        X(activate_by_volume_key) \
        X(deactivate) \
        X(get_label) \
        X(set_label) \
        X(get_data_offset)

#define CS_FIELD(f) typeof(crypt_##f) *f;
static struct {
        void *dl;
        CS_FUNCTIONS(CS_FIELD)
} cs;

#define CS_SYM(f)                                                                   \
        cs.f = (typeof(cs.f))dlsym(dl, "crypt_" #f);                                \
        if (!cs.f) {                                                                \
                r = errf(-ELIBBAD, "%s: no symbol crypt_" #f, CS_SONAME);          \
                goto fail;                                                          \
        }

static int cs_load(void)
{
        void *dl;
        int r;

        if (cs.dl)
                return 0;
        dl = dlopen(CS_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!dl)
                return errf(-ELIBACC, "%s (package libcryptsetup12)", dlerror());
        CS_FUNCTIONS(CS_SYM)
        cs.dl = dl;
        return 0;
fail:
        (void)dlclose(dl);
        memset(&cs, 0, sizeof(cs));
        return r;
}

static void crypt_freep(struct crypt_device **cd)
{
        if (*cd)
                cs.free(*cd);
}

int luks_format(const char *device, const void *pass, size_t len,
                const struct luks_format_opts *o, uint64_t *ret_data_offset)
{
        static const struct luks_format_opts none = {};
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        /* The passphrases are 40 random characters (~238 bits): a costly KDF
         * adds nothing, a cheap one keeps boot and provisioning fast. */
        struct crypt_pbkdf_type pbkdf = {
                .type = CRYPT_KDF_PBKDF2,
                .hash = "sha256",
                .iterations = 1000,
                .flags = CRYPT_PBKDF_NO_BENCHMARK,
        };
        struct crypt_params_luks2 params = { .sector_size = 512 };
        int r, slot;

        if (!o)
                o = &none;
        if (o->sector_size)
                params.sector_size = o->sector_size;

        r = cs_load();
        if (r < 0)
                return r;
        r = cs.init(&cd, device);
        if (r < 0)
                return errf(r, "%s: cannot open for LUKS: %s", device, strerror(-r));
        r = cs.set_pbkdf_type(cd, &pbkdf);
        if (r < 0)
                return errf(r, "%s: LUKS2 PBKDF setup: %s", device, strerror(-r));
        r = cs.format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, (const char *)o->volume_key,
                      LUKS_OS_KEY_SIZE, &params);
        if (r < 0)
                return errf(r, "%s: LUKS2 format: %s", device, strerror(-r));
        if (o->label && (r = cs.set_label(cd, o->label, NULL)) < 0)
                return errf(r, "%s: LUKS2 label: %s", device, strerror(-r));
        slot = cs.keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, pass, len);
        if (slot < 0)
                return errf(slot, "%s: LUKS2 keyslot: %s", device, strerror(-slot));
        if (o->keyring_key) {
                struct crypt_token_params_luks2_keyring tp = { .key_description = o->keyring_key };
                int token = cs.token_luks2_keyring_set(cd, CRYPT_ANY_TOKEN, &tp);

                if (token < 0)
                        return errf(token, "%s: LUKS2 keyring token: %s", device,
                                    strerror(-token));
                r = cs.token_assign_keyslot(cd, token, slot);
                if (r < 0)
                        return errf(r, "%s: LUKS2 keyring token: %s", device, strerror(-r));
        }
        if (ret_data_offset)
                *ret_data_offset = cs.get_data_offset(cd) * 512;
        return 0;
}

static void cipher_ctx_freep(EVP_CIPHER_CTX **c)
{
        EVP_CIPHER_CTX_free(*c);
}

int luks_encrypt_copy(const struct luks_copy *c, const uint8_t vk[LUKS_OS_KEY_SIZE])
{
        _cleanup_(cipher_ctx_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        const size_t chunk = 1 << 20;
        _cleanup_free_ uint8_t *buf = xmalloc0(chunk);
        const unsigned ss = c->sector_size;
        uint64_t done = 0;
        int r = 0;

        if (ss < 512 || ss > 4096 || (ss & (ss - 1)) || c->len % ss)
                return errf(-EINVAL, "%s: %llu bytes are not whole %u-byte sectors", c->dst_name,
                            (unsigned long long)c->len, ss);
        if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_xts(), NULL, vk, NULL) != 1)
                return errf(-EIO, "%s: AES-256-XTS: cannot set up the cipher", c->dst_name);
        while (done < c->len) {
                size_t n = c->len - done < chunk ? (size_t)(c->len - done) : chunk;
                ssize_t got = pread(c->src_fd, buf, n, (off_t)(c->src_off + done));
                int outl;

                if (got != (ssize_t)n) {
                        r = errf(got < 0 ? -errno : -EIO, "%s: cannot read at %llu: %s",
                                 c->src_name, (unsigned long long)(c->src_off + done),
                                 got < 0 ? strerror(errno) : "short read");
                        break;
                }
                for (size_t i = 0; i < n; i += ss) {
                        /* plain64: the sector's offset in the segment
                         * counted in 512-byte units whatever sector_size is
                         * (dm-crypt does so unless told iv_large_sectors,
                         * which LUKS2 never sets), 64-bit little-endian,
                         * then zeros */
                        uint64_t sector = (done + i) / 512;
                        uint8_t iv[16] = {};

                        for (int b = 0; b < 8; b++)
                                iv[b] = (uint8_t)(sector >> (8 * b));
                        if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1 ||
                            EVP_EncryptUpdate(ctx, buf + i, &outl, buf + i, (int)ss) != 1 ||
                            outl != (int)ss) {
                                r = errf(-EIO, "%s: AES-256-XTS failed at sector %llu",
                                         c->dst_name, (unsigned long long)sector);
                                break;
                        }
                }
                if (r < 0)
                        break;
                got = pwrite(c->dst_fd, buf, n, (off_t)(c->dst_off + done));
                if (got != (ssize_t)n) {
                        r = errf(got < 0 ? -errno : -EIO, "%s: cannot write at %llu: %s",
                                 c->dst_name, (unsigned long long)(c->dst_off + done),
                                 got < 0 ? strerror(errno) : "short write");
                        break;
                }
                done += n;
        }
        /* the plaintext the last chunk held */
        explicit_bzero(buf, chunk);
        return r;
}

int luks_check_passphrase(const char *device, const void *pass, size_t len)
{
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        int r;

        r = cs_load();
        if (r < 0)
                return r;
        r = cs.init(&cd, device);
        if (r < 0)
                return errf(r, "%s: cannot open: %s", device, strerror(-r));
        r = cs.load(cd, CRYPT_LUKS2, NULL);
        if (r < 0)
                return errf(r, "%s: not a LUKS2 volume: %s", device, strerror(-r));
        /* A NULL name checks the passphrase against the keyslots only. */
        r = cs.activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, pass, len, 0);
        if (r < 0)
                return errf(r == -ENOENT || r == -EPERM ? -EPERM : r,
                            "%s: the passphrase opens no keyslot", device);
        return 0;
}

/* libcryptsetup prints its messages on stderr unless told otherwise; keep the
 * last error line to name the cause of a failure ourselves (one line). */
static char last_error[256];

static void log_keep_error(int level, const char *msg, void *userdata)
{
        size_t n;

        (void)userdata;
        if (level != CRYPT_LOG_ERROR || !msg)
                return;
        snprintf(last_error, sizeof(last_error), "%s", msg);
        n = strlen(last_error);
        while (n > 0 && (last_error[n - 1] == '\n' || last_error[n - 1] == '.'))
                last_error[--n] = 0;
}

static void log_quiet(void)
{
        last_error[0] = 0;
        cs.set_log_callback(NULL, log_keep_error, NULL);
}

static const char *cause(int r)
{
        return last_error[0] ? last_error : strerror(-r);
}

/* Cipher spec "aes-xts-plain64" (name-mode, as keyslots report it) and key
 * size in bytes: the allow-list of luks.h. */
static bool encryption_allowed(const char *spec, size_t key_size)
{
        return spec && !strcmp(spec, LUKS_OS_CIPHER) && key_size == LUKS_OS_KEY_SIZE;
}

static int refuse_encryption(const char *device, const char *what, const char *spec,
                             size_t key_size)
{
        return errf(-ENOTSUP,
                    "%s: %s uses %s with a %zu-bit key: only %s with a %d-bit key is allowed",
                    device, what, spec ? spec : "no cipher", key_size * 8, LUKS_OS_CIPHER,
                    LUKS_OS_KEY_SIZE * 8);
}

/* Loads device and applies the rules of luks_open_os() to the header. */
static int load_checked(struct crypt_device *cd, const char *device)
{
        const char *type, *cipher, *mode;
        _cleanup_free_ char *spec = NULL;
        uint32_t req = 0;
        int r, key_size;

        r = cs.load(cd, NULL, NULL);
        if (r == -EINVAL)
                return errf(-EMEDIUMTYPE, "%s: not a LUKS volume (or its header is damaged)",
                            device);
        if (r < 0)
                return errf(r, "%s: cannot read the LUKS header: %s", device, cause(r));
        type = cs.get_type(cd);
        if (!type || strcmp(type, CRYPT_LUKS2))
                return errf(-EMEDIUMTYPE, "%s: %s, not LUKS2", device,
                            type ? type : "unknown type");
        r = cs.persistent_flags_get(cd, CRYPT_FLAGS_REQUIREMENTS, &req);
        if (r < 0 || req)
                return errf(-ENOTSUP, "%s: LUKS2 requirements 0x%x (an unfinished reencryption?)",
                            device, req);

        cipher = cs.get_cipher(cd);
        mode = cs.get_cipher_mode(cd);
        key_size = cs.get_volume_key_size(cd);
        if (cipher && mode)
                spec = xasprintf("%s-%s", cipher, mode);
        if (!encryption_allowed(spec, key_size > 0 ? (size_t)key_size : 0))
                return refuse_encryption(device, "its data segment", spec,
                                         key_size > 0 ? (size_t)key_size : 0);

        /* Every keyslot, not only the one the passphrase will open: a
         * cipher_null keyslot hands the volume key to any passphrase. */
        for (int slot = 0; slot < cs.keyslot_max(CRYPT_LUKS2); slot++) {
                crypt_keyslot_info st = cs.keyslot_status(cd, slot);
                _cleanup_free_ char *what = NULL;
                const char *enc;
                size_t ks = 0;

                if (st == CRYPT_SLOT_INVALID || st == CRYPT_SLOT_INACTIVE)
                        continue;
                enc = cs.keyslot_get_encryption(cd, slot, &ks);
                if (!encryption_allowed(enc, ks)) {
                        what = xasprintf("keyslot %d", slot);
                        return refuse_encryption(device, what, enc, ks);
                }
        }
        return 0;
}

int luks_open_os(const char *device, const char *name, const void *pass, size_t len)
{
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        struct secret vk = {};
        size_t vk_size;
        int r;

        r = cs_load();
        if (r < 0)
                return r;
        log_quiet();
        r = cs.init(&cd, device);
        if (r < 0)
                return errf(r, "%s: cannot open: %s", device, cause(r));
        r = load_checked(cd, device);
        if (r < 0)
                return r;
        /* The passphrase first, on its own (libcryptsetup looks at
         * device-mapper before the passphrase when activating by
         * passphrase), then the volume key it unlocked is what activates. */
        r = secret_alloc(&vk, LUKS_OS_KEY_SIZE);
        if (r < 0)
                return errf(r, "%s: out of memory", device);
        vk_size = vk.len;
        r = cs.volume_key_get(cd, CRYPT_ANY_SLOT, (char *)vk.data, &vk_size, pass, len);
        if (r == -EPERM || r == -ENOENT) {
                r = errf(-EPERM, "%s: the passphrase opens no keyslot", device);
        } else if (r < 0) {
                r = errf(r, "%s: cannot unlock a keyslot: %s", device, cause(r));
        } else if (name) {
                last_error[0] = 0;
                r = cs.activate_by_volume_key(cd, name, (char *)vk.data, vk_size, 0);
                if (r < 0)
                        r = errf(r, "%s: cannot open as /dev/mapper/%s: %s", device, name,
                                 cause(r));
        }
        secret_free(&vk);
        return r < 0 ? r : 0;
}

int luks_close(const char *name)
{
        int r;

        r = cs_load();
        if (r < 0)
                return r;
        log_quiet();
        r = cs.deactivate(NULL, name);
        if (r < 0)
                return errf(r, "/dev/mapper/%s: cannot close: %s", name, cause(r));
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether dev holds a LUKS2 header labelled label (any failure: no). */
static bool has_label(const char *dev, const char *label)
{
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        const char *l;

        if (cs.init(&cd, dev) < 0 || cs.load(cd, CRYPT_LUKS2, NULL) < 0)
                return false;
        l = cs.get_label(cd);
        return l && !strcmp(l, label);
}

int luks_find_label(const char *sys_class_block, const char *dev_dir, const char *label,
                    char ***ret, size_t *ret_n)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        size_t n = 0;
        char **v;
        int r;

        r = cs_load();
        if (r < 0)
                return r;
        v = xmalloc0(sizeof(char *));
        log_quiet();
        d = opendir(sys_class_block);
        if (!d) {
                r = -errno;
                free(v);
                return errf(r, "%s: %s", sys_class_block, strerror(-r));
        }
        while ((de = readdir(d))) {
                _cleanup_free_ char *dev = NULL;

                /* no LUKS volume on RAM disks, optical or floppy drives */
                if (de->d_name[0] == '.' || !strncmp(de->d_name, "ram", 3) ||
                    !strncmp(de->d_name, "zram", 4) || !strncmp(de->d_name, "sr", 2) ||
                    !strncmp(de->d_name, "fd", 2))
                        continue;
                dev = path_join(dev_dir, de->d_name);
                if (!has_label(dev, label))
                        continue;
                v = realloc(v, (n + 2) * sizeof(char *));
                if (!v)
                        abort();
                v[n++] = TAKE_PTR(dev);
                v[n] = NULL;
        }
        qsort(v, n, sizeof(char *), cmp_str);
        *ret = v;
        *ret_n = n;
        return 0;
}
