/* keyset.c: keyset creation and installation (spec keysets.md). A keyset
 * is built in a temp sibling directory and renamed into place, so a failure or
 * a kill leaves nothing behind but a temp dir that the next command removes. */
#include "keys/keyset.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "keys/keyset-key.h"
#include "keys/keyset-path.h"
#include "keys/keyset-pcr7.h"
#include "keys/pkcs11.h"
#include "keys/project.h"
#include "base/util.h"
#include "keys/x509.h"
#include "base/dirlist.h"

/* The table of spec keysets.md "Keyset layout". uefi-kek is the one key
 * issued by another (uefi-pk), so it comes after it. */
static const struct key_profile {
        const char *dir;
        const char *cn;
        int years;
        bool sudi_end; /* NotAfter 2099-12-31 23:00:00Z */
        bool ca;
        bool by_pk;
        bool code_signing;
        bool guid;
} key_profiles[] = {
        { "manifest-ca", "Manifest rootCA", 25, false, true, false, false, false },
        { "sudi-ca", "SUDI rootCA", 0, true, true, false, false, false },
        { "uefi-pk", "UEFI PK", 50, false, true, false, false, true },
        { "uefi-kek", "UEFI KEK", 50, false, false, true, false, true },
        { "uefi-db", "UEFI DB", 25, false, false, false, true, true },
        { "uki-production", "UKI Production", 25, false, false, false, true, true },
        { "uki-tpm", "UKI TPM", 25, false, false, false, true, true },
        { "uki-limited", "UKI Limited", 25, false, false, false, true, true },
        { "tpmpol-admin", "TPM EAPolicy Admin", 25, false, false, false, true, false },
        { "tpmpol-luks", "TPM EAPolicy LUKS", 25, false, false, false, true, false },
};

static int write_guid(const char *dir)
{
        _cleanup_free_ char *p = path_join(dir, "guid");
        char guid[37];
        int r;

        r = uuid_random(guid);
        if (r < 0)
                return r;
        /* No newline: the older tool wrote the bare 36 characters. */
        return write_file_excl(p, guid, 36, 0640);
}

#define N_KEYS (ELEMENTSOF(key_profiles) + 1) /* + project 'default' */

static void keys_free(EVP_PKEY *(*keys)[N_KEYS])
{
        for (size_t i = 0; i < N_KEYS; i++)
                EVP_PKEY_free((*keys)[i]);
}

/* An item whose key is in a token: cert.pem and privkey.uri (object label =
 * the item's name). */
static int write_cert_uri(const char *dir, X509 *cert, const struct pkcs11_uri *token,
                          const char *item)
{
        _cleanup_free_ char *certpem = NULL, *uri = pkcs11_uri_for_object(token, item);
        _cleanup_free_ char *cp = path_join(dir, "cert.pem");
        _cleanup_free_ char *up = path_join(dir, KEYSET_PRIVKEY_URI);
        _cleanup_free_ char *line = xasprintf("%s\n", uri);
        int r;

        r = x509_cert_pem(cert, &certpem);
        if (r < 0)
                return r;
        r = write_file_excl(up, line, strlen(line), 0640);
        if (r >= 0)
                r = write_file_excl(cp, certpem, strlen(certpem), 0640);
        return r;
}

/* Every key of the table into keyset_dir (which already exists); with
 * token, the table's keys are made in it (the project's stays a file). */
