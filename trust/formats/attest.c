/* attest.c: see attest.h. The TPM structures are read through a cursor that
 * refuses to step past the end; sizes in the data are never trusted. */
#include "formats/attest.h"

#include <stdio.h>

#include "base/base64.h"
#include "base/crypto.h"
#include "base/util.h"
#include "formats/eventlog.h" /* EVLOG_MAX */
#include "formats/json-flat.h"

#define TPM_GENERATED_VALUE 0xff544347u
#define TPM_ST_ATTEST_QUOTE 0x8018u
#define TPM_ALG_ECC 0x0023u
#define TPM_ALG_SHA256 0x000bu
#define TPM_ALG_NULL 0x0010u
#define TPM_ALG_ECDSA 0x0018u
#define TPM_ECC_NIST_P256 0x0003u

static const char binding_label[] = "trust attest binding v1"; /* with its NUL */

/* A big-endian reader over [p, end). */
struct cur {
        const uint8_t *p, *end;
};

static int take(struct cur *c, size_t n, const uint8_t **ret)
{
        if ((size_t)(c->end - c->p) < n)
                return -EBADMSG;
        *ret = c->p;
        c->p += n;
        return 0;
}

static int u8_(struct cur *c, uint8_t *ret)
{
        const uint8_t *p;

        if (take(c, 1, &p) < 0)
                return -EBADMSG;
        *ret = p[0];
        return 0;
}

static int u16_(struct cur *c, uint16_t *ret)
{
        const uint8_t *p;

        if (take(c, 2, &p) < 0)
                return -EBADMSG;
        *ret = (uint16_t)(p[0] << 8 | p[1]);
        return 0;
}

static int u32_(struct cur *c, uint32_t *ret)
{
        const uint8_t *p;

        if (take(c, 4, &p) < 0)
                return -EBADMSG;
        *ret = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        return 0;
}

static int u64_(struct cur *c, uint64_t *ret)
{
        uint32_t hi, lo;

        if (u32_(c, &hi) < 0 || u32_(c, &lo) < 0)
                return -EBADMSG;
        *ret = (uint64_t)hi << 32 | lo;
        return 0;
}

/* A TPM2B: u16 size, then that many bytes, at most max. */
static int tpm2b(struct cur *c, size_t max, const uint8_t **ret, size_t *ret_len)
{
        uint16_t n;

        if (u16_(c, &n) < 0 || n > max || take(c, n, ret) < 0)
                return -EBADMSG;
        *ret_len = n;
        return 0;
}

/* An ECC coordinate or signature half: at most 32 bytes, left-padded. */
static int scalar32(struct cur *c, uint8_t out[32])
{
        const uint8_t *p;
        size_t n;

        if (tpm2b(c, 32, &p, &n) < 0 || n == 0)
                return -EBADMSG;
        memset(out, 0, 32 - n);
        memcpy(out + 32 - n, p, n);
        return 0;
}

