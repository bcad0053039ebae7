/* keyset-pcr7.c: what a keyset makes firmware measure: its PK, KEK and db
 * signature lists as `efivars enroll` writes them (read from the key dirs),
 * and the predicted pcr7data written when the keyset is created. */
#include "keys/keyset-pcr7.h"

#include "base/crypto.h"
#include "base/util.h"
#include "formats/esl.h"
#include "formats/nvlayout.h"
#include "formats/pcr7.h"
#include "keys/keyset-path.h"
#include "keys/pcr7data-write.h"

#define DBX_MAX (1024 * 1024)

int keyset_item_guid(const char *keyset_dir, const char *keydir, efi_guid *ret)
{
        _cleanup_free_ char *p = keyset_file(keyset_dir, keydir, "guid");
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        r = read_file(p, 64, &buf, &len);
        if (r < 0)
                return r;
        /* One UUID, optionally followed by a line end. */
        len = text_chomp(buf, len);
        if (guid_parse((const char *)buf, ret) < 0)
                return errf(-EBADMSG, "%s: not a GUID", p);
        return 0;
}

/* Appends <keydir>'s cert as its own signature list; optionally returns the
 * EFI_SIGNATURE_DATA (owner || DER) for the authority event. */
static int append_key(const char *keyset_dir, const char *keydir, uint8_t **buf, size_t *len,
                      uint8_t **esd, size_t *esd_len)
{
        _cleanup_free_ char *cert_path = keyset_file(keyset_dir, keydir, "cert.pem");
        _cleanup_(X509_freep) X509 *cert = NULL;
        efi_guid owner;
        size_t before = *len;
        int r;

        r = keyset_item_guid(keyset_dir, keydir, &owner);
        if (r < 0)
                return r;
        r = pem_load_cert(cert_path, &cert);
        if (r < 0)
                return r;
        r = esl_append_cert(buf, len, &owner, cert);
        if (r < 0)
                return errf_prefix(r, "%s", cert_path);
        if (esd) {
                /* The list just appended: 28-byte header, then owner || DER. */
                size_t n = *len - before - 28;
                *esd = xmalloc0(n);
                memcpy(*esd, *buf + before + 28, n);
                *esd_len = n;
        }
        return 0;
}

static int check_esl(const char *path, const uint8_t *buf, size_t len)
{
        int r = esl_walk(buf, len, NULL, NULL);

        if (r < 0)
                return errf_prefix(r, "%s: not an EFI signature list", path);
        return 0;
}

int keyset_efi_vars_load(const char *keyset_dir, const char *dbx_path, struct keyset_efi_vars *v)
{
        struct keyset_efi_vars k = { 0 };
        int r;

        r = append_key(keyset_dir, "uefi-pk", &k.pk, &k.pk_len, NULL, NULL);
        if (r < 0)
                goto fail;
        r = append_key(keyset_dir, "uefi-kek", &k.kek, &k.kek_len, NULL, NULL);
        if (r < 0)
                goto fail;
        /* db: uefi-db, then the three UKI keys, each its own list (their
         * certs differ in size) with the key's own owner GUID. */
        r = append_key(keyset_dir, "uefi-db", &k.db, &k.db_len, NULL, NULL);
        if (r < 0)
                goto fail;
        for (int c = 0; c < _UKI_CLASS_MAX; c++) {
                r = append_key(keyset_dir, uki_class_keydir((enum uki_class)c), &k.db, &k.db_len, &k.authority[c],
                               &k.authority_len[c]);
                if (r < 0)
                        goto fail;
        }
        if (dbx_path) {
                r = read_file(dbx_path, DBX_MAX, &k.dbx, &k.dbx_len);
                if (r < 0)
                        goto fail;
                if (k.dbx_len == 0) {
                        r = errf(-EBADMSG, "%s: empty dbx file", dbx_path);
                        goto fail;
                }
                r = check_esl(dbx_path, k.dbx, k.dbx_len);
                if (r < 0)
                        goto fail;
        }
        /* What we built must be what we would accept from anyone else. */
        if (check_esl("PK", k.pk, k.pk_len) < 0 || check_esl("KEK", k.kek, k.kek_len) < 0 ||
            check_esl("db", k.db, k.db_len) < 0) {
                r = -EBADMSG;
                goto fail;
        }
        *v = k;
        return 0;
fail:
        keyset_efi_vars_free(&k);
        return r;
}

int keyset_write_pcr7data(const char *tmp_keyset_dir, const char *keyset_name)
{
        struct keyset_efi_vars vars = { 0 };
        struct pcr7_event ev[PCR7_MAX_EVENTS];
        struct pcr7data_set set = { 0 };
        uint8_t *dst[_UKI_CLASS_MAX] = {
                [UKI_PRODUCTION] = set.production,
                [UKI_TPM] = set.tpm,
                [UKI_LIMITED] = set.limited,
        };
        size_t n;
        int r;

        r = keyset_efi_vars_load(tmp_keyset_dir, NULL, &vars);
        if (r < 0)
                return r;
        for (int c = 0; c < _UKI_CLASS_MAX && r >= 0; c++)
                r = pcr7_events(&vars, (enum uki_class)c, ev, &n, dst[c]);
        keyset_efi_vars_free(&vars);
        if (r < 0)
                return r;
        /* The predicted values for firmware with exactly this keyset enrolled
         * and no dbx (what `efivars enroll` writes); measured values from
         * other machines are added later with `keyset pcr7data`. */
        r = pcr7data_add(tmp_keyset_dir, keyset_name, &set, POLICY_VERSION,
                         "predicted by trust keyset add", NULL);
        return r < 0 ? r : 0;
}
