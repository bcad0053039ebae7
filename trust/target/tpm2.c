/* tpm2.c: the TPM context trust talks through (tpm2-tss ESAPI in process,
 * behind a counting TCTI), its errors, PCR7 and the hierarchies; sessions,
 * the signed policy and the probes are in tpm2-session.c, NV indices in
 * tpm2-nv.c. Only tpm2*.c include <tss2/...>. Policies and NV layout: spec
 * tpm.md; command semantics: TCG TPM 2.0 Library Part 3. */
#include <signal.h>
#include <stdio.h>

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "base/crypto.h"
#include "target/tpm2-internal.h"

#define DEFAULT_TCTI "device:/dev/tpmrm0"

/* Base code of a TPM response code without its parameter/handle/session
 * number (TCG Part 2, 6.6.3 "Response code formats"). */
uint32_t tpm2_rc_base(TSS2_RC rc)
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
        switch (tpm2_rc_base(rc)) {
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

/* The code behind the last tpm2_tss_err(), so tpm2_nv_probe can tell a refusal by
 * the TPM from a TPM it could not reach (trust is single-threaded). */
static TSS2_RC last_err;

TSS2_RC tpm2_last_rc(void)
{
        return last_err;
}

void tpm2_last_err_reset(void)
{
        last_err = TSS2_RC_SUCCESS;
}

bool tpm2_last_err_from_tpm(void)
{
        return last_err != TSS2_RC_SUCCESS &&
               (last_err & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER;
}

enum tpm2_refusal tpm2_refusal_take(void)
{
        TSS2_RC rc = last_err;

        last_err = TSS2_RC_SUCCESS;
        if (rc == TSS2_RC_SUCCESS)
                return TPM2_REFUSAL_NONE;
        if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER)
                return TPM2_REFUSAL_UNREACHABLE;
        if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
                return TPM2_REFUSAL_OTHER;
        switch (tpm2_rc_base(rc)) {
        case TPM2_RC_POLICY:
                return TPM2_REFUSAL_POLICY;
        case TPM2_RC_POLICY_FAIL:
                return TPM2_REFUSAL_POLICY_FAIL;
        case TPM2_RC_SIGNATURE:
                return TPM2_REFUSAL_SIGNATURE;
        case TPM2_RC_VALUE:
                return TPM2_REFUSAL_VALUE;
        default:
                return TPM2_REFUSAL_OTHER;
        }
}

/* One message naming the step and the decoded code; a TPM that vanished is
 * said in words since its decoded text ("IO failure") names no TPM. */
int tpm2_tss_err(TSS2_RC rc, const char *step)
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

/* The TCTI string for Tss2_TctiLdr with a short module name ("device",
 * "swtpm") spelled as its library: given a short name, the loader first tries
 * it as a file name in every library directory (a dozen failed opens at every
 * start) before libtss2-tcti-NAME.so.0. */
static char *tcti_spelled(const char *tcti)
{
        size_t n = strcspn(tcti, ":");

        if (n == 0 || memchr(tcti, '/', n) || memchr(tcti, '.', n))
                return xstrdup(tcti);
        return xasprintf("libtss2-tcti-%.*s.so.0%s", (int)n, tcti, tcti + n);
}

int tpm2_open_at(const char *tcti, struct tpm2 **ret)
{
        _cleanup_free_ char *spelled = NULL;
        const char *e;
        struct tpm2 *t;
        TSS2_RC rc;

        if (!tcti)
                tcti = getenv("TRUST_TPM2_TCTI");
        if (!tcti || !*tcti)
                tcti = DEFAULT_TCTI;
        /* tpm2-tss logs its own warnings to stderr; our errors say it once. */
        if (!getenv("TSS2_LOG"))
                (void)setenv("TSS2_LOG", "all+NONE", 1);
        t = xmalloc0(sizeof(*t));
        t->policy_s.tr = ESYS_TR_NONE;
        t->owner_s.tr = ESYS_TR_NONE;
        e = getenv("TRUST_TPM2_PAUSE_AT");
        if (e && *e)
                t->pause_at = (unsigned)strtoul(e, NULL, 10);
        e = getenv("TRUST_TPM2_STATS");
        t->stats = e ? (unsigned)strtoul(e, NULL, 10) : 0;

        spelled = tcti_spelled(tcti);
        rc = Tss2_TctiLdr_Initialize(spelled, &t->inner);
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
                return tpm2_tss_err(rc, "ESAPI initialization");
        }
        *ret = t;
        return 0;
}

/* Empty passwords for every handle trust gave one (only ESAPI's memory). */
static void drop_auth(struct tpm2 *t)
{
        static const ESYS_TR hierarchies[] = { ESYS_TR_RH_OWNER, ESYS_TR_RH_ENDORSEMENT,
                                               ESYS_TR_RH_LOCKOUT };

        for (size_t i = 0; i < ELEMENTSOF(hierarchies); i++)
                (void)Esys_TR_SetAuth(t->esys, hierarchies[i], &(TPM2B_AUTH){ .size = 0 });
}

