/* gpt.h: finding a partition by its type GUID in a GUID Partition Table
 * (UEFI 2.10, 5.3 "GUID Partition Table (GPT) Disk Layout"), for the pbf
 * partition that carries pcr7data. Disk bytes are untrusted: every field is
 * bounds-checked and both CRC32s must hold. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/guid.h"

/* "01A3E19F-9FEA-ED47-92C2-E75639FF5601" -> the 16 bytes as GPT stores them:
 * guid_parse() (base/guid.h), for callers that hold a type as bytes. */
static inline int gpt_guid_parse(const char *s, uint8_t out[16])
{
        efi_guid g;
        int r = guid_parse(s, &g);

        if (r >= 0)
                memcpy(out, g.b, sizeof(g.b));
        return r;
}

/* Checks the header at LBA 1 (hdr, one logical sector) and returns where
 * the entry array lies and how long it is (bounded: at most 1 MiB). */
int gpt_header_parse(const uint8_t *hdr, size_t hdr_len, uint64_t *ret_entries_lba,
                     size_t *ret_entries_len);
/* Where a partition lies: in LBAs from the table, in bytes from a disk. */
struct gpt_extent {
        uint64_t first, last; /* LBAs, inclusive; last >= first */
        uint64_t offset, size; /* bytes (gpt_disk_find_type only) */
};

/* The 1-based number of the first entry of the given type, and its extent
 * when ret_extent is not NULL; -ENOENT if none, -EBADMSG if header or
 * entries are inconsistent. */
int gpt_find_type(const uint8_t *hdr, size_t hdr_len, const uint8_t *entries, size_t entries_len,
                  const uint8_t type[16], uint32_t *ret_partno, struct gpt_extent *ret_extent);

/* Reads the GPT of a disk (device or image file) and finds the type there;
 * the extent's bytes are checked to lie within the disk. */
int gpt_disk_find_type(const char *dev, const uint8_t type[16], uint32_t *ret_partno,
                       struct gpt_extent *ret_extent);
