/* test-utf8.c: the one strict UTF-8 decoder (certificate attributes, info.json)
 * and its encoder: every boundary of RFC 3629, the overlong, surrogate and
 * out-of-range forms refused, and every scalar value round-tripped. */
#include "base/utf8.h"
#include "base/util.h"
#include "harness.h"
#include "keys/x509.h"

struct seq {
        const char *s;
        size_t len;  /* expected decode length, 0: refused */
        uint32_t cp; /* when accepted */
};

static void test_decode(void)
{
        static const struct seq cases[] = {
                { "A", 1, 'A' },
                { "\x7f", 1, 0x7f },
                { "\xc2\x80", 2, 0x80 },
                { "\xdf\xbf", 2, 0x7ff },
                { "\xe0\xa0\x80", 3, 0x800 },
                { "\xe2\x82\xac", 3, 0x20ac },
                { "\xed\x9f\xbf", 3, 0xd7ff },
                { "\xee\x80\x80", 3, 0xe000 },
                { "\xef\xbf\xbf", 3, 0xffff },
                { "\xf0\x90\x80\x80", 4, 0x10000 },
                { "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
                /* overlong forms */
                { "\xc0\x80", 0, 0 },
                { "\xc1\xbf", 0, 0 },
                { "\xe0\x80\x80", 0, 0 },
                { "\xe0\x9f\xbf", 0, 0 },
                { "\xf0\x80\x80\x80", 0, 0 },
                { "\xf0\x8f\xbf\xbf", 0, 0 },
                /* surrogates */
                { "\xed\xa0\x80", 0, 0 },
                { "\xed\xbf\xbf", 0, 0 },
                /* above U+10FFFF */
                { "\xf4\x90\x80\x80", 0, 0 },
                { "\xf5\x80\x80\x80", 0, 0 },
                { "\xf8\x88\x80\x80\x80", 0, 0 },
                { "\xff", 0, 0 },
                /* lone continuation, bad continuation, truncated */
                { "\x80", 0, 0 },
                { "\xc3\x28", 0, 0 },
                { "\xe2\x28\xa1", 0, 0 },
                { "\xe2\x82", 0, 0 },
                { "\xf0\x90\x80", 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const uint8_t *s = (const uint8_t *)cases[i].s;
                uint32_t cp = 0xfffffff;
                size_t n = strlen(cases[i].s);

                harness_current = cases[i].s;
                ASSERT_EQ(utf8_decode(s, n, &cp), cases[i].len);
                if (cases[i].len)
                        ASSERT_EQ(cp, cases[i].cp);
                else
                        ASSERT_EQ(cp, 0xfffffff); /* untouched */
                ASSERT_EQ(utf8_valid(cases[i].s, n), cases[i].len == n);
        }
        harness_current = "test_decode";
        /* the length given bounds the read, not the NUL */
        ASSERT_EQ(utf8_decode((const uint8_t *)"\xe2\x82\xac", 2, NULL), 0);
        ASSERT_EQ(utf8_decode((const uint8_t *)"x", 0, NULL), 0);
        ASSERT_TRUE(utf8_valid("", 0));
        ASSERT_TRUE(utf8_valid("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x94\x91", 15));
        ASSERT_TRUE(!utf8_valid("ok \xc0\xaf", 5));
}

static void test_round_trip(void)
{
        char buf[4];
        uint32_t back;

        for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
                size_t n = utf8_encode(cp, buf);

                if (cp >= 0xd800 && cp <= 0xdfff) {
                        ASSERT_EQ(n, 0);
                        continue;
                }
                ASSERT_EQ(n, cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);
                ASSERT_EQ(utf8_decode((const uint8_t *)buf, n, &back), n);
                ASSERT_EQ(back, cp);
        }
        ASSERT_EQ(utf8_encode(0x110000, buf), 0);
        ASSERT_EQ(utf8_encode(0xffffffff, buf), 0);
}

/* The decoder's first user: certificate attributes name the bad byte. */
static void test_x509_attr(void)
{
        ASSERT_OK(x509_check_attr("organization", "M\xc3\xbcller GmbH"));
        ASSERT_EQ(x509_check_attr("organization", "ab\xc0\xafz"), -EINVAL);
        ASSERT_TRUE(strstr(err_msg(-EINVAL), "not valid UTF-8 (byte 2)") != NULL);
        ASSERT_EQ(x509_check_attr("organization", "a\xed\xa0\x80"), -EINVAL);
        ASSERT_EQ(x509_check_attr("organization", "a\xc2\x85"), -EINVAL); /* C1 control */
        ASSERT_TRUE(strstr(err_msg(-EINVAL), "control character") != NULL);
}

int main(void)
{
        RUN(test_decode);
        RUN(test_round_trip);
        RUN(test_x509_attr);
        return test_exit();
}
