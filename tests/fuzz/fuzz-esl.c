/* fuzz-esl.c: libFuzzer target for the EFI_SIGNATURE_LIST walker; every
 * entry handed out must lie inside the input. */
#include <stdlib.h>

#include "formats/esl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
        const uint8_t *start, *end;
        size_t n;
};

static int check(const efi_guid *type, const efi_guid *owner, const uint8_t *d, size_t len,
                 void *userdata)
{
        struct span *s = userdata;
        volatile uint8_t sink = 0;

        (void)type;
        (void)owner;
        if (d < s->start || len > (size_t)(s->end - d))
                abort();
        for (size_t i = 0; i < len; i++) /* touch every byte: ASan checks the bound */
                sink ^= d[i];
        (void)sink;
        s->n++;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct span s = { data, data + size, 0 };

        (void)esl_walk(data, size, check, &s);
        return 0;
}
