/* tpm2-key.c: the TPM-held SUDI key (`trust tpm load-key`, spec tpm.md
 * "The TPM-held key"). The key is wrapped here, in the process, the way
 * TPM2_Duplicate would have wrapped it for a new parent (TCG TPM 2.0 Part 1,
 * 23.3 "Protected storage hierarchy" and 24 "Duplication"; the KDFs are
 * Part 1, 11.4.10), imported under a storage primary of the owner hierarchy,
 * loaded and made persistent. The owner's password never comes into it:
 * provision set the owner hierarchy's authPolicy (formats/policy.h,
 * policy_owner_digest) to let exactly this key be made persistent. */
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <stdio.h>

#include "base/crypto.h"
#include "formats/policy.h"
#include "target/tpm2-internal.h"

DEFINE_CLEANUP(EVP_CIPHER_CTX_freep, EVP_CIPHER_CTX *, EVP_CIPHER_CTX_free)
DEFINE_CLEANUP(OSSL_PARAM_BLD_freep, OSSL_PARAM_BLD *, OSSL_PARAM_BLD_free)

#define HELD_KEY_ATTRS                                                                             \
        (TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_DECRYPT |              \
         TPMA_OBJECT_NODA)

bool tpm2_persistent_handle_valid(uint32_t handle)
{
        /* the owner's half of the persistent range (Part 2, 7.5) */
        return handle >= 0x81000000u && handle <= 0x817fffffu;
}

int tpm2_owner_policy_set(struct tpm2 *t, const uint8_t digest[32])
{
        TPM2B_DIGEST d = { .size = 32 };
        ESYS_TR session;
        TSS2_RC rc;
        int r;

        memcpy(d.buffer, digest, 32);
        r = tpm2_owner_session(t, 0, &session);
        if (r < 0)
                return r;
        rc = Esys_SetPrimaryPolicy(t->esys, ESYS_TR_RH_OWNER, session, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &d, TPM2_ALG_SHA256);
        tpm2_session_done(t, &t->owner_s, rc);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "SetPrimaryPolicy (owner)");
        return 0;
}

/* The key's public area as the TPM will hold it (policy_held_key_name is the
 * same bytes, computed offline). */
static int held_public(EVP_PKEY *key, TPM2B_PUBLIC *ret)
{
        uint32_t e = 0;
        int r;

        if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) != 2048)
                return errf(-EINVAL, "the key is not RSA-2048");
        *ret = (TPM2B_PUBLIC){
                .publicArea = {
                        .type = TPM2_ALG_RSA,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = HELD_KEY_ATTRS,
                        .parameters.rsaDetail = {
                                .symmetric = { .algorithm = TPM2_ALG_NULL },
                                .scheme = { .scheme = TPM2_ALG_NULL },
                                .keyBits = 2048,
                        },
                        .unique.rsa = { .size = 256 },
                },
        };
        r = policy_rsa_exponent(key, &e);
        if (r >= 0)
                r = policy_rsa_modulus(key, ret->publicArea.unique.rsa.buffer);
        ret->publicArea.parameters.rsaDetail.exponent = e;
        return r;
}

/* KDFa (Part 1, 11.4.10.2) for at most 256 bits: one HMAC-SHA256 of
 * counter 1 || label || 0 || contextU || bits. */
static int kdfa(const uint8_t seed[32], const char *label, const uint8_t *context, size_t len,
                uint32_t bits, uint8_t *out)
{
        uint8_t msg[4 + 16 + 64 + 4], md[32];
        size_t label_len = strlen(label) + 1, n = 0;
        unsigned md_len = 0;

        if (bits > 256 || label_len > 16 || len > 64)
                return -EINVAL;
        memcpy(msg, (uint8_t[]){ 0, 0, 0, 1 }, 4);
        n = 4;
        memcpy(msg + n, label, label_len);
        n += label_len;
        if (len)
                memcpy(msg + n, context, len);
        n += len;
        msg[n++] = (uint8_t)(bits >> 24);
        msg[n++] = (uint8_t)(bits >> 16);
        msg[n++] = (uint8_t)(bits >> 8);
        msg[n++] = (uint8_t)bits;
        if (!HMAC(EVP_sha256(), seed, 32, msg, n, md, &md_len) || md_len != 32)
                return openssl_errf(-EIO, "KDFa");
        memcpy(out, md, bits / 8);
        explicit_bzero(md, sizeof(md));
        return 0;
}

