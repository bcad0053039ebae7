/* tpm2.h: the only door to the TPM (tpm2-tss ESAPI, in process). NV layouts
 * 3 and 4 and the policies are described in spec tpm.md; every command that
 * carries a secret runs in a salted session with AES-128-CFB parameter
 * encryption. Every function returns >= 0 or -errno with errf() text naming
 * the TPM step and the decoded TSS2_RC. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "formats/nvlayout.h" /* NV indices, layout and policy versions */

/* TPMA_NV bits (TCG TPM 2.0 Part 2, 13.4) */
#define NVA_OWNERWRITE 0x00000002u
#define NVA_POLICYWRITE 0x00000008u
#define NVA_OWNERREAD 0x00020000u
#define NVA_AUTHREAD 0x00040000u
#define NVA_POLICYREAD 0x00080000u
#define NVA_WRITTEN 0x20000000u

/* What every trust TPM command must do when the final PCR7 extend fails: the
 * secrets are still readable in this boot, so the caller powers off. */
#define EXIT_PCR7_UNLOCKED 3

struct tpm2;

/* What the TPM answered to the last command that failed, by its response code
 * (TCG Part 2, 6.6.3), so a caller can explain a refusal without reading the
 * message. tpm2_refusal_take() returns it and forgets it (trust is
 * single-threaded): take once before a call to start clean. */
enum tpm2_refusal {
        TPM2_REFUSAL_NONE,        /* no TPM failure since the last take */
        TPM2_REFUSAL_UNREACHABLE, /* no answer (TCTI): this context is unusable */
        TPM2_REFUSAL_POLICY,      /* TPM_RC_POLICY: a PolicyNV comparison failed */
        TPM2_REFUSAL_POLICY_FAIL, /* TPM_RC_POLICY_FAIL: the session is not the policy */
        TPM2_REFUSAL_SIGNATURE,   /* TPM_RC_SIGNATURE: e.g. VerifySignature */
        TPM2_REFUSAL_VALUE,       /* TPM_RC_VALUE: e.g. PolicyPCR's digest is not PCR7's */
        TPM2_REFUSAL_OTHER,
};
enum tpm2_refusal tpm2_refusal_take(void);


/* Opens the TPM named by tcti, or when it is NULL by $TRUST_TPM2_TCTI
 * (default "device:/dev/tpmrm0"), through Tss2_TctiLdr. Test hooks, read from the environment:
 *   TRUST_TPM2_PAUSE_AT=N  stop the process (SIGSTOP) just before sending the
 *                          Nth TPM command, so a test can kill the TPM for real
 *                          and then continue the process (SIGCONT);
 *   TRUST_TPM2_STATS=1     print "trust: tpm2: N TPM commands" to stderr on close
 *                          (2: also each command code as it is sent). */
int tpm2_open_at(const char *tcti, struct tpm2 **ret);
static inline int tpm2_open(struct tpm2 **ret)
{
        return tpm2_open_at(NULL, ret);
}
void tpm2_close(struct tpm2 *t);
static inline void tpm2_closep(struct tpm2 **t)
{
        if (*t)
                tpm2_close(*t);
}
unsigned tpm2_command_count(const struct tpm2 *t);

int tpm2_pcr7_read(struct tpm2 *t, uint8_t out[32]);
/* tpm2_open then tpm2_pcr7_read: where every on-target workflow starts. */
int tpm2_open_pcr7(struct tpm2 **ret, uint8_t pcr7[32]);
int tpm2_pcr7_extend(struct tpm2 *t, const uint8_t digest[32]);

/* Ownership (provision). tpm2_clear tries the platform hierarchy and falls
 * back to lockout with an empty password. tpm2_change_auth sets the password
 * of the owner ('o'), endorsement ('e') or lockout ('l') hierarchy, sent
 * encrypted in the salted owner HMAC session that later owner-authorized calls
 * (define, owner writes) use with it; no password crosses the bus in clear.
 * tpm2_owner_last marks the next owner-authorized command as the session's
 * last, so the TPM flushes it with that command (no trailing FlushContext). */
