/* json.c: JSON string escaping and object members (see json.h). */
#include "base/json.h"

#include <stdlib.h>

void json_write_string(FILE *f, const char *s, unsigned flags)
{
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n' && (flags & JSON_SHORT_NL_TAB))
                        fputs("\\n", f);
                else if (*p == '\t' && (flags & JSON_SHORT_NL_TAB))
                        fputs("\\t", f);
                else if (*p < 0x20)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

char *json_quote(const char *s, unsigned flags)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                abort();
        json_write_string(f, s, flags);
        if (fclose(f) != 0)
                abort();
        return buf;
}

void json_write_member(FILE *f, bool comma, const char *name, const char *value, unsigned flags)
{
        if (comma)
                fputc(',', f);
        json_write_string(f, name, flags);
        fputc(':', f);
        json_write_string(f, value, flags);
}

void json_write_strv(FILE *f, char *const *v, unsigned flags)
{
        fputc('[', f);
        for (size_t i = 0; v && v[i]; i++) {
                if (i)
                        fputc(',', f);
                json_write_string(f, v[i], flags);
        }
        fputc(']', f);
}
