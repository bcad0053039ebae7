/* tpm2.c: every TPM command trust sends, through tpm2-tss ESAPI in process.
 * The only file that includes <tss2/...>. Policies and NV layout: spec
 * tpm.md; command semantics: TCG TPM 2.0 Library Part 3. */
#include "tpm2.h"

#include <signal.h>
#include <stdio.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "crypto.h"

#define DEFAULT_TCTI "device:/dev/tpmrm0"
#define MAX_NV_HANDLES 16
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* A TCTI that forwards to the real one. It counts commands (for `make bench`
 * and the fault-injection tests) and can stop the process before command N so
 * a test kills the TPM for real at that exact point (TRUST_TPM2_PAUSE_AT). */
struct proxy_tcti {
        TSS2_TCTI_CONTEXT_COMMON_V2 common; /* must stay first: ESAPI casts to it */
        struct tpm2 *owner;
};

struct nv_handle {
        uint32_t index;
        ESYS_TR tr;
        TPMS_NV_PUBLIC pub;
};

struct tpm2 {
        TSS2_TCTI_CONTEXT *inner;
        struct proxy_tcti proxy;
        ESYS_CONTEXT *esys;
        unsigned count;
        unsigned resent;
        unsigned pause_at;
        unsigned stats;
        uint16_t nv_buffer_max;
        struct nv_handle nv[MAX_NV_HANDLES];
        size_t n_nv;

        /* the policy session of tpm2_policy_start */
        ESYS_TR session;
        bool session_last;   /* the next policy NV command ends the session */
        bool session_ending; /* continueSession is cleared for the command under way */
        TPMT_TK_VERIFIED ticket;
        TPM2B_NAME key_name;
        struct tpm2_policy policy; /* sig not kept */
};

/* Base code of a TPM response code without its parameter/handle/session
 * number (TCG Part 2, 6.6.3 "Response code formats"). */
static uint32_t rc_base(TSS2_RC rc)
{
        if (rc & 0xFF0000u)
                return rc; /* a TSS layer: keep it whole */
        if (rc & TPM2_RC_FMT1)
                return rc & 0xBFu;
        return rc & 0xFFFu;
}

static int rc_errno(TSS2_RC rc)
{
        if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER)
                return -EIO;
        switch (rc_base(rc)) {
        case TPM2_RC_HANDLE:
                return -ENOENT;
        case TPM2_RC_NV_DEFINED:
                return -EEXIST;
        case TPM2_RC_POLICY_FAIL:
        case TPM2_RC_SIGNATURE:
        case TPM2_RC_POLICY:
        case TPM2_RC_PCR_CHANGED:
        case TPM2_RC_NV_AUTHORIZATION:
                return -EACCES;
        case TPM2_RC_AUTH_FAIL:
        case TPM2_RC_BAD_AUTH:
        case TPM2_RC_HIERARCHY:
                return -EPERM;
        case TPM2_RC_LOCKOUT:
                return -EBUSY;
        case TPM2_RC_NV_SPACE:
        case TPM2_RC_OBJECT_MEMORY:
        case TPM2_RC_SESSION_MEMORY:
                return -ENOSPC;
        default:
                return -EIO;
        }
}

/* The code behind the last tss_err(), so tpm2_nv_probe can tell a refusal by
 * the TPM from a TPM it could not reach (trust is single-threaded). */
static TSS2_RC last_err;

static bool last_err_from_tpm(void)
{
        return last_err != TSS2_RC_SUCCESS &&
               (last_err & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER;
}

/* One message naming the step and the decoded code; a TPM that vanished is
 * said in words since its decoded text ("IO failure") names no TPM. */
static int tss_err(TSS2_RC rc, const char *step)
{
        int r = rc_errno(rc);

        last_err = rc;
        if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER)
                return errf(r, "%s: TPM not reachable: %s (0x%x)", step, Tss2_RC_Decode(rc), rc);
        return errf(r, "%s: %s (0x%x)", step, Tss2_RC_Decode(rc), rc);
}

