/* auth2.c: EFI_VARIABLE_AUTHENTICATION_2 payloads and the firmware's rules
 * for applying them (see auth2.h). Layout of a payload:
 *   EFI_TIME (16) | WIN_CERTIFICATE_UEFI_GUID: dwLength u32 (header
 *   included), wRevision u16 0x0200, wCertificateType u16 0x0EF1, CertType
 *   GUID (EFI_CERT_TYPE_PKCS7_GUID), CertData = PKCS#7 SignedData |
 *   the new data.
 * The signature covers VariableName (UTF-16LE, no NUL) | VendorGuid |
 * Attributes u32 | TimeStamp | data. The payload comes from anyone (a file
 * handed to `efivars apply`): every bound is checked here. */
#include "formats/auth2.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <time.h>

#include "base/crypto.h"
#include "base/endian.h"
#include "base/util.h"
#include "formats/esl.h"

#define WIN_CERT_HEADER_SIZE 24 /* dwLength, wRevision, wCertificateType, CertType */
#define WIN_CERT_REVISION 0x0200
#define WIN_CERT_TYPE_EFI_GUID 0x0ef1
#define ESL_HEADER_SIZE 28
#define ESD_OWNER_SIZE 16

static const efi_guid EFI_CERT_TYPE_PKCS7_GUID =
        GUID_INIT(0x4aafd29d, 0x68df, 0x49ee, 0x8a, 0xa9, 0x34, 0x7d, 0x37, 0x56, 0x65, 0xa7);

static const char *const sbvar_names[_SBVAR_MAX] = {
        [SBVAR_PK] = "PK", [SBVAR_KEK] = "KEK", [SBVAR_DB] = "db", [SBVAR_DBX] = "dbx"
};

const char *sbvar_name(enum sbvar v)
{
        return v < _SBVAR_MAX ? sbvar_names[v] : "?";
}

const efi_guid *sbvar_vendor(enum sbvar v)
{
        return v == SBVAR_PK || v == SBVAR_KEK ? &EFI_GLOBAL_VARIABLE_GUID
                                               : &EFI_IMAGE_SECURITY_DB_GUID;
}

int sbvar_from_string(const char *s, enum sbvar *ret)
{
        for (int v = 0; v < _SBVAR_MAX; v++)
                if (!strcmp(s, sbvar_names[v])) {
                        *ret = (enum sbvar)v;
                        return 0;
                }
        return -EINVAL;
}

/* ---- EFI_TIME ------------------------------------------------------------ */

/* Year u16, Month, Day, Hour, Minute, Second, Pad1, Nanosecond u32,
 * TimeZone i16, Daylight, Pad2. */
int efi_time_from_unix(int64_t t, uint8_t out[EFI_TIME_SIZE])
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 1900 || tm.tm_year + 1900 > 9999)
                return errf(-ERANGE, "time %lld is out of EFI_TIME's range", (long long)t);
        memset(out, 0, EFI_TIME_SIZE);
        put_le16(out, (uint16_t)(tm.tm_year + 1900));
        out[2] = (uint8_t)(tm.tm_mon + 1);
        out[3] = (uint8_t)tm.tm_mday;
        out[4] = (uint8_t)tm.tm_hour;
        out[5] = (uint8_t)tm.tm_min;
        out[6] = (uint8_t)tm.tm_sec;
        return 0;
}

void efi_time_format(const uint8_t t[EFI_TIME_SIZE], char out[static 21])
{
        snprintf(out, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)le16(t) % 10000,
                 t[2] % 100u, t[3] % 100u, t[4] % 100u, t[5] % 100u, t[6] % 100u);
}

/* <0, 0, >0 as a is before, equal to or after b (edk2 compares the fields
 * from the year down to the nanosecond). */
