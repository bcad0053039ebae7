/* uki.c: assemble a UKI from systemd-stub, kernel, initrds and command line
 * (see uki.h). The sections are added in C, the way objcopy --add-section
 * --change-section-vma would, with addresses derived from the stub's headers. */
#include "formats/uki.h"

#include <ctype.h>
#include <stdio.h>

#include "formats/pe.h"
#include "base/endian.h"
#include "base/util.h"

/* IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ (PE/COFF §4.1) */
#define UKI_SECTION_FLAGS 0x40000040u

static uint64_t align_up(uint64_t v, uint64_t a)
{
        return (v + a - 1) & ~(a - 1);
}

/* The parts fit: their number and names, no empty one, none the stub has,
 * and room for their headers in the unused, zeroed space between the section
 * table and SizeOfHeaders (moving the stub's raw data to make room is not
 * done). Returns where the new headers go. */
static int check_parts(const struct pe_image *pe, const uint8_t *stub,
                       const struct uki_part *parts, size_t n_parts, size_t *ret_table_end)
{
        size_t table_end, new_table_end;

        /* PE/COFF §3.4.2: FileAlignment is a power of two from 512 to 64 KiB,
         * at most SectionAlignment. Every new section is padded to it: a
         * larger one from a crafted stub would cost up to 4 GiB. */
        if (pe->file_alignment < 512 || pe->file_alignment > 64 * 1024 ||
            (pe->file_alignment & (pe->file_alignment - 1)) ||
            pe->file_alignment > pe->section_alignment)
                return errf(-EBADMSG,
                            "FileAlignment 0x%x is not a power of two from 512 to 64 KiB and at "
                            "most SectionAlignment 0x%x",
                            pe->file_alignment, pe->section_alignment);
        if (n_parts == 0 || n_parts > UKI_MAX_PARTS || pe->n_sections + n_parts > PE_MAX_SECTIONS)
                return errf(-EINVAL, "bad number of sections to add");
        for (size_t i = 0; i < n_parts; i++) {
                if (strlen(parts[i].name) > 8)
                        return errf(-EINVAL, "section name '%s' is longer than 8 bytes",
                                    parts[i].name);
                if (parts[i].len == 0)
                        return errf(-EINVAL, "section %s would be empty", parts[i].name);
                if (pe_find_section(pe, parts[i].name))
                        return errf(-EEXIST, "stub already has a %s section", parts[i].name);
        }
        table_end = pe->sections_offset + (size_t)pe->n_sections * PE_SECTION_HEADER_SIZE;
        new_table_end = table_end + n_parts * PE_SECTION_HEADER_SIZE;
        if (new_table_end > pe->size_of_headers)
                return errf(-ENOSPC, "stub has no room for %zu more section headers", n_parts);
        for (size_t i = table_end; i < new_table_end; i++)
                if (stub[i] != 0)
                        return errf(-ENOSPC, "stub has data after its section table");
        *ret_table_end = table_end;
        return 0;
}

/* The first free virtual address: after SizeOfImage and every section. */
static uint64_t first_free_vma(const struct pe_image *pe)
{
        uint64_t vma = pe->size_of_image;

        for (unsigned i = 0; i < pe->n_sections; i++) {
                const struct pe_section *s = &pe->sections[i];
                uint64_t end = (uint64_t)s->virtual_address +
                               (s->virtual_size > s->size_of_raw_data ? s->virtual_size
                                                                      : s->size_of_raw_data);
                if (end > vma)
                        vma = end;
        }
        return align_up(vma, UKI_VMA_ALIGN);
}

/* Writes a section header for each part (file offsets from file_off, 4 KiB
 * aligned addresses from *vma) and records its piece in img. *vma ends past
 * the last section; *ret_raw is the raw data added. */
static int add_sections(uint8_t *h, const struct pe_image *pe, const struct uki_part *parts,
                        size_t n_parts, uint64_t file_off, uint64_t *vma, uint64_t *ret_raw,
                        struct uki_image *img)
{
        uint64_t raw_sum = 0;