static EVP_PKEY *p256_public(const TPMS_ECC_POINT *p)
{
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        OSSL_PARAM *params = NULL;
        EVP_PKEY *key = NULL;
        uint8_t point[65] = { 0x04 };

        if (p->x.size != 32 || p->y.size != 32 || !bld)
                return NULL;
        memcpy(point + 1, p->x.buffer, 32);
        memcpy(point + 33, p->y.buffer, 32);
        if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) ||
            !(params = OSSL_PARAM_BLD_to_param(bld)))
                return NULL;
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
                key = NULL;
        OSSL_PARAM_free(params);
        return key;
}

/* The seed, and what carries it to the parent: an ephemeral P-256 key whose
 * ECDH with the parent's public point gives Z, and KDFe(Z, "DUPLICATE",
 * ephemeral x, parent x) (Part 1, 11.4.10.3 and annex C.6.1). */
static int seed_to_parent(const TPMS_ECC_POINT *parent, uint8_t seed[32],
                          TPM2B_ENCRYPTED_SECRET *ret)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *peer = p256_public(parent), *eph = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        TPMS_ECC_POINT q = { .x.size = 32, .y.size = 32 };
        uint8_t z[32], point[65], msg[4 + 32 + 10 + 32 + 32];
        size_t z_len = sizeof(z), point_len = 0, off = 0;
        TSS2_RC rc;
        int r = 0;

        if (!peer)
                return openssl_errf(-EBADMSG, "the storage key's public point");
        eph = EVP_EC_gen("P-256");
        ctx = eph ? EVP_PKEY_CTX_new(eph, NULL) : NULL;
        if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
            EVP_PKEY_derive(ctx, z, &z_len) != 1 || z_len != 32 ||
            EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                            sizeof(point), &point_len) != 1 ||
            point_len != 65 || point[0] != 0x04) {
                r = openssl_errf(-EIO, "ECDH with the storage key");
                goto out;
        }
        memcpy(q.x.buffer, point + 1, 32);
        memcpy(q.y.buffer, point + 33, 32);
        memcpy(msg, (uint8_t[]){ 0, 0, 0, 1 }, 4);
        memcpy(msg + 4, z, 32);
        memcpy(msg + 36, "DUPLICATE", 10);
        memcpy(msg + 46, q.x.buffer, 32);
        memcpy(msg + 78, parent->x.buffer, 32);
        r = sha256(msg, sizeof(msg), seed);
        if (r < 0)
                goto out;
        rc = Tss2_MU_TPMS_ECC_POINT_Marshal(&q, ret->secret, sizeof(ret->secret), &off);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "marshalling the seed's point");
                goto out;
        }
        ret->size = (UINT16)off;
out:
        explicit_bzero(z, sizeof(z));
        explicit_bzero(msg, sizeof(msg));
        return r;
}

/* The private part: the RSA prime p, the auth value, no seed. */
static int held_sensitive(EVP_PKEY *key, const void *auth, size_t auth_len, uint8_t *out,
                          size_t max, size_t *ret_len)
{
        TPM2B_SENSITIVE s = {
                .sensitiveArea = {
                        .sensitiveType = TPM2_ALG_RSA,
                        .authValue.size = (UINT16)auth_len,
                        .sensitive.rsa.size = 128,
                },
        };
        BIGNUM *p = NULL;
        size_t off = 0;
        TSS2_RC rc;
        int r = 0;

        if (auth_len > sizeof(s.sensitiveArea.authValue.buffer))
                return -EINVAL;
        memcpy(s.sensitiveArea.authValue.buffer, auth, auth_len);
        if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR1, &p) ||
            BN_bn2binpad(p, s.sensitiveArea.sensitive.rsa.buffer, 128) != 128)
                r = openssl_errf(-EINVAL, "the key's prime factors");
        BN_clear_free(p);
        if (r >= 0) {
                rc = Tss2_MU_TPM2B_SENSITIVE_Marshal(&s, out, max, &off);
                if (rc != TSS2_RC_SUCCESS)
                        r = tpm2_tss_err(rc, "marshalling the key's private part");
        }
        explicit_bzero(&s, sizeof(s));
        *ret_len = off;
        return r;
}

/* The duplication blob for a parent whose public point is `parent`: the
 * sensitive area encrypted with AES-128-CFB under KDFa(seed, "STORAGE",
 * name), behind an HMAC under KDFa(seed, "INTEGRITY") over it and the name;
 * no inner wrapper. */
