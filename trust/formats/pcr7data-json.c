/* pcr7data-json.c: the strict parser and the writer of pcr7data info.json
 * files (a flat JSON object of strings, RFC 8259), split from pcr7data.c.
 * The parser (json-flat.c) reads untrusted bytes from initrds:
 * tests/fuzz/fuzz-info-json.c. */
#include <stdio.h>

#include "formats/pcr7data.h"
#include "base/json.h"
#include "formats/json-flat.h"
#include "base/util.h"

void pcr7data_info_free(struct pcr7data_info *i)
{
        if (!i)
                return;
        free(i->key);
        free(i->key_type);
        free(i->est_date);
        free(i->comment);
        *i = (struct pcr7data_info){ 0 };
}

static int info_parse(const uint8_t *buf, size_t len, struct pcr7data_info *info)
{
        struct json_field f[] = { { "key" }, { "key_type" }, { "est_date" }, { "comment" } };
        int r;

        r = json_flat_parse(buf, len, f, ELEMENTSOF(f), 32, 0);
        if (r < 0)
                return r;
        info->key = f[0].value;
        info->key_type = f[1].value;
        info->est_date = f[2].value;
        info->comment = f[3].value;
        if (!info->key || !info->key_type)
                return errf(-EBADMSG, "\"key\" and \"key_type\" are required");
        return 0;
}

int pcr7data_info_parse(const uint8_t *buf, size_t len, struct pcr7data_info *ret)
{
        struct pcr7data_info info = { 0 };
        int r;

        if (len > PCR7DATA_INFO_MAX)
                return errf(-EBADMSG, "larger than %d bytes", PCR7DATA_INFO_MAX);
        r = info_parse(buf, len, &info);
        if (r < 0) {
                pcr7data_info_free(&info);
                return r;
        }
        *ret = info;
        return 0;
}

char *pcr7data_info_format(const struct pcr7data_info *i)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                abort();
        /* Same member order, compact form and escapes as the deployed files. */
        fputc('{', f);
        json_write_member(f, false, "key", i->key, JSON_SHORT_NL_TAB);
        json_write_member(f, true, "key_type", i->key_type, JSON_SHORT_NL_TAB);
        json_write_member(f, true, "est_date", i->est_date ? i->est_date : "", JSON_SHORT_NL_TAB);
        json_write_member(f, true, "comment", i->comment ? i->comment : "", JSON_SHORT_NL_TAB);
        fputs("}\n", f);
        if (fclose(f) != 0)
                abort();
        return buf;
}

