/* attest-verify.c: see attest-verify.h. The bundle is the machine's word;
 * nothing in it is believed before the check that covers it has passed. */
#include "keys/attest-verify.h"

#include <stdarg.h>
#include <stdio.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "base/crypto.h"
#include "formats/eventlog.h"
#include "formats/pcr7.h"
#include "formats/pcr7data.h"
#include "keys/efi-update.h"
#include "keys/eventlog-match.h"
#include "keys/keyset-path.h"

DEFINE_CLEANUP(X509_STORE_CTX_freep, X509_STORE_CTX *, X509_STORE_CTX_free)
DEFINE_CLEANUP(ECDSA_SIG_freep, ECDSA_SIG *, ECDSA_SIG_free)
DEFINE_CLEANUP(OSSL_PARAM_BLD_freep, OSSL_PARAM_BLD *, OSSL_PARAM_BLD_free)
DEFINE_CLEANUP(OSSL_PARAM_freep, OSSL_PARAM *, OSSL_PARAM_free)

static const char *const check_names[_ATTEST_CHECK_MAX] = {
        [ATTEST_SUDI_CERT] = "sudi-cert", [ATTEST_QUOTE] = "quote",
        [ATTEST_NONCE] = "nonce",         [ATTEST_AK] = "ak",
        [ATTEST_BINDING] = "binding",     [ATTEST_QUOTE_SIG] = "quote-signature",
        [ATTEST_PCR_DIGEST] = "pcr-digest",     [ATTEST_PCR7] = "pcr7",
        [ATTEST_EVENTLOG] = "eventlog",
};

const char *attest_check_name(enum attest_check c)
{
        return c < _ATTEST_CHECK_MAX ? check_names[c] : NULL;
}

/* Marks check c failed with a sentence; returns 1 so a caller can stop. */
_printf_(3, 4) static int failed(struct attest_verdict *v, enum attest_check c, const char *fmt,
                                  ...)
{
        va_list ap;

        v->result[c] = ATTEST_FAILED;
        v->failed = (int)c;
        va_start(ap, fmt);
        vsnprintf(v->why, sizeof(v->why), fmt, ap);
        va_end(ap);
        return 1;
}

/* The first OpenSSL error's reason, for a sentence. */
static const char *ossl_reason(char *buf, size_t size)
{
        unsigned long e = ERR_peek_last_error();

        if (!e)
                snprintf(buf, size, "no reason given");
        else
                ERR_error_string_n(e, buf, size);
        ERR_clear_error();
        return buf;
}

/* "PID:<uuid> SN:<serial>" of the subject's serialNumber, and its CN. */
static void sudi_names(X509 *cert, struct attest_verdict *v)
{
        X509_NAME *subject = X509_get_subject_name(cert);
        char sn[256] = "";
        const char *p;

        if (X509_NAME_get_text_by_NID(subject, NID_commonName, v->serial, sizeof(v->serial)) < 0)
                v->serial[0] = 0;
        if (X509_NAME_get_text_by_NID(subject, NID_serialNumber, sn, sizeof(sn)) < 0)
                return;
        if (strncmp(sn, "PID:", 4) == 0) {
                size_t n = strcspn(sn + 4, " ");

                if (n < sizeof(v->product))
                        snprintf(v->product, sizeof(v->product), "%.*s", (int)n, sn + 4);
        }
        p = strstr(sn, " SN:");
        if (p && !v->serial[0])
                snprintf(v->serial, sizeof(v->serial), "%s", p + 4);
}

static int check_sudi(const char *keyset_dir, const struct attest_bundle *b, X509 **ret_cert,
                      struct attest_verdict *v)
{
        _cleanup_free_ char *ca_path = keyset_file(keyset_dir, "sudi-ca", "cert.pem");
        _cleanup_(X509_freep) X509 *ca = NULL, *cert = NULL;
        _cleanup_(X509_STORE_freep) X509_STORE *store = NULL;
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = NULL;
        const unsigned char *p = b->sudi_cert;
        int r;