static int efi_time_cmp(const uint8_t a[EFI_TIME_SIZE], const uint8_t b[EFI_TIME_SIZE])
{
        const uint64_t ka = ((uint64_t)le16(a) << 40) | ((uint64_t)a[2] << 32) |
                            ((uint64_t)a[3] << 24) | ((uint64_t)a[4] << 16) | ((uint64_t)a[5] << 8) | a[6];
        const uint64_t kb = ((uint64_t)le16(b) << 40) | ((uint64_t)b[2] << 32) |
                            ((uint64_t)b[3] << 24) | ((uint64_t)b[4] << 16) | ((uint64_t)b[5] << 8) | b[6];

        if (ka != kb)
                return ka < kb ? -1 : 1;
        if (le32(a + 8) != le32(b + 8))
                return le32(a + 8) < le32(b + 8) ? -1 : 1;
        return 0;
}

/* ---- the payload ---------------------------------------------------------- */

int auth2_parse(const uint8_t *buf, size_t len, struct auth2 *ret)
{
        const uint8_t *w = buf + EFI_TIME_SIZE;
        uint32_t dw_length;

        *ret = (struct auth2){};
        if (len > AUTH2_MAX)
                return errf(-EFBIG, "%zu bytes: larger than any variable store", len);
        if (len < EFI_TIME_SIZE + WIN_CERT_HEADER_SIZE)
                return errf(-EBADMSG, "offset 0: truncated (%zu bytes, a payload has at least %d)",
                            len, EFI_TIME_SIZE + WIN_CERT_HEADER_SIZE);
        /* Pad1, Nanosecond, TimeZone, Daylight, Pad2: firmware wants zeros. */
        if (buf[7] || le32(buf + 8) || le16(buf + 12) || buf[14] || buf[15])
                return errf(-EBADMSG, "offset 7: EFI_TIME with non-zero Pad1, Nanosecond, "
                                      "TimeZone, Daylight or Pad2");
        dw_length = le32(w);
        if (dw_length < WIN_CERT_HEADER_SIZE || dw_length > len - EFI_TIME_SIZE)
                return errf(-EBADMSG, "offset 16: WIN_CERTIFICATE length %u does not fit the %zu "
                                      "bytes after the timestamp",
                            dw_length, len - EFI_TIME_SIZE);
        if (le16(w + 4) != WIN_CERT_REVISION)
                return errf(-EBADMSG, "offset 20: WIN_CERTIFICATE revision 0x%04x, expected 0x0200",
                            le16(w + 4));
        if (le16(w + 6) != WIN_CERT_TYPE_EFI_GUID)
                return errf(-EBADMSG, "offset 22: certificate type 0x%04x, expected 0x0ef1 "
                                      "(WIN_CERT_TYPE_EFI_GUID)",
                            le16(w + 6));
        if (memcmp(w + 8, EFI_CERT_TYPE_PKCS7_GUID.b, 16) != 0)
                return errf(-EBADMSG, "offset 24: CertType is not EFI_CERT_TYPE_PKCS7_GUID");
        if (dw_length == WIN_CERT_HEADER_SIZE)
                return errf(-EBADMSG, "offset 40: no PKCS#7 data");
        memcpy(ret->timestamp, buf, EFI_TIME_SIZE);
        ret->p7 = w + WIN_CERT_HEADER_SIZE;
        ret->p7_len = dw_length - WIN_CERT_HEADER_SIZE;
        ret->data = w + dw_length;
        ret->data_len = len - EFI_TIME_SIZE - dw_length;
        return 0;
}

