/* strv.c: NULL-terminated string vectors (see strv.h). */
#include "base/strv.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void strv_add(struct strv *s, char *owned)
{
        if (s->n + 2 > s->cap) {
                s->cap = s->cap ? s->cap * 2 : 16;
                s->v = realloc(s->v, s->cap * sizeof(char *));
                if (!s->v)
                        abort();
        }
        s->v[s->n++] = owned;
        s->v[s->n] = NULL;
}

void strv_addf(struct strv *s, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        strv_add(s, xvasprintf(fmt, ap));
        va_end(ap);
}

void strv_addl(struct strv *s, ...)
{
        const char *w;
        va_list ap;

        va_start(ap, s);
        while ((w = va_arg(ap, const char *)))
                strv_add(s, xstrdup(w));
        va_end(ap);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(struct strv *s)
{
        if (s->n > 1)
                qsort(s->v, s->n, sizeof(char *), cmp_str);
}

char **strv_steal(struct strv *s, size_t *ret_n)
{
        char **v = s->v ? s->v : xmalloc0(sizeof(char *));

        if (ret_n)
                *ret_n = s->n;
        *s = (struct strv){};
        return v;
}

void strv_done(struct strv *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        *s = (struct strv){};
}

void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

size_t strv_length(char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}
