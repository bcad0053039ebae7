/* fuzz-info-json.c: libFuzzer target for the strict pcr7data info.json parser;
 * whatever parses must format and parse again to the same members. */
#include <stdlib.h>
#include <string.h>

#include "formats/pcr7data.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pcr7data_info i = { 0 }, j = { 0 };
        char *text;

        if (pcr7data_info_parse(data, size, &i) < 0)
                return 0;
        text = pcr7data_info_format(&i);
        /* Dropped unknown members and added empty ones can push a valid
         * document over the size limit: only then may the re-parse fail. */
        if (strlen(text) > PCR7DATA_INFO_MAX) {
                free(text);
                pcr7data_info_free(&i);
                return 0;
        }
        if (pcr7data_info_parse((const uint8_t *)text, strlen(text), &j) < 0 ||
            !same(i.key, j.key) || !same(i.key_type, j.key_type) ||
            !same(i.est_date ? i.est_date : "", j.est_date) ||
            !same(i.comment ? i.comment : "", j.comment))
                abort();
        free(text);
        pcr7data_info_free(&i);
        pcr7data_info_free(&j);
        return 0;
}
