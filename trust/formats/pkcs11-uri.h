/* pkcs11-uri.h: RFC 7512 `pkcs11:` URIs, as a keyset item's privkey.uri
 * names its key in a token. Strict: every attribute is known and given once,
 * every %XX escape is valid, and a PIN in the URI (pin-value) is refused: the
 * PIN comes from $TRUST_PKCS11_PIN or the file pin-source names, so it is
 * never in argv or in a file of the keyset. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PKCS11_URI_MAX 4096

struct pkcs11_uri {
        /* path: which token, which object */
        char *token, *manufacturer, *serial, *model;
        char *object; /* CKA_LABEL */
        uint8_t *id;  /* CKA_ID */
        size_t id_len;
        char *type;   /* "private", "public", "cert", "secret-key", "data" */
        /* query */
        char *module_path; /* the PKCS#11 module (else p11-kit's proxy) */
        char *pin_source;  /* a file (or file: URI) holding the PIN */
};

/* -EINVAL with one errf() line naming the attribute and the cause. */
int pkcs11_uri_parse(const char *s, struct pkcs11_uri *ret);
void pkcs11_uri_done(struct pkcs11_uri *u);
/* The URI of the same token with object=label (and type=private, no id):
 * what a keyset item's privkey.uri holds. Allocated. */
char *pkcs11_uri_for_object(const struct pkcs11_uri *token, const char *label);
