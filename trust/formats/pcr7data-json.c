/* pcr7data-json.c: the strict parser and the writer of pcr7data info.json
 * files (a flat JSON object of strings, RFC 8259), split from pcr7data.c.
 * The parser reads untrusted bytes from initrds: tests/fuzz/fuzz-info-json.c. */
#include <stdio.h>

#include "formats/pcr7data.h"
#include "base/json.h"
#include "base/utf8.h"
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

static int info_parse(const uint8_t *buf, size_t len, struct pcr7data_info *info)
{
        struct json_in in = { buf, buf + len };
        int members = 0;

        json_ws(&in);
        if (in.p >= in.end || *in.p != '{')
                return errf(-EBADMSG, "not a JSON object");
        in.p++;
        json_ws(&in);
        if (in.p < in.end && *in.p == '}') {
                in.p++;
        } else {
                for (;;) {
                        _cleanup_free_ char *name = NULL, *value = NULL;
                        char **slot = NULL;

                        json_ws(&in);
                        if (json_string(&in, &name) < 0)
                                return errf(-EBADMSG, "bad member name");
                        json_ws(&in);
                        if (in.p >= in.end || *in.p != ':')
                                return errf(-EBADMSG, "expected ':' after \"%s\"", name);
                        in.p++;
                        json_ws(&in);
                        if (json_string(&in, &value) < 0)
                                return errf(-EBADMSG, "member \"%s\" is not a valid string", name);
                        if (++members > 32)
                                return errf(-EBADMSG, "too many members");
                        if (!strcmp(name, "key"))
                                slot = &info->key;
                        else if (!strcmp(name, "key_type"))
                                slot = &info->key_type;
                        else if (!strcmp(name, "est_date"))
                                slot = &info->est_date;
                        else if (!strcmp(name, "comment"))
                                slot = &info->comment;
                        if (slot) {
                                if (*slot)
                                        return errf(-EBADMSG, "duplicate member \"%s\"", name);
                                *slot = TAKE_PTR(value);
                        }
                        json_ws(&in);
                        if (in.p < in.end && *in.p == ',') {
                                in.p++;
                                continue;
                        }
                        if (in.p < in.end && *in.p == '}') {
                                in.p++;
                                break;
                        }
                        return errf(-EBADMSG, "expected ',' or '}' after \"%s\"", name);
                }
        }
        json_ws(&in);
        if (in.p != in.end)
                return errf(-EBADMSG, "trailing data after the object");
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

