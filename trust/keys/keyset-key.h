/* keyset-key.h: where a keyset item's private key lives: privkey.pem (a
 * file, 0600) or privkey.uri (an RFC 7512 pkcs11: URI naming the key in a
 * token, keys/pkcs11.h). Every command that signs with a keyset key loads it
 * here, so a key in a token works wherever a file key does. */
#pragma once

#include <openssl/evp.h>
#include <stdbool.h>

#define KEYSET_PRIVKEY_PEM "privkey.pem"
#define KEYSET_PRIVKEY_URI "privkey.uri"

/* pem_path is an item's privkey.pem: that file, or, when the item holds
 * privkey.uri instead, the token's key. Errors name the file or the token. */
int keyset_privkey_load(const char *pem_path, EVP_PKEY **ret);

/* The URI of an item directory's key (allocated), or NULL when its key is a
 * file (or it has none). */
char *keyset_privkey_uri(const char *item_dir);

/* `trust keyset import-key KEYSET ITEM URI`: stores the item's privkey.pem
 * in the token URI names (object label = ITEM), checks the token's key signs
 * what the item's certificate verifies, writes privkey.uri and wipes and
 * removes privkey.pem. Nothing changes unless every step held. */
int keyset_import_key(const char *keyset, const char *item, const char *uri);
