/* tpm2-session.c: the sessions trust talks to the TPM through, each salted to
 * a fresh null-hierarchy key and encrypting its secret parameters with
 * AES-128-CFB (TCG TPM 2.0 Part 1, 19.6 "HMAC and policy sessions", 21
 * "Session-based encryption"): the owner HMAC session, the signed policy
 * session (spec tpm.md, "Policies") and the read probes of check-locked. */
#include <stdio.h>

#include "base/crypto.h"
#include "target/tpm2-internal.h"

static const TPMT_SYM_DEF aes128cfb = {
        .algorithm = TPM2_ALG_AES,
        .keyBits.aes = 128,
        .mode.aes = TPM2_ALG_CFB,
};

/* The salt key: an ECC P-256 storage key (the shape of TCG's SRK template,
 * which tpm2-key.c makes in the owner hierarchy too) in the null hierarchy,
 * whose auth is always empty and whose seed the TPM
 * renews at every reset, so nothing about it is left from an earlier boot or
 * needs the owner's password. ESAPI encrypts each session's salt to it
 * (ECDH; Part 3, StartAuthSession); only the TPM can recover the salt. */
const TPM2B_PUBLIC tpm2_storage_template = {
        .publicArea = {
                .type = TPM2_ALG_ECC,
                .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                    TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
                                    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT,
                .parameters.eccDetail = {
                        .symmetric = { .algorithm = TPM2_ALG_AES,
                                       .keyBits.aes = 128,
                                       .mode.aes = TPM2_ALG_CFB },
                        .scheme = { .scheme = TPM2_ALG_NULL },
                        .curveID = TPM2_ECC_NIST_P256,
                        .kdf = { .scheme = TPM2_ALG_NULL },
                },
        },
};

/* The salt key lives only around StartAuthSession: it is created, the
 * session started, and it is flushed, so no object is left loaded and the
 * workflows keep their last command (the PCR7 extend) last. */
int tpm2_session_start(struct tpm2 *t, TPM2_SE type, struct session *s)
{
        const char *step = type == TPM2_SE_POLICY ? "StartAuthSession (policy, salted)"
                                                  : "StartAuthSession (HMAC, salted)";
        ESYS_TR key = ESYS_TR_NONE;
        TSS2_RC rc;
        int r;

        s->tr = ESYS_TR_NONE;
        s->ending = false;
        rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_NULL, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &(TPM2B_SENSITIVE_CREATE){}, &tpm2_storage_template,
                                &(TPM2B_DATA){}, &(TPML_PCR_SELECTION){}, &key, NULL, NULL, NULL,
                                NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "CreatePrimary of the salt key (null hierarchy)");
        rc = Esys_StartAuthSession(t->esys, key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   ESYS_TR_NONE, NULL, type, &aes128cfb, TPM2_ALG_SHA256, &s->tr);
        if (rc != TSS2_RC_SUCCESS) {
                s->tr = ESYS_TR_NONE;
                r = tpm2_tss_err(rc, step);
                (void)Esys_FlushContext(t->esys, key);
                return r;
        }
        rc = Esys_FlushContext(t->esys, key);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "FlushContext of the salt key");
                tpm2_session_flush(t, s);
                return r;
        }
        return 0;
}

int tpm2_session_ready(struct tpm2 *t, struct session *s, TPMA_SESSION crypt, bool final)
{
        const TPMA_SESSION mask = TPMA_SESSION_ENCRYPT | TPMA_SESSION_DECRYPT |
                                  TPMA_SESSION_CONTINUESESSION;
        bool end = s->last && final;
        TSS2_RC rc;

        rc = Esys_TRSess_SetAttributes(t->esys, s->tr,
                                       crypt | (end ? 0 : TPMA_SESSION_CONTINUESESSION), mask);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "session attributes");
        s->ending = end;
        return 0;
}

