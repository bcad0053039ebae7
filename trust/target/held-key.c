/* held-key.c: see held-key.h. The PEM is removed only after the TPM proved,
 * with a signature the certificate verifies, that it holds the key under the
 * auth value this boot wrote down. */
#include "target/held-key.h"

#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <stdio.h>

#include "base/crypto.h"
#include "base/secure.h"
#include "target/tpm2.h"

#define AUTH_LABEL "trust tpm held key auth v1"

int held_key_auth(EVP_PKEY *key, char out[HELD_KEY_AUTH_LEN + 1])
{
        uint8_t *der = NULL, md[32];
        unsigned md_len = 0;
        char *hex;
        int n, r = 0;

        n = i2d_PrivateKey(key, &der);
        if (n <= 0)
                return openssl_errf(-EINVAL, "the key's DER form");
        if (!HMAC(EVP_sha256(), der, n, (const uint8_t *)AUTH_LABEL, strlen(AUTH_LABEL), md,
                  &md_len) ||
            md_len != 32)
                r = openssl_errf(-EIO, "the held key's auth value");
        OPENSSL_clear_free(der, (size_t)n);
        if (r >= 0) {
                hex = hex_encode(md, HELD_KEY_AUTH_LEN / 2);
                memcpy(out, hex, HELD_KEY_AUTH_LEN + 1);
                explicit_bzero(hex, HELD_KEY_AUTH_LEN);
                free(hex);
        }
        explicit_bzero(md, sizeof(md));
        return r;
}

/* server.tpm-auth, exactly HELD_KEY_AUTH_LEN hex digits and a newline. */
static int auth_read(const char *path, struct secret *ret)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        r = read_file(path, 256, &buf, &len);
        if (r < 0)
                return r;
        if (len != HELD_KEY_AUTH_LEN + 1 || buf[HELD_KEY_AUTH_LEN] != '\n' ||
            strspn((char *)buf, "0123456789abcdef") != HELD_KEY_AUTH_LEN)
                r = errf(-EBADMSG, "%s: not a held key's auth value", path);
        if (r >= 0)
                r = secret_alloc(ret, HELD_KEY_AUTH_LEN);
        if (r >= 0)
                memcpy(ret->data, buf, HELD_KEY_AUTH_LEN);
        explicit_bzero(buf, len);
        return r;
}

/* RSASSA-PKCS1-v1_5 / SHA-256 over msg, by pub's key. */
static int verify(EVP_PKEY *pub, const uint8_t *msg, size_t len, const uint8_t *sig,
                  size_t sig_len)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        int v;

        if (!ctx || EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pub) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
                return openssl_errf(-EIO, "cannot set up signature verification");
        v = EVP_DigestVerify(ctx, sig, sig_len, msg, len);
        ERR_clear_error();
        return v == 1 ? 0 : -EBADMSG;
}

/* A signature over msg by the key at `handle` with `auth`, which the
 * certificate's key cert_pub must verify. */
static int sign_checked(struct tpm2 *t, uint32_t handle, const char *auth, EVP_PKEY *cert_pub,
                        const char *cert_path, const uint8_t *msg, size_t len, uint8_t **ret,
                        size_t *ret_len)
{
        _cleanup_free_ uint8_t *sig = NULL;
        uint8_t digest[32];
        size_t sig_len = 0;
        int r;

        r = sha256(msg, len, digest);
        if (r >= 0)
                r = tpm2_held_key_sign(t, handle, auth, HELD_KEY_AUTH_LEN, digest, &sig, &sig_len);
        if (r < 0)
                return r;
        r = verify(cert_pub, msg, len, sig, sig_len);
        if (r < 0)
                return errf(r, "the key at 0x%08x signed, but %s does not verify it", handle,
                            cert_path);
        if (ret) {
                *ret = TAKE_PTR(sig);
                *ret_len = sig_len;
        }
        return 0;
}