        for (size_t i = 0; i < n_parts; i++, h += PE_SECTION_HEADER_SIZE) {
                uint64_t raw = align_up(parts[i].len, pe->file_alignment);

                if (*vma + parts[i].len > UINT32_MAX)
                        return errf(-EFBIG, "image would exceed the 4 GiB address space");
                memset(h, 0, PE_SECTION_HEADER_SIZE);
                memcpy(h, parts[i].name, strlen(parts[i].name));
                put_le32(h + 8, (uint32_t)parts[i].len); /* VirtualSize */
                put_le32(h + 12, (uint32_t)*vma);        /* VirtualAddress */
                put_le32(h + 16, (uint32_t)raw);         /* SizeOfRawData */
                put_le32(h + 20, (uint32_t)file_off);    /* PointerToRawData */
                put_le32(h + 36, UKI_SECTION_FLAGS);     /* Characteristics */
                img->parts[i].data = parts[i].data;
                img->parts[i].len = parts[i].len;
                img->parts[i].pad = (size_t)(raw - parts[i].len);

                file_off += raw;
                raw_sum += raw;
                *vma = align_up(*vma + parts[i].len, UKI_VMA_ALIGN);
        }
        img->n_parts = n_parts;
        *ret_raw = raw_sum;
        return 0;
}

/* The header fields the new sections change, then the checksum over the
 * whole image (head and pieces). */
static void finish_headers(uint8_t *head, const struct pe_image *pe, size_t n_parts,
                           uint64_t raw_sum, uint64_t vma, const struct uki_image *img)
{
        struct pe_csum csum = {};
        uint32_t init_data;

        /* COFF header: NumberOfSections; the deprecated symbol table is gone. */
        put_le16(head + pe->coff_offset + 2, (uint16_t)(pe->n_sections + n_parts));
        put_le32(head + pe->coff_offset + 8, 0);
        put_le32(head + pe->coff_offset + 12, 0);
        /* Optional header: SizeOfInitializedData, SizeOfImage; no signature. */
        init_data = le32(head + pe->opt_offset + 8);
        put_le32(head + pe->opt_offset + 8, (uint32_t)(init_data + raw_sum));
        put_le32(head + pe->opt_offset + 56, (uint32_t)align_up(vma, pe->section_alignment));
        if (pe->certdir_offset) {
                put_le32(head + pe->certdir_offset, 0);
                put_le32(head + pe->certdir_offset + 4, 0);
        }
        put_le32(head + pe->checksum_offset, 0);
        pe_csum_update(&csum, head, img->head_len);
        for (size_t i = 0; i < img->n_parts; i++) {
                pe_csum_update(&csum, img->parts[i].data, img->parts[i].len);
                csum.pos += img->parts[i].pad; /* zeros add nothing but length */
        }
        put_le32(head + pe->checksum_offset, pe_csum_final(&csum));
}

int uki_build(const uint8_t *stub, size_t stub_len, const struct uki_part *parts, size_t n_parts,
              struct uki_image *ret)
{
        _cleanup_free_ uint8_t *head = NULL;
        uint64_t vma, file_off, total, raw_sum = 0;
        struct uki_image img = {};
        struct pe_image pe;
        size_t table_end = 0;
        int r;

        r = pe_parse(stub, stub_len, &pe);
        if (r < 0)
                return r;
        r = check_parts(&pe, stub, parts, n_parts, &table_end);
        if (r < 0)
                return r;
        vma = first_free_vma(&pe);

        /* The head: the stub up to the end of its raw data (dropping a
         * signature or symbol table after it), zero-padded to FileAlignment. */
        file_off = align_up(pe.raw_end, pe.file_alignment);
        total = file_off;
        for (size_t i = 0; i < n_parts; i++)
                total += align_up(parts[i].len, pe.file_alignment);
        if (total > UINT32_MAX)
                return errf(-EFBIG, "image would exceed 4 GiB");
        img.head_len = (size_t)file_off;
        head = xmalloc0(img.head_len);
        memcpy(head, stub, pe.raw_end);

        r = add_sections(head + table_end, &pe, parts, n_parts, file_off, &vma, &raw_sum, &img);
        if (r < 0)
                return r;
        finish_headers(head, &pe, n_parts, raw_sum, vma, &img);
        img.head = TAKE_PTR(head);
        *ret = img;
        return 0;
}

/* One initrd as it is; several in a fresh buffer (*ret_owned), each but the
 * last zero-padded to 4 bytes. */
