/* json-flat.c: see json-flat.h. */
#include "formats/json-flat.h"

#include "base/utf8.h"
#include "base/util.h"

struct json_in {
        const uint8_t *p, *end;
};

static void json_ws(struct json_in *in)
{
        while (in->p < in->end &&
               (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
                in->p++;
}

static int json_hex4(struct json_in *in, uint32_t *ret)
{
        uint32_t v = 0;

        if (in->end - in->p < 4)
                return -EBADMSG;
        for (int i = 0; i < 4; i++) {
                int d = unhexchar((char)*in->p++);

                if (d < 0)
                        return -EBADMSG;
                v = v << 4 | (uint32_t)d;
        }
        *ret = v;
        return 0;
}

/* A JSON string (RFC 8259 §7) into a fresh NUL-terminated UTF-8 buffer. The
 * decoded text is never longer than the encoded one, so the input length
 * bounds the output. \u0000 is refused: it would truncate a C string. */
static int json_string(struct json_in *in, char **ret)
{
        _cleanup_free_ char *out = NULL;
        size_t o = 0;

        if (in->p >= in->end || *in->p != '"')
                return -EBADMSG;
        in->p++;
        out = xmalloc0((size_t)(in->end - in->p) + 1);
        for (;;) {
                uint8_t c;

                if (in->p >= in->end)
                        return -EBADMSG;
                c = *in->p;
                if (c == '"') {
                        in->p++;
                        break;
                }
                if (c < 0x20)
                        return -EBADMSG;
                if (c == '\\') {
                        uint32_t cp, lo;

                        if (in->end - in->p < 2)
                                return -EBADMSG;
                        c = in->p[1];
                        in->p += 2;
                        switch (c) {
                        case '"': out[o++] = '"'; continue;
                        case '\\': out[o++] = '\\'; continue;
                        case '/': out[o++] = '/'; continue;
                        case 'b': out[o++] = '\b'; continue;
                        case 'f': out[o++] = '\f'; continue;
                        case 'n': out[o++] = '\n'; continue;
                        case 'r': out[o++] = '\r'; continue;
                        case 't': out[o++] = '\t'; continue;
                        case 'u': break;
                        default: return -EBADMSG;
                        }
                        if (json_hex4(in, &cp) < 0 || cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
                                return -EBADMSG;
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                if (in->end - in->p < 6 || in->p[0] != '\\' || in->p[1] != 'u')
                                        return -EBADMSG;
                                in->p += 2;
                                if (json_hex4(in, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                                        return -EBADMSG;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        }
                        /* 6 (or 12) input bytes give at most 4 output bytes;
                         * cp is neither 0 nor a lone surrogate here. */
                        o += utf8_encode(cp, out + o);
                        continue;
                }
                {
                        size_t n = utf8_decode(in->p, (size_t)(in->end - in->p), NULL);
                        if (n == 0)
                                return -EBADMSG;
                        memcpy(out + o, in->p, n);
                        o += n;
                        in->p += n;
                }
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

/* A JSON number that is a plain non-negative integer (no sign, fraction,
 * exponent or leading zero), at most 16 digits. */
static int json_integer(struct json_in *in, char **ret)
{
        const uint8_t *start = in->p;
        size_t n;

        while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
                in->p++;
        n = (size_t)(in->p - start);
        if (n == 0 || n > 16 || (n > 1 && *start == '0'))
                return -EBADMSG;
        if (in->p < in->end && (*in->p == '.' || *in->p == 'e' || *in->p == 'E'))
                return -EBADMSG;
        *ret = xmalloc0(n + 1);
        memcpy(*ret, start, n);
        return 0;
}

void json_fields_free(struct json_field *fields, size_t n_fields)
{
        for (size_t i = 0; i < n_fields; i++) {
                free(fields[i].value);
                fields[i].value = NULL;
                fields[i].integer = false;
        }
}

static int flat_parse(struct json_in *in, struct json_field *fields, size_t n_fields,
                      unsigned max_members, unsigned flags)
{
        unsigned members = 0;

        json_ws(in);
        if (in->p >= in->end || *in->p != '{')
                return errf(-EBADMSG, "not a JSON object");
        in->p++;
        json_ws(in);
        if (in->p < in->end && *in->p == '}') {
                in->p++;
        } else {
                for (;;) {
                        _cleanup_free_ char *name = NULL, *value = NULL;
                        bool integer = false;

                        json_ws(in);
                        if (json_string(in, &name) < 0)
                                return errf(-EBADMSG, "bad member name");
                        json_ws(in);
                        if (in->p >= in->end || *in->p != ':')
                                return errf(-EBADMSG, "expected ':' after \"%s\"", name);
                        in->p++;
                        json_ws(in);
                        if ((flags & JSON_FLAT_INTEGERS) && in->p < in->end && *in->p >= '0' &&
                            *in->p <= '9') {
                                if (json_integer(in, &value) < 0)
                                        return errf(-EBADMSG,
                                                    "member \"%s\" is not a valid integer", name);
                                integer = true;
                        } else if (json_string(in, &value) < 0)
                                return errf(-EBADMSG, "member \"%s\" is not a valid string", name);
                        if (++members > max_members)
                                return errf(-EBADMSG, "too many members");
                        for (size_t i = 0; i < n_fields; i++) {
                                if (strcmp(name, fields[i].name))
                                        continue;
                                if (fields[i].value)
                                        return errf(-EBADMSG, "duplicate member \"%s\"", name);
                                fields[i].value = TAKE_PTR(value);
                                fields[i].integer = integer;
                                break;
                        }
                        json_ws(in);
                        if (in->p < in->end && *in->p == ',') {
                                in->p++;
                                continue;
                        }
                        if (in->p < in->end && *in->p == '}') {
                                in->p++;
                                break;
                        }
                        return errf(-EBADMSG, "expected ',' or '}' after \"%s\"", name);
                }
        }
        json_ws(in);
        if (in->p != in->end)
                return errf(-EBADMSG, "trailing data after the object");
        return 0;
}

int json_flat_parse(const uint8_t *buf, size_t len, struct json_field *fields, size_t n_fields,
                    unsigned max_members, unsigned flags)
{
        struct json_in in = { buf, buf + len };
        int r;

        for (size_t i = 0; i < n_fields; i++)
                fields[i].value = NULL, fields[i].integer = false;
        r = flat_parse(&in, fields, n_fields, max_members, flags);
        if (r < 0)
                json_fields_free(fields, n_fields);
        return r;
}