static int make_keys(const char *keyset_dir, const char *name, const char *const *orgs,
                     size_t n_orgs, const struct pkcs11_uri *token, bool made[N_KEYS])
{
        _cleanup_(keys_free) EVP_PKEY *keys[N_KEYS] = {};
        _cleanup_(X509_freep) X509 *pk_cert = NULL, *mca_cert = NULL;
        EVP_PKEY *pk_key = NULL, *mca_key = NULL;
        _cleanup_free_ char *mdir = NULL, *pdir = NULL;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        int r;

        /* Key generation is nearly all the time of a keyset: spread it. */
        if (token)
                r = x509_genkeys(keys + N_KEYS - 1, 1, 1);
        else
                r = x509_genkeys(keys, N_KEYS, cpus > 0 ? (unsigned)cpus : 1);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(key_profiles); i++) {
                const struct key_profile *k = &key_profiles[i];
                _cleanup_free_ char *dir = path_join(keyset_dir, k->dir);
                _cleanup_(X509_freep) X509 *cert = NULL;
                struct x509_profile p = {
                        .cn = k->cn,
                        .orgs = orgs,
                        .n_orgs = n_orgs,
                        .ou = name,
                        .ca = k->ca,
                        .valid_years = k->years,
                        .not_after = k->sudi_end ? X509_SUDI_NOT_AFTER : 0,
                };

                if (!k->ca)
                        p.key_usage = X509_KU_DIGITAL_SIGNATURE;
                if (k->code_signing)
                        p.ext_key_usage = X509_EKU_CODE_SIGNING;

                if (mkdir(dir, 0750) < 0)
                        return errf(-errno, "%s: %s", dir, strerror(errno));
                if (token) {
                        r = pkcs11_generate_rsa(token, k->dir, &keys[i]);
                        made[i] = r >= 0;
                        if (r >= 0)
                                r = x509_issue(&p, keys[i], k->by_pk ? pk_cert : NULL,
                                               k->by_pk ? pk_key : NULL, &cert);
                        if (r >= 0)
                                r = write_cert_uri(dir, cert, token, k->dir);
                } else
                        r = x509_issue_pair(dir, &p, keys[i], k->by_pk ? pk_cert : NULL,
                                            k->by_pk ? pk_key : NULL, &cert);
                if (r < 0)
                        return errf_prefix(r, "%s", k->dir);
                if (k->guid && (r = write_guid(dir)) < 0)
                        return r;
                if (!strcmp(k->dir, "uefi-pk")) {
                        pk_key = keys[i];
                        pk_cert = TAKE_PTR(cert);
                } else if (!strcmp(k->dir, "manifest-ca")) {
                        mca_key = keys[i];
                        mca_cert = TAKE_PTR(cert);
                }
        }

        mdir = path_join(keyset_dir, "manifest");
        if (mkdir(mdir, 0750) < 0)
                return errf(-errno, "%s: %s", mdir, strerror(errno));
        pdir = path_join(mdir, "default");
        if (mkdir(pdir, 0750) < 0)
                return errf(-errno, "%s: %s", pdir, strerror(errno));
        r = project_populate(pdir, mca_cert, mca_key, keys[N_KEYS - 1]);
        if (r < 0)
                return errf_prefix(r, "project 'default'");
        return 0;
}

/* The keys root and the final path of a new keyset, refusing an existing one. */
static int new_keyset_path(const char *name, char **ret_root, char **ret_final)
{
        _cleanup_free_ char *root = NULL, *final = NULL;
        int r;

        r = name_validate("keyset", name);
        if (r < 0)
                return r;
        r = keysets_root(&root);
        if (r < 0)
                return r;
        r = mkdir_p(root, 0700);
        if (r < 0)
                return errf_prefix(r, "keyset '%s': cannot create the keys directory", name);
        final = path_join(root, name);
        if (path_exists(final))
                return errf(-EEXIST, "keyset '%s' already exists (%s)", name, final);
        *ret_root = TAKE_PTR(root);
        *ret_final = TAKE_PTR(final);
        return 0;
}

int keyset_create(const char *name, const char *const *orgs, size_t n_orgs,
                  const char *pkcs11_uri)
{
        _cleanup_free_ char *root = NULL, *final = NULL, *tmp = NULL;
        struct pkcs11_uri token = {};
        bool made[N_KEYS] = {};
        int r;

        r = new_keyset_path(name, &root, &final);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_orgs; i++) {
                r = x509_check_attr("organization", orgs[i]);
                if (r < 0)
                        return errf_prefix(r, "keyset '%s'", name);
        }
        r = x509_check_attr("keyset name", name); /* it becomes the OU */
        if (r < 0)
                return errf_prefix(r, "keyset '%s'", name);
        if (pkcs11_uri) {
                r = pkcs11_uri_parse(pkcs11_uri, &token);
                if (r < 0)
                        return errf_prefix(r, "keyset '%s'", name);
        }

        r = make_tmp_sibling(final, &tmp);
        if (r < 0)
                return errf_prefix(r, "keyset '%s'", name);
        r = make_keys(tmp, name, orgs, n_orgs, pkcs11_uri ? &token : NULL, made);
        if (r >= 0) {
                r = keyset_write_pcr7data(tmp, name);
                if (r < 0)
                        r = errf_prefix(r, "pcr7data");
        }
        if (r >= 0)
                r = commit_tmp_dir(tmp, final, 0750);
        /* the keys this run made in the token go with the keyset */
        for (size_t i = 0; r < 0 && i < ELEMENTSOF(key_profiles); i++)
                if (made[i])
                        pkcs11_remove_key(&token, key_profiles[i].dir);
        pkcs11_uri_done(&token);
        if (r < 0) {
                r = errf_prefix(r, "keyset '%s'", name);
                rm_rf_after_failure(tmp);
                return r;
        }
        return 0;
}