int attest_ak_parse(const uint8_t *buf, size_t len, struct attest_ak *ret)
{
        struct cur c = { buf, buf + len };
        uint16_t type, name_alg, sym, scheme, hash = 0, curve, kdf;
        const uint8_t *policy;
        size_t policy_len;
        struct attest_ak ak = { 0 };

        if (u16_(&c, &type) < 0 || u16_(&c, &name_alg) < 0 || u32_(&c, &ak.attributes) < 0 ||
            tpm2b(&c, 64, &policy, &policy_len) < 0)
                return errf(-EBADMSG, "truncated TPMT_PUBLIC");
        if (type != TPM_ALG_ECC)
                return errf(-EBADMSG, "key type 0x%04x, not ECC", type);
        if (name_alg != TPM_ALG_SHA256)
                return errf(-EBADMSG, "name algorithm 0x%04x, not sha256", name_alg);
        if (u16_(&c, &sym) < 0)
                return errf(-EBADMSG, "truncated TPMT_PUBLIC");
        if (sym != TPM_ALG_NULL)
                return errf(-EBADMSG, "a signing key with a symmetric algorithm (0x%04x)", sym);
        if (u16_(&c, &scheme) < 0 || (scheme != TPM_ALG_NULL && u16_(&c, &hash) < 0))
                return errf(-EBADMSG, "truncated TPMT_PUBLIC");
        if (scheme != TPM_ALG_ECDSA || hash != TPM_ALG_SHA256)
                return errf(-EBADMSG, "signing scheme 0x%04x, not ECDSA with sha256", scheme);
        if (u16_(&c, &curve) < 0 || u16_(&c, &kdf) < 0)
                return errf(-EBADMSG, "truncated TPMT_PUBLIC");
        if (curve != TPM_ECC_NIST_P256)
                return errf(-EBADMSG, "curve 0x%04x, not NIST P-256", curve);
        if (kdf != TPM_ALG_NULL)
                return errf(-EBADMSG, "a key derivation scheme (0x%04x) on a signing key", kdf);
        if (scalar32(&c, ak.x) < 0 || scalar32(&c, ak.y) < 0)
                return errf(-EBADMSG, "bad ECC point");
        if (c.p != c.end)
                return errf(-EBADMSG, "%zu bytes after the TPMT_PUBLIC", (size_t)(c.end - c.p));
        *ret = ak;
        return 0;
}

int attest_quote_parse(const uint8_t *buf, size_t len, struct attest_quote *ret)
{
        struct cur c = { buf, buf + len };
        struct attest_quote q = { 0 };
        uint32_t magic, count;
        uint16_t type;
        uint8_t safe;
        const uint8_t *p;
        size_t n;

        if (u32_(&c, &magic) < 0 || u16_(&c, &type) < 0)
                return errf(-EBADMSG, "truncated TPMS_ATTEST");
        if (magic != TPM_GENERATED_VALUE)
                return errf(-EBADMSG, "not made by a TPM (magic 0x%08x)", magic);
        if (type != TPM_ST_ATTEST_QUOTE)
                return errf(-EBADMSG, "attestation type 0x%04x, not a quote", type);
        if (tpm2b(&c, sizeof(q.signer), &p, &q.signer_len) < 0)
                return errf(-EBADMSG, "bad qualifiedSigner");
        memcpy(q.signer, p, q.signer_len);
        if (tpm2b(&c, sizeof(q.extra), &p, &q.extra_len) < 0)
                return errf(-EBADMSG, "bad extraData");
        memcpy(q.extra, p, q.extra_len);
        if (u64_(&c, &q.clock) < 0 || u32_(&c, &q.reset_count) < 0 ||
            u32_(&c, &q.restart_count) < 0 || u8_(&c, &safe) < 0 || u64_(&c, &q.firmware) < 0 ||
            u32_(&c, &count) < 0)
                return errf(-EBADMSG, "truncated TPMS_ATTEST");
        if (count > 16)
                return errf(-EBADMSG, "%u PCR banks selected", count);
        for (uint32_t i = 0; i < count; i++) {
                uint16_t hash;
                uint8_t size;
                uint32_t bits = 0;

                if (u16_(&c, &hash) < 0 || u8_(&c, &size) < 0 || size > 32 ||
                    take(&c, size, &p) < 0)
                        return errf(-EBADMSG, "bad PCR selection");
                for (size_t k = 0; k < size; k++) {
                        if (k >= 3 && p[k])
                                return errf(-EBADMSG, "a PCR above 23 selected");
                        if (k < 3)
                                bits |= (uint32_t)p[k] << (8 * k);
                }
                if (hash == TPM_ALG_SHA256)
                        q.pcr_select |= bits;
                else if (bits)
                        q.other_banks = true;
        }
        if (tpm2b(&c, 64, &p, &n) < 0)
                return errf(-EBADMSG, "bad pcrDigest");
        if (n != 32)
                return errf(-EBADMSG, "pcrDigest of %zu bytes, not a sha256 digest", n);
        memcpy(q.pcr_digest, p, 32);
        if (c.p != c.end)
                return errf(-EBADMSG, "%zu bytes after the TPMS_ATTEST", (size_t)(c.end - c.p));
        *ret = q;
        return 0;
}

