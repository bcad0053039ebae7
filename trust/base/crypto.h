/* crypto.h: OpenSSL plumbing shared by the crypto modules: cleanup helpers,
 * PEM loading with one clear error per file, OpenSSL error text. */
#pragma once

#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "base/util.h"

DEFINE_CLEANUP(X509_freep, X509 *, X509_free)
DEFINE_CLEANUP(EVP_PKEY_freep, EVP_PKEY *, EVP_PKEY_free)
DEFINE_CLEANUP(EVP_MD_CTX_freep, EVP_MD_CTX *, EVP_MD_CTX_free)
DEFINE_CLEANUP(EVP_MD_freep, EVP_MD *, EVP_MD_free)
DEFINE_CLEANUP(EVP_PKEY_CTX_freep, EVP_PKEY_CTX *, EVP_PKEY_CTX_free)
DEFINE_CLEANUP(BIO_freep, BIO *, BIO_free_all)
DEFINE_CLEANUP(PKCS7_freep, PKCS7 *, PKCS7_free)
DEFINE_CLEANUP(X509_STORE_freep, X509_STORE *, X509_STORE_free)

/* Drains OpenSSL's error queue into errf() as "<what>: <openssl reason>". */
int openssl_errf(int r, const char *fmt, ...) _printf_(2, 3);
/* Once, before any other OpenSSL call (after process_harden, which must see
 * OpenSSL's first allocation): see crypto.c. */
void crypto_init(void);

/* Each fails with a message naming the path: "<path>: not a PEM certificate". */
int pem_load_cert(const char *path, X509 **ret);
int pem_load_privkey(const char *path, EVP_PKEY **ret);
int pem_load_pubkey(const char *path, EVP_PKEY **ret); /* SubjectPublicKeyInfo PEM */
int der_cert(X509 *cert, uint8_t **ret, size_t *ret_len);

int sha256(const void *buf, size_t len, uint8_t out[32]);