        r = pem_load_cert(ca_path, &ca);
        if (r < 0)
                return r;
        cert = d2i_X509(NULL, &p, (long)b->sudi_cert_len);
        if (!cert || p != b->sudi_cert + b->sudi_cert_len) {
                ERR_clear_error();
                return failed(v, ATTEST_SUDI_CERT, "the bundle's SUDI certificate is not one "
                                                   "DER certificate");
        }
        sudi_names(cert, v);
        store = X509_STORE_new();
        ctx = X509_STORE_CTX_new();
        if (!store || !ctx || X509_STORE_add_cert(store, ca) != 1 ||
            X509_STORE_CTX_init(ctx, store, cert, NULL) != 1)
                return openssl_errf(-ENOMEM, "setting up certificate verification");
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
        if (X509_verify_cert(ctx) != 1) {
                int e = X509_STORE_CTX_get_error(ctx);

                ERR_clear_error();
                return failed(v, ATTEST_SUDI_CERT,
                              "the SUDI certificate of '%s' does not chain to the keyset's "
                              "sudi CA: %s",
                              v->serial, X509_verify_cert_error_string(e));
        }
        v->result[ATTEST_SUDI_CERT] = ATTEST_OK;
        *ret_cert = TAKE_PTR(cert);
        return 0;
}

static int check_binding(X509 *cert, const uint8_t *nonce, size_t nonce_len,
                         const struct attest_bundle *b, struct attest_verdict *v)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        _cleanup_free_ uint8_t *msg = NULL;
        EVP_PKEY *key = X509_get0_pubkey(cert);
        size_t msg_len;
        char reason[160];

        if (!ctx || !key)
                return openssl_errf(-ENOMEM, "reading the SUDI public key");
        msg = attest_binding_message(nonce, nonce_len, b->ak_public, b->ak_public_len, &msg_len);
        if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
            EVP_DigestVerify(ctx, b->binding_sig, b->binding_sig_len, msg, msg_len) != 1)
                return failed(v, ATTEST_BINDING,
                              "the binding signature does not verify: the SUDI key of '%s' did "
                              "not vouch for this attestation key with this nonce (%s)",
                              v->serial, ossl_reason(reason, sizeof(reason)));
        v->result[ATTEST_BINDING] = ATTEST_OK;
        return 0;
}

/* The AK's public key as OpenSSL's: an uncompressed P-256 point. */
static int ak_pkey(const struct attest_ak *ak, EVP_PKEY **ret)
{
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        uint8_t point[65];

        point[0] = 0x04;
        memcpy(point + 1, ak->x, 32);
        memcpy(point + 33, ak->y, 32);
        if (!bld ||
            OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                             sizeof(point)) != 1 ||
            !(params = OSSL_PARAM_BLD_to_param(bld)))
                return openssl_errf(-ENOMEM, "building the attestation key");
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        *ret = NULL;
        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, ret, EVP_PKEY_PUBLIC_KEY, params) != 1) {
                ERR_clear_error();
                return -EBADMSG; /* not a point on the curve */
        }
        return 0;
}

static int check_quote_signature(const struct attest_ak *ak, const struct attest_bundle *b,
                                 struct attest_verdict *v)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        uint8_t r_[32], s_[32];
        BIGNUM *r = NULL, *s = NULL;
        unsigned char *p;
        int n;

        char cause[200];
        int q = attest_signature_parse(b->quote_sig, b->quote_sig_len, r_, s_);

        if (q < 0) {
                err_copy(q, cause, sizeof(cause));
                return failed(v, ATTEST_QUOTE_SIG, "the quote's signature is malformed: %s",
                              cause);
        }
        if (ak_pkey(ak, &key) < 0)
                return failed(v, ATTEST_QUOTE_SIG, "the attestation key is not a P-256 point");
        sig = ECDSA_SIG_new();
        r = BN_bin2bn(r_, 32, NULL);
        s = BN_bin2bn(s_, 32, NULL);
        if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
                BN_free(r);
                BN_free(s);
                return openssl_errf(-ENOMEM, "building the quote's signature");
        }
        n = i2d_ECDSA_SIG(sig, NULL);
        if (n <= 0)
                return openssl_errf(-ENOMEM, "encoding the quote's signature");
        der = xmalloc0((size_t)n);
        p = der;
        n = i2d_ECDSA_SIG(sig, &p);
        ctx = EVP_MD_CTX_new();
        if (!ctx || n <= 0 || EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1)
                return openssl_errf(-ENOMEM, "setting up the quote's verification");
        if (EVP_DigestVerify(ctx, der, (size_t)n, b->quote, b->quote_len) != 1) {
                ERR_clear_error();
                return failed(v, ATTEST_QUOTE_SIG,
                              "the quote's signature does not verify with the attestation key: "
                              "the quote is not the one the TPM signed");
        }
        v->result[ATTEST_QUOTE_SIG] = ATTEST_OK;
        return 0;
}

/* The class of pcr7data value `value` under root, or NULL. */
static const char *value_class(const char *root, const uint8_t value[32], char *buf, size_t size)
{
        struct pcr7data_match m = { 0 };
        const char *c = NULL;

        if (pcr7data_lookup(root, value, &m) >= 0) {
                snprintf(buf, size, "%s", m.key_type);
                c = buf;
        }
        pcr7data_match_free(&m);
        err_clear();
        return c;
}