/* VariableName | VendorGuid | Attributes | TimeStamp | Data */
static int auth2_message(enum sbvar var, bool append, const uint8_t ts[EFI_TIME_SIZE],
                         const uint8_t *data, size_t len, uint8_t **ret, size_t *ret_len)
{
        const char *name = sbvar_name(var);
        size_t nl = strlen(name), total = 2 * nl + 16 + 4 + EFI_TIME_SIZE + len;
        uint8_t *b = xmalloc0(total), *p = b;

        for (size_t i = 0; i < nl; i++) {
                *p++ = (uint8_t)name[i];
                *p++ = 0;
        }
        memcpy(p, sbvar_vendor(var)->b, 16);
        put_le32(p + 16, EFI_SECURE_BOOT_VAR_ATTRS | (append ? EFI_VARIABLE_APPEND_WRITE : 0));
        memcpy(p + 20, ts, EFI_TIME_SIZE);
        if (len)
                memcpy(p + 20 + EFI_TIME_SIZE, data, len);
        *ret = b;
        *ret_len = total;
        return 0;
}

int auth2_sign(enum sbvar var, bool append, const uint8_t ts[EFI_TIME_SIZE], const uint8_t *data,
               size_t len, EVP_PKEY *key, X509 *cert, uint8_t **ret, size_t *ret_len)
{
        const int flags = PKCS7_BINARY | PKCS7_DETACHED | PKCS7_NOATTR | PKCS7_NOSMIMECAP;
        _cleanup_(PKCS7_freep) PKCS7 *p7 = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_free_ uint8_t *msg = NULL;
        unsigned char *der = NULL;
        size_t msg_len, total;
        uint8_t *out;
        int n;

        (void)auth2_message(var, append, ts, data, len, &msg, &msg_len);
        bio = BIO_new_mem_buf(msg, (int)msg_len);
        p7 = PKCS7_sign(NULL, NULL, NULL, NULL, flags | PKCS7_PARTIAL);
        if (!bio || !p7 || !PKCS7_sign_add_signer(p7, cert, key, EVP_sha256(), flags) ||
            !PKCS7_final(p7, bio, flags))
                return openssl_errf(-EIO, "signing the %s update", sbvar_name(var));
        n = i2d_PKCS7_SIGNED(p7->d.sign, &der); /* the bare SignedData */
        if (n <= 0)
                return openssl_errf(-EIO, "encoding the %s update's signature", sbvar_name(var));
        total = EFI_TIME_SIZE + WIN_CERT_HEADER_SIZE + (size_t)n + len;
        out = xmalloc0(total);
        memcpy(out, ts, EFI_TIME_SIZE);
        put_le32(out + 16, (uint32_t)(WIN_CERT_HEADER_SIZE + n));
        put_le16(out + 20, WIN_CERT_REVISION);
        put_le16(out + 22, WIN_CERT_TYPE_EFI_GUID);
        memcpy(out + 24, EFI_CERT_TYPE_PKCS7_GUID.b, 16);
        memcpy(out + 40, der, (size_t)n);
        if (len)
                memcpy(out + 40 + n, data, len);
        OPENSSL_free(der);
        *ret = out;
        *ret_len = total;
        return 0;
}

/* The CertData as a PKCS7: firmware takes the bare SignedData (efitools,
 * sbvarsign, us) and the same wrapped in a ContentInfo. It must be detached,
 * have at least one signer and sign with SHA-256 only. */
