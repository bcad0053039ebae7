/* pe.h: a bounds-checked reader of PE/COFF images (Microsoft PE/COFF
 * specification rev 11: MS-DOS stub, signature, COFF file header, optional
 * header PE32/PE32+, data directories, section table, certificate table).
 * Nothing is trusted: every offset and size is checked against the buffer,
 * and an inconsistent image is -EBADMSG with the reason recorded by errf(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PE_SECTION_HEADER_SIZE 40
#define PE_MAX_SECTIONS 96 /* the Windows loader's limit, ample for a UKI */
#define PE_DIR_SECURITY 4  /* data directory index of the certificate table */
#define PE_DIR_BASERELOC 5

struct pe_section {
        char name[9]; /* NUL-terminated copy of the 8-byte name field */
        uint32_t virtual_size;
        uint32_t virtual_address;
        uint32_t size_of_raw_data;
        uint32_t pointer_to_raw_data;
        uint32_t characteristics;
};

struct pe_image {
        const uint8_t *data; /* not owned */
        size_t size;

        size_t coff_offset;     /* COFF file header (just after "PE\0\0") */
        size_t opt_offset;      /* optional header */
        size_t opt_size;        /* SizeOfOptionalHeader */
        size_t checksum_offset; /* CheckSum field in the optional header */
        size_t dirs_offset;     /* first data directory entry */
        size_t certdir_offset;  /* the security directory entry, 0 if there is none */
        size_t sections_offset; /* section table */

        bool pe32plus;
        uint16_t machine;
        uint16_t n_sections;
        uint32_t n_dirs;
        uint32_t section_alignment;
        uint32_t file_alignment;
        uint32_t size_of_image;
        uint32_t size_of_headers;
        uint32_t symtab_offset; /* PointerToSymbolTable (deprecated, 0 normally) */

        /* Certificate table (file offset, size); both 0 when unsigned. */
        uint32_t cert_offset;
        uint32_t cert_size;

        /* End of the furthest section raw data, at least size_of_headers. */
        size_t raw_end;

        struct pe_section sections[PE_MAX_SECTIONS];
};

/* Parses and checks an image held in data[0..size). pe->data points into it. */
int pe_parse(const uint8_t *data, size_t size, struct pe_image *pe);

const struct pe_section *pe_find_section(const struct pe_image *pe, const char *name);

/* The PE checksum (as imagehlp's CheckSumMappedFile computes it) over
 * data[0..size), with the 4 bytes at checksum_offset counted as zero. */
uint32_t pe_checksum(const uint8_t *data, size_t size, size_t checksum_offset);

/* The same over a file given in consecutive pieces (the caller zeroes the
 * CheckSum field in the piece that holds it). */
struct pe_csum {
        uint64_t sum;
        size_t pos;
};
void pe_csum_update(struct pe_csum *c, const uint8_t *p, size_t len);
uint32_t pe_csum_final(const struct pe_csum *c);

/* offset + len <= size without overflow */
static inline bool range_ok(uint64_t offset, uint64_t len, uint64_t size)
{
        return offset <= size && len <= size - offset;
}