static int wrap(EVP_PKEY *key, const void *auth, size_t auth_len, const uint8_t name[34],
                const TPMS_ECC_POINT *parent, TPM2B_PRIVATE *dup, TPM2B_ENCRYPTED_SECRET *seed_out)
{
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *c = NULL;
        uint8_t seed[32], sym[16], hmac_key[32], plain[sizeof(TPM2B_SENSITIVE)], md[32];
        uint8_t *enc = dup->buffer + 2 + 32;
        size_t plain_len = 0;
        unsigned md_len = 0;
        int r, n = 0, fin = 0;

        r = seed_to_parent(parent, seed, seed_out);
        if (r >= 0)
                r = kdfa(seed, "STORAGE", name, 34, 128, sym);
        if (r >= 0)
                r = kdfa(seed, "INTEGRITY", NULL, 0, 256, hmac_key);
        if (r >= 0)
                r = held_sensitive(key, auth, auth_len, plain, sizeof(plain), &plain_len);
        if (r < 0)
                goto out;
        if (2 + 32 + plain_len + 34 > sizeof(dup->buffer)) {
                r = errf(-EOVERFLOW, "the key's private part does not fit a TPM2B_PRIVATE");
                goto out;
        }
        c = EVP_CIPHER_CTX_new();
        if (!c ||
            EVP_EncryptInit_ex(c, EVP_aes_128_cfb128(), NULL, sym, (uint8_t[16]){}) != 1 ||
            EVP_EncryptUpdate(c, enc, &n, plain, (int)plain_len) != 1 ||
            EVP_EncryptFinal_ex(c, enc + n, &fin) != 1 || (size_t)(n + fin) != plain_len) {
                r = openssl_errf(-EIO, "encrypting the key's private part");
                goto out;
        }
        /* outerHMAC = HMAC(integrity key, encrypted sensitive || name) */
        memcpy(enc + plain_len, name, 34);
        if (!HMAC(EVP_sha256(), hmac_key, 32, enc, plain_len + 34, md, &md_len) ||
            md_len != 32) {
                r = openssl_errf(-EIO, "the key's integrity HMAC");
                goto out;
        }
        explicit_bzero(enc + plain_len, 34);
        dup->buffer[0] = 0;
        dup->buffer[1] = 32;
        memcpy(dup->buffer + 2, md, 32);
        dup->size = (UINT16)(2 + 32 + plain_len);
out:
        explicit_bzero(seed, sizeof(seed));
        explicit_bzero(sym, sizeof(sym));
        explicit_bzero(hmac_key, sizeof(hmac_key));
        explicit_bzero(plain, sizeof(plain));
        return r;
}

/* One pass through the owner policy for `command`: its branch's
 * assertions, then PolicyOR over both branches (policy_owner_branches). */
static int owner_policy_branch(struct tpm2 *t, ESYS_TR s, TPM2_CC command,
                               const uint8_t held_name[34])
{
        TPML_DIGEST branches = { .count = 2, .digests = { { .size = 32 }, { .size = 32 } } };
        TPM2B_DIGEST name_hash = { .size = 32 };
        TSS2_RC rc;
        int r;

        r = policy_owner_branches(held_name, branches.digests[0].buffer,
                                  branches.digests[1].buffer);
        if (r < 0)
                return r;
        rc = Esys_PolicyCommandCode(t->esys, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, command);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "PolicyCommandCode");
        if (command == TPM2_CC_EvictControl) {
                uint8_t buf[4 + 34] = { 0x40, 0x00, 0x00, 0x01 }; /* TPM_RH_OWNER's name */

                memcpy(buf + 4, held_name, 34);
                r = sha256(buf, sizeof(buf), name_hash.buffer);
                if (r < 0)
                        return r;
                rc = Esys_PolicyNameHash(t->esys, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                         &name_hash);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm2_tss_err(rc, "PolicyNameHash");
        }
        rc = Esys_PolicyOR(t->esys, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &branches);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "PolicyOR");
        return 0;
}

/* The owner's authorization refused: the policy provision set is for another
 * key, or was never set. */
