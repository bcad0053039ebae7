/* attest.h: the attestation bundle (`trust attest quote` writes it, `trust
 * attest verify` judges it) and the TPM 2.0 structures in it, as the TPM
 * marshals them (TCG TPM 2.0 Library Part 2: TPMT_PUBLIC 12.2.4, TPMS_ATTEST
 * 10.12.12, TPMT_SIGNATURE 11.3.4; big-endian, sized buffers). Everything here
 * reads bytes from the machine being judged: every bound is checked
 * (tests/fuzz/fuzz-attest-bundle.c).
 *
 * The bundle is a flat JSON object (formats/json-flat.h):
 *   "version": 1
 *   "sudi_cert":          base64 DER X.509, the machine's SUDI certificate
 *   "ak_public":          base64 TPMT_PUBLIC of the attestation key (AK)
 *   "binding_signature":  base64, by the SUDI key over attest_binding_message()
 *   "quote":              base64 TPMS_ATTEST (TPM2_Quote's quoted)
 *   "quote_signature":    base64 TPMT_SIGNATURE of the quote by the AK
 *   "pcr_bank":           "sha256"
 *   "pcr0" ... "pcr7":    hex, the PCR values the quote's digest covers
 *   "eventlog":           base64 TCG event log (optional: absent when the
 *                         machine has none) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATTEST_BUNDLE_VERSION 1
#define ATTEST_PCRS 8               /* PCRs 0-7 of the sha256 bank */
#define ATTEST_NONCE_MIN 8
#define ATTEST_NONCE_MAX 32         /* fits TPM2B_DATA with any name algorithm */
#define ATTEST_BUNDLE_MAX ((size_t)24 << 20) /* a 16 MiB event log in base64, and the rest */
#define ATTEST_BLOB_MAX 4096        /* certificate, AK public, quote, signatures */

struct attest_bundle {
        uint8_t *sudi_cert, *ak_public, *binding_sig, *quote, *quote_sig;
        size_t sudi_cert_len, ak_public_len, binding_sig_len, quote_len, quote_sig_len;
        uint8_t pcrs[ATTEST_PCRS][32];
        uint8_t *eventlog; /* NULL when the bundle has none */
        size_t eventlog_len;
};
void attest_bundle_done(struct attest_bundle *b);
/* -EBADMSG, errf naming the member and the cause, on anything malformed:
 * not the flat JSON object, another version, a missing member, bad base64 or
 * hex, a field over its bound. Unknown members are ignored. */
int attest_bundle_parse(const uint8_t *buf, size_t len, struct attest_bundle *ret);
/* The JSON text, members in the order above, with a final newline. */
char *attest_bundle_format(const struct attest_bundle *b);

/* What the SUDI key signs to vouch for an AK, for one nonce:
 * "trust attest binding v1" NUL || nonce length (u16 BE) || nonce || AK's
 * TPMT_PUBLIC. A fresh buffer. */
uint8_t *attest_binding_message(const uint8_t *nonce, size_t nonce_len, const uint8_t *ak_public,
                                size_t ak_public_len, size_t *ret_len);

/* TPMA_OBJECT bits (Part 2, 8.3) */
#define TPMA_FIXED_TPM 0x00000002u
#define TPMA_FIXED_PARENT 0x00000010u
#define TPMA_SENSITIVE_DATA_ORIGIN 0x00000020u
#define TPMA_USER_WITH_AUTH 0x00000040u
#define TPMA_NO_DA 0x00000400u
#define TPMA_RESTRICTED 0x00010000u
#define TPMA_DECRYPT 0x00020000u
#define TPMA_SIGN 0x00040000u
/* What an attestation key must be: made in the TPM, never leaving it, and
 * restricted so it signs only what the TPM itself produced (a quote), never
 * bytes an attacker chose to look like one. */
#define ATTEST_AK_REQUIRED                                                                         \
        (TPMA_FIXED_TPM | TPMA_FIXED_PARENT | TPMA_SENSITIVE_DATA_ORIGIN | TPMA_RESTRICTED |       \
         TPMA_SIGN)

/* An ECC NIST P-256 signing key with the ECDSA/SHA-256 scheme. */
struct attest_ak {
        uint32_t attributes;
        uint8_t x[32], y[32];
};
/* -EBADMSG with the cause when the bytes are not one whole such TPMT_PUBLIC
 * (attributes are returned, not judged: the caller names what is missing). */
int attest_ak_parse(const uint8_t *buf, size_t len, struct attest_ak *ret);

struct attest_quote {
        uint8_t signer[68]; /* qualifiedSigner (TPM2B_NAME) */
        size_t signer_len;
        uint8_t extra[64]; /* extraData: the nonce */
        size_t extra_len;
        uint64_t clock, firmware;
        uint32_t reset_count, restart_count;
        uint32_t pcr_select; /* the sha256 bank's selection, PCR i = bit i (0-23) */
        bool other_banks;    /* a bank other than sha256 is selected */
        uint8_t pcr_digest[32];
};
/* One whole TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE with TPM_GENERATED_VALUE. */
int attest_quote_parse(const uint8_t *buf, size_t len, struct attest_quote *ret);

/* One whole TPMT_SIGNATURE: ECDSA with SHA-256, r and s left-padded to 32. */
int attest_signature_parse(const uint8_t *buf, size_t len, uint8_t r[32], uint8_t s[32]);

/* The digest a quote of PCRs 0-7 carries: SHA-256 of the values in order. */
int attest_pcr_digest(const uint8_t pcrs[ATTEST_PCRS][32], uint8_t out[32]);
