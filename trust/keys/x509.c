/* x509.c: RSA-2048 keys and the certificate profiles of a keyset (spec
 * keysets.md). Certificates follow RFC 5280; the layout mirrors what the
 * older tool produced so existing keysets and ours are interchangeable. */
#include "keys/x509.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>

#include "base/utf8.h"
#include "keys/keyset-key.h"

DEFINE_CLEANUP(BN_freep, BIGNUM *, BN_free)
DEFINE_CLEANUP(ASN1_OCTET_STRING_freep, ASN1_OCTET_STRING *, ASN1_OCTET_STRING_free)
DEFINE_CLEANUP(AUTHORITY_KEYID_freep, AUTHORITY_KEYID *, AUTHORITY_KEYID_free)
DEFINE_CLEANUP(X509_EXTENSION_freep, X509_EXTENSION *, X509_EXTENSION_free)

int x509_check_attr(const char *what, const char *value)
{
        const unsigned char *s = (const unsigned char *)value;
        size_t n = strlen(value), chars = 0;

        if (n == 0)
                return errf(-EINVAL, "%s is empty", what);
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t l = utf8_decode(s + i, n - i, &cp);

                if (l == 0)
                        return errf(-EINVAL, "%s is not valid UTF-8 (byte %zu)", what, i);
                if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
                        return errf(-EINVAL, "%s contains a control character", what);
                i += l;
                chars++;
        }
        /* ub-common-name, ub-organization-name, ub-organizational-unit-name */
        if (chars > 64)
                return errf(-EINVAL, "%s is longer than 64 characters", what);
        return 0;
}

int x509_genkey(EVP_PKEY **ret)
{
        EVP_PKEY *k = EVP_RSA_gen(2048);

        if (!k)
                return openssl_errf(-EIO, "cannot generate an RSA-2048 key");
        *ret = k;
        return 0;
}

struct genkeys_job {
        EVP_PKEY **keys;
        size_t n, first, step;
};

static void *genkeys_thread(void *arg)
{
        struct genkeys_job *j = arg;

        /* Errors are not recorded here (errf is not thread-safe); a NULL
         * key is reported by the caller. */
        for (size_t i = j->first; i < j->n; i += j->step)
                j->keys[i] = EVP_RSA_gen(2048);
        return NULL;
}

int x509_genkeys(EVP_PKEY **keys, size_t n, unsigned threads)
{
        struct genkeys_job jobs[8];
        pthread_t tids[8];
        size_t started = 0;

        if (threads < 1)
                threads = 1;
        if (threads > ELEMENTSOF(jobs))
                threads = ELEMENTSOF(jobs);
        if (threads > n)
                threads = (unsigned)(n ? n : 1);
        for (size_t i = 0; i < n; i++)
                keys[i] = NULL;
        for (unsigned t = 0; t < threads; t++) {
                jobs[t] = (struct genkeys_job){ .keys = keys, .n = n, .first = t, .step = threads };
                /* thread 0 is this one */
                if (t > 0 && pthread_create(&tids[t], NULL, genkeys_thread, &jobs[t]) == 0)
                        started |= (size_t)1 << t;
        }
        genkeys_thread(&jobs[0]);
        for (unsigned t = 1; t < threads; t++) {
                if (started & ((size_t)1 << t))
                        (void)pthread_join(tids[t], NULL);
                else
                        genkeys_thread(&jobs[t]); /* no thread: do its share here */
        }
        for (size_t i = 0; i < n; i++)
                if (!keys[i]) {
                        for (size_t k = 0; k < n; k++) {
                                EVP_PKEY_free(keys[k]);
                                keys[k] = NULL;
                        }
                        return openssl_errf(-EIO, "cannot generate an RSA-2048 key");
                }
        return 0;
}