static TSS2_RC proxy_transmit(TSS2_TCTI_CONTEXT *ctx, size_t size, const uint8_t *command)
{
        struct tpm2 *t = ((struct proxy_tcti *)ctx)->owner;

        t->count++;
        if (t->stats > 1 && size >= 10) /* the command code is at offset 6 (Part 1, 18.2) */
                fprintf(stderr, "trust: tpm2: command %u: 0x%08x\n", t->count,
                        (unsigned)command[6] << 24 | (unsigned)command[7] << 16 |
                                (unsigned)command[8] << 8 | command[9]);
        if (t->pause_at && t->count == t->pause_at)
                (void)raise(SIGSTOP);
        return Tss2_Tcti_Transmit(t->inner, size, command);
}

static TSS2_RC proxy_receive(TSS2_TCTI_CONTEXT *ctx, size_t *size, uint8_t *response,
                             int32_t timeout)
{
        struct tpm2 *t = ((struct proxy_tcti *)ctx)->owner;
        TSS2_RC rc = Tss2_Tcti_Receive(t->inner, size, response, timeout);

        if (rc == TSS2_RC_SUCCESS && response && *size >= 10) {
                uint32_t code = (uint32_t)response[6] << 24 | (uint32_t)response[7] << 16 |
                                (uint32_t)response[8] << 8 | response[9];

                /* ESAPI sends these again by itself */
                if (code == TPM2_RC_RETRY || code == TPM2_RC_YIELDED || code == TPM2_RC_TESTING)
                        t->resent++;
                if (t->stats > 1)
                        fprintf(stderr, "trust: tpm2: response %u: 0x%08x\n", t->count, code);
        }
        return rc;
}

static void proxy_finalize(TSS2_TCTI_CONTEXT *ctx)
{
        (void)ctx; /* the inner TCTI is finalized by tpm2_close */
}

static TSS2_RC proxy_cancel(TSS2_TCTI_CONTEXT *ctx)
{
        return Tss2_Tcti_Cancel(((struct proxy_tcti *)ctx)->owner->inner);
}

static TSS2_RC proxy_get_poll_handles(TSS2_TCTI_CONTEXT *ctx, TSS2_TCTI_POLL_HANDLE *handles,
                                      size_t *num)
{
        return Tss2_Tcti_GetPollHandles(((struct proxy_tcti *)ctx)->owner->inner, handles, num);
}

static TSS2_RC proxy_set_locality(TSS2_TCTI_CONTEXT *ctx, uint8_t locality)
{
        return Tss2_Tcti_SetLocality(((struct proxy_tcti *)ctx)->owner->inner, locality);
}

static TSS2_RC proxy_make_sticky(TSS2_TCTI_CONTEXT *ctx, TPM2_HANDLE *handle, uint8_t sticky)
{
        return Tss2_Tcti_MakeSticky(((struct proxy_tcti *)ctx)->owner->inner, handle, sticky);
}

int tpm2_open(struct tpm2 **ret)
{
        const char *tcti = getenv("TRUST_TPM2_TCTI");
        const char *e;
        struct tpm2 *t;
        TSS2_RC rc;

        if (!tcti || !*tcti)
                tcti = DEFAULT_TCTI;
        /* tpm2-tss logs its own warnings to stderr; our errors say it once. */
        if (!getenv("TSS2_LOG"))
                (void)setenv("TSS2_LOG", "all+NONE", 1);
        t = xmalloc0(sizeof(*t));
        t->session = ESYS_TR_NONE;
        e = getenv("TRUST_TPM2_PAUSE_AT");
        if (e && *e)
                t->pause_at = (unsigned)strtoul(e, NULL, 10);
        e = getenv("TRUST_TPM2_STATS");
        t->stats = e ? (unsigned)strtoul(e, NULL, 10) : 0;

        rc = Tss2_TctiLdr_Initialize(tcti, &t->inner);
        if (rc != TSS2_RC_SUCCESS) {
                free(t);
                return errf(-ENODEV, "TPM '%s': cannot open: %s (0x%x)", tcti,
                            Tss2_RC_Decode(rc), rc);
        }
        t->proxy.common.v1.magic = 0x7472757374ULL; /* "trust" */
        t->proxy.common.v1.version = 2;
        t->proxy.common.v1.transmit = proxy_transmit;
        t->proxy.common.v1.receive = proxy_receive;
        t->proxy.common.v1.finalize = proxy_finalize;
        t->proxy.common.v1.cancel = proxy_cancel;
        t->proxy.common.v1.getPollHandles = proxy_get_poll_handles;
        t->proxy.common.v1.setLocality = proxy_set_locality;
        t->proxy.common.makeSticky = proxy_make_sticky;
        t->proxy.owner = t;

        rc = Esys_Initialize(&t->esys, (TSS2_TCTI_CONTEXT *)&t->proxy, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                Tss2_TctiLdr_Finalize(&t->inner);
                free(t);
                return tss_err(rc, "ESAPI initialization");
        }
        *ret = t;
        return 0;
}