int tpm2_clear(struct tpm2 *t);
int tpm2_da_parameters(struct tpm2 *t, uint32_t max_tries, uint32_t recovery_s,
                       uint32_t lockout_recovery_s);
int tpm2_change_auth(struct tpm2 *t, char hierarchy, const char *password);
void tpm2_owner_last(struct tpm2 *t);

struct tpm2_nv_info {
        uint32_t index;
        uint32_t attributes;
        uint16_t size;
        uint8_t auth_policy[64];
        uint16_t auth_policy_len;
};
/* -ENOENT when the index is not defined. */
int tpm2_nv_info(struct tpm2 *t, uint32_t index, struct tpm2_nv_info *ret);
/* Defined indices in [first, last]. */
int tpm2_nv_list(struct tpm2 *t, uint32_t first, uint32_t last, uint32_t **ret, size_t *ret_n);
/* The NV attributes of `index` in NV layout `layout` (3 or 4, spec tpm.md):
 * what provision defines each index with; 0 for an index or layout trust does
 * not have. */
uint32_t tpm2_nv_layout_attributes(unsigned layout, uint32_t index);
/* True when `index` holds a secret that layout 4 lets only its signed policy
 * read (admin password, private key, both passphrases; not the certificate). */
bool tpm2_nv_policy_only(uint32_t index);
/* True for such an index whose `attributes` let the owner (or anyone,
 * authread) read it too: a layout-3 index, which re-provisioning fixes. */
bool tpm2_nv_secret_owner_readable(uint32_t index, uint32_t attributes);
/* auth_policy may be NULL (empty policy). */
int tpm2_nv_define(struct tpm2 *t, uint32_t index, uint32_t attributes,
                   const uint8_t auth_policy[32], uint16_t size);
/* Owner-authorized (owner session, data encrypted). */
int tpm2_nv_write_owner(struct tpm2 *t, uint32_t index, const void *data, size_t len);
/* Reads a whole authread index with the empty password. */
int tpm2_nv_read_authread(struct tpm2 *t, uint32_t index, struct secret *ret);

/* A signed PolicyAuthorize session (spec tpm.md, "Policies"). */
struct tpm2_policy {
        uint8_t pcr7[32];        /* PCR7 value the policy was signed for */
        bool nv_version;         /* luks policy: PolicyNV(0x01500020 == version) */
        char version[4];
        uint8_t approved[32];    /* the signed policy digest (policy.h) */
        uint8_t modulus[256];    /* signer's RSA-2048 public modulus */
        const uint8_t *sig;      /* RSASSA-PKCS1-v1_5/SHA-256 over approved */
        size_t sig_len;
};
/* Loads the signer key (owner hierarchy), gets one VerifySignature ticket and
 * starts the policy session the reads/writes below replay per chunk; the
 * session is salted, and their data crosses the bus encrypted. */
int tpm2_policy_start(struct tpm2 *t, const struct tpm2_policy *p);
/* Marks the next tpm2_nv_read_policy/tpm2_nv_write_policy as the session's
 * last: its final chunk lets the TPM flush the session (one command less). */
void tpm2_policy_last(struct tpm2 *t);
/* Reads a whole policyread index through the session. */
int tpm2_nv_read_policy(struct tpm2 *t, uint32_t index, struct secret *ret);
/* Writes a policywrite index through the session (data must fill it). */
int tpm2_nv_write_policy(struct tpm2 *t, uint32_t index, const void *data, size_t len);

/* Proves `password` is the owner's: an owner-authorized NV_Read of the layout
 * index (ownerread) in a salted HMAC session of its own, which that command
 * ends. -EPERM when the TPM rejects the password. */
int tpm2_owner_verify(struct tpm2 *t, const void *password, size_t len);

