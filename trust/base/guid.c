/* guid.c: GUID text to storage bytes and back (see guid.h). */
#include "base/guid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

/* Where the text's n-th byte is stored: the first three fields are
 * little-endian (guid_format() reads them back in the same order). */
static const uint8_t storage_index[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

int guid_parse(const char *text, efi_guid *ret)
{
        efi_guid g;
        size_t i = 0;

        if (!text || strlen(text) != 36)
                return -EINVAL;
        for (size_t n = 0; n < 16; n++) {
                int hi, lo;

                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (text[i] != '-')
                                return -EINVAL;
                        i++;
                }
                hi = unhexchar(text[i]);
                lo = unhexchar(text[i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                g.b[storage_index[n]] = (uint8_t)(hi << 4 | lo);
                i += 2;
        }
        *ret = g;
        return 0;
}

void guid_format(const efi_guid *g, char out[static 37])
{
        const uint8_t *b = g->b;

        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12],
                 b[13], b[14], b[15]);
}