void tpm2_close(struct tpm2 *t)
{
        if (!t)
                return;
        if (t->session != ESYS_TR_NONE)
                (void)Esys_FlushContext(t->esys, t->session);
        Esys_Finalize(&t->esys);
        Tss2_TctiLdr_Finalize(&t->inner);
        if (t->stats)
                fprintf(stderr, "trust: tpm2: %u TPM commands (%u of them resent after a "
                                "retry response)\n",
                        t->count, t->resent);
        explicit_bzero(t, sizeof(*t));
        free(t);
}

unsigned tpm2_command_count(const struct tpm2 *t)
{
        return t->count;
}

static const TPML_PCR_SELECTION pcr7_selection = {
        .count = 1,
        .pcrSelections = { { .hash = TPM2_ALG_SHA256, .sizeofSelect = 3, .pcrSelect = { 0x80, 0, 0 } } },
};

int tpm2_pcr7_read(struct tpm2 *t, uint8_t out[32])
{
        TPML_PCR_SELECTION *sel_out = NULL;
        TPML_DIGEST *values = NULL;
        UINT32 counter;
        TSS2_RC rc;
        int r = 0;

        rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pcr7_selection,
                           &counter, &sel_out, &values);
        if (rc != TSS2_RC_SUCCESS)
                return tss_err(rc, "PCR_Read of PCR7");
        if (values->count != 1 || values->digests[0].size != 32)
                r = errf(-EBADMSG, "PCR_Read of PCR7: the TPM has no sha256 bank");
        else
                memcpy(out, values->digests[0].buffer, 32);
        Esys_Free(sel_out);
        Esys_Free(values);
        return r;
}

int tpm2_open_pcr7(struct tpm2 **ret, uint8_t pcr7[32])
{
        struct tpm2 *t = NULL;
        int r;

        r = tpm2_open(&t);
        if (r < 0)
                return r;
        r = tpm2_pcr7_read(t, pcr7);
        if (r < 0) {
                tpm2_close(t);
                return r;
        }
        *ret = t;
        return 0;
}

int tpm2_pcr7_extend(struct tpm2 *t, const uint8_t digest[32])
{
        TPML_DIGEST_VALUES d = { .count = 1 };
        TSS2_RC rc;

        d.digests[0].hashAlg = TPM2_ALG_SHA256;
        memcpy(d.digests[0].digest.sha256, digest, 32);
        rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR7, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                             &d);
        if (rc != TSS2_RC_SUCCESS)
                return tss_err(rc, "PCR_Extend of PCR7");
        return 0;
}

int tpm2_clear(struct tpm2 *t)
{
        TSS2_RC rc;

        /* Firmware usually disables the platform hierarchy; a TPM nobody took
         * yet still clears with the empty lockout password. */
        rc = Esys_Clear(t->esys, ESYS_TR_RH_PLATFORM, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                        ESYS_TR_NONE);
        if (rc != TSS2_RC_SUCCESS) {
                if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER)
                        return tss_err(rc, "Clear (platform)");
                rc = Esys_Clear(t->esys, ESYS_TR_RH_LOCKOUT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE);
                if (rc != TSS2_RC_SUCCESS) {
                        int r = tss_err(rc, "Clear (lockout)");

                        if (r == -EPERM || r == -EBUSY)
                                return errf(r, "Clear: the TPM is owned and its lockout "
                                               "password is set: clear it from the firmware "
                                               "(%s, 0x%x)",
                                            Tss2_RC_Decode(rc), rc);
                        return r;
                }
        }
        /* Clear emptied every owner password; ESAPI must not keep old ones. */
        (void)Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &(TPM2B_AUTH){ .size = 0 });
        (void)Esys_TR_SetAuth(t->esys, ESYS_TR_RH_ENDORSEMENT, &(TPM2B_AUTH){ .size = 0 });
        (void)Esys_TR_SetAuth(t->esys, ESYS_TR_RH_LOCKOUT, &(TPM2B_AUTH){ .size = 0 });
        for (size_t i = 0; i < t->n_nv; i++)
                (void)Esys_TR_Close(t->esys, &t->nv[i].tr);
        t->n_nv = 0;
        return 0;
}

