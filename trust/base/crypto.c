/* crypto.c: OpenSSL plumbing shared by the crypto modules (see crypto.h). */
#include "base/crypto.h"

#include <openssl/err.h>
#include <openssl/evp.h>
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

/* OpenSSL 3 copies its legacy table of cipher and digest names into every
 * library context it creates, the first time one fetches an algorithm.
 * tpm2-tss 3.2 creates a context for each hash and each nonce of a session
 * command, so with the full table (some 400 names, each formatted from its
 * OID) three quarters of `trust setup`'s instructions went into copying it
 * 36 times. trust and tpm2-tss fetch by provider name or use EVP_sha256()
 * and friends; OpenSSL's PKCS#7 code (Authenticode) still looks digests up
 * in the table, so it holds exactly the digests trust signs and verifies
 * with, and no cipher (trust never decrypts a PEM file). */
void crypto_init(void)
{
        (void)OPENSSL_init_crypto(OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
                                          OPENSSL_INIT_NO_ADD_ALL_DIGESTS,
                                  NULL);
        (void)EVP_add_digest(EVP_sha256());
        (void)EVP_add_digest(EVP_sha384());
        (void)EVP_add_digest(EVP_sha512());
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

/* PEM_read_bio_PUBKEY would build OpenSSL's whole decoder chain (every key
 * type, every encoding) for one SubjectPublicKeyInfo, and setup reads the
 * policy keys this way in the initrd. The armour is taken off here and the
 * DER decoded directly. */
static void *read_pubkey(BIO *b)
{
        char *name = NULL, *header = NULL;
        unsigned char *der = NULL;
        const unsigned char *p;
        EVP_PKEY *k = NULL;
        long len = 0;

        if (PEM_read_bio(b, &name, &header, &der, &len) != 1)
                return NULL;
        p = der;
        if (strcmp(name, PEM_STRING_PUBLIC) == 0 && len > 0) {
                k = d2i_PUBKEY(NULL, &p, len);
                if (k && p != der + len) { /* trailing bytes inside the armour */
                        EVP_PKEY_free(k);
                        k = NULL;
                }
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        return k;
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