static int p7_load(const struct auth2 *a, PKCS7 **ret)
{
        static const uint8_t signed_data_oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                   0xf7, 0x0d, 0x01, 0x07, 0x02 };
        _cleanup_(PKCS7_freep) PKCS7 *p7 = NULL;
        const unsigned char *p = a->p7;
        STACK_OF(PKCS7_SIGNER_INFO) *sis;
        bool wrapped;
        size_t hdr;

        if (a->p7_len < 4 || a->p7_len > LONG_MAX || a->p7[0] != 0x30)
                return errf(-EBADMSG, "offset 40: the PKCS#7 data is not DER");
        /* SEQUENCE header (short or long length), then: OID signedData
         * (ContentInfo) or INTEGER version (bare SignedData). */
        hdr = a->p7[1] < 0x80 ? 2 : 2 + (a->p7[1] & 0x7f);
        wrapped = hdr + sizeof(signed_data_oid) <= a->p7_len &&
                  !memcmp(a->p7 + hdr, signed_data_oid, sizeof(signed_data_oid));
        if (wrapped) {
                p7 = d2i_PKCS7(NULL, &p, (long)a->p7_len);
                if (p7 && !PKCS7_type_is_signed(p7)) {
                        ERR_clear_error();
                        return errf(-EBADMSG, "offset 40: the PKCS#7 data is not SignedData");
                }
        } else {
                PKCS7_SIGNED *sd = d2i_PKCS7_SIGNED(NULL, &p, (long)a->p7_len);

                if (sd) {
                        p7 = PKCS7_new();
                        if (!p7 || !PKCS7_set_type(p7, NID_pkcs7_signed)) {
                                PKCS7_SIGNED_free(sd);
                                return openssl_errf(-ENOMEM, "PKCS#7");
                        }
                        PKCS7_SIGNED_free(p7->d.sign);
                        p7->d.sign = sd;
                }
        }
        if (!p7 || !p7->d.sign) {
                ERR_clear_error();
                return errf(-EBADMSG, "offset 40: the PKCS#7 SignedData does not parse");
        }
        if (p != a->p7 + a->p7_len)
                return errf(-EBADMSG, "offset %zu: %zu bytes after the PKCS#7 SignedData",
                            (size_t)(40 + (p - a->p7)), a->p7_len - (size_t)(p - a->p7));
        if (!p7->d.sign->contents || !PKCS7_get_detached(p7))
                return errf(-EBADMSG, "offset 40: the signature carries its own content; "
                                      "expected a detached one");
        for (int i = 0; i < sk_X509_ALGOR_num(p7->d.sign->md_algs); i++)
                if (OBJ_obj2nid(sk_X509_ALGOR_value(p7->d.sign->md_algs, i)->algorithm) != NID_sha256)
                        return errf(-EBADMSG, "offset 40: the SignedData lists a digest other "
                                              "than SHA-256");
        sis = PKCS7_get_signer_info(p7);
        if (!sis || sk_PKCS7_SIGNER_INFO_num(sis) < 1)
                return errf(-EBADMSG, "offset 40: the PKCS#7 SignedData has no signer");
        for (int i = 0; i < sk_PKCS7_SIGNER_INFO_num(sis); i++) {
                X509_ALGOR *dig = NULL;

                PKCS7_SIGNER_INFO_get0_algs(sk_PKCS7_SIGNER_INFO_value(sis, i), NULL, &dig, NULL);
                if (!dig || OBJ_obj2nid(dig->algorithm) != NID_sha256)
                        return errf(-EBADMSG, "offset 40: signer %d does not use SHA-256", i + 1);
        }
        *ret = TAKE_PTR(p7);
        return 0;
}

/* Does p7 sign this message? store NULL: with the signer's own certificate
 * only; else the signer must also chain to a certificate in store. */
static bool p7_signs(PKCS7 *p7, X509_STORE *store, const uint8_t *msg, size_t msg_len)
{
        _cleanup_(BIO_freep) BIO *in = BIO_new_mem_buf(msg, (int)msg_len);
        int ok;

        if (!in)
                return false;
        ok = PKCS7_verify(p7, NULL, store, in, NULL, PKCS7_BINARY | (store ? 0 : PKCS7_NOVERIFY));
        ERR_clear_error();
        return ok == 1;
}

