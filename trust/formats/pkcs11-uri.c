/* pkcs11-uri.c: see pkcs11-uri.h (RFC 7512, section 2.3 for the grammar). */
#include "formats/pkcs11-uri.h"

#include <stdio.h>

#include "base/util.h"

/* Decodes s[0..len) (%XX escapes) into a new buffer; *ret_len counts the
 * bytes, which are NUL-terminated too. A NUL byte is refused unless binary. */
static int pct_decode(const char *name, const char *s, size_t len, bool binary, char **ret,
                      size_t *ret_len)
{
        char *out = xmalloc0(len + 1);
        size_t n = 0;

        for (size_t i = 0; i < len; i++) {
                if (s[i] != '%') {
                        out[n++] = s[i];
                        continue;
                }
                if (i + 2 >= len || unhexchar(s[i + 1]) < 0 || unhexchar(s[i + 2]) < 0) {
                        free(out);
                        return errf(-EINVAL, "pkcs11 URI: %s: '%%' is not followed by two hex "
                                             "digits",
                                    name);
                }
                out[n] = (char)(unhexchar(s[i + 1]) << 4 | unhexchar(s[i + 2]));
                if (!out[n] && !binary) {
                        free(out);
                        return errf(-EINVAL, "pkcs11 URI: %s: holds a NUL byte", name);
                }
                n++;
                i += 2;
        }
        out[n] = '\0';
        *ret = out;
        *ret_len = n;
        return 0;
}

struct attr {
        const char *name;
        size_t offset; /* of the char * in struct pkcs11_uri; SIZE_MAX: id */
};

#define A(n, f) { n, offsetof(struct pkcs11_uri, f) }
static const struct attr path_attrs[] = {
        A("token", token),   A("manufacturer", manufacturer), A("serial", serial),
        A("model", model),   A("object", object),             A("type", type),
        { "id", SIZE_MAX },
};
static const struct attr query_attrs[] = {
        A("module-path", module_path),
        A("pin-source", pin_source),
};
#undef A

/* One "name=value" of the path (query false) or the query. */
static int parse_attr(const char *s, size_t len, bool query, struct pkcs11_uri *u)
{
        const struct attr *table = query ? query_attrs : path_attrs;
        size_t n_table = query ? ELEMENTSOF(query_attrs) : ELEMENTSOF(path_attrs);
        const char *eq = memchr(s, '=', len);
        char name[32], *value = NULL, **slot;
        size_t name_len, value_len = 0;
        int r;

        if (!eq || eq == s)
                return errf(-EINVAL, "pkcs11 URI: '%.*s' is not name=value",
                            (int)(len < 64 ? len : 64), s);
        name_len = (size_t)(eq - s);
        if (name_len >= sizeof(name))
                return errf(-EINVAL, "pkcs11 URI: unknown attribute '%.*s'", 31, s);
        memcpy(name, s, name_len);
        name[name_len] = '\0';
        if (!strcmp(name, "pin-value"))
                return errf(-EINVAL, "pkcs11 URI: pin-value: a PIN does not belong in a URI (use "
                                     "$TRUST_PKCS11_PIN or pin-source)");
        for (size_t i = 0; i < n_table; i++) {
                if (strcmp(name, table[i].name))
                        continue;
                r = pct_decode(name, eq + 1, len - name_len - 1, table[i].offset == SIZE_MAX,
                               &value, &value_len);
                if (r < 0)
                        return r;
                if (table[i].offset == SIZE_MAX) {
                        if (u->id) {
                                free(value);
                                return errf(-EINVAL, "pkcs11 URI: id is given twice");
                        }
                        u->id = (uint8_t *)value;
                        u->id_len = value_len;
                        return 0;
                }
                slot = (char **)((char *)u + table[i].offset);
                if (*slot) {
                        free(value);
                        return errf(-EINVAL, "pkcs11 URI: %s is given twice", name);
                }
                *slot = value;
                return 0;
        }
        return errf(-EINVAL, "pkcs11 URI: unknown %s attribute '%s'", query ? "query" : "path",
                    name);
}

