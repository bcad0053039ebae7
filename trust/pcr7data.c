/* pcr7data.c: the signed-policy tree shipped in initrds (spec keysets.md):
 * looking a PCR7 value up (and checking its signed policy against the shipped
 * public key) and adding a keyset's three entries atomically in the older
 * tool's policy-2 layout. info.json parsing lives in pcr7data-json.c. */
#include "pcr7data.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "crypto.h"
#include "keyset.h"
#include "policy.h"
#include "util.h"

#define SIGNED_MAX 4096

void pcr7data_match_free(struct pcr7data_match *m)
{
        if (!m)
                return;
        free(m->dir);
        free(m->key);
        free(m->key_type);
        free(m->pubkey);
        free(m->signed_policy);
        free(m->luks_pubkey);
        free(m->tpmpass_pubkey);
        *m = (struct pcr7data_match){ 0 };
}

/* The deployed trees name an entry by the hex of PCR7 with every pair of bytes
 * swapped (bytes 64 48 74 68 ... give "48646874..."): the older tool printed
 * the value through a 16-bit-word dump. Initrds in the field look entries up
 * by exactly this name, so we must keep writing (and reading) it. */
void pcr7data_entry_name(const uint8_t pcr7[32], char out[static 66])
{
        static const char digits[] = "0123456789abcdef";
        char h[64];

        for (size_t i = 0; i < 32; i++) {
                uint8_t b = pcr7[i ^ 1];
                h[2 * i] = digits[b >> 4];
                h[2 * i + 1] = digits[b & 15];
        }
        out[0] = h[0];
        out[1] = h[1];
        out[2] = '/';
        memcpy(out + 3, h + 2, 62);
        out[65] = 0;
}

/* ---- lookup ------------------------------------------------------------- */

static int highest_policy_dir(const char *root, int *ret_n)
{
        DIR *d = opendir(root);
        struct dirent *de;
        long best = -1;

        if (!d)
                return errf(-errno, "%s: %s", root, strerror(errno));
        while ((de = readdir(d))) {
                const char *s;
                char *end;
                long n;

                if (strncmp(de->d_name, "policy-", 7) != 0)
                        continue;
                s = de->d_name + 7;
                if (*s < '0' || *s > '9' || strlen(s) > 6)
                        continue;
                n = strtol(s, &end, 10);
                if (*end)
                        continue;
                {
                        _cleanup_free_ char *p = path_join(root, de->d_name);
                        struct stat st;
                        if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
                                continue;
                }
                if (n > best)
                        best = n;
        }
        closedir(d);
        if (best < 0)
                return errf(-ENOENT, "%s: no policy-N directory", root);
        *ret_n = (int)best;
        return 0;
}

static int read_info(const char *dir, struct pcr7data_info *info)
{
        _cleanup_free_ char *p = path_join(dir, "info.json");
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        r = read_file(p, PCR7DATA_INFO_MAX, &buf, &len);
        if (r < 0)
                return r;
        r = pcr7data_info_parse(buf, len, info);
        if (r < 0)
                return errf(r, "%s: %s", p, err_msg(r));
        return 0;
}

/* Class of an info.json key_type: production, tpm (written "password" by the
 * older tool) or limited. */
static int key_type_normalise(const char *t, const char **ret)
{
        if (!strcmp(t, "production") || !strcmp(t, "limited") || !strcmp(t, "tpm")) {
                *ret = t;
                return 0;
        }
        if (!strcmp(t, "password")) {
                *ret = "tpm";
                return 0;
        }
        return -EBADMSG;
}

static int read_pcr_bin(const char *path, uint8_t out[32])
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        r = read_file(path, 32, &buf, &len);
        if (r == -EFBIG || (r >= 0 && len != 32))
                return errf(-EBADMSG, "%s: not a 32-byte PCR value", path);
        if (r < 0)
                return r;
        memcpy(out, buf, 32);
        return 0;
}

