/* luks.h: LUKS2 volumes through libcryptsetup: format a partition with a
 * passphrase (optionally naming the keyring key that unlocks it) and check a
 * passphrase without device-mapper. */
#pragma once

#include <stddef.h>

/* keyring_key: when not NULL, a LUKS2 "luks2-keyring" token naming that key
 * (e.g. "machine:luks") is added for the keyslot. */
int luks_format(const char *device, const void *pass, size_t len, const char *keyring_key);
/* 0 when pass opens a keyslot of device, -EPERM when it does not. */
int luks_check_passphrase(const char *device, const void *pass, size_t len);
