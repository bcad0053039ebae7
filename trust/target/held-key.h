/* held-key.h: `trust tpm load-key`: after setup, the SUDI key moves from the
 * private tmpfs into the TPM (a persistent key, tpm2.h), and the OS uses it
 * from there (tpm2-openssl provider) without anyone being able to copy it.
 *
 * The persistent key carries an auth value, so that only a boot that was
 * given the SUDI key can use it: the value is derived from the private key
 * (held_key_auth), and `load-key` leaves it in the secure directory as
 * server.tpm-auth (0600) for this boot's OS; a boot of another class never
 * gets the key from setup, hence never the value. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define HELD_KEY_AUTH_FILE "server.tpm-auth"
#define HELD_KEY_AUTH_LEN 32 /* hex digits: the TPM's limit for a SHA-256 object */

struct tpm2;

struct load_key_result {
        bool imported;  /* false: the key was already held there (no change) */
        bool wiped;     /* server.key was overwritten and removed */
};

/* Moves secure_dir/server.key into the TPM at `handle`: checks it is
 * server.crt's key (RSA-2048), imports it unless the handle already holds it
 * (another object there is -EEXIST), proves with a signature checked against
 * server.crt that the TPM's key and auth value are the certificate's, writes
 * server.tpm-auth, then wipes and unlinks server.key. The directory stays:
 * it holds server.tpm-auth now (and the public server.crt). Without
 * server.key (a second run), the handle must hold server.crt's key and
 * server.tpm-auth must work.
 * Nothing is removed unless every check held. */
int load_key(const char *secure_dir, uint32_t handle, struct load_key_result *ret);

/* The auth value of the held key: HELD_KEY_AUTH_LEN lower-case hex digits of
 * HMAC-SHA256(keyed with the private key's DER, i2d_PrivateKey: PKCS#1
 * RSAPrivateKey; message "trust tpm held key auth v1"). */
int held_key_auth(EVP_PKEY *key, char out[HELD_KEY_AUTH_LEN + 1]);

/* After load_key (secure_dir has server.tpm-auth, no server.key): a
 * signature over msg (RSASSA-PKCS1-v1_5, SHA-256) by the key at
 * TPM2_HELD_KEY_HANDLE, checked against cert_pub (server.crt's key). */
int held_key_sign(struct tpm2 *t, const char *secure_dir, EVP_PKEY *cert_pub,
                  const uint8_t *msg, size_t len, uint8_t **ret, size_t *ret_len);
