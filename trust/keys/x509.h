/* x509.h: RSA-2048 key generation and certificate issuance for the profiles of
 * a keyset (spec keysets.md): CAs, UEFI and UKI signing keys, project
 * (manifest) certs and per-machine SUDI certs. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "base/crypto.h"

/* Fixed NotAfter of sudi-ca and of every SUDI cert: 2099-12-31 23:00:00Z. */
#define X509_SUDI_NOT_AFTER ((time_t)4102441200)

enum {
        X509_KU_DIGITAL_SIGNATURE = 1 << 0,
        X509_KU_KEY_ENCIPHERMENT = 1 << 1,
        X509_KU_DATA_ENCIPHERMENT = 1 << 2,
};

enum {
        X509_EKU_CODE_SIGNING = 1 << 0,
        X509_EKU_SERVER_AUTH = 1 << 1,
        X509_EKU_CLIENT_AUTH = 1 << 2,
};

/* What goes into one certificate besides keys and issuer. */
struct x509_profile {
        const char *cn;
        const char *const *orgs; /* subject O values, may be NULL */
        size_t n_orgs;
        const char *ou;            /* subject OU, or NULL */
        const char *serial_number; /* subject serialNumber attribute, or NULL */
        bool ca;                   /* basicConstraints critical CA:TRUE */
        unsigned key_usage;        /* X509_KU_* (0: no extension) */
        unsigned ext_key_usage;    /* X509_EKU_* (0: no extension) */
        int valid_years;           /* NotAfter = NotBefore + years, unless not_after is set */
        time_t not_after;
};

/* Checks an O/OU/CN value: valid UTF-8, 1..64 characters, no control
 * characters (RFC 5280 upper bounds). `what` names it in the message. */
int x509_check_attr(const char *what, const char *value);

int x509_genkey(EVP_PKEY **ret); /* RSA 2048, e = 65537 */
/* n RSA-2048 keys generated on up to `threads` threads (keyset creation
 * makes 11; key generation is nearly all of its time). */
int x509_genkeys(EVP_PKEY **keys, size_t n, unsigned threads);

/* Issues a cert for `key` with the profile. issuer_cert/issuer_key NULL makes
 * it self-signed (no AKID); otherwise AKID is the issuer's key identifier. */
int x509_issue(const struct x509_profile *p, EVP_PKEY *key, X509 *issuer_cert,
               EVP_PKEY *issuer_key, X509 **ret);

/* SHA-1 over the DER SubjectPublicKeyInfo: the SKID of our certs. */
int x509_key_id(EVP_PKEY *key, unsigned char out[20]);

/* Writes dir/privkey.pem (PKCS#8 PEM, 0600) and dir/cert.pem (PEM, 0640),
 * both O_EXCL: an existing file is an error. */
int x509_write_pair(const char *dir, EVP_PKEY *key, X509 *cert);

/* issue + write_pair for an existing key. ret_cert may be NULL. */
int x509_issue_pair(const char *dir, const struct x509_profile *p, EVP_PKEY *key,
                    X509 *issuer_cert, EVP_PKEY *issuer_key, X509 **ret_cert);
/* genkey + issue + write_pair. ret_key/ret_cert may be NULL. */
int x509_make_pair(const char *dir, const struct x509_profile *p, X509 *issuer_cert,
                   EVP_PKEY *issuer_key, EVP_PKEY **ret_key, X509 **ret_cert);

/* Loads dir/cert.pem and dir/privkey.pem of a CA and checks that the key
 * belongs to the cert and that the cert is a CA; messages name the file. */
int x509_load_ca(const char *dir, X509 **ret_cert, EVP_PKEY **ret_key);

/* PEM text of a cert (NUL-terminated, free()). */
int x509_cert_pem(X509 *cert, char **ret);
