/* keyset-key.c: see keyset-key.h. */
#include "keys/keyset-key.h"

#include <libgen.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "base/crypto.h"
#include "base/util.h"
#include "keys/keyset-path.h"
#include "keys/pkcs11.h"

/* item_dir/privkey.uri's first line into *ret (NULL when there is no such
 * file); an unreadable file is an error naming it. */
static int uri_read(const char *item_dir, char **ret)
{
        _cleanup_free_ char *p = path_join(item_dir, KEYSET_PRIVKEY_URI);
        uint8_t *buf = NULL;
        int r;

        *ret = NULL;
        if (!path_exists(p))
                return 0;
        r = read_file(p, PKCS11_URI_MAX + 2, &buf, NULL);
        if (r < 0)
                return r;
        buf[strcspn((char *)buf, "\r\n")] = '\0';
        *ret = (char *)buf;
        return 0;
}

char *keyset_privkey_uri(const char *item_dir)
{
        char *uri;

        return uri_read(item_dir, &uri) < 0 ? NULL : uri;
}

int keyset_privkey_load(const char *pem_path, EVP_PKEY **ret)
{
        _cleanup_free_ char *copy = xstrdup(pem_path), *uri = NULL;
        const char *dir = dirname(copy);
        int r;

        if (path_exists(pem_path))
                return pem_load_privkey(pem_path, ret);
        r = uri_read(dir, &uri);
        if (r < 0)
                return r;
        if (!uri)
                return pem_load_privkey(pem_path, ret); /* its message names the file */
        r = pkcs11_load_private_key(uri, ret);
        if (r < 0)
                return errf_prefix(r, "%s/%s", dir, KEYSET_PRIVKEY_URI);
        return 0;
}

/* The token's key must sign what cert verifies. */
static int key_matches_cert(EVP_PKEY *key, X509 *cert, const char *what)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        static const uint8_t msg[] = "trust keyset import-key check";
        uint8_t sig[512];
        size_t n = sizeof(sig);
        int v;

        if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
            EVP_DigestSign(ctx, sig, &n, msg, sizeof(msg)) != 1)
                return openssl_errf(-EIO, "%s: the token's key cannot sign", what);
        EVP_MD_CTX_reset(ctx);
        if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert)) != 1)
                return openssl_errf(-EIO, "%s: cannot verify", what);
        v = EVP_DigestVerify(ctx, sig, n, msg, sizeof(msg));
        ERR_clear_error();
        if (v != 1)
                return errf(-EBADMSG, "%s: the token's key is not the certificate's", what);
        return 0;
}

int keyset_import_key(const char *keyset, const char *item, const char *uri)
{
        _cleanup_free_ char *ks = NULL, *dir = NULL, *pem = NULL, *cert_path = NULL,
                            *uri_path = NULL, *item_uri = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL, *held = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        struct pkcs11_uri u;
        bool known = false, stored = false;
        int r;

        for (unsigned i = 0; i < keyset_n_keydirs; i++)
                known = known || !strcmp(keyset_keydirs[i], item);
        if (!known)
                return errf(-EINVAL, "item '%s': not a key of a keyset (uefi-pk, uefi-kek, ...)",
                            item);
        r = keyset_path(keyset, &ks);
        if (r < 0)
                return r;
        dir = path_join(ks, item);
        pem = path_join(dir, KEYSET_PRIVKEY_PEM);
        cert_path = path_join(dir, "cert.pem");
        uri_path = path_join(dir, KEYSET_PRIVKEY_URI);
        if (path_exists(uri_path))
                return errf(-EEXIST, "%s: the key is in a token already", uri_path);
        r = pkcs11_uri_parse(uri, &u);
        if (r < 0)
                return r;
        r = pem_load_privkey(pem, &key);
        if (r >= 0)
                r = pem_load_cert(cert_path, &cert);
        if (r >= 0 && X509_check_private_key(cert, key) != 1) {
                ERR_clear_error();
                r = errf(-EBADMSG, "%s: not the key of %s", pem, cert_path);
        }
        if (r >= 0)
                r = pkcs11_store_private_key(&u, item, key);
        if (r >= 0) {
                stored = true;
                item_uri = pkcs11_uri_for_object(&u, item);
                r = pkcs11_load_private_key(item_uri, &held);
        }
        if (r >= 0)
                r = key_matches_cert(held, cert, item_uri);
        if (r >= 0) {
                size_t n = strlen(item_uri);

                item_uri[n] = '\n';
                r = write_file_excl(uri_path, item_uri, n + 1, 0640);
                item_uri[n] = '\0';
        }
        if (r < 0 && stored) {
                EVP_PKEY_free(TAKE_PTR(held));
                pkcs11_remove_key(&u, item);
        }
        pkcs11_uri_done(&u);
        if (r < 0)
                return r;
        wipe_file(pem);
        if (path_exists(pem))
                return errf(-EIO, "%s: could not be removed", pem);
        return 0;
}