int auth2_identify(const struct auth2 *a, struct auth2_target *ret, char *signer,
                   size_t signer_size)
{
        _cleanup_(PKCS7_freep) PKCS7 *p7 = NULL;
        STACK_OF(X509) *signers;
        int r;

        r = p7_load(a, &p7);
        if (r < 0)
                return r;
        signers = PKCS7_get0_signers(p7, NULL, 0);
        if (!signers || sk_X509_num(signers) < 1) {
                sk_X509_free(signers);
                ERR_clear_error();
                return errf(-EBADMSG, "offset 40: the signer's certificate is not in the PKCS#7 data");
        }
        if (signer && signer_size)
                X509_NAME_oneline(X509_get_subject_name(sk_X509_value(signers, 0)), signer,
                                  (int)signer_size);
        sk_X509_free(signers);

        for (int v = 0; v < _SBVAR_MAX; v++)
                for (int append = 0; append < 2; append++) {
                        _cleanup_free_ uint8_t *msg = NULL;
                        size_t n;

                        (void)auth2_message((enum sbvar)v, append, a->timestamp, a->data,
                                            a->data_len, &msg, &n);
                        if (p7_signs(p7, NULL, msg, n)) {
                                *ret = (struct auth2_target){ .var = (enum sbvar)v,
                                                              .append = append };
                                return 0;
                        }
                }
        return errf(-EBADMSG, "the signature covers none of PK, KEK, db, dbx (plain or append) "
                              "with this timestamp and data");
}

/* ---- the firmware's rules -------------------------------------------------- */

void sbvar_value_done(struct sbvar_value *v)
{
        free(v->data);
        *v = (struct sbvar_value){};
}

void sbvar_values_done(struct sbvar_value vars[_SBVAR_MAX])
{
        for (int v = 0; v < _SBVAR_MAX; v++)
                sbvar_value_done(&vars[v]);
}

struct anchors {
        X509_STORE *store;
        unsigned n;
};

static int add_anchor(const efi_guid *type, const efi_guid *owner, const uint8_t *data, size_t len,
                      void *userdata)
{
        struct anchors *a = userdata;
        const unsigned char *p = data;
        X509 *x;

        (void)owner;
        if (memcmp(type->b, EFI_CERT_X509_GUID.b, 16) != 0)
                return 0; /* RSA-2048 KEK entries: not a chain anchor */
        x = d2i_X509(NULL, &p, (long)len);
        if (x && X509_STORE_add_cert(a->store, x))
                a->n++;
        X509_free(x);
        ERR_clear_error();
        return 0;
}

/* PK signs updates of every variable; KEK also those of db and dbx. */
static int check_signer(const struct auth2 *a, const struct auth2_target *t,
                        const struct sbvar_value vars[_SBVAR_MAX])
{
        _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
        _cleanup_(PKCS7_freep) PKCS7 *p7 = NULL;
        _cleanup_free_ uint8_t *msg = NULL;
        struct anchors an = { .store = store };
        bool db = t->var == SBVAR_DB || t->var == SBVAR_DBX;
        size_t n;
        int r;

        if (!store || !X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN |
                                                           X509_V_FLAG_NO_CHECK_TIME) ||
            !X509_STORE_set_purpose(store, X509_PURPOSE_ANY))
                return openssl_errf(-ENOMEM, "certificate store");
        (void)esl_walk(vars[SBVAR_PK].data, vars[SBVAR_PK].len, add_anchor, &an);
        if (db && vars[SBVAR_KEK].exists)
                (void)esl_walk(vars[SBVAR_KEK].data, vars[SBVAR_KEK].len, add_anchor, &an);
        r = p7_load(a, &p7);
        if (r < 0)
                return r;
        (void)auth2_message(t->var, t->append, a->timestamp, a->data, a->data_len, &msg, &n);
        if (an.n == 0 || !p7_signs(p7, store, msg, n))
                return errf(-EPERM, "the signer is not %s", db ? "a PK or KEK certificate (or signed by one)"
                                                              : "the PK certificate (or signed by it)");
        return 0;
}

/* The new lists without the entries old already holds (edk2's
 * FilterSignatureList); lists left empty go. Both are valid lists. */
