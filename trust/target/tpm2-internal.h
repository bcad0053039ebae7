/* tpm2-internal.h: what tpm2.c (context, errors, PCRs, hierarchies, policy
 * sessions) and tpm2-nv.c (NV handles, define, read, write) share. Only
 * these two files and this header include <tss2/...>; the rest of trust
 * goes through tpm2.h. */
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

#include "target/tpm2.h"

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

/* One errf() naming the TPM step and the decoded code (and kept for
 * tpm2_nv_probe, see tpm2.c). */
int tpm2_tss_err(TSS2_RC rc, const char *step);
/* A TPM response code without its parameter/handle/session number. */
uint32_t tpm2_rc_base(TSS2_RC rc);
/* The ESYS_TR of an NV index: from the TPM once (NV_ReadPublic), or, for an
 * index whose public area the layout fixes, computed without asking. */
int tpm2_nv_get(struct tpm2 *t, uint32_t index, struct nv_handle **ret);
int tpm2_nv_get_known(struct tpm2 *t, const TPMS_NV_PUBLIC *pub, struct nv_handle **ret);
/* Replays the signed policy on the session for one NV command. */
int tpm2_policy_apply(struct tpm2 *t);
