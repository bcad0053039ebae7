/* policy.c: offline TPM2 policy digests (TPM 2.0 Part 3 §23: PolicyPCR,
 * PolicyNV, PolicyAuthorize), the TPM name of an RSA public key as
 * LoadExternal builds it (Part 1 §16), and PKCS#1 v1.5 signatures over
 * policy digests, so policies are made and signed without any TPM. */
#include "formats/policy.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "base/crypto.h"
#include "base/util.h"

/* TPM constants (Part 2). */
#define TPM_ALG_RSA 0x0001
#define TPM_ALG_SHA256 0x000B
#define TPM_ALG_NULL 0x0010
#define TPM_CC_POLICY_NV 0x00000149
#define TPM_CC_POLICY_AUTHORIZE 0x0000016A
#define TPM_CC_POLICY_PCR 0x0000017F
#define TPM_CC_POLICY_COMMAND_CODE 0x0000016C
#define TPM_CC_POLICY_NAME_HASH 0x00000170
#define TPM_CC_POLICY_OR 0x00000171
#define TPM_CC_EVICT_CONTROL 0x00000120
#define TPM_CC_CREATE_PRIMARY 0x00000131
#define TPM_RH_OWNER 0x40000001
#define TPM_EO_EQ 0x0000

/* LoadExternal'ed signing key: USERWITHAUTH | DECRYPT | SIGN_ENCRYPT. */
#define KEY_ATTRS 0x00060040u
/* The TPM-held SUDI key: the same and NODA (policy.h). */
#define HELD_KEY_ATTRS 0x00060440u

struct buf {
        uint8_t b[512];
        size_t n;
};

static void put16(struct buf *b, uint16_t v)
{
        b->b[b->n++] = (uint8_t)(v >> 8);
        b->b[b->n++] = (uint8_t)v;
}

static void put32(struct buf *b, uint32_t v)
{
        put16(b, (uint16_t)(v >> 16));
        put16(b, (uint16_t)v);
}

static void putn(struct buf *b, const void *p, size_t n)
{
        memcpy(b->b + b->n, p, n);
        b->n += n;
}

static int policy_pcr7(uint8_t d[32], const uint8_t pcr7[32])
{
        struct buf b = { .n = 0 };
        uint8_t pcr_digest[32];
        int r;

        /* pcrDigest: hash of the concatenated selected PCR values (just PCR7). */
        r = sha256(pcr7, 32, pcr_digest);
        if (r < 0)
                return r;
        putn(&b, d, 32);
        put32(&b, TPM_CC_POLICY_PCR);
        /* TPML_PCR_SELECTION: one TPMS_PCR_SELECTION, sha256, 3-byte bitmap with PCR7. */
        put32(&b, 1);
        put16(&b, TPM_ALG_SHA256);
        b.b[b.n++] = 3;
        b.b[b.n++] = 0x80;
        b.b[b.n++] = 0x00;
        b.b[b.n++] = 0x00;
        putn(&b, pcr_digest, 32);
        return sha256(b.b, b.n, d);
}

/* Name of the written policy-version index: nameAlg || H(TPMS_NV_PUBLIC). */
static int nv_version_name(uint8_t name[34])
{
        struct buf b = { .n = 0 };

        put32(&b, NV_POLICY_VERSION);
        put16(&b, TPM_ALG_SHA256);
        put32(&b, NV_POLICY_VERSION_ATTRS);
        put16(&b, 0); /* authPolicy: empty */
        put16(&b, POLICY_VERSION_LEN);
        name[0] = 0x00;
        name[1] = 0x0B;
        return sha256(b.b, b.n, name + 2);
}