int tpm2_da_parameters(struct tpm2 *t, uint32_t max_tries, uint32_t recovery_s,
                       uint32_t lockout_recovery_s)
{
        TSS2_RC rc;

        rc = Esys_DictionaryAttackParameters(t->esys, ESYS_TR_RH_LOCKOUT, ESYS_TR_PASSWORD,
                                             ESYS_TR_NONE, ESYS_TR_NONE, max_tries, recovery_s,
                                             lockout_recovery_s);
        if (rc != TSS2_RC_SUCCESS)
                return tss_err(rc, "DictionaryAttackParameters");
        return 0;
}

int tpm2_change_auth(struct tpm2 *t, char hierarchy, const char *password)
{
        TPM2B_AUTH auth = {};
        size_t len = strlen(password);
        ESYS_TR h;
        const char *step;
        TSS2_RC rc;

        switch (hierarchy) {
        case 'o':
                h = ESYS_TR_RH_OWNER;
                step = "HierarchyChangeAuth (owner)";
                break;
        case 'e':
                h = ESYS_TR_RH_ENDORSEMENT;
                step = "HierarchyChangeAuth (endorsement)";
                break;
        case 'l':
                h = ESYS_TR_RH_LOCKOUT;
                step = "HierarchyChangeAuth (lockout)";
                break;
        default:
                return -EINVAL;
        }
        if (len > sizeof(auth.buffer))
                return errf(-EINVAL, "%s: password too long", step);
        auth.size = (UINT16)len;
        memcpy(auth.buffer, password, len);
        rc = Esys_HierarchyChangeAuth(t->esys, h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                      &auth);
        if (rc == TSS2_RC_SUCCESS)
                rc = Esys_TR_SetAuth(t->esys, h, &auth);
        explicit_bzero(&auth, sizeof(auth));
        if (rc != TSS2_RC_SUCCESS)
                return tss_err(rc, step);
        return 0;
}

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