/* Why PCR7 is none of the keyset's values, from the event log's PCR7
 * events against the keyset's variables, when the bundle has a log. */
static void explain_pcr7(const char *keyset_dir, const struct eventlog *log, char *buf,
                         size_t size)
{
        struct keyset_efi_vars vars = { 0 };
        const char *refused[_UKI_CLASS_MAX] = { 0 };
        struct evlog_match m;

        buf[0] = 0;
        if (!log)
                return;
        if (keyset_efi_vars_after(keyset_dir, NULL, NULL, 0, &vars, refused, NULL) >= 0 &&
            eventlog_match(log, &vars, refused, &m) >= 0 && m.match < 0)
                snprintf(buf, size, "; the event log says: %s", m.why);
        keyset_efi_vars_free(&vars);
        err_clear();
}

static int check_pcr7(const char *keyset_dir, const char *keyset, const uint8_t pcr7[32],
                      const struct eventlog *log, struct attest_verdict *v)
{
        _cleanup_free_ char *root = path_join(keyset_dir, "pcr7data");
        _cleanup_free_ uint8_t(*values)[32] = NULL;
        _cleanup_free_ char *hex = hex_encode(pcr7, 32);
        char class[16], explain[1100];
        size_t n = 0;
        int r;

        r = pcr7data_values(root, &values, &n);
        if (r < 0)
                return errf_prefix(r, "keyset '%s'", keyset);
        if (n == 0)
                return errf(-ENOENT, "keyset '%s': no pcr7data values in %s", keyset, root);
        for (size_t i = 0; i < n; i++) {
                uint8_t locked[32];
                const char *c;

                r = pcr7_after_lock(values[i], locked);
                if (r < 0)
                        return r;
                if (memcmp(locked, pcr7, 32) && memcmp(values[i], pcr7, 32))
                        continue;
                c = value_class(root, values[i], class, sizeof(class));
                if (!c)
                        continue; /* an entry that does not verify is no value */
                snprintf(v->boot_class, sizeof(v->boot_class), "%s", c);
                if (memcmp(locked, pcr7, 32))
                        return failed(v, ATTEST_PCR7,
                                      "PCR7 %s is the %s value of keyset '%s' without setup's "
                                      "lock extend: setup did not finish in this boot, the "
                                      "secrets may still be readable",
                                      hex, c, keyset);
                v->locked = true;
                if (strcmp(c, "production"))
                        return failed(v, ATTEST_PCR7,
                                      "PCR7 is the %s value of keyset '%s' (after setup's "
                                      "lock): the machine booted a %s-signed OS, not a "
                                      "production one",
                                      c, keyset, c);
                v->result[ATTEST_PCR7] = ATTEST_OK;
                return 0;
        }
        explain_pcr7(keyset_dir, log, explain, sizeof(explain));
        return failed(v, ATTEST_PCR7,
                      "PCR7 %s is no value of keyset '%s' (none of its pcr7data entries, before "
                      "or after setup's lock)%s",
                      hex, keyset, explain);
}

/* PCRs 0-6 replay to the quoted values; PCR7 does after setup's lock, which
 * firmware never logs. */
static int check_eventlog(const struct eventlog *log, const struct attest_bundle *b,
                          struct attest_verdict *v)
{
        uint8_t pcrs[EVLOG_PCRS][32], locked[32];
        bool used[EVLOG_PCRS];
        int r;

        for (size_t i = 0; i < log->n; i++) {
                const struct evlog_event *e = &log->events[i];
                const char *type = evlog_type_name(e->type);

                if (e->pcr < ATTEST_PCRS && !evlog_data_matches_digest(e))
                        return failed(v, ATTEST_EVENTLOG,
                                      "event %zu (offset %zu, PCR%u, %s): its data do not hash to "
                                      "its digest: the log was changed after the boot",
                                      i, e->offset, e->pcr, type ? type : "unnamed type");
        }
        eventlog_replay(log, pcrs, used);
        r = pcr7_after_lock(pcrs[7], locked);
        if (r < 0)
                return r;
        memcpy(pcrs[7], locked, 32);
        for (int i = 0; i < ATTEST_PCRS; i++) {
                _cleanup_free_ char *got = NULL, *want = NULL;

                if (!memcmp(pcrs[i], b->pcrs[i], 32))
                        continue;
                got = hex_encode(pcrs[i], 32);
                want = hex_encode(b->pcrs[i], 32);
                return failed(v, ATTEST_EVENTLOG,
                              "the event log replays PCR%d to %s%s, the quote says %s: the log "
                              "is not this boot's",
                              i, got, i == 7 ? " (after setup's lock)" : "", want);
        }
        v->result[ATTEST_EVENTLOG] = ATTEST_OK;
        return 0;
}