static int policy_nv_eq(uint8_t d[32], const char version[POLICY_VERSION_LEN])
{
        struct buf args = { .n = 0 }, b = { .n = 0 };
        uint8_t args_hash[32], name[34];
        int r;

        /* args = H(operandB || offset || operation) */
        putn(&args, version, POLICY_VERSION_LEN);
        put16(&args, 0);
        put16(&args, TPM_EO_EQ);
        r = sha256(args.b, args.n, args_hash);
        if (r < 0)
                return r;
        r = nv_version_name(name);
        if (r < 0)
                return r;
        putn(&b, d, 32);
        put32(&b, TPM_CC_POLICY_NV);
        putn(&b, args_hash, 32);
        putn(&b, name, sizeof(name));
        return sha256(b.b, b.n, d);
}

int policy_luks_digest(const uint8_t pcr7[32], const char *version, uint8_t out[32])
{
        uint8_t d[32] = { 0 };
        int r;

        if (!policy_version_valid(version))
                return errf(-EINVAL, "policy version must be %d decimal digits",
                            POLICY_VERSION_LEN);
        r = policy_pcr7(d, pcr7);
        if (r < 0)
                return r;
        r = policy_nv_eq(d, version);
        if (r < 0)
                return r;
        memcpy(out, d, 32);
        return 0;
}

int policy_passwd_digest(const uint8_t pcr7[32], uint8_t out[32])
{
        uint8_t d[32] = { 0 };
        int r;

        r = policy_pcr7(d, pcr7);
        if (r < 0)
                return r;
        memcpy(out, d, 32);
        return 0;
}

int policy_rsa_modulus(EVP_PKEY *pub, uint8_t n[256])
{
        BIGNUM *bn = NULL;
        int r = 0;

        if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA)
                return errf(-EINVAL, "not an RSA key");
        if (EVP_PKEY_get_bits(pub) != 2048)
                return errf(-EINVAL, "RSA key has %d bits, expected 2048", EVP_PKEY_get_bits(pub));
        if (!EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &bn))
                return openssl_errf(-EINVAL, "cannot read the RSA modulus");
        if (BN_bn2binpad(bn, n, 256) != 256)
                r = errf(-EINVAL, "RSA modulus does not fit 256 bytes");
        BN_free(bn);
        return r;
}

int policy_rsa_exponent(EVP_PKEY *pub, uint32_t *ret)
{
        BIGNUM *bn = NULL;
        BN_ULONG w;

        if (!EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &bn))
                return openssl_errf(-EINVAL, "cannot read the RSA exponent");
        w = BN_get_word(bn);
        BN_free(bn);
        if (w == (BN_ULONG)-1 || w > UINT32_MAX || w < 3)
                return errf(-EINVAL, "RSA exponent does not fit a TPM key");
        *ret = (uint32_t)w;
        return 0;
}

static int rsa_key_name(EVP_PKEY *pub, uint32_t attrs, uint8_t name[34])
{
        struct buf b = { .n = 0 };
        uint8_t n[256];
        uint32_t e = 0;
        int r;

        r = policy_rsa_modulus(pub, n);
        if (r < 0)
                return r;
        r = policy_rsa_exponent(pub, &e);
        if (r < 0)
                return r;
        /* TPMT_PUBLIC */
        put16(&b, TPM_ALG_RSA);
        put16(&b, TPM_ALG_SHA256);
        put32(&b, attrs);
        put16(&b, 0);            /* authPolicy: empty */
        put16(&b, TPM_ALG_NULL); /* symmetric */
        put16(&b, TPM_ALG_NULL); /* scheme */
        put16(&b, 2048);
        /* Written as the number, never as 0 ("default"): tpm2_loadexternal
         * does the same, and the name (hence every policy) depends on it. */
        put32(&b, e);
        put16(&b, 256);
        putn(&b, n, 256);
        name[0] = 0x00;
        name[1] = 0x0B;
        return sha256(b.b, b.n, name + 2);
}

int policy_key_name(EVP_PKEY *pub, uint8_t name[34])
{
        return rsa_key_name(pub, KEY_ATTRS, name);
}

int policy_held_key_name(EVP_PKEY *pub, uint8_t name[34])
{
        return rsa_key_name(pub, HELD_KEY_ATTRS, name);
}

