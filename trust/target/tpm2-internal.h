/* tpm2-internal.h: what tpm2.c (context, errors, PCRs, hierarchies),
 * tpm2-session.c (salted sessions, the signed policy, probes) and tpm2-nv.c
 * (NV handles, layout, define, read, write) share. Only these files and this
 * header include <tss2/...>; the rest of trust goes through tpm2.h. */
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

/* A salted session with AES-128-CFB parameter encryption (tpm2-session.c). */
struct session {
        ESYS_TR tr;
        bool last;   /* the next command through it ends it (continueSession cleared) */
        bool ending; /* continueSession is cleared for the command under way */
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
        struct session policy_s;
        TPMT_TK_VERIFIED ticket;
        TPM2B_NAME key_name;
        struct tpm2_policy policy; /* sig not kept */

        /* the HMAC session that authorizes owner, endorsement and lockout */
        struct session owner_s;
};

extern const TPML_PCR_SELECTION tpm2_pcr7_selection;
/* TCG's ECC P-256 SRK shape (restricted decrypt, AES-128-CFB, empty auth):
 * the salt key in the null hierarchy, the parent of the held key in the
 * owner's (tpm2-session.c). */
extern const TPM2B_PUBLIC tpm2_storage_template;

/* One errf() naming the TPM step and the decoded code (and kept for
 * tpm2_nv_probe, see tpm2.c). */
/* tpm2-libctx.c: frees the OpenSSL library context ESAPI's hashes and HMACs
 * share (made again on their next use); tpm2_close calls it, between ESAPI
 * calls, which hold no context of their own across calls. */
void tpm2_libctx_release(void);

int tpm2_tss_err(TSS2_RC rc, const char *step);
/* True when the code behind the last tpm2_tss_err() came from the TPM itself
 * (a refusal), not from a TPM that could not be reached. */
bool tpm2_last_err_from_tpm(void);
TSS2_RC tpm2_last_rc(void);
void tpm2_last_err_reset(void);
/* A TPM response code without its parameter/handle/session number. */
uint32_t tpm2_rc_base(TSS2_RC rc);
/* The ESYS_TR of an NV index: from the TPM once (NV_ReadPublic), or, for an
 * index whose public area the layout fixes, computed without asking. */
int tpm2_nv_get(struct tpm2 *t, uint32_t index, struct nv_handle **ret);
int tpm2_nv_get_known(struct tpm2 *t, const TPMS_NV_PUBLIC *pub, struct nv_handle **ret);
/* Replays the signed policy on the session for one NV command. */
int tpm2_policy_apply(struct tpm2 *t);

/* Sessions (tpm2-session.c). tpm2_session_start: a session of `type` salted
 * to a fresh null-hierarchy ECC key (created and flushed around it) with
 * AES-128-CFB. tpm2_session_ready readies s for one command: parameter
 * encryption exactly `crypt` (TPMA_SESSION_ENCRYPT: the response's first
 * parameter, DECRYPT: the command's), and when s is marked last and `final`
 * holds, continueSession cleared so the TPM flushes it; tpm2_session_done
 * after the command forgets a session the TPM flushed. */
int tpm2_session_start(struct tpm2 *t, TPM2_SE type, struct session *s);
int tpm2_session_ready(struct tpm2 *t, struct session *s, TPMA_SESSION crypt, bool final);
void tpm2_session_done(struct tpm2 *t, struct session *s, TSS2_RC rc);
void tpm2_session_flush(struct tpm2 *t, struct session *s);
/* The owner session (started on first use), readied for one command
 * authorized by a hierarchy whose password ESAPI holds (Esys_TR_SetAuth). */
int tpm2_owner_session(struct tpm2 *t, TPMA_SESSION crypt, ESYS_TR *ret);
