/* attest.c: see attest.h. Nothing here is secret but the SUDI key, which is
 * only used to sign and is freed (OpenSSL wipes private key material) before
 * the bundle leaves. */
#include "target/attest.h"

#include <openssl/x509.h>

#include "base/crypto.h"
#include "formats/attest.h"
#include "formats/eventlog.h"
#include "target/held-key.h"
#include "target/tpm2.h"

/* The SUDI key's signature over the AK binding message, and the checks that
 * certificate and key belong together (a mismatch would make a bundle no
 * verifier accepts). */
static int sign_binding(EVP_PKEY *key, X509 *cert, const uint8_t *msg, size_t msg_len,
                        uint8_t **ret, size_t *ret_len)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        size_t n = 0;

        if (X509_check_private_key(cert, key) != 1)
                return openssl_errf(-EINVAL, "server.key is not the key of server.crt");
        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
            EVP_DigestSign(ctx, NULL, &n, msg, msg_len) != 1)
                return openssl_errf(-EIO, "signing the attestation key's binding");
        sig = xmalloc0(n);
        if (EVP_DigestSign(ctx, sig, &n, msg, msg_len) != 1)
                return openssl_errf(-EIO, "signing the attestation key's binding");
        *ret = TAKE_PTR(sig);
        *ret_len = n;
        return 0;
}

static int read_eventlog(const char *path, uint8_t **ret, size_t *ret_len)
{
        int r;

        *ret = NULL;
        *ret_len = 0;
        if (!path || !path_exists(path))
                return 0;
        r = read_file(path, EVLOG_MAX, ret, ret_len);
        if (r < 0)
                return errf_prefix(r, "%s", path);
        return 0;
}

int attest_quote(const struct attest_opts *o, const uint8_t *nonce, size_t nonce_len,
                 char **ret_json)
{
        _cleanup_free_ char *f_cert = NULL, *f_key = NULL, *f_auth = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(tpm2_closep) struct tpm2 *t = NULL;
        _cleanup_free_ uint8_t *msg = NULL;
        uint8_t *der = NULL;
        struct tpm2_quote q = { 0 };
        struct attest_bundle b = { 0 };
        size_t msg_len;
        bool held;
        int r;

        if (nonce_len < ATTEST_NONCE_MIN || nonce_len > ATTEST_NONCE_MAX)
                return errf(-EINVAL, "a nonce is %d to %d bytes, not %zu", ATTEST_NONCE_MIN,
                            ATTEST_NONCE_MAX, nonce_len);
        f_cert = path_join(o->secure_dir, "server.crt");
        f_key = path_join(o->secure_dir, "server.key");
        r = pem_load_cert(f_cert, &cert);
        if (r < 0)
                return r;
        /* after `tpm load-key`, the key is in the TPM (held-key.h) */
        f_auth = path_join(o->secure_dir, HELD_KEY_AUTH_FILE);
        held = !path_exists(f_key) && path_exists(f_auth);
        if (!held) {
                r = pem_load_privkey(f_key, &key);
                if (r < 0)
                        return r;
        }
        r = read_eventlog(o->eventlog, &b.eventlog, &b.eventlog_len);
        if (r < 0)
                goto out;
        r = tpm2_open(&t);
        if (r < 0)
                goto out;
        r = tpm2_quote_pcrs(t, nonce, nonce_len, &q);
        if (r < 0)
                goto out;
        msg = attest_binding_message(nonce, nonce_len, q.ak_public, q.ak_public_len, &msg_len);
        if (held)
                r = held_key_sign(t, o->secure_dir, X509_get0_pubkey(cert), msg, msg_len,
                                  &b.binding_sig, &b.binding_sig_len);
        else
                r = sign_binding(key, cert, msg, msg_len, &b.binding_sig, &b.binding_sig_len);
        if (r < 0)
                goto out;
        r = der_cert(cert, &der, &b.sudi_cert_len);
        if (r < 0)
                goto out;
        b.sudi_cert = xmalloc0(b.sudi_cert_len);
        memcpy(b.sudi_cert, der, b.sudi_cert_len);
        OPENSSL_free(der);
        b.ak_public = TAKE_PTR(q.ak_public);
        b.ak_public_len = q.ak_public_len;
        b.quote = TAKE_PTR(q.attest);
        b.quote_len = q.attest_len;
        b.quote_sig = TAKE_PTR(q.signature);
        b.quote_sig_len = q.signature_len;
        memcpy(b.pcrs, q.pcrs, sizeof(b.pcrs));
        *ret_json = attest_bundle_format(&b);
out:
        tpm2_quote_done(&q);
        attest_bundle_done(&b);
        return r;
}
