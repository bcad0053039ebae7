/* efivars.h: OVMF variable store files (OVMF_VARS*.fd): a firmware volume
 * whose first bytes hold an authenticated variable store (EDK2
 * MdeModulePkg/Include/Guid/VariableFormat.h; layout in spec pcr7.md).
 * The parser checks every bound; writing never goes past the store. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/esl.h"

#define EFI_VARIABLE_NON_VOLATILE 0x01u
#define EFI_VARIABLE_BOOTSERVICE_ACCESS 0x02u
#define EFI_VARIABLE_RUNTIME_ACCESS 0x04u
#define EFI_VARIABLE_TIME_BASED_AUTHENTICATED_WRITE_ACCESS 0x20u
/* PK, KEK, db and dbx as firmware stores them (NV|BS|RT|AT = 0x27). */
#define EFI_SECURE_BOOT_VAR_ATTRS                                                                  \
        (EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS |                             \
         EFI_VARIABLE_RUNTIME_ACCESS | EFI_VARIABLE_TIME_BASED_AUTHENTICATED_WRITE_ACCESS)

#define EFIVAR_NAME_MAX 128 /* UTF-8 bytes of a name we keep (longer names are refused) */

struct efivar {
        efi_guid vendor;
        char name[EFIVAR_NAME_MAX + 1]; /* UTF-8 */
        uint32_t attributes;
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

/* Appends a record (ASCII name, zero timestamp and monotonic count) and marks
 * any older valid record of the same variable deleted. -ENOSPC when the store
 * cannot hold it; the buffer is then unchanged. */
int varstore_set(struct varstore *vs, const efi_guid *vendor, const char *name, uint32_t attributes,
                 const uint8_t *data, size_t len);

/* Marks every valid record of (vendor, name) deleted; returns how many. */
int varstore_delete(struct varstore *vs, const efi_guid *vendor, const char *name);
