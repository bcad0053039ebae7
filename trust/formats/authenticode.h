/* authenticode.h: Authenticode signatures of PE images as UEFI firmware checks
 * them ("Windows Authenticode Portable Executable Signature Format" 1.0 and
 * UEFI 2.10 §32.2.4): the image hash, SpcIndirectDataContent inside a PKCS#7
 * SignedData, and WIN_CERTIFICATE entries in the certificate table. */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/pe.h"

#define WIN_CERT_REVISION_2_0 0x0200
#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 0x0002

/* The Authenticode hash of a parsed image with the given digest (out holds
 * EVP_MAX_MD_SIZE bytes). */
int authenticode_hash(const struct pe_image *pe, const EVP_MD *md, uint8_t *out, unsigned *out_len);

/* A signed image as the pieces to write one after the other: new headers
 * (certificate directory and checksum updated), the rest of the unsigned
 * image unchanged (pointing into the input), zero padding to 8 bytes, and
 * the certificate table with one WIN_CERTIFICATE. */
struct signed_pe {
        uint8_t *headers;
        size_t headers_len;
        const uint8_t *body; /* not owned: inside the image that was signed */
        size_t body_len;
        size_t pad;
        uint8_t *table;
        size_t table_len;
};

/* Signs image with key/cert (SHA-256), replacing any signature it carries.
 * The image must stay mapped while ret is used. */
int authenticode_sign(const uint8_t *image, size_t size, EVP_PKEY *key, X509 *cert,
                      struct signed_pe *ret);
void signed_pe_done(struct signed_pe *s);
size_t signed_pe_size(const struct signed_pe *s);
uint8_t *signed_pe_flatten(const struct signed_pe *s); /* one buffer, for tests */

/* 0 if one of the image's signatures is by `cert` (or by a certificate it
 * issued), uses SHA-256, -384 or -512 throughout, and its
 * SpcIndirectDataContent digest equals the image hash;
 * -ENOKEY if the image is unsigned, -EKEYREJECTED otherwise, -EBADMSG if the
 * image or its certificate table is malformed. */
int authenticode_verify(const uint8_t *image, size_t size, X509 *cert);

/* Walks the WIN_CERTIFICATE entries of a certificate table, checking every
 * bound: calls fn with each PKCS#7 blob. */
typedef int (*win_cert_fn)(const uint8_t *p7, size_t len, void *userdata);
int win_cert_walk(const uint8_t *table, size_t len, win_cert_fn fn, void *userdata);
