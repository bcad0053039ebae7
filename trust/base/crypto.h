/* crypto.h: OpenSSL plumbing shared by the crypto modules: cleanup helpers,
 * PEM loading with one clear error per file, OpenSSL error text. */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/util.h"

static inline void X509_freep(X509 **p)
{
        X509_free(*p);
}
static inline void EVP_PKEY_freep(EVP_PKEY **p)
{
        EVP_PKEY_free(*p);
}
static inline void EVP_MD_CTX_freep(EVP_MD_CTX **p)
{
        EVP_MD_CTX_free(*p);
}
static inline void EVP_PKEY_CTX_freep(EVP_PKEY_CTX **p)
{
        EVP_PKEY_CTX_free(*p);
}
static inline void BIO_freep(BIO **p)
{
        BIO_free_all(*p);
}

/* Drains OpenSSL's error queue into errf() as "<what>: <openssl reason>". */
int openssl_errf(int r, const char *fmt, ...) _printf_(2, 3);

/* Each fails with a message naming the path: "<path>: not a PEM certificate". */
int pem_load_cert(const char *path, X509 **ret);
int pem_load_privkey(const char *path, EVP_PKEY **ret);
int pem_load_pubkey(const char *path, EVP_PKEY **ret); /* SubjectPublicKeyInfo PEM */
int der_cert(X509 *cert, uint8_t **ret, size_t *ret_len);

int sha256(const void *buf, size_t len, uint8_t out[32]);
