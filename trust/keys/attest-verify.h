/* attest-verify.h: judging an attestation bundle (formats/attest.h) offline
 * with nothing but a keyset's public parts: who the machine is (its SUDI
 * certificate, issued by the keyset's sudi CA), that a TPM quoted its PCRs
 * for this nonce with a key the SUDI key vouched for, and which OS it booted
 * (PCR7 against the keyset's pcr7data, after setup's lock extend). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/attest.h"

/* The checks, in the order they run; the first that fails ends the run. */
enum attest_check {
        ATTEST_SUDI_CERT, /* "sudi-cert": chains to the keyset's sudi CA */
        ATTEST_QUOTE,     /* "quote": a TPM-made quote of PCRs 0-7, sha256 */
        ATTEST_NONCE,     /* "nonce": the quote is for the verifier's nonce */
        ATTEST_AK,        /* "ak": a restricted signing key that never leaves its TPM */
        ATTEST_BINDING,   /* "binding": the SUDI key signed the AK with the nonce */
        ATTEST_QUOTE_SIG, /* "quote-signature": the AK signed the quote */
        ATTEST_PCR_DIGEST, /* "pcr-digest": the listed values are the quoted ones */
        ATTEST_PCR7,      /* "pcr7": a production value after setup's lock */
        ATTEST_EVENTLOG,  /* "eventlog": the log replays to the quoted PCRs */
        _ATTEST_CHECK_MAX,
};
const char *attest_check_name(enum attest_check c);

enum attest_result { ATTEST_NOT_RUN, ATTEST_OK, ATTEST_FAILED, ATTEST_SKIPPED };

struct attest_verdict {
        enum attest_result result[_ATTEST_CHECK_MAX];
        int failed;       /* the enum attest_check that failed, or -1 */
        char why[1024];   /* its cause, a sentence */
        char serial[128]; /* from the SUDI certificate ("" when unknown) */
        char product[64]; /* the product UUID of its serialNumber */
        char boot_class[16]; /* "production", "tpm", "limited"; "" when PCR7 is none */
        bool locked;      /* PCR7 is a pcr7data value after setup's lock */
};

/* Runs the checks of the bundle against the keyset named `keyset`. Returns 0
 * whatever the verdict says (v->failed); < 0 only when the keyset could not
 * be read. */
int attest_verify(const char *keyset, const uint8_t *nonce, size_t nonce_len,
                  const struct attest_bundle *b, struct attest_verdict *v);