static int nv_get(struct tpm2 *t, uint32_t index, struct nv_handle **ret)
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
                if (rc_base(rc) == TPM2_RC_HANDLE)
                        return errf(-ENOENT, "NV index 0x%08x is not defined", index);
                return tss_err(rc, step);
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
                        return tss_err(rc, step);
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
static int nv_get_known(struct tpm2 *t, const TPMS_NV_PUBLIC *pub, struct nv_handle **ret)
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
                return nv_get(t, pub->nvIndex, ret);
        name.name[0] = 0x00;
        name.name[1] = 0x0b; /* TPM2_ALG_SHA256 */
        if (sha256(marshalled, moff, name.name + 2) < 0 ||
            Tss2_MU_UINT32_Marshal(pub->nvIndex, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPM2B_NAME_Marshal(&name, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            Tss2_MU_UINT32_Marshal(2, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPM2B_NV_PUBLIC_Marshal(&(TPM2B_NV_PUBLIC){ .nvPublic = *pub }, buf,
                                            sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            Esys_TR_Deserialize(t->esys, buf, off, &tr) != TSS2_RC_SUCCESS)
                return nv_get(t, pub->nvIndex, ret);
        t->nv[t->n_nv] = (struct nv_handle){ .index = pub->nvIndex, .tr = tr, .pub = *pub };
        *ret = &t->nv[t->n_nv++];
        return 0;
}

int tpm2_nv_info(struct tpm2 *t, uint32_t index, struct tpm2_nv_info *ret)
{
        struct nv_handle *h;
        int r;

        r = nv_get(t, index, &h);
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
                        return tss_err(rc, "GetCapability (NV handles)");
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
                        return tss_err(rc, "GetCapability (TPM2_PT_NV_BUFFER_MAX)");
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
        char step[64];
        ESYS_TR tr;
        TSS2_RC rc;

        if (t->n_nv >= MAX_NV_HANDLES)
                return errf(-ENOSPC, "NV index 0x%08x: too many open NV handles", index);
        if (auth_policy) {
                pub.nvPublic.authPolicy.size = 32;
                memcpy(pub.nvPublic.authPolicy.buffer, auth_policy, 32);
        }
        snprintf(step, sizeof(step), "NV_DefineSpace of 0x%08x", index);
        rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                 ESYS_TR_NONE, &(TPM2B_AUTH){ .size = 0 }, &pub, &tr);
        if (rc != TSS2_RC_SUCCESS)
                return tss_err(rc, step);
        t->nv[t->n_nv++] = (struct nv_handle){ .index = index, .tr = tr, .pub = pub.nvPublic };
        return 0;
}

/* The last policy command clears continueSession, so the TPM flushes the
 * session itself and no FlushContext is needed. */
static void session_end_with_next(struct tpm2 *t)
{
        if (Esys_TRSess_SetAttributes(t->esys, t->session, 0, TPMA_SESSION_CONTINUESESSION) ==
            TSS2_RC_SUCCESS)
                t->session_last = false, t->session_ending = true;
}

static void session_ended(struct tpm2 *t, bool policy, TSS2_RC rc)
{
        if (policy && t->session_ending) {
                t->session_ending = false;
                if (rc == TSS2_RC_SUCCESS)
                        t->session = ESYS_TR_NONE; /* flushed by the TPM, closed by ESAPI */
        }
}

void tpm2_policy_last(struct tpm2 *t)
{
        t->session_last = true;
}

/* Writes in chunks of TPM2_PT_NV_BUFFER_MAX, authorized either by the owner
 * password or by replaying the policy per chunk. */
static int policy_apply(struct tpm2 *t);

static int nv_write(struct tpm2 *t, uint32_t index, const void *data, size_t len, bool policy)
{
        struct nv_handle *h;
        uint16_t max;
        char step[64];
        int r;

        r = nv_get(t, index, &h);
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
                TSS2_RC rc;

                if (policy) {
                        r = policy_apply(t);
                        if (r < 0)
                                return r;
                }
                if (policy && t->session_last && off + n == len)
                        session_end_with_next(t);
                buf.size = (UINT16)n;
                memcpy(buf.buffer, (const uint8_t *)data + off, n);
                rc = Esys_NV_Write(t->esys, policy ? h->tr : ESYS_TR_RH_OWNER, h->tr,
                                   policy ? t->session : ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                   ESYS_TR_NONE, &buf, (UINT16)off);
                explicit_bzero(&buf, sizeof(buf));
                session_ended(t, policy, rc);
                if (rc != TSS2_RC_SUCCESS)
                        return tss_err(rc, step);
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
        if (t->session == ESYS_TR_NONE)
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

        r = nv_get(t, index, &h);
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
                TSS2_RC rc;

                if (policy) {
                        r = policy_apply(t);
                        if (r < 0)
                                goto fail;
                }
                if (policy && t->session_last && off + n == s.len)
                        session_end_with_next(t);
                rc = Esys_NV_Read(t->esys, h->tr, h->tr, policy ? t->session : ESYS_TR_PASSWORD,
                                  ESYS_TR_NONE, ESYS_TR_NONE, (UINT16)n, (UINT16)off, &buf);
                session_ended(t, policy, rc);
                if (rc != TSS2_RC_SUCCESS) {
                        r = tss_err(rc, step);
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
        if (t->session == ESYS_TR_NONE)
                return -EINVAL;
        return nv_read(t, index, true, ret);
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
                return tss_err(rc, "LoadExternal of the policy key");
        rc = Esys_TR_GetName(t->esys, key, &name);
        if (rc != TSS2_RC_SUCCESS) {
                (void)Esys_FlushContext(t->esys, key);
                return tss_err(rc, "LoadExternal of the policy key");
        }
        t->key_name = *name;
        Esys_Free(name);
        rc = Esys_VerifySignature(t->esys, key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ahash,
                                  &sig, &ticket);
        if (rc != TSS2_RC_SUCCESS) {
                r = tss_err(rc, "VerifySignature of the signed policy");
                (void)Esys_FlushContext(t->esys, key);
                return r;
        }
        t->ticket = *ticket;
        Esys_Free(ticket);
        rc = Esys_FlushContext(t->esys, key);
        if (rc != TSS2_RC_SUCCESS)
                return tss_err(rc, "FlushContext of the policy key");

        rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY,
                                   &(TPMT_SYM_DEF){ .algorithm = TPM2_ALG_NULL }, TPM2_ALG_SHA256,
                                   &t->session);
        if (rc != TSS2_RC_SUCCESS) {
                t->session = ESYS_TR_NONE;
                return tss_err(rc, "StartAuthSession (policy)");
        }
        t->policy = *p;
        t->policy.sig = NULL;
        t->policy.sig_len = 0;
        return 0;
}

/* Brings the session to the authorized policy for one NV command. The TPM
 * resets a policy session after it authorized a command (TCG Part 1, 19.7.1
 * "policy session ... reset"), so each chunk replays the assertions with the
 * same ticket; the first one of a session starts from a fresh digest. */
static int policy_apply(struct tpm2 *t)
{
        TPM2B_DIGEST pcr_digest = { .size = 32 };
        TPM2B_DIGEST approved = { .size = 32 };
        TSS2_RC rc;
        int r;

        r = sha256(t->policy.pcr7, 32, pcr_digest.buffer);
        if (r < 0)
                return r;
        rc = Esys_PolicyPCR(t->esys, t->session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                            &pcr_digest, &pcr7_selection);
        if (rc != TSS2_RC_SUCCESS)
                return tss_err(rc, "PolicyPCR");
        if (t->policy.nv_version) {
                TPM2B_OPERAND operand = { .size = 4 };
                struct nv_handle *h;

                /* the written 0x01500020 of spec tpm.md */
                r = nv_get_known(t,
                                 &(TPMS_NV_PUBLIC){ .nvIndex = NV_POLICY_VERSION,
                                                    .nameAlg = TPM2_ALG_SHA256,
                                                    .attributes = NVA_OWNERWRITE | NVA_OWNERREAD |
                                                                  NVA_AUTHREAD | NVA_WRITTEN,
                                                    .dataSize = 4 },
                                 &h);
                if (r < 0)
                        return r;
                memcpy(operand.buffer, t->policy.version, 4);
                rc = Esys_PolicyNV(t->esys, h->tr, h->tr, t->session, ESYS_TR_PASSWORD,
                                   ESYS_TR_NONE, ESYS_TR_NONE, &operand, 0, TPM2_EO_EQ);
                if (rc != TSS2_RC_SUCCESS)
                        return tss_err(rc, "PolicyNV on the policy version");
        }
        memcpy(approved.buffer, t->policy.approved, 32);
        rc = Esys_PolicyAuthorize(t->esys, t->session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  &approved, &(TPM2B_NONCE){ .size = 0 }, &t->key_name,
                                  &t->ticket);
        if (rc != TSS2_RC_SUCCESS)
                return tss_err(rc, "PolicyAuthorize");
        return 0;
}

int tpm2_owner_verify(struct tpm2 *t, const void *password, size_t len)
{
        TPM2B_MAX_NV_BUFFER *buf = NULL;
        TPM2B_AUTH auth = {};
        struct nv_handle *h;
        TSS2_RC rc;
        int r;

        if (len > sizeof(auth.buffer))
                return errf(-EINVAL, "owner password: %zu bytes, more than a TPM takes", len);
        r = nv_get(t, NV_LAYOUT_VERSION, &h);
        if (r < 0)
                return r;
        auth.size = (UINT16)len;
        memcpy(auth.buffer, password, len);
        rc = Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &auth);
        explicit_bzero(&auth, sizeof(auth));
        if (rc != TSS2_RC_SUCCESS)
                return tss_err(rc, "owner password");
        rc = Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, h->tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                          ESYS_TR_NONE, h->pub.dataSize, 0, &buf);
        (void)Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &(TPM2B_AUTH){ .size = 0 });
        if (rc != TSS2_RC_SUCCESS) {
                char m[512];

                r = tss_err(rc, "owner-authorized NV_Read of 0x01500002");
                snprintf(m, sizeof(m), "%s", err_msg(r)); /* errf() reuses err_msg's buffer */
                if (r == -EPERM)
                        return errf(r, "it is not the TPM owner's password (%s)", m);
                return r;
        }
        Esys_Free(buf);
        return 0;
}