void tpm2_session_done(struct tpm2 *t, struct session *s, TSS2_RC rc)
{
        (void)t;
        if (!s->ending)
                return;
        s->ending = false;
        /* flushed by the TPM, closed by ESAPI; on failure it stays, for close */
        if (rc == TSS2_RC_SUCCESS) {
                s->tr = ESYS_TR_NONE;
                s->last = false;
        }
}

void tpm2_session_flush(struct tpm2 *t, struct session *s)
{
        if (s->tr != ESYS_TR_NONE)
                (void)Esys_FlushContext(t->esys, s->tr);
        s->tr = ESYS_TR_NONE;
        s->ending = false;
}

/* One unbound salted HMAC session serves every hierarchy-authorized command.
 * Its HMAC key is the session key and the hierarchy's password (Part 1,
 * 19.6, an unbound session), so the password is proven, never sent, and the
 * parameters it encrypts are keyed by the password as well (Part 1, 21). */
int tpm2_owner_session(struct tpm2 *t, TPMA_SESSION crypt, ESYS_TR *ret)
{
        int r;

        if (t->owner_s.tr == ESYS_TR_NONE) {
                r = tpm2_session_start(t, TPM2_SE_HMAC, &t->owner_s);
                if (r < 0)
                        return r;
        }
        r = tpm2_session_ready(t, &t->owner_s, crypt, true);
        if (r < 0)
                return r;
        *ret = t->owner_s.tr;
        return 0;
}

void tpm2_owner_last(struct tpm2 *t)
{
        t->owner_s.last = true;
}

void tpm2_policy_last(struct tpm2 *t)
{
        t->policy_s.last = true;
}

int tpm2_policy_start(struct tpm2 *t, const struct tpm2_policy *p)
{
        TPM2B_PUBLIC pub = {
                .publicArea = {
                        .type = TPM2_ALG_RSA,
                        .nameAlg = TPM2_ALG_SHA256,
                        /* as tpm2_loadexternal builds it: the name must equal the
                         * keyName the NV authPolicy was computed with */
                        .objectAttributes = TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT |
                                            TPMA_OBJECT_DECRYPT,
                        .parameters.rsaDetail = {
                                .symmetric = { .algorithm = TPM2_ALG_NULL },
                                .scheme = { .scheme = TPM2_ALG_NULL },
                                .keyBits = 2048,
                                .exponent = 65537,
                        },
                        .unique.rsa = { .size = 256 },
                },
        };
        TPMT_SIGNATURE sig = { .sigAlg = TPM2_ALG_RSASSA };
        TPM2B_DIGEST ahash = { .size = 32 };
        TPMT_TK_VERIFIED *ticket = NULL;
        TPM2B_NAME *name = NULL;
        ESYS_TR key = ESYS_TR_NONE;
        TSS2_RC rc;
        int r;

        if (p->sig_len != 256)
                return errf(-EBADMSG, "signed policy: %zu bytes, not an RSA-2048 signature",
                            p->sig_len);
        memcpy(pub.publicArea.unique.rsa.buffer, p->modulus, 256);
        sig.signature.rsassa.hash = TPM2_ALG_SHA256;
        sig.signature.rsassa.sig.size = 256;
        memcpy(sig.signature.rsassa.sig.buffer, p->sig, 256);
        /* PolicyAuthorize checks a ticket for aHash = H(approvedPolicy || policyRef),
         * the policyRef being empty (TCG Part 3, 23.16). */
        r = sha256(p->approved, 32, ahash.buffer);
        if (r < 0)
                return r;

        /* The owner hierarchy: a null-hierarchy key gets a null ticket. */
        rc = Esys_LoadExternal(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, &pub,
                               ESYS_TR_RH_OWNER, &key);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "LoadExternal of the policy key");
        rc = Esys_TR_GetName(t->esys, key, &name);
        if (rc != TSS2_RC_SUCCESS) {
                (void)Esys_FlushContext(t->esys, key);
                return tpm2_tss_err(rc, "LoadExternal of the policy key");
        }
        t->key_name = *name;
        Esys_Free(name);
        rc = Esys_VerifySignature(t->esys, key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ahash,
                                  &sig, &ticket);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "VerifySignature of the signed policy");
                (void)Esys_FlushContext(t->esys, key);
                return r;
        }
        t->ticket = *ticket;
        Esys_Free(ticket);
        rc = Esys_FlushContext(t->esys, key);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "FlushContext of the policy key");

        r = tpm2_session_start(t, TPM2_SE_POLICY, &t->policy_s);
        if (r < 0)
                return r;
        t->policy = *p;
        t->policy.sig = NULL;
        t->policy.sig_len = 0;
        return 0;
}

