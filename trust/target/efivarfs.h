/* efivarfs.h: the running system's Secure Boot variables through efivarfs
 * (Linux Documentation/filesystems/efivarfs.rst): each variable is a file
 * NAME-GUID holding the 4-byte attributes and the value; writing
 * attributes | payload asks the firmware to set it. The files of
 * authenticated variables are immutable until that flag is cleared. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "formats/auth2.h"

#define EFIVARFS_DEFAULT "/sys/firmware/efi/efivars"

/* PK, KEK, db and dbx as efivarfs shows them (no timestamps; an empty file
 * is a variable that does not exist). -ENOENT for an empty DIR, which is a
 * mount point without efivarfs. */
int efivarfs_sbvars(const char *dir, struct sbvar_value out[_SBVAR_MAX]);

/* Hands one signed payload to the firmware for t's variable, in one write;
 * the immutable flag is cleared for the write and set again. A refusal by
 * the firmware is -EACCES/-EINVAL/-EPERM with a message naming the file. */
int efivarfs_write_update(const char *dir, const struct auth2_target *t, const uint8_t *payload,
                          size_t len);
