/* uki.h: unified kernel images built on systemd-stub (UAPI.5 "Unified Kernel
 * Image" specification): the stub PE with .osrel .cmdline .uname .linux
 * .initrd sections appended after its own, unsigned. uki_assemble() makes
 * one from its inputs; uki_build() adds any sections to a stub. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct uki_part {
        const char *name; /* section name, at most 8 bytes, e.g. ".linux" */
        const uint8_t *data;
        size_t len; /* must be > 0 */
};

#define UKI_VMA_ALIGN 4096
#define UKI_MAX_PARTS 16

/* An assembled UKI as the pieces to write one after the other: the stub's
 * headers (updated) and raw data, then each part's bytes followed by `pad`
 * zero bytes. Part data is not copied: it points to the caller's buffers
 * (or, from uki_assemble, to the concatenated initrds and the release the
 * image owns). */
struct uki_image {
        uint8_t *head;
        size_t head_len;
        struct {
                const uint8_t *data;
                size_t len, pad;
        } parts[UKI_MAX_PARTS];
        size_t n_parts;
        uint8_t *initrds; /* owned: several initrds concatenated */
        char *release;    /* owned: the .uname text */
};

/* Appends parts (in the order given) to stub. Each section starts on a 4 KiB
 * virtual address after the stub's image, on a FileAlignment file offset
 * after the stub's raw data; SizeOfImage, the section count and the checksum
 * are updated, and anything the stub carried after its sections (a
 * signature, a COFF symbol table) is dropped. */
int uki_build(const uint8_t *stub, size_t stub_len, const struct uki_part *parts, size_t n_parts,
              struct uki_image *ret);

/* One input of a UKI; name (a path) is what messages call it. */
struct uki_input {
        const char *name;
        const uint8_t *data;
        size_t len;
};

/* What a UKI is made of. cmdline and osrel may be empty (no section). */
struct uki_inputs {
        struct uki_input stub, kernel;
        const struct uki_input *initrds;
        size_t n_initrds; /* at least one */
        struct uki_input cmdline, osrel;
};

/* Builds the UKI of a stub, kernel and initrds: .osrel .cmdline .uname (the
 * kernel's release, when its header has one) .linux .initrd, in that order.
 * One initrd is used as it is; several are concatenated, each but the last
 * zero-padded to 4 bytes, the cpio alignment the kernel expects (it skips the
 * zeros between archives). Messages name the input at fault. */
int uki_assemble(const struct uki_inputs *in, struct uki_image *ret);
void uki_image_done(struct uki_image *img);
size_t uki_image_size(const struct uki_image *img);
uint8_t *uki_image_flatten(const struct uki_image *img); /* one buffer: tests, fuzzing */

/* The kernel release ("6.1.0-57-amd64") from a bzImage's setup header
 * (Documentation/arch/x86/boot.rst: kernel_version at 0x20e); -ENODATA if
 * the image has none. */
int uki_kernel_release(const uint8_t *kernel, size_t len, char **ret);
