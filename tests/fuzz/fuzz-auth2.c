/* fuzz-auth2.c: libFuzzer target for signed variable updates: parse an
 * EFI_VARIABLE_AUTHENTICATION_2 payload, find the variable its signature
 * covers, and apply it with the firmware's rules to a store whose PK, KEK
 * and db are the input's own data (so the filters and list walks see
 * hostile lists too). Nothing may read or write out of bounds. */
#include <stdlib.h>

#include "base/util.h"
#include "formats/auth2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void take(struct sbvar_value *v, const uint8_t *d, size_t len)
{
        v->exists = true;
        v->time_known = true;
        v->data = xmalloc0(len + 1);
        memcpy(v->data, d, len);
        v->len = len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct sbvar_value vars[_SBVAR_MAX] = {};
        struct auth2_target t;
        struct auth2 a;

        if (auth2_parse(data, size, &a) < 0)
                return 0;
        /* the store: PK and KEK from the payload's data, db from its tail */
        take(&vars[SBVAR_PK], a.data, a.data_len);
        take(&vars[SBVAR_KEK], a.data, a.data_len / 2);
        take(&vars[SBVAR_DB], a.data + a.data_len / 2, a.data_len - a.data_len / 2);
        if (auth2_identify(&a, &t, NULL, 0) < 0) {
                /* still exercise the rules for each target */
                t = (struct auth2_target){ .var = (enum sbvar)(size % _SBVAR_MAX),
                                           .append = size & 4 };
        }
        (void)auth2_apply(&a, &t, vars);
        sbvar_values_done(vars);
        return 0;
}
