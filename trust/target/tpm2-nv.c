/* tpm2-nv.c: trust's NV indices through ESAPI: handles (with the public
 * area read once, or computed for the layout's fixed indices), info and
 * listing, the layout's attributes, define, and reads/writes in
 * TPM2_PT_NV_BUFFER_MAX chunks, authorized by the owner session or by
 * replaying the signed policy per chunk, their data encrypted (spec tpm.md). */
#include <stdio.h>

#include "base/crypto.h"
#include "target/tpm2-internal.h"

/* NV handles: ESAPI needs an ESYS_TR (name and public area) per index. The
 * public area comes from the TPM once (NV_ReadPublic inside FromTPMPublic)
 * and is kept with the handle. */
static int nv_public_from_tr(struct tpm2 *t, ESYS_TR tr, uint32_t index, TPMS_NV_PUBLIC *ret)
{
        uint8_t *buf = NULL, marshalled[sizeof(TPMS_NV_PUBLIC)], digest[32];
        size_t len = 0, off = 0, moff = 0;
        TPM2B_NV_PUBLIC pub = {};
        TPM2B_NAME name = {};
        UINT32 handle, type;
        int r = -EBADMSG;

        if (Esys_TR_Serialize(t->esys, tr, &buf, &len) != TSS2_RC_SUCCESS)
                return -EIO;
        if (Tss2_MU_UINT32_Unmarshal(buf, len, &off, &handle) == TSS2_RC_SUCCESS &&
            Tss2_MU_TPM2B_NAME_Unmarshal(buf, len, &off, &name) == TSS2_RC_SUCCESS &&
            Tss2_MU_UINT32_Unmarshal(buf, len, &off, &type) == TSS2_RC_SUCCESS &&
            Tss2_MU_TPM2B_NV_PUBLIC_Unmarshal(buf, len, &off, &pub) == TSS2_RC_SUCCESS &&
            handle == index && pub.nvPublic.nvIndex == index &&
            pub.nvPublic.nameAlg == TPM2_ALG_SHA256 && name.size == 34 &&
            Tss2_MU_TPMS_NV_PUBLIC_Marshal(&pub.nvPublic, marshalled, sizeof(marshalled),
                                           &moff) == TSS2_RC_SUCCESS &&
            sha256(marshalled, moff, digest) >= 0 && name.name[0] == 0x00 &&
            name.name[1] == 0x0b && !memcmp(name.name + 2, digest, 32)) {
                *ret = pub.nvPublic;
                r = 0;
        }
        Esys_Free(buf);
        return r;
}

int tpm2_nv_get(struct tpm2 *t, uint32_t index, struct nv_handle **ret)
{
        TPM2B_NV_PUBLIC *pub = NULL;
        TPM2B_NAME *name = NULL;
        TPMS_NV_PUBLIC nvpub;
        struct nv_handle *h;
        char step[64];
        ESYS_TR tr;
        TSS2_RC rc;

        for (size_t i = 0; i < t->n_nv; i++)
                if (t->nv[i].index == index) {
                        *ret = &t->nv[i];
                        return 0;
                }
        if (t->n_nv >= MAX_NV_HANDLES)
                return errf(-ENOSPC, "NV index 0x%08x: too many open NV handles", index);

        snprintf(step, sizeof(step), "NV_ReadPublic of 0x%08x", index);
        rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
        if (rc != TSS2_RC_SUCCESS) {
                if (tpm2_rc_base(rc) == TPM2_RC_HANDLE)
                        return errf(-ENOENT, "NV index 0x%08x is not defined", index);
                return tpm2_tss_err(rc, step);
        }
        /* FromTPMPublic already read (and checked against its name) the
         * public area; take it from the handle's serialized metadata (handle,
         * name, resource type, TPM2B_NV_PUBLIC) rather than asking the TPM a
         * second time, and fall back to NV_ReadPublic should that ever change. */
        if (nv_public_from_tr(t, tr, index, &nvpub) < 0) {
                rc = Esys_NV_ReadPublic(t->esys, tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        &pub, &name);
                if (rc != TSS2_RC_SUCCESS) {
                        (void)Esys_TR_Close(t->esys, &tr);
                        return tpm2_tss_err(rc, step);
                }
                nvpub = pub->nvPublic;
                Esys_Free(pub);
                Esys_Free(name);
        }
        h = &t->nv[t->n_nv++];
        h->index = index;
        h->tr = tr;
        h->pub = nvpub;
        *ret = h;
        return 0;
}

/* An ESYS_TR for an index whose public area is fixed by the layout, made
 * without asking the TPM: ESAPI's serialized form (handle, name, resource
 * type 2 = NV, TPM2B_NV_PUBLIC) with the name computed here. The TPM still
 * checks the real index where it matters (PolicyNV hashes its own name), so a
 * different index only makes the policy fail. Falls back to nv_get. */
