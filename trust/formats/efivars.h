/* efivars.h: OVMF variable store files (OVMF_VARS*.fd): a firmware volume
 * whose first bytes hold an authenticated variable store (EDK2
 * MdeModulePkg/Include/Guid/VariableFormat.h; layout in spec pcr7.md).
 * The parser checks every bound; writing never goes past the store. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/auth2.h"
#include "formats/esl.h"

#define EFIVAR_NAME_MAX 128 /* UTF-8 bytes of a name we keep (longer names are refused) */

struct efivar {
        efi_guid vendor;
        char name[EFIVAR_NAME_MAX + 1]; /* UTF-8 */
        uint32_t attributes;
        uint8_t timestamp[16]; /* EFI_TIME of time-based authenticated variables */
        uint8_t state;
        bool valid;    /* state is VAR_ADDED (possibly in delete transition) */
        size_t offset; /* of the record header in the file */
        size_t data_offset;
        size_t data_len;
};

struct varstore {
        uint8_t *buf; /* not owned: the whole file */
        size_t size;
        size_t store_offset; /* variable store header */
        size_t store_end;    /* end of the store (header offset + its Size) */
        size_t free_offset;  /* where the next record goes */
        struct efivar *vars; /* every record, deleted ones too */
        size_t n_vars;
};

int varstore_parse(uint8_t *buf, size_t size, struct varstore *vs);
void varstore_done(struct varstore *vs);

/* The valid record of (vendor, name), or NULL. */
const struct efivar *varstore_find(const struct varstore *vs, const efi_guid *vendor,
                                   const char *name);

/* Appends a record (ASCII name, the EFI_TIME timestamp or zero when NULL, zero
 * monotonic count) and marks any older valid record of the same variable
 * deleted. -ENOSPC when the store cannot hold it; the buffer is then
 * unchanged. */
int varstore_set(struct varstore *vs, const efi_guid *vendor, const char *name, uint32_t attributes,
                 const uint8_t *timestamp, const uint8_t *data, size_t len);

/* Marks every valid record of (vendor, name) deleted; returns how many. */
int varstore_delete(struct varstore *vs, const efi_guid *vendor, const char *name);

/* PK, KEK, db and dbx as the store holds them (values and timestamps). */
int varstore_sbvars(const struct varstore *vs, struct sbvar_value out[_SBVAR_MAX]);
/* Writes one of them back: a record with its timestamp, or none when it no
 * longer exists. */
int varstore_put_sbvar(struct varstore *vs, enum sbvar v, const struct sbvar_value *val);