static int concat_initrds(const struct uki_input *in, size_t n, uint8_t **ret_owned,
                          const uint8_t **ret, size_t *ret_len)
{
        size_t total = 0;
        uint8_t *buf;

        *ret_owned = NULL;
        if (n == 1) {
                *ret = in[0].data;
                *ret_len = in[0].len;
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                size_t pad = i + 1 < n ? (4 - in[i].len % 4) % 4 : 0;

                if (in[i].len > UINT32_MAX - total || pad > UINT32_MAX - total - in[i].len)
                        return errf(-EFBIG, "%s: the initrds exceed 4 GiB", in[i].name);
                total += in[i].len + pad;
        }
        buf = xmalloc0(total + 1); /* zeroed: the padding */
        for (size_t i = 0, off = 0; i < n; i++) {
                memcpy(buf + off, in[i].data, in[i].len);
                off += in[i].len + (4 - in[i].len % 4) % 4;
        }
        *ret_owned = buf;
        *ret = buf;
        *ret_len = total;
        return 0;
}

int uki_assemble(const struct uki_inputs *in, struct uki_image *ret)
{
        _cleanup_free_ uint8_t *initrds = NULL;
        _cleanup_free_ char *release = NULL;
        struct uki_part parts[5];
        const uint8_t *initrd = NULL;
        size_t initrd_len = 0, n = 0;
        int r;

        if (in->kernel.len == 0)
                return errf(-EINVAL, "%s: empty file", in->kernel.name);
        if (in->n_initrds == 0)
                return errf(-EINVAL, "no initrd");
        r = concat_initrds(in->initrds, in->n_initrds, &initrds, &initrd, &initrd_len);
        if (r < 0)
                return r;
        if (initrd_len == 0)
                return errf(-EINVAL, "the initrds are empty");
        (void)uki_kernel_release(in->kernel.data, in->kernel.len, &release);

        if (in->osrel.len > 0)
                parts[n++] = (struct uki_part){ ".osrel", in->osrel.data, in->osrel.len };
        if (in->cmdline.len > 0)
                parts[n++] = (struct uki_part){ ".cmdline", in->cmdline.data, in->cmdline.len };
        if (release)
                parts[n++] = (struct uki_part){ ".uname", (uint8_t *)release, strlen(release) };
        parts[n++] = (struct uki_part){ ".linux", in->kernel.data, in->kernel.len };
        parts[n++] = (struct uki_part){ ".initrd", initrd, initrd_len };
        r = uki_build(in->stub.data, in->stub.len, parts, n, ret);
        if (r < 0)
                return errf_prefix(r, "%s", in->stub.name);
        ret->initrds = TAKE_PTR(initrds);
        ret->release = TAKE_PTR(release);
        return 0;
}

void uki_image_done(struct uki_image *img)
{
        free(img->head);
        free(img->initrds);
        free(img->release);
        *img = (struct uki_image){};
}

size_t uki_image_size(const struct uki_image *img)
{
        size_t n = img->head_len;

        for (size_t i = 0; i < img->n_parts; i++)
                n += img->parts[i].len + img->parts[i].pad;
        return n;
}

uint8_t *uki_image_flatten(const struct uki_image *img)
{
        uint8_t *out = xmalloc0(uki_image_size(img)), *p = out;

        memcpy(p, img->head, img->head_len);
        p += img->head_len;
        for (size_t i = 0; i < img->n_parts; i++) {
                memcpy(p, img->parts[i].data, img->parts[i].len);
                p += img->parts[i].len + img->parts[i].pad;
        }
        return out;
}

int uki_kernel_release(const uint8_t *kernel, size_t len, char **ret)
{
        size_t off, end;
        uint16_t ptr;

        /* Setup header: "HdrS" at 0x202, protocol version at 0x206, and from
         * protocol 2.00 on a pointer (minus 0x200) to the version string. */
        if (len < 0x210 || memcmp(kernel + 0x202, "HdrS", 4) != 0 || le16(kernel + 0x206) < 0x200)
                return -ENODATA;
        ptr = le16(kernel + 0x20e);
        if (ptr == 0)
                return -ENODATA;
        off = 0x200 + (size_t)ptr;
        if (off >= len)
                return -ENODATA;
        for (end = off; end < len && end - off < 256 && kernel[end] && !isspace(kernel[end]); end++)
                if (!isprint(kernel[end]))
                        return -ENODATA;
        if (end == off)
                return -ENODATA;
        *ret = strndup((const char *)kernel + off, end - off);
        if (!*ret)
                return -ENOMEM;
        return 0;
}