int tpm2_nv_get_known(struct tpm2 *t, const TPMS_NV_PUBLIC *pub, struct nv_handle **ret)
{
        uint8_t buf[sizeof(UINT32) * 2 + sizeof(TPM2B_NAME) + sizeof(TPM2B_NV_PUBLIC)];
        uint8_t marshalled[sizeof(TPMS_NV_PUBLIC)];
        TPM2B_NAME name = { .size = 34 };
        size_t off = 0, moff = 0;
        ESYS_TR tr;

        for (size_t i = 0; i < t->n_nv; i++)
                if (t->nv[i].index == pub->nvIndex) {
                        *ret = &t->nv[i];
                        return 0;
                }
        if (t->n_nv >= MAX_NV_HANDLES ||
            Tss2_MU_TPMS_NV_PUBLIC_Marshal(pub, marshalled, sizeof(marshalled), &moff) !=
                    TSS2_RC_SUCCESS)
                return tpm2_nv_get(t, pub->nvIndex, ret);
        name.name[0] = 0x00;
        name.name[1] = 0x0b; /* TPM2_ALG_SHA256 */
        if (sha256(marshalled, moff, name.name + 2) < 0 ||
            Tss2_MU_UINT32_Marshal(pub->nvIndex, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPM2B_NAME_Marshal(&name, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            Tss2_MU_UINT32_Marshal(2, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPM2B_NV_PUBLIC_Marshal(&(TPM2B_NV_PUBLIC){ .nvPublic = *pub }, buf,
                                            sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            Esys_TR_Deserialize(t->esys, buf, off, &tr) != TSS2_RC_SUCCESS)
                return tpm2_nv_get(t, pub->nvIndex, ret);
        t->nv[t->n_nv] = (struct nv_handle){ .index = pub->nvIndex, .tr = tr, .pub = *pub };
        *ret = &t->nv[t->n_nv++];
        return 0;
}

int tpm2_nv_info(struct tpm2 *t, uint32_t index, struct tpm2_nv_info *ret)
{
        struct nv_handle *h;
        int r;

        r = tpm2_nv_get(t, index, &h);
        if (r < 0)
                return r;
        *ret = (struct tpm2_nv_info){
                .index = index,
                .attributes = h->pub.attributes,
                .size = h->pub.dataSize,
                .auth_policy_len = h->pub.authPolicy.size,
        };
        memcpy(ret->auth_policy, h->pub.authPolicy.buffer,
               MIN(sizeof(ret->auth_policy), (size_t)h->pub.authPolicy.size));
        return 0;
}

int tpm2_nv_list(struct tpm2 *t, uint32_t first, uint32_t last, uint32_t **ret, size_t *ret_n)
{
        TPMS_CAPABILITY_DATA *cap = NULL;
        _cleanup_free_ uint32_t *list = NULL;
        size_t n = 0;
        TPMI_YES_NO more = TPM2_YES;
        uint32_t next = first;
        TSS2_RC rc;

        while (more && next <= last) {
                rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        TPM2_CAP_HANDLES, next, TPM2_MAX_CAP_HANDLES, &more, &cap);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm2_tss_err(rc, "GetCapability (NV handles)");
                TPML_HANDLE *hl = &cap->data.handles;
                if (hl->count == 0) {
                        Esys_Free(cap);
                        break;
                }
                list = realloc(list, (n + hl->count) * sizeof(uint32_t));
                if (!list)
                        abort();
                for (UINT32 i = 0; i < hl->count; i++)
                        if (hl->handle[i] >= first && hl->handle[i] <= last)
                                list[n++] = hl->handle[i];
                next = hl->handle[hl->count - 1] + 1;
                Esys_Free(cap);
        }
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

static int nv_buffer_max(struct tpm2 *t, uint16_t *ret)
{
        TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more;
        TSS2_RC rc;

        if (!t->nv_buffer_max) {
                rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1, &more,
                                        &cap);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm2_tss_err(rc, "GetCapability (TPM2_PT_NV_BUFFER_MAX)");
                if (cap->data.tpmProperties.count >= 1 &&
                    cap->data.tpmProperties.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX)
                        t->nv_buffer_max = (uint16_t)MIN(
                                cap->data.tpmProperties.tpmProperty[0].value,
                                (UINT32)TPM2_MAX_NV_BUFFER_SIZE);
                Esys_Free(cap);
                if (t->nv_buffer_max < 64)
                        return errf(-EBADMSG, "GetCapability: TPM reports no usable "
                                              "TPM2_PT_NV_BUFFER_MAX");
        }
        *ret = t->nv_buffer_max;
        return 0;
}

/* NV layouts 3 and 4 (spec tpm.md): layout 4 takes ownerread from the
 * indices only their signed policy may read, so the owner can delete and
 * re-provision them but not read them. 0x01500020 keeps its attributes: its
 * name is part of the luks policy. */
static const struct {
        uint32_t index;
        uint32_t v3, v4;
} layout_attributes[] = {
        { NV_ADMIN_PASSWORD, NVA_OWNERWRITE | NVA_OWNERREAD | NVA_POLICYREAD,
          NVA_OWNERWRITE | NVA_POLICYREAD },
        { NV_LAYOUT_VERSION, NVA_OWNERWRITE | NVA_OWNERREAD | NVA_AUTHREAD,
          NVA_OWNERWRITE | NVA_OWNERREAD | NVA_AUTHREAD },
        { NV_POLICY_VERSION, NVA_OWNERWRITE | NVA_OWNERREAD | NVA_AUTHREAD,
          NVA_OWNERWRITE | NVA_OWNERREAD | NVA_AUTHREAD },
        { NV_CERT, NVA_OWNERWRITE | NVA_OWNERREAD | NVA_POLICYREAD,
          NVA_OWNERWRITE | NVA_OWNERREAD | NVA_POLICYREAD },
        { NV_KEY, NVA_OWNERWRITE | NVA_OWNERREAD | NVA_POLICYREAD,
          NVA_OWNERWRITE | NVA_POLICYREAD },
        { NV_SBF_PASSPHRASE, NVA_OWNERWRITE | NVA_OWNERREAD | NVA_POLICYREAD,
          NVA_OWNERWRITE | NVA_POLICYREAD },
        { NV_OS_PASSPHRASE, NVA_OWNERWRITE | NVA_OWNERREAD | NVA_POLICYREAD | NVA_POLICYWRITE,
          NVA_OWNERWRITE | NVA_POLICYREAD | NVA_POLICYWRITE },
};

uint32_t tpm2_nv_layout_attributes(unsigned layout, uint32_t index)
{
        for (size_t i = 0; i < ELEMENTSOF(layout_attributes); i++)
                if (layout_attributes[i].index == index)
                        return layout == 3   ? layout_attributes[i].v3
                               : layout == 4 ? layout_attributes[i].v4
                                             : 0;
        return 0;
}

bool tpm2_nv_policy_only(uint32_t index)
{
        uint32_t v4 = tpm2_nv_layout_attributes(4, index);

        return v4 && !(v4 & (NVA_OWNERREAD | NVA_AUTHREAD));
}

bool tpm2_nv_secret_owner_readable(uint32_t index, uint32_t attributes)
{
        return tpm2_nv_policy_only(index) && (attributes & (NVA_OWNERREAD | NVA_AUTHREAD));
}

int tpm2_nv_define(struct tpm2 *t, uint32_t index, uint32_t attributes,
                   const uint8_t auth_policy[32], uint16_t size)
{
        TPM2B_NV_PUBLIC pub = {
                .nvPublic = {
                        .nvIndex = index,
                        .nameAlg = TPM2_ALG_SHA256,
                        .attributes = attributes,
                        .dataSize = size,
                },
        };
        ESYS_TR tr, session;
        char step[64];
        TSS2_RC rc;
        int r;

        if (t->n_nv >= MAX_NV_HANDLES)
                return errf(-ENOSPC, "NV index 0x%08x: too many open NV handles", index);
        if (auth_policy) {
                pub.nvPublic.authPolicy.size = 32;
                memcpy(pub.nvPublic.authPolicy.buffer, auth_policy, 32);
        }
        r = tpm2_owner_session(t, 0, &session);
        if (r < 0)
                return r;
        snprintf(step, sizeof(step), "NV_DefineSpace of 0x%08x", index);
        rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, session, ESYS_TR_NONE, ESYS_TR_NONE,
                                 &(TPM2B_AUTH){ .size = 0 }, &pub, &tr);
        tpm2_session_done(t, &t->owner_s, rc);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, step);
        t->nv[t->n_nv++] = (struct nv_handle){ .index = index, .tr = tr, .pub = pub.nvPublic };
        return 0;
}

/* The session that authorizes one chunk: the owner's, or the policy session
 * with the policy replayed; either encrypts the data (`crypt`). */
static int chunk_auth(struct tpm2 *t, bool policy, TPMA_SESSION crypt, bool final, ESYS_TR *ret)
{
        int r;

        if (!policy)
                return tpm2_owner_session(t, crypt, ret);
        r = tpm2_policy_apply(t);
        if (r < 0)
                return r;
        r = tpm2_session_ready(t, &t->policy_s, crypt, final);
        if (r < 0)
                return r;
        *ret = t->policy_s.tr;
        return 0;
}

static void chunk_done(struct tpm2 *t, bool policy, TSS2_RC rc)
{
        tpm2_session_done(t, policy ? &t->policy_s : &t->owner_s, rc);
}

/* Writes in chunks of TPM2_PT_NV_BUFFER_MAX, authorized either by the owner
 * password or by replaying the policy per chunk. */
static int nv_write(struct tpm2 *t, uint32_t index, const void *data, size_t len, bool policy)
{
        struct nv_handle *h;
        uint16_t max;
        char step[64];
        int r;

        r = tpm2_nv_get(t, index, &h);
        if (r < 0)
                return r;
        if (len != h->pub.dataSize)
                return errf(-EINVAL, "NV index 0x%08x holds %u bytes, not %zu", index,
                            h->pub.dataSize, len);
        r = nv_buffer_max(t, &max);
        if (r < 0)
                return r;
        snprintf(step, sizeof(step), "NV_Write of 0x%08x", index);
        for (size_t off = 0; off < len;) {
                TPM2B_MAX_NV_BUFFER buf = {};
                size_t n = MIN((size_t)max, len - off);
                ESYS_TR session;
                TSS2_RC rc;

                r = chunk_auth(t, policy, TPMA_SESSION_DECRYPT, off + n == len, &session);
                if (r < 0)
                        return r;
                buf.size = (UINT16)n;
                memcpy(buf.buffer, (const uint8_t *)data + off, n);
                rc = Esys_NV_Write(t->esys, policy ? h->tr : ESYS_TR_RH_OWNER, h->tr, session,
                                   ESYS_TR_NONE, ESYS_TR_NONE, &buf, (UINT16)off);
                explicit_bzero(&buf, sizeof(buf));
                chunk_done(t, policy, rc);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm2_tss_err(rc, step);
                off += n;
        }
        return 0;
}

int tpm2_nv_write_owner(struct tpm2 *t, uint32_t index, const void *data, size_t len)
{
        return nv_write(t, index, data, len, false);
}

int tpm2_nv_write_policy(struct tpm2 *t, uint32_t index, const void *data, size_t len)
{
        if (t->policy_s.tr == ESYS_TR_NONE)
                return -EINVAL;
        return nv_write(t, index, data, len, true);
}

static int nv_read(struct tpm2 *t, uint32_t index, bool policy, struct secret *ret)
{
        struct secret s = {};
        struct nv_handle *h;
        uint16_t max;
        char step[64];
        int r;

        r = tpm2_nv_get(t, index, &h);
        if (r < 0)
                return r;
        if (!(h->pub.attributes & TPMA_NV_WRITTEN))
                return errf(-ENODATA, "NV index 0x%08x was never written", index);
        r = nv_buffer_max(t, &max);
        if (r < 0)
                return r;
        r = secret_alloc(&s, h->pub.dataSize);
        if (r < 0)
                return r;
        snprintf(step, sizeof(step), "NV_Read of 0x%08x", index);
        for (size_t off = 0; off < s.len;) {
                TPM2B_MAX_NV_BUFFER *buf = NULL;
                size_t n = MIN((size_t)max, s.len - off);
                ESYS_TR session = ESYS_TR_PASSWORD; /* authread: the empty password */
                TSS2_RC rc;

                if (policy) {
                        r = chunk_auth(t, true, TPMA_SESSION_ENCRYPT, off + n == s.len, &session);
                        if (r < 0)
                                goto fail;
                }
                rc = Esys_NV_Read(t->esys, h->tr, h->tr, session, ESYS_TR_NONE, ESYS_TR_NONE,
                                  (UINT16)n, (UINT16)off, &buf);
                if (policy)
                        chunk_done(t, true, rc);
                if (rc != TSS2_RC_SUCCESS) {
                        r = tpm2_tss_err(rc, step);
                        goto fail;
                }
                if (buf->size != n) {
                        explicit_bzero(buf->buffer, buf->size);
                        Esys_Free(buf);
                        r = errf(-EBADMSG, "%s: short read", step);
                        goto fail;
                }
                memcpy(s.data + off, buf->buffer, n);
                explicit_bzero(buf->buffer, buf->size);
                Esys_Free(buf);
                off += n;
        }
        *ret = s;
        return 0;
fail:
        secret_free(&s);
        return r;
}

int tpm2_nv_read_authread(struct tpm2 *t, uint32_t index, struct secret *ret)
{
        return nv_read(t, index, false, ret);
}

int tpm2_nv_read_policy(struct tpm2 *t, uint32_t index, struct secret *ret)
{
        if (t->policy_s.tr == ESYS_TR_NONE)
                return -EINVAL;
        return nv_read(t, index, true, ret);
}