/* d = H(d || TPM_CC_PolicyCommandCode || code) */
static int policy_command_code(uint8_t d[32], uint32_t code)
{
        struct buf b = { .n = 0 };

        putn(&b, d, 32);
        put32(&b, TPM_CC_POLICY_COMMAND_CODE);
        put32(&b, code);
        return sha256(b.b, b.n, d);
}

int policy_owner_branches(const uint8_t held_name[34], uint8_t evict[32], uint8_t create[32])
{
        struct buf b = { .n = 0 };
        uint8_t name_hash[32];
        int r;

        /* EvictControl of exactly this object: PolicyNameHash over the names
         * of the command's handles, the owner's (its handle) and the key's. */
        put32(&b, TPM_RH_OWNER);
        putn(&b, held_name, 34);
        r = sha256(b.b, b.n, name_hash);
        if (r < 0)
                return r;
        memset(evict, 0, 32);
        memset(create, 0, 32);
        r = policy_command_code(evict, TPM_CC_EVICT_CONTROL);
        if (r < 0)
                return r;
        b.n = 0;
        putn(&b, evict, 32);
        put32(&b, TPM_CC_POLICY_NAME_HASH);
        putn(&b, name_hash, 32);
        r = sha256(b.b, b.n, evict);
        if (r < 0)
                return r;
        return policy_command_code(create, TPM_CC_CREATE_PRIMARY);
}

int policy_owner_digest(const uint8_t held_name[34], uint8_t out[32])
{
        struct buf b = { .n = 0 };
        uint8_t evict[32], create[32];
        int r;

        r = policy_owner_branches(held_name, evict, create);
        if (r < 0)
                return r;
        /* PolicyOR(evict, create), from a fresh digest */
        memset(b.b, 0, 32);
        b.n = 32;
        put32(&b, TPM_CC_POLICY_OR);
        putn(&b, evict, 32);
        putn(&b, create, 32);
        return sha256(b.b, b.n, out);
}

int policy_authorize_digest(EVP_PKEY *pub, uint8_t out[32])
{
        struct buf b = { .n = 0 };
        uint8_t name[34], d[32];
        int r;

        r = policy_key_name(pub, name);
        if (r < 0)
                return r;
        memset(b.b, 0, 32);
        b.n = 32;
        put32(&b, TPM_CC_POLICY_AUTHORIZE);
        putn(&b, name, sizeof(name));
        r = sha256(b.b, b.n, d);
        if (r < 0)
                return r;
        /* second step: H(d || policyRef), policyRef empty */
        return sha256(d, 32, out);
}

int policy_sign(EVP_PKEY *priv, const uint8_t digest[32], uint8_t **sig, size_t *sig_len)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        uint8_t *s = NULL;
        size_t n = 0;

        if (!ctx)
                return -ENOMEM;
        if (!priv || EVP_PKEY_get_base_id(priv) != EVP_PKEY_RSA)
                return errf(-EINVAL, "policy signing key is not an RSA key");
        if (EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, priv) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
            EVP_DigestSign(ctx, NULL, &n, digest, 32) != 1)
                return openssl_errf(-EIO, "cannot sign the policy digest");
        s = malloc(n);
        if (!s)
                return -ENOMEM;
        if (EVP_DigestSign(ctx, s, &n, digest, 32) != 1) {
                free(s);
                return openssl_errf(-EIO, "cannot sign the policy digest");
        }
        *sig = s;
        *sig_len = n;
        return 0;
}

int policy_verify(EVP_PKEY *pub, const uint8_t digest[32], const uint8_t *sig, size_t sig_len)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        int v;

        if (!ctx)
                return -ENOMEM;
        if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA)
                return errf(-EINVAL, "policy key is not an RSA key");
        if (EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pub) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
                return openssl_errf(-EIO, "cannot set up signature verification");
        v = EVP_DigestVerify(ctx, sig, sig_len, digest, 32);
        ERR_clear_error();
        if (v != 1)
                return errf(-EBADMSG, "signature does not verify");
        return 0;
}
