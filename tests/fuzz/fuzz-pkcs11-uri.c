/* fuzz-pkcs11-uri.c: libFuzzer target for the strict RFC 7512 URI parser of
 * privkey.uri; a URI that parses, formatted for one of its objects
 * (pkcs11_uri_for_object), parses again to the same token and query. */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "formats/pkcs11-uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pkcs11_uri u, v;
        char *s, *again;

        if (size > PKCS11_URI_MAX + 16)
                return 0;
        s = xmalloc0(size + 1);
        memcpy(s, data, size);
        if (pkcs11_uri_parse(s, &u) < 0) {
                free(s);
                return 0;
        }
        again = pkcs11_uri_for_object(&u, "uefi-pk");
        /* escaping can push a valid URI over the size limit: only then may
         * the re-parse fail */
        if (strlen(again) <= PKCS11_URI_MAX) {
                if (pkcs11_uri_parse(again, &v) < 0 || !same(u.token, v.token) ||
                    !same(u.serial, v.serial) || !same(u.model, v.model) ||
                    !same(u.manufacturer, v.manufacturer) || !same(v.object, "uefi-pk") ||
                    !same(v.type, "private") || !same(u.module_path, v.module_path) ||
                    !same(u.pin_source, v.pin_source) || v.id)
                        abort();
                pkcs11_uri_done(&v);
        }
        free(again);
        pkcs11_uri_done(&u);
        free(s);
        return 0;
}
