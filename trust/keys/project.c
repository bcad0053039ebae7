/* project.c: projects of a keyset and manifest identities (spec keysets.md
 * "Projects"). Each is built in a temp sibling and renamed into place. */
#include "keys/project.h"

#include <stdio.h>
#include <sys/stat.h>

#include "base/util.h"
#include "keys/keyset-path.h"
#include "base/dirlist.h"

int manifest_identity_write(const char *dir, X509 *ca_cert, EVP_PKEY *ca_key, EVP_PKEY *key,
                            char ret_uuid[static 37])
{
        _cleanup_free_ char *cn = NULL, *up = NULL;
        char uuid[37];
        int r;

        r = uuid_random(uuid);
        if (r < 0)
                return r;
        cn = xasprintf("manifest PRODUCT:%s", uuid);
        struct x509_profile p = {
                .cn = cn,
                .key_usage = X509_KU_DIGITAL_SIGNATURE,
                .ext_key_usage = X509_EKU_CODE_SIGNING,
                .valid_years = 20,
        };
        if (key)
                r = x509_issue_pair(dir, &p, key, ca_cert, ca_key, NULL);
        else
                r = x509_make_pair(dir, &p, ca_cert, ca_key, NULL, NULL);
        if (r < 0)
                return r;
        up = path_join(dir, "uuid");
        /* No newline: the older tool wrote the bare 36 characters. */
        r = write_file_excl(up, uuid, 36, 0640);
        if (r < 0)
                return r;
        memcpy(ret_uuid, uuid, sizeof(uuid));
        return 0;
}

int project_populate(const char *project_dir, X509 *ca_cert, EVP_PKEY *ca_key, EVP_PKEY *key)
{
        _cleanup_free_ char *sudi = path_join(project_dir, "sudi");
        char uuid[37];
        int r;

        r = manifest_identity_write(project_dir, ca_cert, ca_key, key, uuid);
        if (r < 0)
                return r;
        if (mkdir(sudi, 0750) < 0)
                return errf(-errno, "%s: %s", sudi, strerror(errno));
        return 0;
}

int project_path(const char *keyset, const char *project, char **ret)
{
        _cleanup_free_ char *ks = NULL, *p = NULL;
        struct stat st;
        int r;

        r = keyset_path(keyset, &ks);
        if (r < 0)
                return r;
        r = name_validate("project", project);
        if (r < 0)
                return r;
        p = xasprintf("%s/manifest/%s", ks, project);
        if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
                return errf(-ENOENT, "keyset '%s': project '%s' does not exist", keyset, project);
        *ret = TAKE_PTR(p);
        return 0;
}

/* Loads manifest-ca of a keyset; the message names keyset and file. */
static int load_manifest_ca(const char *keyset, const char *ks_dir, X509 **cert, EVP_PKEY **key)
{
        _cleanup_free_ char *ca = path_join(ks_dir, "manifest-ca");
        int r = x509_load_ca(ca, cert, key);

        if (r < 0)
                return errf_prefix(r, "keyset '%s'", keyset);
        return 0;
}

/* Builds `final` in a temp sibling with fill(), then renames it into place. */
static int build_dir_atomic(const char *final, X509 *ca_cert, EVP_PKEY *ca_key, bool with_sudi,
                            char uuid[static 37])
{
        _cleanup_free_ char *tmp = NULL;
        int r;

        r = make_tmp_sibling(final, &tmp);
        if (r < 0)
                return r;
        if (with_sudi)
                r = project_populate(tmp, ca_cert, ca_key, NULL);
        else
                r = manifest_identity_write(tmp, ca_cert, ca_key, NULL, uuid);
        if (r >= 0 && with_sudi) {
                _cleanup_free_ char *u = path_join(tmp, "uuid");
                _cleanup_free_ uint8_t *buf = NULL;
                size_t len;
                r = read_file(u, 64, &buf, &len);
                if (r >= 0)
                        snprintf(uuid, 37, "%s", (char *)buf);
        }
        if (r >= 0)
                r = commit_tmp_dir(tmp, final, 0750);
        if (r < 0) {
                rm_rf_after_failure(tmp);
                return r;
        }
        return 0;
}

int project_create(const char *keyset, const char *project, char **ret_path)
{
        _cleanup_free_ char *ks = NULL, *mdir = NULL, *final = NULL;
        _cleanup_(X509_freep) X509 *ca_cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ca_key = NULL;
        char uuid[37];
        int r;

        r = keyset_path(keyset, &ks);
        if (r < 0)
                return r;
        r = name_validate("project", project);
        if (r < 0)
                return r;
        mdir = path_join(ks, "manifest");
        final = path_join(mdir, project);
        if (path_exists(final))
                return errf(-EEXIST, "keyset '%s': project '%s' already exists", keyset, project);
        r = load_manifest_ca(keyset, ks, &ca_cert, &ca_key);
        if (r < 0)
                return r;
        r = mkdir_p(mdir, 0750);
        if (r < 0)
                return errf_prefix(r, "keyset '%s'", keyset);
        (void)clean_stale_tmp(mdir);
        r = build_dir_atomic(final, ca_cert, ca_key, true, uuid);
        if (r < 0)
                return errf_prefix(r, "keyset '%s': project '%s'", keyset, project);
        if (ret_path)
                *ret_path = TAKE_PTR(final);
        return 0;
}

int project_list(const char *keyset, char ***ret, size_t *ret_n)
{
        _cleanup_free_ char *ks = NULL, *mdir = NULL;
        int r;

        r = keyset_path(keyset, &ks);
        if (r < 0)
                return r;
        mdir = path_join(ks, "manifest");
        return subdir_names(mdir, ret, ret_n);
}

int new_uuid_create(const char *keyset, char **ret_dir, char ret_uuid[static 37])
{
        _cleanup_free_ char *ks = NULL, *parent = NULL, *final = NULL;
        _cleanup_(X509_freep) X509 *ca_cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ca_key = NULL;
        int r;

        r = keyset_path(keyset, &ks);
        if (r < 0)
                return r;
        r = xdg_dir("XDG_CONFIG_HOME", ".config", "machine/trust", &parent);
        if (r < 0)
                return r;
        final = path_join(parent, "manifest");
        if (path_exists(final))
                return errf(-EEXIST, "%s already exists (move it away to make a new uuid)", final);
        /* The CA first: a broken keyset must not leave directories behind. */
        r = load_manifest_ca(keyset, ks, &ca_cert, &ca_key);
        if (r < 0)
                return r;
        r = mkdir_p(parent, 0700);
        if (r < 0)
                return errf_prefix(r, "cannot create the config directory");
        (void)clean_stale_tmp(parent);
        r = build_dir_atomic(final, ca_cert, ca_key, false, ret_uuid);
        if (r < 0)
                return errf_prefix(r, "%s", final);
        *ret_dir = TAKE_PTR(final);
        return 0;
}
