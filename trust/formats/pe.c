/* pe.c: bounds-checked PE/COFF header parser (see pe.h). Layout references
 * are to the Microsoft PE/COFF specification: §2 MS-DOS stub (e_lfanew at
 * 0x3c), §3.3 COFF file header, §3.4 optional header, §4 section table,
 * §5.7 attribute certificate table. */
#include "formats/pe.h"

#include <errno.h>
#include <string.h>

#include "base/endian.h"
#include "base/util.h"

#define DOS_HEADER_SIZE 64
#define COFF_HEADER_SIZE 20
#define PE_MAGIC_PE32 0x10b
#define PE_MAGIC_PE32PLUS 0x20b

/* MS-DOS stub and COFF file header (§2, §3.3). */
static int parse_coff(const uint8_t *data, size_t size, struct pe_image *pe)
{
        uint32_t e_lfanew;

        if (size < DOS_HEADER_SIZE)
                return errf(-EBADMSG, "truncated MS-DOS header (%zu bytes)", size);
        if (data[0] != 'M' || data[1] != 'Z')
                return errf(-EBADMSG, "no MZ signature, not a PE image");
        e_lfanew = le32(data + 0x3c);
        if (!range_ok(e_lfanew, 4 + COFF_HEADER_SIZE, size))
                return errf(-EBADMSG, "PE header at 0x%x lies past the end of the file", e_lfanew);
        if (memcmp(data + e_lfanew, "PE\0\0", 4) != 0)
                return errf(-EBADMSG, "no PE signature at 0x%x", e_lfanew);

        pe->coff_offset = (size_t)e_lfanew + 4;
        pe->machine = le16(data + pe->coff_offset);
        pe->n_sections = le16(data + pe->coff_offset + 2);
        pe->symtab_offset = le32(data + pe->coff_offset + 8);
        pe->opt_size = le16(data + pe->coff_offset + 16);
        pe->opt_offset = pe->coff_offset + COFF_HEADER_SIZE;

        if (pe->n_sections == 0)
                return errf(-EBADMSG, "image has no sections");
        if (pe->n_sections > PE_MAX_SECTIONS)
                return errf(-EBADMSG, "image claims %u sections (more than %d)", pe->n_sections,
                            PE_MAX_SECTIONS);
        if (pe->opt_size < 2 || !range_ok(pe->opt_offset, pe->opt_size, size))
                return errf(-EBADMSG, "truncated optional header");
        return 0;
}

/* The optional header (§3.4): alignments, sizes, the data directories. */
static int parse_optional(const uint8_t *data, struct pe_image *pe)
{
        uint32_t n_dirs_field;
        size_t dirs_rel;
        uint16_t magic;

        magic = le16(data + pe->opt_offset);
        if (magic == PE_MAGIC_PE32PLUS) {
                pe->pe32plus = true;
                dirs_rel = 112;
        } else if (magic == PE_MAGIC_PE32) {
                dirs_rel = 96;
        } else
                return errf(-EBADMSG, "unknown optional header magic 0x%x", magic);

        /* The fixed part must be there in full: everything up to NumberOfRvaAndSizes. */
        if (pe->opt_size < dirs_rel)
                return errf(-EBADMSG, "optional header too short (%zu bytes)", pe->opt_size);
        pe->section_alignment = le32(data + pe->opt_offset + 32);
        pe->file_alignment = le32(data + pe->opt_offset + 36);
        pe->size_of_image = le32(data + pe->opt_offset + 56);
        pe->size_of_headers = le32(data + pe->opt_offset + 60);
        pe->checksum_offset = pe->opt_offset + 64;
        n_dirs_field = le32(data + pe->opt_offset + dirs_rel - 4);
        pe->dirs_offset = pe->opt_offset + dirs_rel;

        if (pe->file_alignment == 0 || (pe->file_alignment & (pe->file_alignment - 1)))
                return errf(-EBADMSG, "file alignment 0x%x is not a power of two",
                            pe->file_alignment);
        if (pe->section_alignment == 0 || (pe->section_alignment & (pe->section_alignment - 1)))
                return errf(-EBADMSG, "section alignment 0x%x is not a power of two",
                            pe->section_alignment);

        /* Never trust NumberOfRvaAndSizes: it must fit in the optional header. */
        if (n_dirs_field > (pe->opt_size - dirs_rel) / 8)
                return errf(-EBADMSG, "%u data directories do not fit in the optional header",
                            n_dirs_field);
        pe->n_dirs = n_dirs_field;
        if (pe->n_dirs > PE_DIR_SECURITY)
                pe->certdir_offset = pe->dirs_offset + PE_DIR_SECURITY * 8;
        return 0;
}