static int verify(const char *keyset, const char *keyset_dir, const uint8_t *nonce,
                  size_t nonce_len, const struct attest_bundle *b, struct eventlog *log,
                  bool have_log, struct attest_verdict *v)
{
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_free_ char *want = NULL, *got = NULL;
        struct attest_quote q;
        struct attest_ak ak;
        uint8_t digest[32];
        char cause[200];
        int r;

        r = check_sudi(keyset_dir, b, &cert, v);
        if (r != 0)
                return r;

        r = attest_quote_parse(b->quote, b->quote_len, &q);
        if (r < 0) {
                err_copy(r, cause, sizeof(cause));
                return failed(v, ATTEST_QUOTE, "the quote is not a TPM quote: %s", cause);
        }
        if (q.other_banks || q.pcr_select != (1u << ATTEST_PCRS) - 1)
                return failed(v, ATTEST_QUOTE,
                              "the quote covers PCR selection 0x%06x%s, not PCRs 0-7 of sha256",
                              q.pcr_select, q.other_banks ? " and other banks" : "");
        v->result[ATTEST_QUOTE] = ATTEST_OK;

        if (q.extra_len != nonce_len || memcmp(q.extra, nonce, nonce_len)) {
                want = hex_encode(nonce, nonce_len);
                got = hex_encode(q.extra, q.extra_len);
                return failed(v, ATTEST_NONCE,
                              "the quote is for nonce %s, not %s: an old bundle replayed, or "
                              "made for another verifier",
                              got, want);
        }
        v->result[ATTEST_NONCE] = ATTEST_OK;

        r = attest_ak_parse(b->ak_public, b->ak_public_len, &ak);
        if (r < 0) {
                err_copy(r, cause, sizeof(cause));
                return failed(v, ATTEST_AK, "the attestation key: %s", cause);
        }
        if ((ak.attributes & ATTEST_AK_REQUIRED) != ATTEST_AK_REQUIRED ||
            (ak.attributes & TPMA_DECRYPT))
                return failed(v, ATTEST_AK,
                              "the attestation key has attributes 0x%08x: it must be restricted, "
                              "sign-only, made in the TPM and unable to leave it (0x%08x)",
                              ak.attributes, ATTEST_AK_REQUIRED);
        v->result[ATTEST_AK] = ATTEST_OK;

        r = check_binding(cert, nonce, nonce_len, b, v);
        if (r != 0)
                return r;
        r = check_quote_signature(&ak, b, v);
        if (r != 0)
                return r;

        r = attest_pcr_digest(b->pcrs, digest);
        if (r < 0)
                return r;
        if (memcmp(digest, q.pcr_digest, 32))
                return failed(v, ATTEST_PCR_DIGEST, "the PCR values listed are not the ones quoted "
                                              "(their digest differs)");
        v->result[ATTEST_PCR_DIGEST] = ATTEST_OK;

        r = check_pcr7(keyset_dir, keyset, b->pcrs[7], have_log ? log : NULL, v);
        if (r != 0)
                return r;
        if (!b->eventlog) {
                v->result[ATTEST_EVENTLOG] = ATTEST_SKIPPED;
                return 0;
        }
        if (!have_log) {
                snprintf(cause, sizeof(cause), "%.150s", v->why);
                return failed(v, ATTEST_EVENTLOG, "the event log is malformed: %s", cause);
        }
        return check_eventlog(log, b, v);
}

int attest_verify(const char *keyset, const uint8_t *nonce, size_t nonce_len,
                  const struct attest_bundle *b, struct attest_verdict *v)
{
        _cleanup_free_ char *keyset_dir = NULL;
        struct eventlog log = { 0 };
        bool have_log = false;
        int r;

        *v = (struct attest_verdict){ .failed = -1 };
        r = keyset_path(keyset, &keyset_dir);
        if (r < 0)
                return r;
        if (b->eventlog) {
                /* parsed up front: a PCR7 failure is explained from it */
                r = eventlog_parse(b->eventlog, b->eventlog_len, &log);
                if (r >= 0)
                        have_log = true;
                else
                        err_copy(r, v->why, sizeof(v->why));
        }
        r = verify(keyset, keyset_dir, nonce, nonce_len, b, &log, have_log, v);
        eventlog_done(&log);
        return r < 0 ? r : 0;
}