int attest_signature_parse(const uint8_t *buf, size_t len, uint8_t r[32], uint8_t s[32])
{
        struct cur c = { buf, buf + len };
        uint16_t alg, hash;

        if (u16_(&c, &alg) < 0 || u16_(&c, &hash) < 0)
                return errf(-EBADMSG, "truncated TPMT_SIGNATURE");
        if (alg != TPM_ALG_ECDSA || hash != TPM_ALG_SHA256)
                return errf(-EBADMSG, "signature 0x%04x/0x%04x, not ECDSA with sha256", alg, hash);
        if (scalar32(&c, r) < 0 || scalar32(&c, s) < 0)
                return errf(-EBADMSG, "bad ECDSA signature");
        if (c.p != c.end)
                return errf(-EBADMSG, "%zu bytes after the TPMT_SIGNATURE", (size_t)(c.end - c.p));
        return 0;
}

int attest_pcr_digest(const uint8_t pcrs[ATTEST_PCRS][32], uint8_t out[32])
{
        return sha256(pcrs, ATTEST_PCRS * 32, out);
}

uint8_t *attest_binding_message(const uint8_t *nonce, size_t nonce_len, const uint8_t *ak_public,
                                size_t ak_public_len, size_t *ret_len)
{
        size_t n = sizeof(binding_label) + 2 + nonce_len + ak_public_len, o = 0;
        uint8_t *m = xmalloc0(n);

        memcpy(m, binding_label, sizeof(binding_label));
        o += sizeof(binding_label);
        m[o++] = (uint8_t)(nonce_len >> 8);
        m[o++] = (uint8_t)nonce_len;
        memcpy(m + o, nonce, nonce_len);
        o += nonce_len;
        memcpy(m + o, ak_public, ak_public_len);
        *ret_len = n;
        return m;
}

void attest_bundle_done(struct attest_bundle *b)
{
        if (!b)
                return;
        free(b->sudi_cert);
        free(b->ak_public);
        free(b->binding_sig);
        free(b->quote);
        free(b->quote_sig);
        free(b->eventlog);
        *b = (struct attest_bundle){ 0 };
}

enum {
        F_VERSION,
        F_SUDI_CERT,
        F_AK_PUBLIC,
        F_BINDING,
        F_QUOTE,
        F_QUOTE_SIG,
        F_BANK,
        F_PCR0,
        F_EVENTLOG = F_PCR0 + ATTEST_PCRS,
        _F_MAX,
};

static const char *const field_names[_F_MAX] = {
        [F_VERSION] = "version",
        [F_SUDI_CERT] = "sudi_cert",
        [F_AK_PUBLIC] = "ak_public",
        [F_BINDING] = "binding_signature",
        [F_QUOTE] = "quote",
        [F_QUOTE_SIG] = "quote_signature",
        [F_BANK] = "pcr_bank",
        [F_PCR0] = "pcr0", "pcr1", "pcr2", "pcr3", "pcr4", "pcr5", "pcr6", "pcr7",
        [F_EVENTLOG] = "eventlog",
};

static int blob(const struct json_field *f, size_t max, uint8_t **ret, size_t *ret_len)
{
        if (!f->value)
                return errf(-EBADMSG, "no \"%s\"", f->name);
        if (f->integer || base64_decode(f->value, max, ret, ret_len) < 0)
                return errf(-EBADMSG, "\"%s\" is not base64 of at most %zu bytes", f->name, max);
        return 0;
}

