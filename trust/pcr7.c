/* pcr7.c: the Secure Boot variables a keyset enrolls and the PCR7 events the
 * firmware measures for them (spec pcr7.md; TCG PC Client PFP §3.3.4.8 and
 * §10.4.4: EV_EFI_VARIABLE_DRIVER_CONFIG, EV_SEPARATOR,
 * EV_EFI_VARIABLE_AUTHORITY). Enrollment and prediction share these bytes. */
#include "pcr7.h"

#include "crypto.h"
#include "esl.h"
#include "keyset.h"
#include "util.h"

#define DBX_MAX (1024 * 1024)

static const char *const class_names[_UKI_CLASS_MAX] = {
        [UKI_PRODUCTION] = "production",
        [UKI_TPM] = "tpm",
        [UKI_LIMITED] = "limited",
};
static const char *const class_keydirs[_UKI_CLASS_MAX] = {
        [UKI_PRODUCTION] = "uki-production",
        [UKI_TPM] = "uki-tpm",
        [UKI_LIMITED] = "uki-limited",
};

const char *uki_class_name(enum uki_class c)
{
        return c < _UKI_CLASS_MAX ? class_names[c] : NULL;
}

const char *uki_class_keydir(enum uki_class c)
{
        return c < _UKI_CLASS_MAX ? class_keydirs[c] : NULL;
}

int uki_class_from_string(const char *s, enum uki_class *ret)
{
        for (int c = 0; c < _UKI_CLASS_MAX; c++)
                if (!strcmp(s, class_names[c]) || !strcmp(s, class_keydirs[c])) {
                        *ret = (enum uki_class)c;
                        return 0;
                }
        return -EINVAL;
}

void keyset_efi_vars_free(struct keyset_efi_vars *v)
{
        if (!v)
                return;
        free(v->pk);
        free(v->kek);
        free(v->db);
        free(v->dbx);
        for (int c = 0; c < _UKI_CLASS_MAX; c++)
                free(v->authority[c]);
        *v = (struct keyset_efi_vars){ 0 };
}

static int load_owner(const char *keyset_dir, const char *keydir, efi_guid *ret)
{
        _cleanup_free_ char *p = keyset_file(keyset_dir, keydir, "guid");
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        r = read_file(p, 64, &buf, &len);
        if (r < 0)
                return r;
        /* One UUID, optionally followed by a newline. */
        if (len > 0 && buf[len - 1] == '\n')
                buf[--len] = 0;
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

        r = load_owner(keyset_dir, keydir, &owner);
        if (r < 0)
                return r;
        r = pem_load_cert(cert_path, &cert);
        if (r < 0)
                return r;
        r = esl_append_cert(buf, len, &owner, cert);
        if (r < 0)
                return errf(r, "%s: %s", cert_path, err_msg(r));
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
                return errf(r, "%s: not an EFI signature list: %s", path, err_msg(r));
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
                r = append_key(keyset_dir, class_keydirs[c], &k.db, &k.db_len, &k.authority[c],
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

static int var_event(struct pcr7_event *e, const char *name, const efi_guid *vendor,
                     const char *var, const uint8_t *data, size_t len)
{
        _cleanup_free_ uint8_t *blob = NULL;
        size_t n;
        int r;

        r = efi_variable_data(vendor, var, data, len, &blob, &n);
        if (r < 0)
                return errf(r, "cannot encode variable %s", var);
        e->name = name;
        return sha256(blob, n, e->digest);
}

int pcr7_events(const struct keyset_efi_vars *v, enum uki_class c, struct pcr7_event *events,
                size_t *n_events, uint8_t pcr7[32])
{
        static const uint8_t secure_boot_on = 1, separator[4] = { 0 };
        uint8_t pcr[32] = { 0 }, buf[64];
        size_t n = 0;
        int r;

        if (c >= _UKI_CLASS_MAX || !v->authority[c])
                return -EINVAL;
        /* TCG PFP §3.3.4.8: SecureBoot, PK, KEK, db, dbx, separator, then the
         * db entry that authorised the loaded image. */
        if ((r = var_event(&events[n++], "SecureBoot", &EFI_GLOBAL_VARIABLE_GUID, "SecureBoot",
                           &secure_boot_on, 1)) < 0 ||
            (r = var_event(&events[n++], "PK", &EFI_GLOBAL_VARIABLE_GUID, "PK", v->pk,
                           v->pk_len)) < 0 ||
            (r = var_event(&events[n++], "KEK", &EFI_GLOBAL_VARIABLE_GUID, "KEK", v->kek,
                           v->kek_len)) < 0 ||
            (r = var_event(&events[n++], "db", &EFI_IMAGE_SECURITY_DB_GUID, "db", v->db,
                           v->db_len)) < 0 ||
            (r = var_event(&events[n++], "dbx", &EFI_IMAGE_SECURITY_DB_GUID, "dbx", v->dbx,
                           v->dbx ? v->dbx_len : 0)) < 0)
                return r;
        events[n].name = "separator";
        r = sha256(separator, sizeof(separator), events[n++].digest);
        if (r < 0)
                return r;
        r = var_event(&events[n++], "authority", &EFI_IMAGE_SECURITY_DB_GUID, "db",
                      v->authority[c], v->authority_len[c]);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                memcpy(buf, pcr, 32);
                memcpy(buf + 32, events[i].digest, 32);
                r = sha256(buf, sizeof(buf), pcr);
                if (r < 0)
                        return r;
        }
        *n_events = n;
        memcpy(pcr7, pcr, 32);
        return 0;
}
