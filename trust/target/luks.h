/* luks.h: LUKS2 volumes through libcryptsetup: format a partition with a
 * passphrase (optionally naming the keyring key that unlocks it), check a
 * passphrase without device-mapper, and open the OS volume only when its
 * header is one we would have written (no cipher_null, no other cipher). */
#pragma once

#include <stddef.h>

/* The one encryption an OS volume may use, for its data segment and for every
 * keyslot: AES-256 in XTS mode with plain64 IVs (a 512-bit key), what
 * luks_format() and the installer's `cryptsetup luksFormat` (its defaults)
 * write. */
#define LUKS_OS_CIPHER "aes-xts-plain64"
#define LUKS_OS_KEY_SIZE 64

/* keyring_key: when not NULL, a LUKS2 "luks2-keyring" token naming that key
 * (e.g. "machine:luks") is added for the keyslot. */
int luks_format(const char *device, const void *pass, size_t len, const char *keyring_key);
/* 0 when pass opens a keyslot of device, -EPERM when it does not. */
int luks_check_passphrase(const char *device, const void *pass, size_t len);

/* Refuses device unless it is LUKS2, with no pending requirement (an
 * unfinished reencryption), whose data segment and every keyslot use
 * LUKS_OS_CIPHER with a LUKS_OS_KEY_SIZE-byte key; only then tries pass: with
 * a name it activates /dev/mapper/<name>, with NULL it only checks that pass
 * opens a keyslot (no device-mapper needed). Errors: -EMEDIUMTYPE not LUKS2
 * (LUKS1, not LUKS at all, a damaged header), -ENOTSUP encryption or
 * requirements refused, -EPERM pass opens no keyslot, else -errno. */
int luks_open_os(const char *device, const char *name, const void *pass, size_t len);
/* Removes the mapping /dev/mapper/<name> (rollback of luks_open_os). */
int luks_close(const char *name);

/* The block devices whose LUKS2 label is `label`: for each NAME listed in
 * sys_class_block (e.g. /sys/class/block) the device dev_dir/NAME, sorted,
 * as a NULL-terminated vector for strv_free (base/dirlist.h); *ret_n may be
 * 0. LUKS1 has no label: such volumes are never found. */
int luks_find_label(const char *sys_class_block, const char *dev_dir, const char *label,
                    char ***ret, size_t *ret_n);