/* Copies regular files and directories of src into the existing dst; any
 * other file type (symlink, device) is refused rather than followed. */
/* The committed snakeoil copy comes from git, which keeps no modes: set the
 * keyset's own (private keys 0600, everything else 0640). */
static mode_t keyset_file_mode(const char *name, mode_t src_mode _unused_)
{
        return !strcmp(name, "privkey.pem") ? 0600 : 0640;
}

/* git keeps no empty directory: recreate pcr7data/, manifest/ and each
 * project's sudi/ when the source tree lost them. */
static int ensure_empty_dirs(const char *ks)
{
        _cleanup_free_ char *pcr = path_join(ks, "pcr7data"), *m = path_join(ks, "manifest");
        _cleanup_(strv_freep) char **projects = NULL;
        size_t n;
        int r;

        if (mkdir(pcr, 0750) < 0 && errno != EEXIST)
                return errf(-errno, "%s: %s", pcr, strerror(errno));
        if (mkdir(m, 0750) < 0 && errno != EEXIST)
                return errf(-errno, "%s: %s", m, strerror(errno));
        r = subdir_names(m, &projects, &n);
        if (r < 0)
                return r;
        for (char **p = projects; *p; p++) {
                _cleanup_free_ char *sudi = xasprintf("%s/%s/sudi", m, *p);
                if (mkdir(sudi, 0750) < 0 && errno != EEXIST)
                        return errf(-errno, "%s: %s", sudi, strerror(errno));
        }
        return 0;
}

int keyset_install_copy(const char *name, const char *src_dir)
{
        _cleanup_free_ char *root = NULL, *final = NULL, *tmp = NULL;
        int r;

        r = new_keyset_path(name, &root, &final);
        if (r < 0)
                return r;
        /* Refuse an incomplete source before copying anything. */
        for (unsigned i = 0; i < keyset_n_keydirs; i++) {
                _cleanup_free_ char *c = keyset_file(src_dir, keyset_keydirs[i], "cert.pem");
                _cleanup_free_ char *k = keyset_file(src_dir, keyset_keydirs[i], "privkey.pem");
                if (!path_exists(c) || !path_exists(k))
                        return errf(-ENOENT, "keyset '%s': %s is incomplete (no %s/%s)", name,
                                    src_dir, keyset_keydirs[i],
                                    path_exists(c) ? "privkey.pem" : "cert.pem");
        }

        r = make_tmp_sibling(final, &tmp);
        if (r < 0)
                return errf_prefix(r, "keyset '%s'", name);
        r = copy_tree(src_dir, tmp, 0750, keyset_file_mode, 1024 * 1024);
        if (r >= 0)
                r = ensure_empty_dirs(tmp);
        if (r >= 0)
                r = commit_tmp_dir(tmp, final, 0750);
        if (r < 0) {
                r = errf_prefix(r, "keyset '%s'", name);
                rm_rf_after_failure(tmp);
                return r;
        }
        return 0;
}

int snakeoil_dir(char **ret)
{
        static const char *const rel[] = {
                "../keysets/snakeoil",          /* build/trust in the source tree */
                "../../keysets/snakeoil",       /* build/asan/trust */
                "../share/trust/keysets/snakeoil", /* $(PREFIX)/bin/trust */
        };
        const char *env = getenv("TRUST_SNAKEOIL_DIR");
        _cleanup_free_ char *exe = NULL;
        int r;

        if (env && env[0]) {
                _cleanup_free_ char *c = path_join(env, "uefi-pk/cert.pem");
                if (!path_exists(c))
                        return errf(-ENOENT, "$TRUST_SNAKEOIL_DIR=%s holds no keyset", env);
                *ret = xstrdup(env);
                return 0;
        }
        r = exe_relative_dir(rel, ELEMENTSOF(rel), "uefi-pk/cert.pem", ret, &exe);
        if (r == -ENOENT)
                return errf(r, "the snakeoil keyset is not installed next to %s (set $TRUST_SNAKEOIL_DIR)",
                            exe);
        return r;
}