/* Appends "; " and text to a probe's account of refusals. */
static void probe_note(struct tpm2_probe *p, const char *text)
{
        size_t len = strlen(p->why);

        snprintf(p->why + len, sizeof(p->why) - len, "%s%s", len ? "; " : "", text);
}

int tpm2_nv_probe(struct tpm2 *t, const struct tpm2_policy *p, uint32_t index,
                  struct tpm2_probe *ret)
{
        TPM2B_MAX_NV_BUFFER *buf = NULL;
        struct nv_handle *h;
        char step[64];
        TSS2_RC rc;
        int r;

        *ret = (struct tpm2_probe){};
        r = nv_get(t, index, &h);
        if (r == -ENOENT) {
                probe_note(ret, "not defined");
                return 0;
        }
        if (r < 0)
                return r;
        ret->defined = true;

        /* The signed policy, as far as the TPM accepts it. */
        last_err = TSS2_RC_SUCCESS;
        r = p ? tpm2_policy_start(t, p) : 0;
        if (r >= 0 && p)
                r = policy_apply(t);
        if (r < 0) {
                if (!last_err_from_tpm())
                        return r;
                probe_note(ret, err_msg(r));
        }
        if (!p)
                probe_note(ret, "no signed policy");
        if (t->session == ESYS_TR_NONE) {
                rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY,
                                           &(TPMT_SYM_DEF){ .algorithm = TPM2_ALG_NULL },
                                           TPM2_ALG_SHA256, &t->session);
                if (rc != TSS2_RC_SUCCESS) {
                        t->session = ESYS_TR_NONE;
                        return tss_err(rc, "StartAuthSession (policy)");
                }
        }

        /* The read itself: the TPM's answer is the verdict. */
        rc = Esys_NV_Read(t->esys, h->tr, h->tr, t->session, ESYS_TR_NONE, ESYS_TR_NONE, 1, 0,
                          &buf);
        (void)Esys_FlushContext(t->esys, t->session);
        t->session = ESYS_TR_NONE;
        if (rc == TSS2_RC_SUCCESS) {
                explicit_bzero(buf->buffer, buf->size);
                Esys_Free(buf);
                ret->readable = true;
                probe_note(ret, "NV_Read released data");
                return 0;
        }
        snprintf(step, sizeof(step), "NV_Read of 0x%08x", index);
        r = tss_err(rc, step);
        if (!last_err_from_tpm())
                return r;
        probe_note(ret, err_msg(r));
        return 0;
}

