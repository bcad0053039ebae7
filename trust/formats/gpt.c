/* gpt.c: GPT type lookup (see gpt.h). Layout: UEFI 2.10, 5.3.2 (header) and
 * 5.3.3 (partition entries). */
#include "formats/gpt.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include "base/endian.h"
#include "base/util.h"

#define GPT_HEADER_MIN 92
#define GPT_ENTRY_MIN 128
#define GPT_ENTRIES_MAX (1024 * 1024)

/* CRC-32 as GPT uses it (IEEE 802.3, reflected, init and final xor ~0). */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                crc ^= p[i];
                for (int k = 0; k < 8; k++)
                        crc = crc >> 1 ^ (0xEDB88320u & -(crc & 1));
        }
        return crc;
}

int gpt_header_parse(const uint8_t *hdr, size_t hdr_len, uint64_t *ret_entries_lba,
                     size_t *ret_entries_len)
{
        uint8_t copy[512];
        uint32_t size, n, entry_size;

        if (hdr_len < GPT_HEADER_MIN || memcmp(hdr, "EFI PART", 8))
                return -EBADMSG;
        size = le32(hdr + 12);
        if (size < GPT_HEADER_MIN || size > hdr_len || size > sizeof(copy))
                return -EBADMSG;
        memcpy(copy, hdr, size);
        memset(copy + 16, 0, 4); /* the CRC is computed with its own field zero */
        if ((crc32_update(~0u, copy, size) ^ ~0u) != le32(hdr + 16))
                return -EBADMSG;
        n = le32(hdr + 80);
        entry_size = le32(hdr + 84);
        if (entry_size < GPT_ENTRY_MIN || entry_size % 8 || n == 0 ||
            (uint64_t)n * entry_size > GPT_ENTRIES_MAX)
                return -EBADMSG;
        if (le64(hdr + 72) < 2)
                return -EBADMSG;
        *ret_entries_lba = le64(hdr + 72);
        *ret_entries_len = (size_t)n * entry_size;
        return 0;
}

int gpt_find_type(const uint8_t *hdr, size_t hdr_len, const uint8_t *entries, size_t entries_len,
                  const uint8_t type[16], uint32_t *ret_partno, struct gpt_extent *ret_extent)
{
        uint64_t lba;
        size_t len;
        uint32_t entry_size;
        int r;

        r = gpt_header_parse(hdr, hdr_len, &lba, &len);
        if (r < 0)
                return r;
        if (entries_len < len)
                return -EBADMSG;
        if ((crc32_update(~0u, entries, len) ^ ~0u) != le32(hdr + 88))
                return -EBADMSG;
        entry_size = le32(hdr + 84);
        for (size_t off = 0, i = 1; off + entry_size <= len; off += entry_size, i++) {
                const uint8_t *e = entries + off;

                if (!memcmp(e, type, 16) && le64(e + 40) >= le64(e + 32)) {
                        *ret_partno = (uint32_t)i;
                        if (ret_extent)
                                *ret_extent = (struct gpt_extent){ .first = le64(e + 32),
                                                                   .last = le64(e + 40) };
                        return 0;
                }
        }
        return -ENOENT;
}

int gpt_disk_find_type(const char *dev, const uint8_t type[16], uint32_t *ret_partno,
                       struct gpt_extent *ret_extent)
{
        struct gpt_extent x;
        struct stat st;
        uint64_t disk;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint8_t *entries = NULL;
        uint8_t hdr[4096];
        int ssz = 512;
        uint64_t lba;
        size_t len;
        int r;

        fd = open(dev, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (ioctl(fd, BLKSSZGET, &ssz) < 0 || ssz < 512 || ssz > (int)sizeof(hdr))
                ssz = 512; /* an image file */
        if (pread(fd, hdr, (size_t)ssz, ssz) != ssz)
                return -EBADMSG;
        r = gpt_header_parse(hdr, (size_t)ssz, &lba, &len);
        if (r < 0)
                return r;
        if (lba > UINT64_MAX / (uint64_t)ssz || lba * (uint64_t)ssz > (uint64_t)INT64_MAX)
                return -EBADMSG;
        entries = xmalloc0(len);
        if (pread(fd, entries, len, (off_t)(lba * (uint64_t)ssz)) != (ssize_t)len)
                return -EBADMSG;
        r = gpt_find_type(hdr, (size_t)ssz, entries, len, type, ret_partno, &x);
        if (r < 0 || !ret_extent)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        disk = S_ISBLK(st.st_mode) ? 0 : (uint64_t)st.st_size;
        if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &disk) < 0)
                return -errno;
        /* last >= first, both below the disk's end in whole sectors */
        if (x.last >= disk / (uint64_t)ssz)
                return -EBADMSG;
        x.offset = x.first * (uint64_t)ssz;
        x.size = (x.last - x.first + 1) * (uint64_t)ssz;
        *ret_extent = x;
        return 0;
}