static int parse_list(const char *s, size_t len, char sep, bool query, struct pkcs11_uri *u)
{
        while (len > 0) {
                const char *end = memchr(s, sep, len);
                size_t n = end ? (size_t)(end - s) : len;
                int r;

                if (n == 0)
                        return errf(-EINVAL, "pkcs11 URI: an empty attribute");
                r = parse_attr(s, n, query, u);
                if (r < 0)
                        return r;
                if (!end)
                        break;
                s += n + 1;
                len -= n + 1;
                if (len == 0)
                        return errf(-EINVAL, "pkcs11 URI: an empty attribute");
        }
        return 0;
}

int pkcs11_uri_parse(const char *s, struct pkcs11_uri *ret)
{
        struct pkcs11_uri u = {};
        const char *q;
        size_t len;
        int r;

        *ret = (struct pkcs11_uri){};
        if (!s || strncmp(s, "pkcs11:", 7))
                return errf(-EINVAL, "not a pkcs11: URI");
        len = strlen(s);
        if (len > PKCS11_URI_MAX)
                return errf(-EINVAL, "pkcs11 URI: longer than %d bytes", PKCS11_URI_MAX);
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
                        return errf(-EINVAL, "pkcs11 URI: byte %zu is not a printable "
                                             "character (escape it as %%XX)",
                                    i);
        s += 7;
        len -= 7;
        q = memchr(s, '?', len);
        r = parse_list(s, q ? (size_t)(q - s) : len, ';', false, &u);
        if (r >= 0 && q)
                r = parse_list(q + 1, len - (size_t)(q - s) - 1, '&', true, &u);
        if (r >= 0 && u.type && strcmp(u.type, "private") && strcmp(u.type, "public") &&
            strcmp(u.type, "cert") && strcmp(u.type, "secret-key") && strcmp(u.type, "data"))
                r = errf(-EINVAL, "pkcs11 URI: type '%s' is not one of private, public, cert, "
                                  "secret-key, data",
                         u.type);
        if (r < 0) {
                pkcs11_uri_done(&u);
                return r;
        }
        *ret = u;
        return 0;
}

void pkcs11_uri_done(struct pkcs11_uri *u)
{
        free(u->token);
        free(u->manufacturer);
        free(u->serial);
        free(u->model);
        free(u->object);
        free(u->id);
        free(u->type);
        free(u->module_path);
        free(u->pin_source);
        *u = (struct pkcs11_uri){};
}

/* Appends name=value, escaping all but RFC 7512's unreserved and a few path
 * characters. */
static void put_attr(FILE *f, bool *first, char sep, const char *name, const char *v, size_t n)
{
        fprintf(f, "%s%s=", *first ? "" : (char[]){ sep, 0 }, name);
        *first = false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)v[i];

                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    strchr("-._~:/", c))
                        fputc(c, f);
                else
                        fprintf(f, "%%%02X", c);
        }
}

char *pkcs11_uri_for_object(const struct pkcs11_uri *t, const char *label)
{
        char *buf = NULL;
        size_t size = 0;
        bool first = true;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                abort();
        fputs("pkcs11:", f);
        if (t->token)
                put_attr(f, &first, ';', "token", t->token, strlen(t->token));
        if (t->manufacturer)
                put_attr(f, &first, ';', "manufacturer", t->manufacturer,
                         strlen(t->manufacturer));
        if (t->serial)
                put_attr(f, &first, ';', "serial", t->serial, strlen(t->serial));
        if (t->model)
                put_attr(f, &first, ';', "model", t->model, strlen(t->model));
        put_attr(f, &first, ';', "object", label, strlen(label));
        put_attr(f, &first, ';', "type", "private", 7);
        first = true;
        if (t->module_path || t->pin_source)
                fputc('?', f);
        if (t->module_path)
                put_attr(f, &first, '&', "module-path", t->module_path, strlen(t->module_path));
        if (t->pin_source)
                put_attr(f, &first, '&', "pin-source", t->pin_source, strlen(t->pin_source));
        if (fclose(f) != 0)
                abort();
        return buf;
}
