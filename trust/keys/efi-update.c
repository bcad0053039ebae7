/* efi-update.c: signed Secure Boot variable updates made with a keyset, and
 * the keyset's variables after such updates (see efi-update.h). */
#include "keys/efi-update.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>

#include "base/crypto.h"
#include "base/util.h"
#include "formats/esl.h"
#include "keys/keyset-key.h"
#include "keys/keyset-path.h"
#include "keys/keyset-pcr7.h"

#define INPUT_MAX ((size_t)1 << 20)

static int append_sha256(uint8_t **buf, size_t *len, const efi_guid *owner, const char *arg)
{
        uint8_t hash[32];

        if (strlen(arg) != 7 + 64 || hex_decode(arg + 7, hash, sizeof(hash)) < 0)
                return errf(-EINVAL, "'%s': expected sha256: and 64 hex digits", arg);
        esl_append_sha256(buf, len, owner, hash);
        return 0;
}

/* A PEM certificate, else signature lists. */
static int append_file(uint8_t **buf, size_t *len, const efi_guid *owner, const char *path)
{
        _cleanup_free_ uint8_t *in = NULL;
        uint8_t *n;
        size_t in_len;
        int r;

        r = read_file(path, INPUT_MAX, &in, &in_len);
        if (r < 0)
                return r;
        if (in_len == 0)
                return errf(-EBADMSG, "%s: empty", path);
        if (memmem(in, in_len, "-----BEGIN ", 11)) {
                _cleanup_(X509_freep) X509 *cert = NULL;

                r = pem_load_cert(path, &cert);
                if (r < 0)
                        return r;
                r = esl_append_cert(buf, len, owner, cert);
                return r < 0 ? errf_prefix(r, "%s", path) : 0;
        }
        r = esl_walk(in, in_len, NULL, NULL);
        if (r < 0)
                return errf_prefix(r, "%s: neither a PEM certificate nor EFI signature lists", path);
        n = realloc(*buf, *len + in_len);
        if (!n)
                abort();
        memcpy(n + *len, in, in_len);
        *buf = n;
        *len += in_len;
        return 0;
}

int efi_update_data(const char *const *inputs, size_t n, const efi_guid *owner, uint8_t **ret,
                    size_t *ret_len)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        for (size_t i = 0; i < n; i++) {
                if (!strncmp(inputs[i], "sha256:", 7))
                        r = append_sha256(&buf, &len, owner, inputs[i]);
                else
                        r = append_file(&buf, &len, owner, inputs[i]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

const char *efi_update_signer(enum sbvar var)
{
        return var == SBVAR_PK || var == SBVAR_KEK ? "uefi-pk" : "uefi-kek";
}

int efi_update_default_owner(const char *keyset_dir, enum sbvar var, efi_guid *ret)
{
        return keyset_item_guid(keyset_dir, efi_update_signer(var), ret);
}

int keyset_sign_update(const char *keyset_dir, enum sbvar var, bool append,
                       const uint8_t ts[EFI_TIME_SIZE], const uint8_t *data, size_t len,
                       uint8_t **ret, size_t *ret_len)
{
        const char *item = efi_update_signer(var);
        _cleanup_free_ char *key_path = keyset_file(keyset_dir, item, "privkey.pem");
        _cleanup_free_ char *cert_path = keyset_file(keyset_dir, item, "cert.pem");
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        int r;

        r = pem_load_cert(cert_path, &cert);
        if (r < 0)
                return r;
        r = keyset_privkey_load(key_path, &key);
        if (r < 0)
                return r;
        if (X509_check_private_key(cert, key) != 1) {
                ERR_clear_error();
                return errf(-EBADMSG, "%s: not the key of %s", key_path, cert_path);
        }
        return auth2_sign(var, append, ts, data, len, key, cert, ret, ret_len);
}

/* ---- the keyset's variables after updates ------------------------------- */

static uint8_t **field(struct keyset_efi_vars *v, enum sbvar s, size_t **len)
{
        switch (s) {
        case SBVAR_PK: *len = &v->pk_len; return &v->pk;
        case SBVAR_KEK: *len = &v->kek_len; return &v->kek;
        case SBVAR_DB: *len = &v->db_len; return &v->db;
        default: *len = &v->dbx_len; return &v->dbx;
        }
}

int keyset_efi_vars_update(struct keyset_efi_vars *v, const char *const *auth_paths, size_t n,
                           const char *refused[_UKI_CLASS_MAX])
{
        struct sbvar_value vars[_SBVAR_MAX] = {};
        int r = 0;

        for (int s = 0; s < _SBVAR_MAX; s++) {
                size_t *len;
                uint8_t **d = field(v, (enum sbvar)s, &len);

                /* as `efivars enroll` writes them: timestamp zero */
                vars[s] = (struct sbvar_value){ .exists = *d != NULL, .time_known = true,
                                                .data = TAKE_PTR(*d), .len = *len };
                *len = 0;
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ uint8_t *buf = NULL;
                struct auth2_target t;
                struct auth2 a;
                size_t len;

                r = read_file(auth_paths[i], AUTH2_MAX, &buf, &len);
                if (r >= 0)
                        r = auth2_parse(buf, len, &a);
                if (r >= 0)
                        r = auth2_identify(&a, &t, NULL, 0);
                if (r >= 0)
                        r = auth2_apply(&a, &t, vars);
                if (r < 0)
                        r = errf_prefix(r, "%s", auth_paths[i]);
        }
        if (r >= 0 && !vars[SBVAR_PK].exists)
                r = errf(-EPERM, "the updates delete PK: firmware would leave Secure Boot");
        for (int s = 0; s < _SBVAR_MAX; s++) {
                size_t *len;
                uint8_t **d = field(v, (enum sbvar)s, &len);

                if (vars[s].exists) {
                        *d = TAKE_PTR(vars[s].data);
                        *len = vars[s].len;
                }
        }
        sbvar_values_done(vars);
        if (r < 0)
                return r;

        for (int c = 0; c < _UKI_CLASS_MAX; c++) {
                /* authority = owner | DER of the class's db entry */
                efi_guid owner;
                const uint8_t *der = v->authority[c] + 16;
                size_t der_len = v->authority_len[c] - 16;

                memcpy(owner.b, v->authority[c], 16);
                refused[c] = esl_holds(v->dbx, v->dbx_len, &EFI_CERT_X509_GUID, NULL, der, der_len)
                                     ? "dbx holds its certificate"
                             : !esl_holds(v->db, v->db_len, &EFI_CERT_X509_GUID, &owner, der, der_len)
                                     ? "db no longer holds its certificate"
                                     : NULL;
        }
        return 0;
}

int keyset_efi_vars_after(const char *keyset, const char *dbx_path, const char *const *updates,
                          size_t n, struct keyset_efi_vars *v, const char *refused[_UKI_CLASS_MAX],
                          char **ret_dir)
{
        _cleanup_free_ char *dir = NULL;
        int r;

        for (int c = 0; c < _UKI_CLASS_MAX; c++)
                refused[c] = NULL;
        r = keyset_path(keyset, &dir);
        if (r < 0)
                return r;
        r = keyset_efi_vars_load(dir, dbx_path, v);
        if (r < 0)
                return errf_prefix(r, "keyset '%s'", keyset);
        if (n) {
                r = keyset_efi_vars_update(v, updates, n, refused);
                if (r < 0) {
                        keyset_efi_vars_free(v);
                        return r;
                }
        }
        if (ret_dir)
                *ret_dir = TAKE_PTR(dir);
        return 0;
}