void tpm2_close(struct tpm2 *t)
{
        if (!t)
                return;
        tpm2_session_flush(t, &t->policy_s);
        tpm2_session_flush(t, &t->owner_s);
        /* ESAPI keeps the hierarchy passwords it was given in its own memory,
         * which Esys_Finalize frees unwiped: overwrite them first. */
        drop_auth(t);
        Esys_Finalize(&t->esys);
        tpm2_libctx_release();
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

const TPML_PCR_SELECTION tpm2_pcr7_selection = {
        .count = 1,
        .pcrSelections = { { .hash = TPM2_ALG_SHA256,
                             .sizeofSelect = 3,
                             .pcrSelect = { 0x80, 0, 0 } } },
};

int tpm2_pcr7_read(struct tpm2 *t, uint8_t out[32])
{
        TPML_PCR_SELECTION *sel_out = NULL;
        TPML_DIGEST *values = NULL;
        UINT32 counter;
        TSS2_RC rc;
        int r = 0;

        rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tpm2_pcr7_selection,
                           &counter, &sel_out, &values);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "PCR_Read of PCR7");
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
                return tpm2_tss_err(rc, "PCR_Extend of PCR7");
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
                        return tpm2_tss_err(rc, "Clear (platform)");
                rc = Esys_Clear(t->esys, ESYS_TR_RH_LOCKOUT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE);
                if (rc != TSS2_RC_SUCCESS) {
                        int r = tpm2_tss_err(rc, "Clear (lockout)");

                        if (r == -EPERM || r == -EBUSY)
                                return errf(r, "Clear: the TPM is owned and its lockout "
                                               "password is set: clear it from the firmware "
                                               "(%s, 0x%x)",
                                            Tss2_RC_Decode(rc), rc);
                        return r;
                }
        }
        /* Clear emptied every owner password; ESAPI must not keep old ones. */
        drop_auth(t);
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
                return tpm2_tss_err(rc, "DictionaryAttackParameters");
        return 0;
}

int tpm2_change_auth(struct tpm2 *t, char hierarchy, const char *password)
{
        TPM2B_AUTH auth = {};
        size_t len = strlen(password);
        ESYS_TR h, session;
        const char *step;
        TSS2_RC rc;
        int r;

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
        /* newAuth is the command's first parameter: DECRYPT hides it. The TPM
         * keys the response HMAC with the new password, and ESAPI checks it so. */
        r = tpm2_owner_session(t, TPMA_SESSION_DECRYPT, &session);
        if (r < 0)
                return r;
        auth.size = (UINT16)len;
        memcpy(auth.buffer, password, len);
        rc = Esys_HierarchyChangeAuth(t->esys, h, session, ESYS_TR_NONE, ESYS_TR_NONE, &auth);
        tpm2_session_done(t, &t->owner_s, rc);
        if (rc == TSS2_RC_SUCCESS)
                rc = Esys_TR_SetAuth(t->esys, h, &auth);
        explicit_bzero(&auth, sizeof(auth));
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, step);
        return 0;
}

int tpm2_owner_verify(struct tpm2 *t, const void *password, size_t len)
{
        TPM2B_MAX_NV_BUFFER *buf = NULL;
        TPM2B_AUTH auth = {};
        struct nv_handle *h;
        ESYS_TR session;
        TSS2_RC rc;
        int r;

        if (len > sizeof(auth.buffer))
                return errf(-EINVAL, "owner password: %zu bytes, more than a TPM takes", len);
        r = tpm2_nv_get(t, NV_LAYOUT_VERSION, &h);
        if (r < 0)
                return r;
        auth.size = (UINT16)len;
        memcpy(auth.buffer, password, len);
        rc = Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &auth);
        explicit_bzero(&auth, sizeof(auth));
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "owner password");
        /* An HMAC proves the password without sending it; the read ends the
         * session, so it is the workflow's last command. */
        tpm2_owner_last(t);
        r = tpm2_owner_session(t, 0, &session);
        if (r < 0) {
                (void)Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &(TPM2B_AUTH){ .size = 0 });
                return r;
        }
        rc = Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, h->tr, session, ESYS_TR_NONE, ESYS_TR_NONE,
                          h->pub.dataSize, 0, &buf);
        tpm2_session_done(t, &t->owner_s, rc);
        (void)Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &(TPM2B_AUTH){ .size = 0 });
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "owner-authorized NV_Read of 0x01500002");
                if (r == -EPERM)
                        return errf_prefix(r, "it is not the TPM owner's password");
                return r;
        }
        Esys_Free(buf);
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