int pcr7data_lookup_version(const char *root, const uint8_t pcr7[32], const char *version,
                            struct pcr7data_match *ret)
{
        _cleanup_free_ char *pdir = NULL, *dir = NULL, *hex = NULL, *pubkey = NULL,
                            *signed_path = NULL, *luks_pub = NULL, *pass_pub = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;
        struct pcr7data_info info = { 0 };
        char name[66];
        const char *type;
        uint8_t digest[32];
        struct stat st;
        size_t sig_len;
        int n = 0, r;

        if (!version || strlen(version) != POLICY_VERSION_LEN)
                return errf(-EINVAL, "policy version must be %d decimal digits",
                            POLICY_VERSION_LEN);
        r = highest_policy_dir(root, &n);
        if (r < 0)
                return r;
        pdir = xasprintf("%s/policy-%d", root, n);
        pcr7data_entry_name(pcr7, name);
        dir = path_join(pdir, name);
        hex = hex_encode(pcr7, 32);
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return errf(-ENOENT, "PCR7 %s does not match any signed policy (in %s)", hex,
                            pdir);

        r = read_info(dir, &info);
        if (r < 0)
                return r;
        if (name_validate("info.json key", info.key) < 0) {
                r = errf(-EBADMSG, "%s/info.json: key '%s' is not a valid keyset name", dir,
                         info.key);
                goto fail;
        }
        if (key_type_normalise(info.key_type, &type) < 0) {
                r = errf(-EBADMSG, "%s/info.json: unknown key_type '%s'", dir, info.key_type);
                goto fail;
        }

        if (!strcmp(type, "limited")) {
                _cleanup_free_ char *p = path_join(dir, "pcr_limited.bin");
                uint8_t v[32];

                r = read_pcr_bin(p, v);
                if (r < 0)
                        goto fail;
                if (memcmp(v, pcr7, 32) != 0) {
                        r = errf(-EBADMSG, "%s: does not hold PCR7 %s", p, hex);
                        goto fail;
                }
        } else {
                bool prod = !strcmp(type, "production");

                pubkey = xasprintf("%s/pubkeys/%s-%s.pem", pdir, prod ? "luks" : "tpmpass",
                                   info.key);
                signed_path = path_join(dir, prod ? "tpm_luks.policy.signed"
                                                  : "tpm_passwd.policy.signed");
                r = pem_load_pubkey(pubkey, &pub);
                if (r < 0)
                        goto fail;
                r = read_file(signed_path, SIGNED_MAX, &sig, &sig_len);
                if (r < 0)
                        goto fail;
                r = prod ? policy_luks_digest(pcr7, version, digest)
                         : policy_passwd_digest(pcr7, digest);
                if (r < 0)
                        goto fail;
                r = policy_verify(pub, digest, sig, sig_len);
                if (r < 0) {
                        r = errf(-EKEYREJECTED, "%s: signature does not verify with %s",
                                 signed_path, pubkey);
                        goto fail;
                }
        }

        /* (initializers are unordered: nothing below may read info.key) */
        luks_pub = xasprintf("%s/pubkeys/luks-%s.pem", pdir, info.key);
        pass_pub = xasprintf("%s/pubkeys/tpmpass-%s.pem", pdir, info.key);
        *ret = (struct pcr7data_match){
                .dir = TAKE_PTR(dir),
                .key = TAKE_PTR(info.key),
                .key_type = xstrdup(type),
                .pubkey = TAKE_PTR(pubkey),
                .signed_policy = TAKE_PTR(signed_path),
                .policy_n = n,
                .luks_pubkey = TAKE_PTR(luks_pub),
                .tpmpass_pubkey = TAKE_PTR(pass_pub),
        };
        pcr7data_info_free(&info);
        return 0;
fail:
        pcr7data_info_free(&info);
        return r;
}

int pcr7data_lookup(const char *root, const uint8_t pcr7[32], struct pcr7data_match *ret)
{
        return pcr7data_lookup_version(root, pcr7, "0001", ret);
}