static int owner_refused(int r, const char *what)
{
        uint32_t base = tpm2_rc_base(tpm2_last_rc());

        if (base == TPM2_RC_POLICY_FAIL || base == TPM2_RC_AUTH_UNAVAILABLE ||
            base == TPM2_RC_POLICY)
                return errf_prefix(-EPERM, "the TPM owner's policy does not let %s be made "
                                           "persistent: the TPM was provisioned for another key, "
                                           "or before trust could hold keys (re-provision it)",
                                   what);
        return r;
}

/* *ret: the object at `handle` (ESYS_TR_NONE when there is none). */
static int persistent_get(struct tpm2 *t, uint32_t handle, ESYS_TR *ret, TPM2B_NAME **ret_name)
{
        TSS2_RC rc;

        *ret = ESYS_TR_NONE;
        *ret_name = NULL;
        rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ret);
        if (rc != TSS2_RC_SUCCESS) {
                *ret = ESYS_TR_NONE;
                if (tpm2_rc_base(rc) == TPM2_RC_HANDLE)
                        return 0;
                return tpm2_tss_err(rc, "ReadPublic of the persistent handle");
        }
        rc = Esys_TR_GetName(t->esys, *ret, ret_name);
        if (rc != TSS2_RC_SUCCESS) {
                (void)Esys_TR_Close(t->esys, ret);
                return tpm2_tss_err(rc, "the persistent object's name");
        }
        return 0;
}

int tpm2_held_key_find(struct tpm2 *t, uint32_t handle, EVP_PKEY *pub)
{
        _cleanup_free_ char *want_hex = NULL, *got_hex = NULL;
        TPM2B_NAME *name = NULL;
        uint8_t want[34];
        ESYS_TR tr;
        int r;

        r = policy_held_key_name(pub, want);
        if (r >= 0)
                r = persistent_get(t, handle, &tr, &name);
        if (r < 0)
                return r;
        if (tr == ESYS_TR_NONE)
                return 0;
        (void)Esys_TR_Close(t->esys, &tr);
        if (name->size == 34 && !memcmp(name->name, want, 34)) {
                Esys_Free(name);
                return 1;
        }
        got_hex = hex_encode(name->name, name->size);
        Esys_Free(name);
        want_hex = hex_encode(want, 34);
        return errf(-EEXIST, "persistent handle 0x%08x holds another object (name %s, not %s)",
                    handle, got_hex, want_hex);
}

int tpm2_held_key_load(struct tpm2 *t, uint32_t handle, EVP_PKEY *key, const void *auth,
                       size_t auth_len)
{
        TPMT_SYM_DEF_OBJECT no_inner = { .algorithm = TPM2_ALG_NULL };
        TPM2B_ENCRYPTED_SECRET seed = {};
        TPM2B_PUBLIC pub, *parent_pub = NULL;
        TPM2B_PRIVATE dup = {}, *priv = NULL;
        TPM2B_NAME *name = NULL;
        struct session s = { .tr = ESYS_TR_NONE };
        ESYS_TR parent = ESYS_TR_NONE, obj = ESYS_TR_NONE, persistent = ESYS_TR_NONE;
        uint8_t held_name[34];
        TSS2_RC rc;
        int r;

        r = held_public(key, &pub);
        if (r >= 0)
                r = policy_held_key_name(key, held_name);
        if (r >= 0)
                r = tpm2_session_start(t, TPM2_SE_POLICY, &s);
        if (r < 0)
                return r;

        /* the parent (the SRK shape, in the owner hierarchy: an object the
         * owner makes persistent must descend from it), through the owner
         * policy's create branch */
        tpm2_last_err_reset();
        r = owner_policy_branch(t, s.tr, TPM2_CC_CreatePrimary, held_name);
        if (r >= 0)
                r = tpm2_session_ready(t, &s, 0, false);
        if (r < 0)
                goto out;
        rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, s.tr, ESYS_TR_NONE, ESYS_TR_NONE,
                                &(TPM2B_SENSITIVE_CREATE){}, &tpm2_storage_template,
                                &(TPM2B_DATA){}, &(TPML_PCR_SELECTION){}, &parent, &parent_pub,
                                NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                r = owner_refused(tpm2_tss_err(rc, "CreatePrimary of the storage key (owner)"),
                                  "this key");
                goto out;
        }

        /* wrapped here, unwrapped only inside the TPM */
        r = wrap(key, auth, auth_len, held_name, &parent_pub->publicArea.unique.ecc, &dup, &seed);
        if (r < 0)
                goto out;
        rc = Esys_Import(t->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                         &(TPM2B_DATA){}, &pub, &dup, &seed, &no_inner, &priv);
        explicit_bzero(&dup, sizeof(dup));
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "Import of the key");
                goto out;
        }
        rc = Esys_Load(t->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, priv, &pub,
                       &obj);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "Load of the imported key");
                goto out;
        }
        rc = Esys_TR_GetName(t->esys, obj, &name);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "the imported key's name");
                goto out;
        }
        if (name->size != 34 || memcmp(name->name, held_name, 34)) {
                r = errf(-EBADMSG, "the TPM named the imported key differently than trust did");
                goto out;
        }

        /* persistent, through the owner policy's evict branch */
        r = owner_policy_branch(t, s.tr, TPM2_CC_EvictControl, held_name);
        if (r >= 0) {
                s.last = true;
                r = tpm2_session_ready(t, &s, 0, true);
        }
        if (r < 0)
                goto out;
        rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, obj, s.tr, ESYS_TR_NONE, ESYS_TR_NONE,
                               handle, &persistent);
        tpm2_session_done(t, &s, rc);
        if (rc != TSS2_RC_SUCCESS) {
                r = owner_refused(tpm2_tss_err(rc, "EvictControl (make the key persistent)"),
                                  "this key");
                goto out;
        }
        (void)Esys_TR_Close(t->esys, &persistent);
