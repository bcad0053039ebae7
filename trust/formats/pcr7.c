/* pcr7.c: the Secure Boot variables a keyset enrolls and the PCR7 events the
 * firmware measures for them (spec pcr7.md; TCG PC Client PFP §3.3.4.8 and
 * §10.4.4: EV_EFI_VARIABLE_DRIVER_CONFIG, EV_SEPARATOR,
 * EV_EFI_VARIABLE_AUTHORITY). Enrollment and prediction share these bytes. */
#include "formats/pcr7.h"

#include "base/crypto.h"
#include "formats/esl.h"
#include "base/util.h"

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

const uint8_t pcr7_lock_digest[32] = {
        0xb7, 0x13, 0x5c, 0xbb, 0x32, 0x1a, 0x66, 0xfa, 0x84, 0x8b, 0x07,
        0x28, 0x8b, 0xd0, 0x08, 0xb8, 0x9b, 0xd5, 0xb7, 0x49, 0x6c, 0x45,
        0x69, 0xc5, 0xe1, 0xa4, 0xef, 0xd5, 0xf7, 0xc8, 0xe0, 0xa7,
};

int pcr7_after_lock(const uint8_t before[32], uint8_t after[32])
{
        uint8_t chain[64];

        memcpy(chain, before, 32);
        memcpy(chain + 32, pcr7_lock_digest, 32);
        return sha256(chain, sizeof(chain), after);
}