/* A read attempt made the way anyone in this boot could: the signed policy p
 * as far as the TPM accepts it (p NULL: no policy at all), then a one-byte
 * NV_Read of `index` whatever the policy steps answered. Only the TPM's own
 * answer counts: readable is set when it released the byte (wiped at once);
 * why holds the refusals; defined is false for a missing index. Returns < 0 only
 * when the TPM could not be asked. */
struct tpm2_probe {
        bool defined;
        bool readable;
        char why[512];
};
int tpm2_nv_probe(struct tpm2 *t, const struct tpm2_policy *p, uint32_t index,
                  struct tpm2_probe *ret);
/* The same with the owner's password instead of a policy: a one-byte
 * owner-authorized NV_Read of `index` through the owner HMAC session (salted,
 * the byte encrypted and wiped). readable when the TPM released it: on layout
 * 3 the owner reads the secrets, on layout 4 the TPM refuses
 * (TPM_RC_NV_AUTHORIZATION). The password is dropped from ESAPI afterwards. */
int tpm2_nv_probe_owner(struct tpm2 *t, uint32_t index, const void *password, size_t len,
                        struct tpm2_probe *ret);
/* Folds probe p into `into`: readable if either is, p's account appended
 * after "<label>: ". */
void tpm2_probe_merge(struct tpm2_probe *into, const struct tpm2_probe *p, const char *label);

/* "<hex> " of an NV attribute set as names: "ownerwrite|ownerread|...". */
char *tpm2_nv_attributes_string(uint32_t attributes);

/* A quote of PCRs 0-7 of the sha256 bank with `nonce` as its qualifying data,
 * by a restricted ECC P-256 attestation key made for it in the null hierarchy
 * and flushed afterwards (tpm2-quote.c). The PCR values are read after the
 * quote and are the ones its digest covers (re-quoted when a PCR moved). */
struct tpm2_quote {
        uint8_t *ak_public; /* TPMT_PUBLIC of the AK, marshalled */
        size_t ak_public_len;
        uint8_t *attest;    /* TPMS_ATTEST, marshalled */
        size_t attest_len;
        uint8_t *signature; /* TPMT_SIGNATURE, marshalled */
        size_t signature_len;
        uint8_t pcrs[8][32];
};
int tpm2_quote_pcrs(struct tpm2 *t, const uint8_t *nonce, size_t nonce_len, struct tpm2_quote *ret);
void tpm2_quote_done(struct tpm2_quote *q);

/* The TPM-held SUDI key (tpm2-key.c, `trust tpm load-key`). */
#define TPM2_HELD_KEY_HANDLE 0x81000100u
/* The owner's persistent handles, 0x81000000-0x817fffff. */
bool tpm2_persistent_handle_valid(uint32_t handle);
/* provision: sets the owner hierarchy's authPolicy (owner session). */
int tpm2_owner_policy_set(struct tpm2 *t, const uint8_t digest[32]);
/* 1 when `handle` holds the key whose public part is `pub` (with the held
 * key's attributes: formats/policy.h, policy_held_key_name), 0 when it is
 * empty, -EEXIST (message naming both names) when it holds another object. */
typedef struct evp_pkey_st EVP_PKEY;
int tpm2_held_key_find(struct tpm2 *t, uint32_t handle, EVP_PKEY *pub);
/* Wraps the RSA-2048 private key in the process for a fresh storage primary
 * of the owner hierarchy, imports and loads it there and makes it persistent
 * at `handle` with `auth` as its auth value: both owner-authorized commands
 * go through the owner policy provision set, never the owner password.
 * -EPERM when that policy is not this key's (re-provision). */
int tpm2_held_key_load(struct tpm2 *t, uint32_t handle, EVP_PKEY *key, const void *auth,
                       size_t auth_len);
/* RSASSA-PKCS1-v1_5 signature of a SHA-256 digest by the key at `handle`,
 * its auth value proven in a salted HMAC session. */
int tpm2_held_key_sign(struct tpm2 *t, uint32_t handle, const void *auth, size_t auth_len,
                       const uint8_t digest[32], uint8_t **ret, size_t *ret_len);
