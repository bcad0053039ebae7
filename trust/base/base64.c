/* base64.c: see base64.h. */
#include "base/base64.h"

#include "base/util.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const uint8_t *buf, size_t len)
{
        char *out = xmalloc0((len + 2) / 3 * 4 + 1);
        size_t o = 0;

        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t)buf[i] << 16;
                size_t n = len - i < 3 ? len - i : 3;

                if (n > 1)
                        v |= (uint32_t)buf[i + 1] << 8;
                if (n > 2)
                        v |= buf[i + 2];
                out[o++] = alphabet[v >> 18 & 63];
                out[o++] = alphabet[v >> 12 & 63];
                out[o++] = n > 1 ? alphabet[v >> 6 & 63] : '=';
                out[o++] = n > 2 ? alphabet[v & 63] : '=';
        }
        out[o] = 0;
        return out;
}

static int sextet(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int base64_decode(const char *s, size_t max, uint8_t **ret, size_t *ret_len)
{
        _cleanup_free_ uint8_t *out = NULL;
        size_t len = strlen(s), n, o = 0;

        if (len % 4)
                return -EBADMSG;
        n = len / 4 * 3;
        if (len && s[len - 1] == '=')
                n -= len >= 2 && s[len - 2] == '=' ? 2 : 1;
        if (n > max)
                return -EBADMSG;
        out = xmalloc0(n + 1);
        for (size_t i = 0; i < len; i += 4) {
                bool last = i + 4 == len;
                int d[4];
                uint32_t v = 0;
                int pad = 0;

                for (int k = 0; k < 4; k++) {
                        char c = s[i + k];

                        if (c == '=' && last && k >= 2) {
                                /* "x=" then "=": never "=x" */
                                if (k == 2 && s[i + 3] != '=')
                                        return -EBADMSG;
                                d[k] = 0;
                                pad++;
                                continue;
                        }
                        d[k] = sextet(c);
                        if (d[k] < 0)
                                return -EBADMSG;
                }
                v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 | (uint32_t)d[2] << 6 |
                    (uint32_t)d[3];
                /* the bits padding leaves over must be zero (one spelling) */
                if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
                        return -EBADMSG;
                out[o++] = (uint8_t)(v >> 16);
                if (pad < 2)
                        out[o++] = (uint8_t)(v >> 8);
                if (pad < 1)
                        out[o++] = (uint8_t)v;
        }
        if (o != n)
                return -EBADMSG;
        *ret = TAKE_PTR(out);
        *ret_len = n;
        return 0;
}
