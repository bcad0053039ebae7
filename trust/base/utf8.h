/* utf8.h: strict UTF-8 (RFC 3629 §3-4): no overlong forms, no surrogates,
 * nothing above U+10FFFF. For names and text from certificates, JSON and
 * firmware variables, which must not smuggle a second spelling of a byte. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length (1..4) of the valid sequence that starts s[0..n), with its code
 * point in *ret_cp (ret_cp may be NULL); 0 when it is malformed or n is 0. */
size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *ret_cp);

/* Writes cp as UTF-8; returns its length (1..4), or 0 (nothing written) for a
 * surrogate or a value above U+10FFFF. */
size_t utf8_encode(uint32_t cp, char out[static 4]);

/* s[0..n) is valid UTF-8 throughout (an empty string is). */
bool utf8_valid(const char *s, size_t n);
