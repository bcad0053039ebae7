/* keyring.h: the OS passphrase in the kernel keyring (libkeyutils), as the
 * `user` key `machine:luks` that LUKS2 keyring tokens name. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KEYRING_LUKS_DESCRIPTION "machine:luks"

enum keyring_target {
        KEYRING_USER,    /* root's user keyring (@u): what the OS boot uses */
        KEYRING_SESSION, /* the caller's session keyring (@s): tests, debugging */
};

int keyring_target_from_string(const char *s, enum keyring_target *ret);
/* Adds (or replaces) machine:luks; *ret_serial is the key for keyring_remove. */
int keyring_add_luks(enum keyring_target target, const void *pass, size_t len, int32_t *ret_serial);
/* Undoes keyring_add_luks (rollback). */
int keyring_remove(enum keyring_target target, int32_t serial);
