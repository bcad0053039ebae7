/* attest.h: `trust attest quote` on the machine: a TPM quote of PCRs 0-7 for
 * a verifier's nonce, bound to the machine's SUDI identity (the bundle format
 * and what a verifier checks: formats/attest.h, keys/attest-verify.h). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define DEFAULT_EVENTLOG "/sys/kernel/security/tpm0/binary_bios_measurements"

struct attest_opts {
        const char *secure_dir; /* server.crt and server.key as setup left them */
        const char *eventlog;   /* the firmware's log; a missing file is no log */
};

/* The bundle's JSON text: a fresh AK quotes PCRs 0-7 with `nonce`
 * (ATTEST_NONCE_MIN..MAX bytes), and the SUDI key signs the AK's public area
 * with the nonce. Errors name the file or the TPM step. */
int attest_quote(const struct attest_opts *o, const uint8_t *nonce, size_t nonce_len,
                 char **ret_json);