int x509_key_id(EVP_PKEY *key, unsigned char out[20])
{
        unsigned char *der = NULL;
        unsigned int len = 20;
        int n = i2d_PUBKEY(key, &der);
        int ok;

        if (n <= 0)
                return openssl_errf(-EINVAL, "cannot encode a public key");
        ok = EVP_Digest(der, (size_t)n, out, &len, EVP_sha1(), NULL);
        OPENSSL_free(der);
        if (!ok)
                return openssl_errf(-EIO, "SHA-1 failed");
        return 0;
}

/* PrintableString when every byte is in its alphabet (X.680 41.4), as
 * deployed certificates have it; UTF8String otherwise. */
static int string_type(const char *s)
{
        for (; *s; s++) {
                char c = *s;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      strchr(" '()+,-./:=?", c)))
                        return V_ASN1_UTF8STRING;
        }
        return V_ASN1_PRINTABLESTRING;
}

/* An explicit string type bypasses OpenSSL's attribute size table, which
 * would refuse the deployed SUDI serialNumber ("PID:<uuid> SN:<uuid>", 80
 * characters, longer than ub-serial-number). Lengths are checked by callers. */
static int name_add(X509_NAME *name, int nid, const char *value)
{
        if (!X509_NAME_add_entry_by_NID(name, nid, string_type(value),
                                        (const unsigned char *)value, -1, -1, 0))
                return openssl_errf(-EINVAL, "cannot add '%s' to a certificate name", value);
        return 0;
}

static int add_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid,
                                                                                value);

        if (!e || !X509_add_ext(x, e, -1))
                return openssl_errf(-EINVAL, "cannot add extension %s", value);
        return 0;
}

static int set_serial(X509 *x)
{
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        unsigned char rnd[16];
        int r;

        /* 128 random bits; a zero serial is not allowed (RFC 5280 4.1.2.2). */
        do {
                r = random_bytes(rnd, sizeof(rnd));
                if (r < 0)
                        return r;
                bn = BN_bin2bn(rnd, sizeof(rnd), bn);
                if (!bn)
                        return openssl_errf(-ENOMEM, "cannot make a serial number");
        } while (BN_is_zero(bn));
        if (!BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
                return openssl_errf(-ENOMEM, "cannot set a serial number");
        return 0;
}

static int add_key_ids(X509 *x, EVP_PKEY *key, X509 *issuer_cert, EVP_PKEY *issuer_key)
{
        _cleanup_(ASN1_OCTET_STRING_freep) ASN1_OCTET_STRING *skid = ASN1_OCTET_STRING_new();
        _cleanup_(AUTHORITY_KEYID_freep) AUTHORITY_KEYID *akid = NULL;
        unsigned char id[20];
        int r;

        r = x509_key_id(key, id);
        if (r < 0)
                return r;
        if (!skid || !ASN1_OCTET_STRING_set(skid, id, sizeof(id)) ||
            !X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0, X509V3_ADD_DEFAULT))
                return openssl_errf(-ENOMEM, "cannot add the subject key identifier");
        if (!issuer_cert)
                return 0;

        /* The issuer's own SKID when it has one (a CA from another tool may
         * have computed it differently), else ours computed from its key. */
        akid = AUTHORITY_KEYID_new();
        if (!akid)
                return openssl_errf(-ENOMEM, "cannot make the authority key identifier");
        {
                const ASN1_OCTET_STRING *iskid = X509_get0_subject_key_id(issuer_cert);
                akid->keyid = iskid ? ASN1_OCTET_STRING_dup(iskid) : ASN1_OCTET_STRING_new();
                if (!akid->keyid)
                        return openssl_errf(-ENOMEM, "cannot make the authority key identifier");
                if (!iskid) {
                        r = x509_key_id(issuer_key, id);
                        if (r < 0)
                                return r;
                        if (!ASN1_OCTET_STRING_set(akid->keyid, id, sizeof(id)))
                                return openssl_errf(-ENOMEM, "cannot set the authority key id");
                }
        }
        if (!X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT))
                return openssl_errf(-ENOMEM, "cannot add the authority key identifier");
        return 0;
}

