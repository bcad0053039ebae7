/* guid.h: GUIDs as UEFI and GPT store them (UEFI 2.10 Appendix A: the first
 * three fields little-endian, the last eight bytes in order) and their
 * canonical 8-4-4-4-12 text. One parser serves EFI variables, signature
 * owners and GPT partition types alike. */
#pragma once

#include <stdint.h>

typedef struct {
        uint8_t b[16]; /* as EFI stores it: first three fields little-endian */
} efi_guid;

/* GUID_INIT(0x8be4df61, 0x93ca, 0x11d2, 0xaa, 0x0d, ...): the fields as the
 * text writes them, laid out in storage order. */
#define GUID_INIT(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)                                        \
        { {                                                                                        \
                (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, (b) & 0xff, \
                ((b) >> 8) & 0xff, (c) & 0xff, ((c) >> 8) & 0xff, d0, d1, d2, d3, d4, d5, d6, d7,  \
        } }

/* -EINVAL unless text is exactly 8-4-4-4-12 hex digits (either case);
 * *ret is written only on success. */
int guid_parse(const char *text, efi_guid *ret);
void guid_format(const efi_guid *g, char out[static 37]); /* lower case */
