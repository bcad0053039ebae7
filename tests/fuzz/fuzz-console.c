/* fuzz-console.c: libFuzzer target for what trust vm reads from the guest's
 * serial console: the line scanner fed in chunks of a fuzzed size, the
 * sanitised tail shown on failure, and the attestation bundle `vm attest`
 * extracts from it. */
#include <stdlib.h>

#include "machine/console.h"
#include "machine/qemu.h"
#include "machine/vm-attest.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct console_scan *sc;
        enum console_result r;
        size_t chunk, lines;
        char *t;

        if (size < 2)
                return 0;
        chunk = (size_t)data[0] + 1;
        lines = data[1];
        data += 2;
        size -= 2;
        sc = xmalloc0(sizeof(*sc));
        for (size_t o = 0; o < size; o += chunk) {
                size_t k = size - o < chunk ? size - o : chunk;
                if (console_scan_feed(sc, (const char *)data + o, k, "installed successfully",
                                      "XXX FAIL XXX", &r))
                        break;
        }
        (void)console_scan_finish(sc, "installed successfully", "XXX FAIL XXX", &r);
        free(sc);
        t = console_tail_of((const char *)data, size, (unsigned)lines);
        for (const char *p = t; *p; p++)
                if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
                        abort(); /* the tail must be printable */
        free(t);
        {
                uint8_t *bundle = NULL;
                size_t len = 0;

                if (console_attest_extract((const char *)data, size, &bundle, &len) >= 0 &&
                    !bundle)
                        abort();
                free(bundle);
        }
        return 0;
}