/* Brings the session to the authorized policy for one NV command. The TPM
 * resets a policy session after it authorized a command (TCG Part 1, 19.7.1
 * "policy session ... reset"), so each chunk replays the assertions with the
 * same ticket; the first one of a session starts from a fresh digest. */
int tpm2_policy_apply(struct tpm2 *t)
{
        TPM2B_DIGEST pcr_digest = { .size = 32 };
        TPM2B_DIGEST approved = { .size = 32 };
        ESYS_TR s = t->policy_s.tr;
        TSS2_RC rc;
        int r;

        r = sha256(t->policy.pcr7, 32, pcr_digest.buffer);
        if (r < 0)
                return r;
        rc = Esys_PolicyPCR(t->esys, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pcr_digest,
                            &tpm2_pcr7_selection);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "PolicyPCR");
        if (t->policy.nv_version) {
                TPM2B_OPERAND operand = { .size = 4 };
                struct nv_handle *h;

                /* the written 0x01500020 of spec tpm.md */
                r = tpm2_nv_get_known(t,
                                 &(TPMS_NV_PUBLIC){ .nvIndex = NV_POLICY_VERSION,
                                                    .nameAlg = TPM2_ALG_SHA256,
                                                    .attributes = NVA_OWNERWRITE | NVA_OWNERREAD |
                                                                  NVA_AUTHREAD | NVA_WRITTEN,
                                                    .dataSize = 4 },
                                 &h);
                if (r < 0)
                        return r;
                memcpy(operand.buffer, t->policy.version, 4);
                rc = Esys_PolicyNV(t->esys, h->tr, h->tr, s, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                   ESYS_TR_NONE, &operand, 0, TPM2_EO_EQ);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm2_tss_err(rc, "PolicyNV on the policy version");
        }
        memcpy(approved.buffer, t->policy.approved, 32);
        rc = Esys_PolicyAuthorize(t->esys, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &approved,
                                  &(TPM2B_NONCE){ .size = 0 }, &t->key_name, &t->ticket);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "PolicyAuthorize");
        return 0;
}

/* Appends "; " and text to a probe's account of refusals. */
static void probe_note(struct tpm2_probe *p, const char *text)
{
        size_t len = strlen(p->why);

        snprintf(p->why + len, sizeof(p->why) - len, "%s%s", len ? "; " : "", text);
}

static void probe_note_err(struct tpm2_probe *p, int r)
{
        char m[sizeof(p->why)];

        err_copy(r, m, sizeof(m));
        probe_note(p, m);
}

void tpm2_probe_merge(struct tpm2_probe *into, const struct tpm2_probe *p, const char *label)
{
        char m[sizeof(p->why) + 64];

        into->defined = into->defined || p->defined;
        into->readable = into->readable || p->readable;
        snprintf(m, sizeof(m), "%s: %s", label, p->why);
        probe_note(into, m);
}

/* The one-byte read that decides a probe: the TPM's answer is the verdict,
 * the byte (encrypted on the bus) is wiped at once. */