/* "<h0h1>/<h2...h63>" (two directory levels) back to the PCR7 value. */
static bool entry_name_decode(const char *dir, const char *rest, uint8_t out[32])
{
        char h[65];
        uint8_t b[32];

        if (strlen(dir) != 2 || strlen(rest) != 62)
                return false;
        memcpy(h, dir, 2);
        memcpy(h + 2, rest, 63);
        if (strspn(h, "0123456789abcdef") != 64 || hex_decode(h, b, 32) < 0)
                return false;
        for (size_t i = 0; i < 32; i++)
                out[i ^ 1] = b[i];
        return true;
}

int pcr7data_values(const char *root, uint8_t (**ret)[32], size_t *ret_n)
{
        _cleanup_free_ char *pdir = NULL;
        uint8_t(*v)[32] = NULL;
        struct dirent *de;
        size_t n = 0;
        DIR *d;
        int pn = 0, r;

        r = highest_policy_dir(root, &pn);
        if (r < 0)
                return r;
        pdir = xasprintf("%s/policy-%d", root, pn);
        d = opendir(pdir);
        if (!d)
                return errf(-errno, "%s: %s", pdir, strerror(errno));
        v = xmalloc0(PCR7DATA_ENTRIES_MAX * sizeof(*v)); /* 128 KiB */
        r = 0;
        while (r == 0 && (de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;
                struct dirent *e;
                DIR *d2;

                if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
                        continue;
                sub = path_join(pdir, de->d_name);
                d2 = opendir(sub);
                if (!d2)
                        continue; /* not a directory: not an entry */
                while ((e = readdir(d2))) {
                        uint8_t pcr7[32];

                        if (!entry_name_decode(de->d_name, e->d_name, pcr7))
                                continue;
                        if (n >= PCR7DATA_ENTRIES_MAX) {
                                r = errf(-E2BIG, "%s: more than %d entries", pdir,
                                         PCR7DATA_ENTRIES_MAX);
                                break;
                        }
                        memcpy(v[n++], pcr7, 32);
                }
                closedir(d2);
        }
        closedir(d);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- writing ------------------------------------------------------------ */

#define TREE_FILE_MAX (1024 * 1024)

/* Copies a pcr7data generation (directories and regular files only). */
static mode_t keep_mode(const char *name _unused_, mode_t src_mode)
{
        return src_mode;
}

static int pubkey_pem(EVP_PKEY *k, char **ret, size_t *ret_len)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        char *data;
        long n;

        if (!b || PEM_write_bio_PUBKEY(b, k) != 1)
                return openssl_errf(-EIO, "cannot encode a public key");
        n = BIO_get_mem_data(b, &data);
        if (n <= 0)
                return -EIO;
        *ret = xmalloc0((size_t)n + 1);
        memcpy(*ret, data, (size_t)n);
        *ret_len = (size_t)n;
        return 0;
}

/* pubkeys/<prefix>-<key>.pem: written when missing, else it must be this key. */
static int ensure_pubkey(const char *tree, const char *prefix, const char *key, EVP_PKEY *priv)
{
        _cleanup_free_ char *dir = path_join(tree, "pubkeys"),
                            *p = xasprintf("%s/pubkeys/%s-%s.pem", tree, prefix, key), *pem = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *have = NULL;
        size_t len = 0;
        int r;

        if (path_exists(p)) {
                r = pem_load_pubkey(p, &have);
                if (r < 0)
                        return r;
                if (EVP_PKEY_eq(have, priv) != 1)
                        return errf(-EEXIST,
                                    "%s already holds a different key (another keyset named '%s'?)",
                                    p, key);
                return 0;
        }
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        r = pubkey_pem(priv, &pem, &len);
        if (r < 0)
                return r;
        return write_file_excl(p, pem, len, 0644);
}

struct entry_plan {
        const char *type; /* as written to info.json */
        const char *cls;  /* normalised class */
        const uint8_t *pcr7;
        const char *signed_name;
        const uint8_t *sig;
        size_t sig_len;
};

static int resign_entry(const char *dir, const struct entry_plan *e)
{
        _cleanup_free_ char *p = path_join(dir, e->signed_name);
        _cleanup_free_ uint8_t *old = NULL;
        size_t old_len = 0;
        int r;

        r = read_file(p, SIGNED_MAX, &old, &old_len);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0 && old_len == e->sig_len && !memcmp(old, e->sig, old_len))
                return 0;
        r = write_file_atomic(p, e->sig, e->sig_len, 0644);
        return r < 0 ? r : 1;
}

