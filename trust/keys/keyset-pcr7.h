/* keyset-pcr7.h: a keyset's Secure Boot variables and its predicted PCR7
 * entries (spec pcr7.md, keysets.md "pcr7data"). */
#pragma once

#include "base/guid.h"
#include "formats/pcr7.h"

/* The PK, KEK and db signature lists of the keyset in keyset_dir exactly as
 * enrolled, plus the dbx file when dbx_path is given (checked to be an EFI
 * signature list). */
int keyset_efi_vars_load(const char *keyset_dir, const char *dbx_path, struct keyset_efi_vars *v);

/* The owner GUID of a key directory (its "guid" file). */
int keyset_item_guid(const char *keyset_dir, const char *keydir, efi_guid *ret);

/* Hook run by keyset_create on the temp keyset dir once every key exists and
 * before the rename: writes pcr7data/ with the three predicted values. */
int keyset_write_pcr7data(const char *tmp_keyset_dir, const char *keyset_name);