static int bundle_parse(struct json_field *f, struct attest_bundle *b)
{
        int r;

        if (!f[F_VERSION].value)
                return errf(-EBADMSG, "no \"version\": not an attestation bundle");
        /* json-flat's integers have no sign and no leading zero: one spelling */
        if (!f[F_VERSION].integer ||
            strtoul(f[F_VERSION].value, NULL, 10) != ATTEST_BUNDLE_VERSION)
                return errf(-EBADMSG, "bundle version %s, this trust reads version %d",
                            f[F_VERSION].value, ATTEST_BUNDLE_VERSION);
        if ((r = blob(&f[F_SUDI_CERT], ATTEST_BLOB_MAX, &b->sudi_cert, &b->sudi_cert_len)) < 0 ||
            (r = blob(&f[F_AK_PUBLIC], ATTEST_BLOB_MAX, &b->ak_public, &b->ak_public_len)) < 0 ||
            (r = blob(&f[F_BINDING], ATTEST_BLOB_MAX, &b->binding_sig, &b->binding_sig_len)) < 0 ||
            (r = blob(&f[F_QUOTE], ATTEST_BLOB_MAX, &b->quote, &b->quote_len)) < 0 ||
            (r = blob(&f[F_QUOTE_SIG], ATTEST_BLOB_MAX, &b->quote_sig, &b->quote_sig_len)) < 0)
                return r;
        if (!f[F_BANK].value || f[F_BANK].integer || strcmp(f[F_BANK].value, "sha256"))
                return errf(-EBADMSG, "\"pcr_bank\" is not \"sha256\"");
        for (int i = 0; i < ATTEST_PCRS; i++) {
                const struct json_field *p = &f[F_PCR0 + i];

                if (!p->value || p->integer || strlen(p->value) != 64 ||
                    hex_decode(p->value, b->pcrs[i], 32) < 0)
                        return errf(-EBADMSG, "\"%s\" is not 64 hex digits", p->name);
        }
        if (f[F_EVENTLOG].value) {
                r = blob(&f[F_EVENTLOG], EVLOG_MAX, &b->eventlog, &b->eventlog_len);
                if (r < 0)
                        return r;
        }
        return 0;
}

int attest_bundle_parse(const uint8_t *buf, size_t len, struct attest_bundle *ret)
{
        struct json_field f[_F_MAX];
        struct attest_bundle b = { 0 };
        int r;

        if (len > ATTEST_BUNDLE_MAX)
                return errf(-EBADMSG, "larger than %zu bytes", ATTEST_BUNDLE_MAX);
        for (int i = 0; i < _F_MAX; i++)
                f[i] = (struct json_field){ .name = field_names[i] };
        r = json_flat_parse(buf, len, f, _F_MAX, 64, JSON_FLAT_INTEGERS);
        if (r < 0)
                return r;
        r = bundle_parse(f, &b);
        json_fields_free(f, _F_MAX);
        if (r < 0) {
                attest_bundle_done(&b);
                return r;
        }
        *ret = b;
        return 0;
}

static void member_b64(FILE *f, const char *name, const uint8_t *buf, size_t len)
{
        _cleanup_free_ char *s = base64_encode(buf, len);

        fprintf(f, ",\"%s\":\"%s\"", name, s);
}

char *attest_bundle_format(const struct attest_bundle *b)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                abort();
        fprintf(f, "{\"version\":%d", ATTEST_BUNDLE_VERSION);
        member_b64(f, "sudi_cert", b->sudi_cert, b->sudi_cert_len);
        member_b64(f, "ak_public", b->ak_public, b->ak_public_len);
        member_b64(f, "binding_signature", b->binding_sig, b->binding_sig_len);
        member_b64(f, "quote", b->quote, b->quote_len);
        member_b64(f, "quote_signature", b->quote_sig, b->quote_sig_len);
        fputs(",\"pcr_bank\":\"sha256\"", f);
        for (int i = 0; i < ATTEST_PCRS; i++) {
                _cleanup_free_ char *hex = hex_encode(b->pcrs[i], 32);

                fprintf(f, ",\"pcr%d\":\"%s\"", i, hex);
        }
        if (b->eventlog)
                member_b64(f, "eventlog", b->eventlog, b->eventlog_len);
        fputs("}\n", f);
        if (fclose(f) != 0)
                abort();
        return buf;
}
