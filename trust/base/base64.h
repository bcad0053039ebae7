/* base64.h: RFC 4648 §4 base64 with padding, the encoding of the binary
 * fields of JSON documents trust writes and reads back (attestation bundles).
 * The decoder is strict: the standard alphabet only, padding exactly where
 * it belongs, no whitespace, unused trailing bits zero, so every byte string
 * has one spelling. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* A fresh NUL-terminated string. */
char *base64_encode(const uint8_t *buf, size_t len);
/* -EBADMSG on anything but the canonical encoding, or when the result would
 * be longer than max bytes. *ret is malloc'd (non-NULL also for ""). */
int base64_decode(const char *s, size_t max, uint8_t **ret, size_t *ret_len);
