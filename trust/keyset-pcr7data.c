/* keyset-pcr7data.c: the pcr7data step of keyset creation: predict the
 * keyset's three PCR7 values (pcr7.c) and add them, with their signed luks
 * and passwd policies, to the keyset's pcr7data tree (pcr7data.c). */
#include "keyset.h"
#include "pcr7.h"
#include "pcr7data.h"
#include "util.h"

int keyset_write_pcr7data(const char *tmp_keyset_dir, const char *keyset_name)
{
        struct keyset_efi_vars vars = { 0 };
        struct pcr7_event ev[PCR7_MAX_EVENTS];
        struct pcr7data_set set;
        uint8_t *dst[_UKI_CLASS_MAX] = {
                [UKI_PRODUCTION] = set.production,
                [UKI_TPM] = set.tpm,
                [UKI_LIMITED] = set.limited,
        };
        size_t n;
        int r;

        r = keyset_efi_vars_load(tmp_keyset_dir, NULL, &vars);
        if (r < 0)
                return r;
        for (int c = 0; c < _UKI_CLASS_MAX && r >= 0; c++)
                r = pcr7_events(&vars, (enum uki_class)c, ev, &n, dst[c]);
        keyset_efi_vars_free(&vars);
        if (r < 0)
                return r;
        /* The predicted values for firmware with exactly this keyset enrolled
         * and no dbx (what `efivars enroll` writes); measured values from
         * other machines are added later with `keyset pcr7data`. */
        r = pcr7data_add(tmp_keyset_dir, keyset_name, &set, "0001",
                         "predicted by trust keyset add", NULL);
        return r < 0 ? r : 0;
}
