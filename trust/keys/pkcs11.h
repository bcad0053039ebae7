/* pkcs11.h: keyset keys that live in a PKCS#11 token (an HSM, a smartcard,
 * SoftHSM), through libp11: the key never leaves the token, OpenSSL signs
 * with it as with any EVP_PKEY. The module is the URI's module-path, else
 * p11-kit's proxy (which loads the modules p11-kit is configured with). The
 * PIN comes from $TRUST_PKCS11_PIN, else the file the URI's pin-source names;
 * it is never in argv and never printed. */
#pragma once

#include <openssl/evp.h>

#include "formats/pkcs11-uri.h"

#define PKCS11_PIN_ENV "TRUST_PKCS11_PIN"
#define PKCS11_PROXY_MODULE "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"

/* The private key the URI names (by object label and/or id), usable for
 * signing; it keeps the module loaded and the token logged in until the
 * process exits. Errors name the URI's token and object: no module, no such
 * token, a wrong PIN, no such key. */
int pkcs11_load_private_key(const char *uri, EVP_PKEY **ret);

/* Makes an RSA-2048 key pair in the token named by `token` (a URI naming a
 * token; its object is ignored) with CKA_LABEL `label`, refusing a label a
 * key in the token already has. *ret is the private key (for signing), as
 * pkcs11_load_private_key. */
int pkcs11_generate_rsa(const struct pkcs11_uri *token, const char *label, EVP_PKEY **ret);

/* Stores `key` (an RSA private key in memory) in the token as a private,
 * sensitive key object labelled `label`, refusing a label already there. */
int pkcs11_store_private_key(const struct pkcs11_uri *token, const char *label, EVP_PKEY *key);

/* Removes the private key labelled `label` (and its public key, when the
 * token has one so labelled) from the token: the undo of a run that failed
 * after pkcs11_generate_rsa or pkcs11_store_private_key. Best effort. */
void pkcs11_remove_key(const struct pkcs11_uri *token, const char *label);
