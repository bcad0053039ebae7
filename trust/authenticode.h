/* authenticode.h: Authenticode signatures of PE images as UEFI firmware checks
 * them ("Windows Authenticode Portable Executable Signature Format" 1.0 and
 * UEFI 2.10 §32.2.4): the image hash, SpcIndirectDataContent inside a PKCS#7
 * SignedData, and WIN_CERTIFICATE entries in the certificate table. */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "pe.h"

#define WIN_CERT_REVISION_2_0 0x0200
#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 0x0002

/* The Authenticode hash of a parsed image with the given digest (out holds
 * EVP_MAX_MD_SIZE bytes). */
int authenticode_hash(const struct pe_image *pe, const EVP_MD *md, uint8_t *out, unsigned *out_len);

/* Signs image (replacing any signature it carries) with key/cert, SHA-256:
 * returns a new buffer holding the image zero-padded to 8 bytes (the padding
 * is hashed, as sbsign does), the certificate table with one WIN_CERTIFICATE,
 * and an updated checksum. */
int authenticode_sign(const uint8_t *image, size_t size, EVP_PKEY *key, X509 *cert,
                      uint8_t **ret, size_t *ret_len);

/* 0 if one of the image's signatures is by `cert` (or by a certificate it
 * issued) and its SpcIndirectDataContent digest equals the image hash;
 * -ENOKEY if the image is unsigned, -EKEYREJECTED otherwise, -EBADMSG if the
 * image or its certificate table is malformed. */
int authenticode_verify(const uint8_t *image, size_t size, X509 *cert);

/* Walks the WIN_CERTIFICATE entries of a certificate table, checking every
 * bound: calls fn with each PKCS#7 blob. */
typedef int (*win_cert_fn)(const uint8_t *p7, size_t len, void *userdata);
int win_cert_walk(const uint8_t *table, size_t len, win_cert_fn fn, void *userdata);