char *tpm2_nv_attributes_string(uint32_t a)
{
        static const struct {
                uint32_t bit;
                const char *name;
        } names[] = {
                { TPMA_NV_PPWRITE, "ppwrite" },         { TPMA_NV_OWNERWRITE, "ownerwrite" },
                { TPMA_NV_AUTHWRITE, "authwrite" },     { TPMA_NV_POLICYWRITE, "policywrite" },
                { TPMA_NV_POLICY_DELETE, "policydelete" }, { TPMA_NV_WRITELOCKED, "writelocked" },
                { TPMA_NV_WRITEALL, "writeall" },       { TPMA_NV_WRITEDEFINE, "writedefine" },
                { TPMA_NV_WRITE_STCLEAR, "write_stclear" }, { TPMA_NV_GLOBALLOCK, "globallock" },
                { TPMA_NV_PPREAD, "ppread" },           { TPMA_NV_OWNERREAD, "ownerread" },
                { TPMA_NV_AUTHREAD, "authread" },       { TPMA_NV_POLICYREAD, "policyread" },
                { TPMA_NV_NO_DA, "no_da" },             { TPMA_NV_ORDERLY, "orderly" },
                { TPMA_NV_CLEAR_STCLEAR, "clear_stclear" }, { TPMA_NV_READLOCKED, "readlocked" },
                { TPMA_NV_WRITTEN, "written" },         { TPMA_NV_PLATFORMCREATE, "platformcreate" },
                { TPMA_NV_READ_STCLEAR, "read_stclear" },
        };
        char buf[512] = "";
        size_t len = 0;

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (a & names[i].bit)
                        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
                                                len ? "|" : "", names[i].name);
        return xstrdup(buf);
}
