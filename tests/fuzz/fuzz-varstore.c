/* fuzz-varstore.c: libFuzzer target for the OVMF variable store parser and
 * writer: parse, walk the signature lists of every valid variable, then
 * append (or replace) a variable, which must never write past the input. */
#include <stdlib.h>

#include "formats/efivars.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int touch(const efi_guid *type, const efi_guid *owner, const uint8_t *d, size_t len,
                 void *userdata)
{
        volatile uint8_t sink = 0;

        (void)type;
        (void)owner;
        (void)userdata;
        for (size_t i = 0; i < len; i++)
                sink ^= d[i];
        (void)sink;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const uint8_t value[64] = { 0x5a };
        uint8_t *copy = malloc(size ? size : 1);
        struct varstore vs;

        if (!copy)
                return 0;
        memcpy(copy, data, size);
        if (varstore_parse(copy, size, &vs) >= 0) {
                for (size_t i = 0; i < vs.n_vars; i++) {
                        const struct efivar *v = &vs.vars[i];

                        if (v->data_offset > size || v->data_len > size - v->data_offset)
                                abort();
                        if (v->valid)
                                (void)esl_walk(copy + v->data_offset, v->data_len, touch, NULL);
                }
                (void)varstore_set(&vs, &EFI_GLOBAL_VARIABLE_GUID, "PK", EFI_SECURE_BOOT_VAR_ATTRS,
                                   NULL, value, sizeof(value));
                varstore_done(&vs);
        }
        err_clear();
        free(copy);
        return 0;
}
