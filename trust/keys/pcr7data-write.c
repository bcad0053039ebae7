/* pcr7data-write.c: adding signed entries to a keyset's pcr7data tree (spec
 * keysets.md "pcr7data"): the whole policy tree is rebuilt in a temporary
 * sibling and swapped in with one rename. */
#include "keys/pcr7data-write.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "base/crypto.h"
#include "base/util.h"
#include "formats/pcr7data.h"
#include "formats/policy.h"
#include "keys/keyset-key.h"
#include "keys/keyset-path.h"

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

        r = read_file(p, PCR7DATA_SIGNED_MAX, &old, &old_len);
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

                r = pcr7data_read_info(dir, &info);
                if (r < 0)
                        return r;
                same = !strcmp(info.key, key) && pcr7data_class_normalise(info.key_type, &cls) >= 0 &&
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
                const unsigned absent[] = { PCR7DATA_NO_LIMITED, PCR7DATA_NO_TPM,
                                            PCR7DATA_NO_PRODUCTION };

                for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                        if (set->absent & absent[i])
                                continue;
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
                return errf_prefix(r, "%s", what);
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
        if (!policy_version_valid(version))
                return errf(-EINVAL, "policy version must be %d decimal digits",
                            POLICY_VERSION_LEN);
        {
                const bool p = !(set->absent & PCR7DATA_NO_PRODUCTION),
                           t = !(set->absent & PCR7DATA_NO_TPM),
                           l = !(set->absent & PCR7DATA_NO_LIMITED);

                if ((p && t && !memcmp(set->production, set->tpm, 32)) ||
                    (p && l && !memcmp(set->production, set->limited, 32)) ||
                    (t && l && !memcmp(set->tpm, set->limited, 32)))
                        return errf(-EINVAL, "the production, tpm and limited PCR7 values must differ");
                if (!p && !t && !l)
                        return errf(-EINVAL, "no PCR7 value to add");
        }
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
        r = keyset_privkey_load(luks_path, &luks_key);
        if (r < 0)
                return r;
        r = keyset_privkey_load(admin_path, &admin_key);
        if (r < 0)
                return r;
        /* Only what an entry carries is signed. */
        if (!(set->absent & PCR7DATA_NO_PRODUCTION)) {
                r = sign_checked(luks_key, luks_path, luks, &luks_sig, &luks_sig_len);
                if (r < 0)
                        return r;
        }
        if (!(set->absent & PCR7DATA_NO_TPM)) {
                r = sign_checked(admin_key, admin_path, passwd, &passwd_sig, &passwd_sig_len);
                if (r < 0)
                        return r;
        }

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
                const unsigned absent[] = { PCR7DATA_NO_LIMITED, PCR7DATA_NO_TPM,
                                            PCR7DATA_NO_PRODUCTION };

                for (size_t i = 0; i < ELEMENTSOF(plan); i++) {
                        if (set->absent & absent[i])
                                continue;
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