/* The section table (§4) and where the raw data of the sections ends. */
static int parse_sections(const uint8_t *data, size_t size, struct pe_image *pe)
{
        size_t sections_end;

        pe->sections_offset = pe->opt_offset + pe->opt_size;
        if (!range_ok(pe->sections_offset, (size_t)pe->n_sections * PE_SECTION_HEADER_SIZE, size))
                return errf(-EBADMSG, "section table lies past the end of the file");
        sections_end = pe->sections_offset + (size_t)pe->n_sections * PE_SECTION_HEADER_SIZE;
        if (pe->size_of_headers < sections_end || pe->size_of_headers > size)
                return errf(-EBADMSG, "SizeOfHeaders 0x%x is inconsistent (headers end at 0x%zx, file has 0x%zx bytes)",
                            pe->size_of_headers, sections_end, size);

        pe->raw_end = pe->size_of_headers;
        for (unsigned i = 0; i < pe->n_sections; i++) {
                const uint8_t *h = data + pe->sections_offset + (size_t)i * PE_SECTION_HEADER_SIZE;
                struct pe_section *s = &pe->sections[i];

                memcpy(s->name, h, 8);
                s->name[8] = 0;
                s->virtual_size = le32(h + 8);
                s->virtual_address = le32(h + 12);
                s->size_of_raw_data = le32(h + 16);
                s->pointer_to_raw_data = le32(h + 20);
                s->characteristics = le32(h + 36);

                if ((uint64_t)s->virtual_address + s->virtual_size > UINT32_MAX)
                        return errf(-EBADMSG, "section %u (%.8s) wraps the address space", i,
                                    s->name);
                if (s->size_of_raw_data == 0)
                        continue;
                if (!range_ok(s->pointer_to_raw_data, s->size_of_raw_data, size))
                        return errf(-EBADMSG, "section %u (%.8s) lies past the end of the file", i,
                                    s->name);
                if (s->pointer_to_raw_data < pe->size_of_headers)
                        return errf(-EBADMSG, "section %u (%.8s) overlaps the headers", i,
                                    s->name);
                if ((size_t)s->pointer_to_raw_data + s->size_of_raw_data > pe->raw_end)
                        pe->raw_end = (size_t)s->pointer_to_raw_data + s->size_of_raw_data;
        }
        return 0;
}

/* The attribute certificate table (§5.7), if the image has one. */
static int parse_certdir(const uint8_t *data, size_t size, struct pe_image *pe)
{
        uint32_t off, len;

        if (!pe->certdir_offset)
                return 0;
        /* The security directory holds a file offset, not an RVA (§4.7). */
        off = le32(data + pe->certdir_offset);
        len = le32(data + pe->certdir_offset + 4);
        if (len == 0)
                return 0;
        if (!range_ok(off, len, size))
                return errf(-EBADMSG, "certificate table lies past the end of the file");
        if (off < pe->raw_end)
                return errf(-EBADMSG, "certificate table at 0x%x overlaps the headers or sections (which end at 0x%zx)",
                            off, pe->raw_end);
        if (off % 8)
                return errf(-EBADMSG, "certificate table at 0x%x is not 8-byte aligned", off);
        if ((size_t)off + len != size)
                return errf(-EBADMSG, "certificate table does not end at the end of the file");
        pe->cert_offset = off;
        pe->cert_size = len;
        return 0;
}

int pe_parse(const uint8_t *data, size_t size, struct pe_image *pe)
{
        int r;

        memset(pe, 0, sizeof(*pe));
        pe->data = data;
        pe->size = size;
        r = parse_coff(data, size, pe);
        if (r >= 0)
                r = parse_optional(data, pe);
        if (r >= 0)
                r = parse_sections(data, size, pe);
        if (r >= 0)
                r = parse_certdir(data, size, pe);
        return r;
}

const struct pe_section *pe_find_section(const struct pe_image *pe, const char *name)
{
        for (unsigned i = 0; i < pe->n_sections; i++)
                if (strncmp(pe->sections[i].name, name, 8) == 0)
                        return &pe->sections[i];
        return NULL;
}

/* A 16-bit sum of little-endian words with end-around carry, plus the file
 * length: the algorithm of imagehlp's CheckSumMappedFile. A byte at an even
 * offset is a word's low half, at an odd offset its high half; the carries
 * are folded once at the end (the same value modulo 0xffff). */
void pe_csum_update(struct pe_csum *c, const uint8_t *p, size_t len)
{
        uint64_t sum = c->sum;
        size_t n;

        c->pos += len;
        if (len > 0 && ((c->pos - len) & 1)) {
                sum += (uint64_t)p[0] << 8;
                p++;
                len--;
        }
        n = len & ~(size_t)1;
        for (size_t i = 0; i < n; i += 2)
                sum += le16(p + i);
        if (len & 1)
                sum += p[len - 1];
        c->sum = sum;
}

uint32_t pe_csum_final(const struct pe_csum *c)
{
        uint64_t sum = c->sum;

        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint32_t)(sum + c->pos);
}

uint32_t pe_checksum(const uint8_t *data, size_t size, size_t checksum_offset)
{
        struct pe_csum c = {};

        pe_csum_update(&c, data, size);
        /* Count the CheckSum field as zero: take its bytes back out. */
        for (size_t q = checksum_offset; q < checksum_offset + 4 && q < size; q++)
                c.sum -= (uint64_t)data[q] << (8 * (q & 1));
        return pe_csum_final(&c);
}
