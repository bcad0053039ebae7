/* sudi.c: per-machine SUDI certificates issued by a keyset's sudi-ca (spec
 * keysets.md "SUDI"). `trust sudi add` and `trust vm` both come here. */
#include "keys/sudi.h"

#include <stdio.h>
#include <sys/stat.h>

#include "keys/project.h"
#include "base/util.h"
#include "keys/x509.h"
#include "keys/keyset-path.h"
#include "base/dirlist.h"

/* The product uuid of a project: the bare text of <project>/uuid. */
static int read_product_uuid(const char *project_dir, char **ret)
{
        _cleanup_free_ char *p = path_join(project_dir, "uuid");
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        r = read_file(p, 256, &buf, &len);
        if (r < 0)
                return r;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\r'))
                buf[--len] = 0;
        if (len == 0 || strlen((char *)buf) != len)
                return errf(-EBADMSG, "%s: not a product uuid", p);
        for (size_t i = 0; i < len; i++)
                if (buf[i] < 0x21 || buf[i] > 0x7e)
                        return errf(-EBADMSG, "%s: not a product uuid", p);
        *ret = (char *)TAKE_PTR(buf);
        return 0;
}

static int issue_into(const char *dir, const char *serial, const char *product_uuid,
                      X509 *ca_cert, EVP_PKEY *ca_key)
{
        _cleanup_free_ char *sn = xasprintf("PID:%s SN:%s", product_uuid, serial);
        struct x509_profile p = {
                .cn = serial,
                .serial_number = sn,
                .key_usage = X509_KU_DIGITAL_SIGNATURE | X509_KU_KEY_ENCIPHERMENT |
                             X509_KU_DATA_ENCIPHERMENT,
                .ext_key_usage = X509_EKU_SERVER_AUTH | X509_EKU_CLIENT_AUTH,
                .not_after = X509_SUDI_NOT_AFTER,
        };

        return x509_make_pair(dir, &p, ca_cert, ca_key, NULL, NULL);
}

int sudi_issue(const char *keyset, const char *project, const char *serial, const char *out_dir,
               char **ret_serial)
{
        _cleanup_free_ char *pdir = NULL, *ks = NULL, *ca = NULL, *uuid = NULL;
        _cleanup_free_ char *sdir = NULL, *final = NULL, *tmp = NULL;
        _cleanup_(X509_freep) X509 *ca_cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ca_key = NULL;
        char fresh[37];
        int r;

        r = project_path(keyset, project, &pdir);
        if (r < 0)
                return r;
        if (serial) {
                r = name_validate("serial", serial);
                if (r < 0)
                        return r;
                r = x509_check_attr("serial", serial); /* it is the CN: at most 64 */
                if (r < 0)
                        return r;
        } else {
                r = uuid_random(fresh);
                if (r < 0)
                        return r;
                serial = fresh;
        }
        r = read_product_uuid(pdir, &uuid);
        if (r < 0)
                return errf_prefix(r, "keyset '%s': project '%s'", keyset, project);
        r = keyset_path(keyset, &ks);
        if (r < 0)
                return r;
        ca = path_join(ks, "sudi-ca");
        r = x509_load_ca(ca, &ca_cert, &ca_key);
        if (r < 0)
                return errf_prefix(r, "keyset '%s'", keyset);

        if (out_dir) {
                r = issue_into(out_dir, serial, uuid, ca_cert, ca_key);
                if (r < 0)
                        return errf_prefix(r, "SUDI '%s'", serial);
        } else {
                sdir = path_join(pdir, "sudi");
                r = mkdir_p(sdir, 0750);
                if (r < 0)
                        return errf_prefix(r, "keyset '%s': project '%s'", keyset, project);
                (void)clean_stale_tmp(sdir);
                err_clear();
                final = path_join(sdir, serial);
                if (path_exists(final))
                        return errf(-EEXIST, "keyset '%s': project '%s': SUDI '%s' already exists",
                                    keyset, project, serial);
                r = make_tmp_sibling(final, &tmp);
                if (r >= 0)
                        r = issue_into(tmp, serial, uuid, ca_cert, ca_key);
                if (r >= 0)
                        r = commit_tmp_dir(tmp, final, 0750);
                if (r < 0) {
                        if (tmp)
                                rm_rf_after_failure(tmp);
                        return errf_prefix(r, "keyset '%s': project '%s': SUDI '%s'", keyset,
                                           project, serial);
                }
        }
        if (ret_serial)
                *ret_serial = xstrdup(serial);
        return 0;
}

int sudi_list(const char *keyset, const char *project, char ***ret, size_t *ret_n)
{
        _cleanup_free_ char *pdir = NULL, *sdir = NULL;
        int r;

        r = project_path(keyset, project, &pdir);
        if (r < 0)
                return r;
        sdir = path_join(pdir, "sudi");
        return subdir_names(sdir, ret, ret_n);
}
