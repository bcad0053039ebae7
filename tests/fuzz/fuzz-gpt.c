/* fuzz-gpt.c: libFuzzer target for the GPT header and entry-array checks:
 * the first 512 bytes are LBA 1, the rest the entry array. */
#include <stdlib.h>

#include "formats/gpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const uint8_t pbf[16] = { 0x9f, 0xe1, 0xa3, 0x01, 0xea, 0x9f, 0x47, 0xed,
                                         0x92, 0xc2, 0xe7, 0x56, 0x39, 0xff, 0x56, 0x01 };
        size_t hdr = size < 512 ? size : 512;
        struct gpt_extent x;
        uint32_t n = 0;

        if (gpt_find_type(data, hdr, data + hdr, size - hdr, pbf, &n, &x) == 0 &&
            (n == 0 || x.last < x.first))
                abort(); /* partition numbers start at 1; an extent is never empty */
        return 0;
}