out:
        Esys_Free(name);
        Esys_Free(priv);
        Esys_Free(parent_pub);
        if (obj != ESYS_TR_NONE)
                (void)Esys_FlushContext(t->esys, obj);
        if (parent != ESYS_TR_NONE)
                (void)Esys_FlushContext(t->esys, parent);
        tpm2_session_flush(t, &s);
        return r;
}

int tpm2_held_key_sign(struct tpm2 *t, uint32_t handle, const void *auth, size_t auth_len,
                       const uint8_t digest[32], uint8_t **ret, size_t *ret_len)
{
        TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_RSASSA,
                                   .details.rsassa.hashAlg = TPM2_ALG_SHA256 };
        TPMT_TK_HASHCHECK none = { .tag = TPM2_ST_HASHCHECK, .hierarchy = TPM2_RH_NULL };
        TPM2B_DIGEST d = { .size = 32 };
        TPMT_SIGNATURE *sig = NULL;
        TPM2B_AUTH a = {};
        TPM2B_NAME *name = NULL;
        struct session s = { .tr = ESYS_TR_NONE };
        ESYS_TR key;
        TSS2_RC rc;
        int r;

        if (auth_len > sizeof(a.buffer))
                return -EINVAL;
        r = persistent_get(t, handle, &key, &name);
        Esys_Free(name);
        if (r < 0)
                return r;
        if (key == ESYS_TR_NONE)
                return errf(-ENOENT, "persistent handle 0x%08x holds no key", handle);
        a.size = (UINT16)auth_len;
        memcpy(a.buffer, auth, auth_len);
        rc = Esys_TR_SetAuth(t->esys, key, &a);
        explicit_bzero(&a, sizeof(a));
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "the key's auth value");
                goto out;
        }
        /* the auth value proven in a salted HMAC session, never sent */
        r = tpm2_session_start(t, TPM2_SE_HMAC, &s);
        if (r >= 0) {
                s.last = true;
                r = tpm2_session_ready(t, &s, 0, true);
        }
        if (r < 0)
                goto out;
        memcpy(d.buffer, digest, 32);
        rc = Esys_Sign(t->esys, key, s.tr, ESYS_TR_NONE, ESYS_TR_NONE, &d, &scheme, &none, &sig);
        tpm2_session_done(t, &s, rc);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "Sign with the key at the persistent handle");
                goto out;
        }
        if (sig->sigAlg != TPM2_ALG_RSASSA || sig->signature.rsassa.sig.size == 0) {
                r = errf(-EBADMSG, "Sign answered no RSASSA signature");
                goto out;
        }
        *ret_len = sig->signature.rsassa.sig.size;
        *ret = xmalloc0(*ret_len);
        memcpy(*ret, sig->signature.rsassa.sig.buffer, *ret_len);
out:
        Esys_Free(sig);
        (void)Esys_TR_SetAuth(t->esys, key, &(TPM2B_AUTH){ .size = 0 });
        (void)Esys_TR_Close(t->esys, &key);
        tpm2_session_flush(t, &s);
        return r;
}