/* The TPM signs a fresh challenge with the key at `handle`. */
static int prove(struct tpm2 *t, uint32_t handle, const char *auth, EVP_PKEY *cert_pub,
                 const char *cert_path)
{
        uint8_t challenge[32];
        int r;

        r = random_bytes(challenge, sizeof(challenge));
        if (r < 0)
                return r;
        return sign_checked(t, handle, auth, cert_pub, cert_path, challenge, sizeof(challenge),
                            NULL, NULL);
}

int load_key(const char *secure_dir, uint32_t handle, struct load_key_result *ret)
{
        _cleanup_free_ char *f_cert = path_join(secure_dir, "server.crt");
        _cleanup_free_ char *f_key = path_join(secure_dir, "server.key");
        _cleanup_free_ char *f_auth = path_join(secure_dir, HELD_KEY_AUTH_FILE);
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(tpm2_closep) struct tpm2 *t = NULL;
        struct secret auth = {};
        EVP_PKEY *pub;
        int r, held;

        *ret = (struct load_key_result){};
        if (!tpm2_persistent_handle_valid(handle))
                return errf(-EINVAL, "0x%08x is not a persistent handle of the owner "
                                     "(0x81000000-0x817fffff)",
                            handle);
        r = pem_load_cert(f_cert, &cert);
        if (r < 0)
                return r;
        pub = X509_get0_pubkey(cert);
        if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pub) != 2048)
                return errf(-EINVAL, "%s: the TPM holds RSA-2048 keys only", f_cert);
        if (path_exists(f_key)) {
                r = pem_load_privkey(f_key, &key);
                if (r < 0)
                        return r;
                if (X509_check_private_key(cert, key) != 1)
                        return openssl_errf(-EINVAL, "%s: is not the key of %s", f_key, f_cert);
                r = secret_alloc(&auth, HELD_KEY_AUTH_LEN);
                if (r < 0)
                        return r;
                r = held_key_auth(key, (char *)auth.data);
        } else if (path_exists(f_auth))
                r = auth_read(f_auth, &auth);
        else
                r = errf(-ENOENT, "%s: no such file, and no %s from an earlier run", f_key,
                         HELD_KEY_AUTH_FILE);
        if (r >= 0)
                r = tpm2_open(&t);
        if (r < 0)
                goto out;

        held = tpm2_held_key_find(t, handle, pub);
        if (held < 0) {
                r = held;
                goto out;
        }
        if (!held && !key) {
                r = errf(-ENOENT, "%s: no such file, and the TPM holds no key at 0x%08x", f_key,
                         handle);
                goto out;
        }
        if (!held) {
                r = tpm2_held_key_load(t, handle, key, auth.data, HELD_KEY_AUTH_LEN);
                if (r < 0)
                        goto out;
                ret->imported = true;
        }
        r = prove(t, handle, (const char *)auth.data, pub, f_cert);
        if (r < 0)
                goto out;
        if (key) {
                /* newline-terminated, for `openssl -passin file:` */
                auth.data[HELD_KEY_AUTH_LEN] = '\n';
                r = write_file_atomic(f_auth, auth.data, HELD_KEY_AUTH_LEN + 1, 0600);
                auth.data[HELD_KEY_AUTH_LEN] = '\0';
                if (r < 0)
                        goto out;
                wipe_file(f_key);
                if (path_exists(f_key)) {
                        r = errf(-EIO, "%s: could not be removed", f_key);
                        goto out;
                }
                ret->wiped = true;
        }
out:
        secret_free(&auth);
        return r;
}

int held_key_sign(struct tpm2 *t, const char *secure_dir, EVP_PKEY *cert_pub,
                  const uint8_t *msg, size_t len, uint8_t **ret, size_t *ret_len)
{
        _cleanup_free_ char *f_auth = path_join(secure_dir, HELD_KEY_AUTH_FILE);
        _cleanup_free_ char *f_cert = path_join(secure_dir, "server.crt");
        struct secret auth = {};
        int r;

        r = auth_read(f_auth, &auth);
        if (r >= 0)
                r = sign_checked(t, TPM2_HELD_KEY_HANDLE, (const char *)auth.data, cert_pub,
                                 f_cert, msg, len, ret, ret_len);
        secret_free(&auth);
        return r;
}
