/* luks.h: LUKS2 volumes through libcryptsetup: format a partition with a
 * passphrase (optionally naming the keyring key that unlocks it), check a
 * passphrase without device-mapper, and open the OS volume only when its
 * header is one we would have written (no cipher_null, no other cipher). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The one encryption an OS volume may use, for its data segment and for every
 * keyslot: AES-256 in XTS mode with plain64 IVs (a 512-bit key), what
 * luks_format() and the installer's `cryptsetup luksFormat` (its defaults)
 * write. */
#define LUKS_OS_CIPHER "aes-xts-plain64"
#define LUKS_OS_KEY_SIZE 64

struct luks_format_opts {
        /* a LUKS2 "luks2-keyring" token naming this key (e.g. "machine:luks")
         * is added for the keyslot; NULL: none */
        const char *keyring_key;
        const char *label; /* NULL: none */
        /* LUKS_OS_KEY_SIZE bytes; NULL: libcryptsetup makes one */
        const uint8_t *volume_key;
        unsigned sector_size; /* of the data segment; 0: 512 */
};

/* Formats device (a block device or an image file) as LUKS2 with
 * LUKS_OS_CIPHER and one keyslot for pass; o may be NULL. *ret_data_offset
 * (if not NULL): where the data segment starts, in bytes. */
int luks_format(const char *device, const void *pass, size_t len,
                const struct luks_format_opts *o, uint64_t *ret_data_offset);

/* A copy of plaintext into a LUKS2 data segment that is not opened (an image
 * file being made): len bytes of src_fd from src_off, to dst_fd from dst_off
 * (where the segment starts); len is whole sectors. */
struct luks_copy {
        int src_fd;
        uint64_t src_off;
        const char *src_name; /* in messages */
        int dst_fd;
        uint64_t dst_off;
        const char *dst_name;
        uint64_t len;
        unsigned sector_size;
};
/* Writes c's plaintext encrypted as dm-crypt would write it through the
 * volume opened with volume key vk (LUKS_OS_CIPHER): each sector AES-256-XTS,
 * its tweak the sector's offset in the segment in 512-byte units (also
 * for 4096-byte sectors: LUKS2 never sets dm-crypt's iv_large_sectors). What
 * the volume then reads back is the plaintext (tests/unit/test-luks.c opens it
 * with dm-crypt to check). */
int luks_encrypt_copy(const struct luks_copy *c, const uint8_t vk[LUKS_OS_KEY_SIZE]);
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
