/* utf8.c: strict UTF-8 decoding and encoding (see utf8.h). */
#include "base/utf8.h"

size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *ret_cp)
{
        size_t len;
        uint32_t cp;

        if (n == 0)
                return 0;
        /* Lead bytes: C0 and C1 could only start overlong forms, F5..FF only
         * values above U+10FFFF. */
        if (s[0] < 0x80)
                len = 1, cp = s[0];
        else if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        if (ret_cp)
                *ret_cp = cp;
        return len;
}

size_t utf8_encode(uint32_t cp, char out[static 4])
{
        if (cp < 0x80) {
                out[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char)(0xc0 | cp >> 6);
                out[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp >= 0xd800 && cp <= 0xdfff)
                return 0;
        if (cp < 0x10000) {
                out[0] = (char)(0xe0 | cp >> 12);
                out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        if (cp > 0x10ffff)
                return 0;
        out[0] = (char)(0xf0 | cp >> 18);
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

bool utf8_valid(const char *s, size_t n)
{
        const uint8_t *p = (const uint8_t *)s;

        for (size_t i = 0; i < n;) {
                size_t l = utf8_decode(p + i, n - i, NULL);

                if (l == 0)
                        return false;
                i += l;
        }
        return true;
}