static int set_validity(X509 *x, const struct x509_profile *p)
{
        time_t now = time(NULL), end = p->not_after;

        if (!end) {
                struct tm tm;

                /* Calendar years, as the older tool did (AddDate). */
                if (!gmtime_r(&now, &tm))
                        return errf(-EINVAL, "cannot convert the current time");
                tm.tm_year += p->valid_years;
                end = timegm(&tm);
        }
        if (end <= now)
                return errf(-EINVAL, "certificate '%s' would expire before it starts", p->cn);
        /* ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after
         * (RFC 5280 4.1.2.5), which the 50-year PK needs. */
        if (!ASN1_TIME_set(X509_getm_notBefore(x), now) || !ASN1_TIME_set(X509_getm_notAfter(x), end))
                return openssl_errf(-EINVAL, "cannot set the validity of '%s'", p->cn);
        return 0;
}

static int add_usage(X509 *x, X509V3_CTX *ctx, const struct x509_profile *p)
{
        char ku[128] = "critical", eku[128] = "";
        int r;

        if (p->ca) {
                r = add_ext_conf(x, ctx, NID_basic_constraints, "critical,CA:TRUE");
                if (r < 0)
                        return r;
        }
        if (p->key_usage) {
                if (p->key_usage & X509_KU_DIGITAL_SIGNATURE)
                        strcat(ku, ",digitalSignature");
                if (p->key_usage & X509_KU_KEY_ENCIPHERMENT)
                        strcat(ku, ",keyEncipherment");
                if (p->key_usage & X509_KU_DATA_ENCIPHERMENT)
                        strcat(ku, ",dataEncipherment");
                r = add_ext_conf(x, ctx, NID_key_usage, ku);
                if (r < 0)
                        return r;
        }
        if (p->ext_key_usage) {
                if (p->ext_key_usage & X509_EKU_SERVER_AUTH)
                        strcat(eku, ",serverAuth");
                if (p->ext_key_usage & X509_EKU_CLIENT_AUTH)
                        strcat(eku, ",clientAuth");
                if (p->ext_key_usage & X509_EKU_CODE_SIGNING)
                        strcat(eku, ",codeSigning");
                r = add_ext_conf(x, ctx, NID_ext_key_usage, eku + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

int x509_issue(const struct x509_profile *p, EVP_PKEY *key, X509 *issuer_cert,
               EVP_PKEY *issuer_key, X509 **ret)
{
        _cleanup_(X509_freep) X509 *x = X509_new();
        X509_NAME *name;
        X509V3_CTX ctx;
        int r;

        if (!x)
                return openssl_errf(-ENOMEM, "out of memory");
        if ((issuer_cert == NULL) != (issuer_key == NULL))
                return errf(-EINVAL, "an issuer needs both its certificate and its key");
        if (!X509_set_version(x, X509_VERSION_3) || !X509_set_pubkey(x, key))
                return openssl_errf(-EINVAL, "cannot set up certificate '%s'", p->cn);
        r = set_serial(x);
        if (r < 0)
                return r;
        r = set_validity(x, p);
        if (r < 0)
                return r;

        /* Attribute order O.., OU, CN, serialNumber: what the older tool wrote
         * (Go's pkix.Name order), so subjects read the same in both. */
        name = X509_get_subject_name(x);
        for (size_t i = 0; i < p->n_orgs; i++)
                if ((r = name_add(name, NID_organizationName, p->orgs[i])) < 0)
                        return r;
        if (p->ou && (r = name_add(name, NID_organizationalUnitName, p->ou)) < 0)
                return r;
        if ((r = name_add(name, NID_commonName, p->cn)) < 0)
                return r;
        if (p->serial_number && (r = name_add(name, NID_serialNumber, p->serial_number)) < 0)
                return r;
        if (!X509_set_issuer_name(x, issuer_cert ? X509_get_subject_name(issuer_cert) : name))
                return openssl_errf(-EINVAL, "cannot set the issuer of '%s'", p->cn);

        X509V3_set_ctx(&ctx, issuer_cert ? issuer_cert : x, x, NULL, NULL, 0);
        r = add_usage(x, &ctx, p);
        if (r < 0)
                return r;
        r = add_key_ids(x, key, issuer_cert, issuer_key);
        if (r < 0)
                return r;

        if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
                return openssl_errf(-EINVAL, "cannot sign certificate '%s'", p->cn);
        *ret = TAKE_PTR(x);
        return 0;
}

/* Drains a memory BIO into a malloc'd, NUL-terminated buffer. */
static int bio_take(BIO *b, char **ret, size_t *ret_len)
{
        char *data;
        long n = BIO_get_mem_data(b, &data);
        char *s;

        if (n <= 0)
                return errf(-EIO, "empty PEM output");
        s = xmalloc0((size_t)n + 1);
        memcpy(s, data, (size_t)n);
        OPENSSL_cleanse(data, (size_t)n); /* may have held a private key */
        *ret = s;
        *ret_len = (size_t)n;
        return 0;
}

int x509_cert_pem(X509 *cert, char **ret)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        size_t len;

        if (!b || !PEM_write_bio_X509(b, cert))
                return openssl_errf(-ENOMEM, "cannot encode a certificate");
        return bio_take(b, ret, &len);
}

int x509_write_pair(const char *dir, EVP_PKEY *key, X509 *cert)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        _cleanup_(erase_and_freep) char *keypem = NULL;
        _cleanup_free_ char *certpem = NULL, *kp = NULL, *cp = NULL;
        size_t keylen, certlen;
        int r;

        /* PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"). */
        if (!b || !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
                return openssl_errf(-ENOMEM, "cannot encode a private key");
        r = bio_take(b, &keypem, &keylen);
        if (r < 0)
                return r;
        r = x509_cert_pem(cert, &certpem);
        if (r < 0)
                return r;
        certlen = strlen(certpem);

        kp = path_join(dir, "privkey.pem");
        cp = path_join(dir, "cert.pem");
        r = write_file_excl(kp, keypem, keylen, 0600);
        if (r < 0)
                return r;
        r = write_file_excl(cp, certpem, certlen, 0640);
        if (r < 0) {
                (void)unlink(kp);
                return r;
        }
        return 0;
}

int x509_issue_pair(const char *dir, const struct x509_profile *p, EVP_PKEY *key,
                    X509 *issuer_cert, EVP_PKEY *issuer_key, X509 **ret_cert)
{
        _cleanup_(X509_freep) X509 *cert = NULL;
        int r;

        r = x509_issue(p, key, issuer_cert, issuer_key, &cert);
        if (r < 0)
                return r;
        r = x509_write_pair(dir, key, cert);
        if (r < 0)
                return r;
        if (ret_cert)
                *ret_cert = TAKE_PTR(cert);
        return 0;
}

int x509_make_pair(const char *dir, const struct x509_profile *p, X509 *issuer_cert,
                   EVP_PKEY *issuer_key, EVP_PKEY **ret_key, X509 **ret_cert)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        int r;

        r = x509_genkey(&key);
        if (r < 0)
                return r;
        r = x509_issue_pair(dir, p, key, issuer_cert, issuer_key, ret_cert);
        if (r < 0)
                return r;
        if (ret_key)
                *ret_key = TAKE_PTR(key);
        return 0;
}

int x509_load_ca(const char *dir, X509 **ret_cert, EVP_PKEY **ret_key)
{
        _cleanup_free_ char *cp = path_join(dir, "cert.pem"), *kp = path_join(dir, "privkey.pem");
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        int r;

        r = pem_load_cert(cp, &cert);
        if (r < 0)
                return r;
        r = keyset_privkey_load(kp, &key);
        if (r < 0)
                return r;
        if (X509_check_ca(cert) == 0)
                return errf(-EBADMSG, "%s: not a CA certificate", cp);
        if (X509_check_private_key(cert, key) != 1) {
                ERR_clear_error();
                return errf(-EBADMSG, "%s: does not belong to %s", kp, cp);
        }
        *ret_cert = TAKE_PTR(cert);
        *ret_key = TAKE_PTR(key);
        return 0;
}
