/* keyring.h: secrets handed to the OS through the kernel keyring
 * (libkeyutils): the OS passphrase as the `user` key `machine:luks` that LUKS2
 * keyring tokens name, the TPM admin password as `machine:tpm-admin`. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KEYRING_LUKS_DESCRIPTION "machine:luks"
#define KEYRING_ADMIN_DESCRIPTION "machine:tpm-admin"

enum keyring_target {
        KEYRING_USER,    /* root's user keyring (@u): what the OS boot uses */
        KEYRING_SESSION, /* the caller's session keyring (@s): tests, debugging */
};

int keyring_target_from_string(const char *s, enum keyring_target *ret);
/* Adds (or replaces) the user key `description` (possessor and owner may do
 * anything with it); *ret_serial is the key for keyring_remove. */
int keyring_add(enum keyring_target target, const char *description, const void *data, size_t len,
                int32_t *ret_serial);
/* Undoes keyring_add (rollback). */
int keyring_remove(enum keyring_target target, int32_t serial);
/* Reads the user key `description` of target's keyring (at most 4096 bytes)
 * into *ret (secret_free wipes it); *ret_serial is the key, for
 * keyring_remove. -ENOKEY when the keyring holds no such key. */
struct secret;
int keyring_read(enum keyring_target target, const char *description, struct secret *ret,
                 int32_t *ret_serial);
/* The user key `description` from root's user keyring, else the session's
 * (keyring_read of each); -ENOKEY when neither has it. */
int keyring_find(const char *description, struct secret *ret);