/* 1 when written (or re-signed), 0 when an identical entry is already there.
 * An entry of the same key and class whose signed policy differs is
 * re-signed: RSASSA-PKCS1-v1_5 is deterministic, so with the same keyset a
 * different signature means another policy (a production entry signed for
 * another EA policy version, as after a revocation). */
static int write_entry(const char *tree, const struct entry_plan *e, const char *key,
                       const struct pcr7data_set *set, const char *comment, const char *est_date)
{
        _cleanup_free_ char *dir = NULL, *parent = NULL, *hex = hex_encode(e->pcr7, 32),
                            *json = NULL, *p = NULL;
        struct pcr7data_info info = { 0 };
        char name[66];
        int r;

        pcr7data_entry_name(e->pcr7, name);
        dir = path_join(tree, name);
        if (path_exists(dir)) {
                const char *cls;
                bool same;

                r = read_info(dir, &info);
                if (r < 0)
                        return r;
                same = !strcmp(info.key, key) && key_type_normalise(info.key_type, &cls) >= 0 &&
                       !strcmp(cls, e->cls);
                pcr7data_info_free(&info);
                if (!same)
                        return errf(-EEXIST, "PCR7 %s already has an entry for another key or type (%s)",
                                    hex, dir);
                if (!e->signed_name)
                        return 0;
                return resign_entry(dir, e);
        }
        name[2] = 0;
        parent = path_join(tree, name);
        if (mkdir(parent, 0755) < 0 && errno != EEXIST)
                return errf(-errno, "%s: %s", parent, strerror(errno));
        if (mkdir(dir, 0755) < 0)
                return errf(-errno, "%s: %s", dir, strerror(errno));

        info = (struct pcr7data_info){ (char *)key, (char *)e->type, (char *)est_date,
                                       (char *)comment };
        json = pcr7data_info_format(&info);
        p = path_join(dir, "info.json");
        r = write_file_excl(p, json, strlen(json), 0644);
        if (r < 0)
                return r;
        if (e->signed_name) {
                free(p);
                p = path_join(dir, e->signed_name);
                r = write_file_excl(p, e->sig, e->sig_len, 0644);
                return r < 0 ? r : 1;
        }
        {
                static const char *const names[] = { "pcr_limited.bin", "pcr_tpm.bin",
                                                     "pcr_prod.bin" };
                const uint8_t *vals[] = { set->limited, set->tpm, set->production };

                for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                        free(p);
                        p = path_join(dir, names[i]);
                        r = write_file_excl(p, vals[i], 32, 0644);
                        if (r < 0)
                                return r;
                }
        }
        return 1;
}

static int sign_checked(EVP_PKEY *k, const char *what, const uint8_t digest[32], uint8_t **sig,
                        size_t *sig_len)
{
        int r = policy_sign(k, digest, sig, sig_len);

        if (r < 0)
                return errf(r, "%s: %s", what, err_msg(r));
        r = policy_verify(k, digest, *sig, *sig_len);
        if (r < 0)
                return errf(r, "%s: the new signature does not verify", what);
        return 0;
}

static int swap_in(const char *tmp, const char *final)
{
        if (!path_exists(final))
                return commit_tmp_dir(tmp, final, 0755);
        if (chmod(tmp, 0755) < 0)
                return errf(-errno, "%s: %s", tmp, strerror(errno));
        /* One rename swaps the whole generation: readers see old or new. */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) < 0)
                return errf(-errno, "%s: cannot replace: %s", final, strerror(errno));
        return 0;
}

