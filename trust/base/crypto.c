/* crypto.c: OpenSSL plumbing shared by the crypto modules (see crypto.h). */
#include "base/crypto.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>

#define PEM_MAX (64 * 1024)

int openssl_errf(int r, const char *fmt, ...)
{
        char what[512], reason[256] = "";
        unsigned long e, last = 0;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        while ((e = ERR_get_error()))
                last = e;
        if (last)
                ERR_error_string_n(last, reason, sizeof(reason));
        if (reason[0])
                return errf(r, "%s (%s)", what, reason);
        return errf(r, "%s", what);
}

static int load_bio(const char *path, BIO **ret)
{
        _cleanup_(erase_and_freep) uint8_t *buf = NULL; /* may be a private key */
        size_t len;
        BIO *b;
        int r;

        r = read_file(path, PEM_MAX, &buf, &len);
        if (r < 0)
                return r;
        b = BIO_new(BIO_s_mem());
        if (!b || BIO_write(b, buf, (int)len) != (int)len) {
                BIO_free(b);
                return errf(-ENOMEM, "%s: out of memory", path);
        }
        *ret = b;
        return 0;
}

/* The one object of a PEM file, read by `read` (one of the three below). */
static int pem_load(const char *path, void *(*read)(BIO *b), const char *what, void **ret)
{
        _cleanup_(BIO_freep) BIO *b = NULL;
        void *obj;
        int r = load_bio(path, &b);

        if (r < 0)
                return r;
        obj = read(b);
        if (!obj)
                return openssl_errf(-EBADMSG, "%s: not a PEM %s", path, what);
        ERR_clear_error();
        *ret = obj;
        return 0;
}

static void *read_cert(BIO *b)
{
        return PEM_read_bio_X509(b, NULL, NULL, NULL);
}

/* A NULL callback with an empty passphrase: an encrypted key is refused
 * rather than prompting on a terminal. */
static void *read_privkey(BIO *b)
{
        return PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"");
}

static void *read_pubkey(BIO *b)
{
        return PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
}

int pem_load_cert(const char *path, X509 **ret)
{
        void *x = NULL;
        int r = pem_load(path, read_cert, "certificate", &x);

        if (r >= 0)
                *ret = x;
        return r;
}

int pem_load_privkey(const char *path, EVP_PKEY **ret)
{
        void *k = NULL;
        int r = pem_load(path, read_privkey, "private key", &k);

        if (r >= 0)
                *ret = k;
        return r;
}

int pem_load_pubkey(const char *path, EVP_PKEY **ret)
{
        void *k = NULL;
        int r = pem_load(path, read_pubkey, "public key", &k);

        if (r >= 0)
                *ret = k;
        return r;
}

int der_cert(X509 *cert, uint8_t **ret, size_t *ret_len)
{
        unsigned char *der = NULL;
        int n = i2d_X509(cert, &der);

        if (n <= 0)
                return openssl_errf(-EINVAL, "cannot encode certificate");
        *ret = der; /* allocated by OpenSSL: release with OPENSSL_free */
        *ret_len = (size_t)n;
        return 0;
}

int sha256(const void *buf, size_t len, uint8_t out[32])
{
        unsigned int n = 32;

        if (!EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL))
                return openssl_errf(-EIO, "SHA-256 failed");
        return 0;
}