static int probe_read(struct tpm2 *t, ESYS_TR auth, struct nv_handle *h, ESYS_TR session,
                      const char *step, struct tpm2_probe *ret)
{
        TPM2B_MAX_NV_BUFFER *buf = NULL;
        TSS2_RC rc;
        int r;

        rc = Esys_NV_Read(t->esys, auth, h->tr, session, ESYS_TR_NONE, ESYS_TR_NONE, 1, 0, &buf);
        if (rc == TSS2_RC_SUCCESS) {
                explicit_bzero(buf->buffer, buf->size);
                Esys_Free(buf);
                ret->readable = true;
                probe_note(ret, "NV_Read released data");
                return 0;
        }
        r = tpm2_tss_err(rc, step);
        if (!tpm2_last_err_from_tpm())
                return r;
        probe_note_err(ret, r);
        return 0;
}

static int probe_get(struct tpm2 *t, uint32_t index, struct nv_handle **h, struct tpm2_probe *ret)
{
        int r;

        *ret = (struct tpm2_probe){};
        r = tpm2_nv_get(t, index, h);
        if (r == -ENOENT) {
                probe_note(ret, "not defined");
                return 0;
        }
        if (r < 0)
                return r;
        ret->defined = true;
        return 1;
}

int tpm2_nv_probe(struct tpm2 *t, const struct tpm2_policy *p, uint32_t index,
                  struct tpm2_probe *ret)
{
        struct nv_handle *h;
        char step[64];
        int r;

        r = probe_get(t, index, &h, ret);
        if (r <= 0)
                return r;

        /* The signed policy, as far as the TPM accepts it. */
        tpm2_last_err_reset();
        r = p ? tpm2_policy_start(t, p) : 0;
        if (r >= 0 && p)
                r = tpm2_policy_apply(t);
        if (r < 0) {
                if (!tpm2_last_err_from_tpm())
                        return r;
                probe_note_err(ret, r);
        }
        if (!p)
                probe_note(ret, "no signed policy");
        if (t->policy_s.tr == ESYS_TR_NONE) {
                r = tpm2_session_start(t, TPM2_SE_POLICY, &t->policy_s);
                if (r < 0)
                        return r;
        }
        r = tpm2_session_ready(t, &t->policy_s, TPMA_SESSION_ENCRYPT, false);
        if (r < 0)
                return r;
        snprintf(step, sizeof(step), "NV_Read of 0x%08x", index);
        r = probe_read(t, h->tr, h, t->policy_s.tr, step, ret);
        tpm2_session_flush(t, &t->policy_s);
        return r;
}

int tpm2_nv_probe_owner(struct tpm2 *t, uint32_t index, const void *password, size_t len,
                        struct tpm2_probe *ret)
{
        TPM2B_AUTH auth = {};
        struct nv_handle *h;
        ESYS_TR session;
        char step[64];
        TSS2_RC rc;
        int r;

        if (len > sizeof(auth.buffer))
                return errf(-EINVAL, "owner password: %zu bytes, more than a TPM takes", len);
        r = probe_get(t, index, &h, ret);
        if (r <= 0)
                return r;
        auth.size = (UINT16)len;
        memcpy(auth.buffer, password, len);
        rc = Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &auth);
        explicit_bzero(&auth, sizeof(auth));
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "owner password");
        tpm2_last_err_reset();
        r = tpm2_owner_session(t, TPMA_SESSION_ENCRYPT, &session);
        if (r >= 0) {
                snprintf(step, sizeof(step), "owner-authorized NV_Read of 0x%08x", index);
                r = probe_read(t, ESYS_TR_RH_OWNER, h, session, step, ret);
                tpm2_session_done(t, &t->owner_s,
                                  ret->readable ? TSS2_RC_SUCCESS : TPM2_RC_FAILURE);
        }
        (void)Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &(TPM2B_AUTH){ .size = 0 });
        /* A password the TPM does not take proves nothing either way. */
        if (r >= 0 && !ret->readable && (tpm2_rc_base(tpm2_last_rc()) == TPM2_RC_AUTH_FAIL ||
                                         tpm2_rc_base(tpm2_last_rc()) == TPM2_RC_BAD_AUTH))
                return errf(-EPERM, "the admin password is not the TPM owner's: %s", ret->why);
        return r;
}