int pcr7data_add(const char *keyset_dir, const char *key, const struct pcr7data_set *set,
                 const char *version, const char *comment, const char *est_date)
{
        _cleanup_free_ char *luks_path = keyset_file(keyset_dir, "tpmpol-luks", "privkey.pem"),
                            *admin_path = keyset_file(keyset_dir, "tpmpol-admin", "privkey.pem"),
                            *root = path_join(keyset_dir, "pcr7data"), *final = NULL,
                            *tmp = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *luks_key = NULL, *admin_key = NULL;
        _cleanup_free_ uint8_t *luks_sig = NULL, *passwd_sig = NULL;
        _cleanup_close_ int lock_fd = -1;
        uint8_t luks[32], passwd[32];
        size_t luks_sig_len = 0, passwd_sig_len = 0;
        char today[16];
        int r, added = 0;

        r = name_validate("keyset", key);
        if (r < 0)
                return r;
        if (!version || strlen(version) != POLICY_VERSION_LEN)
                return errf(-EINVAL, "policy version must be %d decimal digits",
                            POLICY_VERSION_LEN);
        if (!memcmp(set->production, set->tpm, 32) || !memcmp(set->production, set->limited, 32) ||
            !memcmp(set->tpm, set->limited, 32))
                return errf(-EINVAL, "the production, tpm and limited PCR7 values must differ");
        if (!est_date) {
                time_t now = time(NULL);
                struct tm tm;

                if (!gmtime_r(&now, &tm) || !strftime(today, sizeof(today), "%Y%m%d", &tm))
                        return -EIO;
                est_date = today;
        }

        /* Everything that can fail on input is checked before touching the tree. */
        r = policy_luks_digest(set->production, version, luks);
        if (r < 0)
                return r;
        r = policy_passwd_digest(set->tpm, passwd);
        if (r < 0)
                return r;
        r = pem_load_privkey(luks_path, &luks_key);
        if (r < 0)
                return r;
        r = pem_load_privkey(admin_path, &admin_key);
        if (r < 0)
                return r;
        r = sign_checked(luks_key, luks_path, luks, &luks_sig, &luks_sig_len);
        if (r < 0)
                return r;
        r = sign_checked(admin_key, admin_path, passwd, &passwd_sig, &passwd_sig_len);
        if (r < 0)
                return r;

        r = mkdir_p(root, 0750);
        if (r < 0)
                return r;
        lock_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0)
                return errf(-errno, "%s: cannot lock: %s", root, strerror(errno));
        (void)clean_stale_tmp(root);

        final = path_join(root, PCR7DATA_POLICY_DIR);
        r = make_tmp_sibling(final, &tmp);
        if (r < 0)
                return r;
        if (path_exists(final)) {
                r = copy_tree(final, tmp, 0755, keep_mode, TREE_FILE_MAX);
                if (r < 0)
                        goto fail;
        }
        r = ensure_pubkey(tmp, "luks", key, luks_key);
        if (r < 0)
                goto fail;
        r = ensure_pubkey(tmp, "tpmpass", key, admin_key);
        if (r < 0)
                goto fail;
        {
                /* The tpm class is written as "password", as the deployed data
                 * (and the older tool's readers) have it; we read both. */
                const struct entry_plan plan[] = {
                        { "limited", "limited", set->limited, NULL, NULL, 0 },
                        { "password", "tpm", set->tpm, "tpm_passwd.policy.signed", passwd_sig,
                          passwd_sig_len },
                        { "production", "production", set->production, "tpm_luks.policy.signed",
                          luks_sig, luks_sig_len },
                };

                for (size_t i = 0; i < ELEMENTSOF(plan); i++) {
                        r = write_entry(tmp, &plan[i], key, set, comment ? comment : "",
                                        est_date);
                        if (r < 0)
                                goto fail;
                        added += r;
                }
        }
        r = swap_in(tmp, final);
        if (r < 0)
                goto fail;
        (void)rm_rf(tmp); /* after the exchange: the previous generation */
        return added;
fail:
        (void)rm_rf(tmp);
        return r;
}
