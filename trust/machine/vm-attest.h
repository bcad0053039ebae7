/* vm-attest.h: the machine side of `trust vm attest`: boots a VM with the
 * verifier's nonce in its firmware configuration and collects the bundle the
 * OS prints on its console (images/os trust-status: `trust attest quote`,
 * base64 between markers). Judging it is keys/attest-verify.h. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define ATTEST_MARK_BEGIN "TRUST ATTEST BEGIN"
#define ATTEST_MARK_LINE "TRUST ATTEST: "
#define ATTEST_MARK_FAILED "TRUST ATTEST FAILED: "
#define ATTEST_MARK_END "TRUST ATTEST END"

/* The last BEGIN..END block of console text (the guest's bytes: untrusted):
 * the bundle decoded from its base64 lines (0), or the guest's own words
 * when it printed FAILED (-EREMOTEIO, errf with them), or -EBADMSG when
 * there is no whole block or its base64 is broken. */
int console_attest_extract(const char *buf, size_t len, uint8_t **ret, size_t *ret_len);

/* Starts VM `name` (stopped) with nonce_hex, waits at most timeout_s for the
 * bundle or for the boot to fail, then stops the VM (power button, quit).
 * 0 with the bundle; < 0 with errf saying what the VM did instead (the
 * initrd's failure line, the firmware's refusal, a power-off, a timeout, or
 * the guest's own words) and *ret_tail its last console lines. */
int vm_attest_collect(const char *name, const char *nonce_hex, unsigned timeout_s,
                      volatile int *stop, uint8_t **ret, size_t *ret_len, char **ret_tail);