static void filter_new(const uint8_t *old, size_t old_len, const uint8_t *in, size_t in_len,
                       uint8_t *out, size_t *out_len)
{
        size_t off = 0, o = 0;

        while (off < in_len) {
                const uint8_t *l = in + off;
                size_t list_size = le32(l + 16), hdr = le32(l + 20), sig = le32(l + 24);
                size_t first = ESL_HEADER_SIZE + hdr, start = o, kept = 0;
                efi_guid type;

                memcpy(type.b, l, 16);
                memcpy(out + o, l, first);
                o += first;
                for (size_t e = first; e + sig <= list_size; e += sig) {
                        efi_guid owner;

                        memcpy(owner.b, l + e, ESD_OWNER_SIZE);
                        if (esl_holds(old, old_len, &type, &owner, l + e + ESD_OWNER_SIZE,
                                      sig - ESD_OWNER_SIZE))
                                continue;
                        memcpy(out + o, l + e, sig);
                        o += sig;
                        kept++;
                }
                if (kept)
                        put_le32(out + start + 16, (uint32_t)(o - start));
                else
                        o = start;
                off += list_size;
        }
        *out_len = o;
}

static int count_x509(const efi_guid *type, const efi_guid *owner, const uint8_t *data, size_t len,
                      void *userdata)
{
        unsigned *n = userdata;

        (void)owner;
        (void)data;
        (void)len;
        if (memcmp(type->b, EFI_CERT_X509_GUID.b, 16) != 0)
                return -EMEDIUMTYPE;
        (*n)++;
        return 0;
}

static int check_data(enum sbvar var, const uint8_t *data, size_t len)
{
        unsigned n = 0;
        int r;

        if (len == 0)
                return 0;
        r = esl_walk(data, len, var == SBVAR_PK ? count_x509 : NULL, &n);
        if (r == -EMEDIUMTYPE || (r >= 0 && var == SBVAR_PK && n != 1))
                return errf(-EBADMSG, "a PK must be one X509 certificate");
        if (r < 0)
                return errf_prefix(r, "the new %s is not a valid signature list", sbvar_name(var));
        return 0;
}

int auth2_apply(const struct auth2 *a, const struct auth2_target *t,
                struct sbvar_value vars[_SBVAR_MAX])
{
        struct sbvar_value *cur = &vars[t->var];
        uint8_t *nd;
        size_t nl;
        int r;

        if (!vars[SBVAR_PK].exists)
                return errf(-EPERM, "no PK is enrolled (setup mode): enroll a keyset first");
        r = check_signer(a, t, vars);
        if (r < 0)
                return r;
        r = check_data(t->var, a->data, a->data_len);
        if (r < 0)
                return r;

        if (!t->append) {
                if (cur->exists && cur->time_known && efi_time_cmp(a->timestamp, cur->timestamp) <= 0) {
                        char want[21], have[21];

                        efi_time_format(a->timestamp, want);
                        efi_time_format(cur->timestamp, have);
                        return errf(-EPERM, "timestamp %s is not later than %s's %s", want,
                                    sbvar_name(t->var), have);
                }
                nd = a->data_len ? xmalloc0(a->data_len) : NULL;
                if (a->data_len)
                        memcpy(nd, a->data, a->data_len);
                free(cur->data);
                cur->data = nd;
                cur->len = a->data_len;
                cur->exists = a->data_len > 0; /* an empty write deletes */
                memcpy(cur->timestamp, a->timestamp, EFI_TIME_SIZE);
                cur->time_known = true;
                return 0;
        }

        if (t->var == SBVAR_PK)
                return errf(-EPERM, "PK cannot be appended to");
        nd = xmalloc0(cur->len + a->data_len + 1);
        if (cur->len)
                memcpy(nd, cur->data, cur->len);
        filter_new(cur->data, cur->len, a->data, a->data_len, nd + cur->len, &nl);
        free(cur->data);
        cur->data = nd;
        cur->len += nl;
        cur->exists = cur->exists || nl > 0;
        if (!cur->time_known || efi_time_cmp(a->timestamp, cur->timestamp) > 0)
                memcpy(cur->timestamp, a->timestamp, EFI_TIME_SIZE);
        return 0;
}
