/* test-json.c: the one JSON string writer: the exact bytes of every escape
 * (commands and info.json print them, so they must not drift), members,
 * string arrays, and a round trip of every control character through the
 * strict info.json parser. */
#include "base/json.h"
#include "base/util.h"
#include "formats/pcr7data.h"
#include "harness.h"

static void test_escapes(void)
{
        _cleanup_free_ char *plain = json_quote("a\"b\\c/d", 0);
        _cleanup_free_ char *ctl = json_quote("\x01\b\t\n\x0c\r\x1f\x7f", 0);
        _cleanup_free_ char *nt = json_quote("\x01\t\n\r", JSON_SHORT_NL_TAB);
        _cleanup_free_ char *utf8 = json_quote("gr\xc3\xbc\xc3\x9f \xe2\x82\xac", 0);
        _cleanup_free_ char *empty = json_quote("", 0);
        _cleanup_free_ char *null = json_quote(NULL, 0);

        ASSERT_STREQ(plain, "\"a\\\"b\\\\c/d\"");
        ASSERT_STREQ(ctl, "\"\\u0001\\u0008\\u0009\\u000a\\u000c\\u000d\\u001f\x7f\"");
        ASSERT_STREQ(nt, "\"\\u0001\\t\\n\\u000d\"");
        ASSERT_STREQ(utf8, "\"gr\xc3\xbc\xc3\x9f \xe2\x82\xac\"");
        ASSERT_STREQ(empty, "\"\"");
        ASSERT_STREQ(null, "null");
}

static void test_members(void)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        ASSERT_TRUE(f != NULL);
        fputc('{', f);
        json_write_member(f, false, "dir", "/a\nb", 0);
        json_write_member(f, true, "pubkey", NULL, 0);
        json_write_member(f, true, "we\"ird", "x\ty", JSON_SHORT_NL_TAB);
        fputc('}', f);
        ASSERT_TRUE(fclose(f) == 0);
        ASSERT_STREQ(buf, "{\"dir\":\"/a\\u000ab\",\"pubkey\":null,\"we\\\"ird\":\"x\\ty\"}");
        free(buf);
}

static void test_strv(void)
{
        char *v[] = { "a", "q\"b\\", NULL }, *empty[] = { NULL };
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        ASSERT_TRUE(f != NULL);
        json_write_strv(f, v, 0);
        json_write_strv(f, empty, 0);
        json_write_strv(f, NULL, 0);
        ASSERT_TRUE(fclose(f) == 0);
        ASSERT_STREQ(buf, "[\"a\",\"q\\\"b\\\\\"][][]");
        free(buf);
}

/* Whatever the writer escapes, a strict parser reads back unchanged. */
static void test_round_trip(void)
{
        char text[160];
        size_t n = 0;

        for (int c = 1; c < 0x20; c++)
                text[n++] = (char)c;
        strcpy(text + n, "\"\\/ \xc3\xa9\xf0\x9f\x94\x91 end");
        for (unsigned flags = 0; flags <= JSON_SHORT_NL_TAB; flags++) {
                _cleanup_free_ char *k = json_quote("key", flags), *v = json_quote(text, flags);
                _cleanup_free_ char *doc = xasprintf("{%s:%s,\"key_type\":\"tpm\"}", k, v);
                struct pcr7data_info info = {};

                ASSERT_OK(pcr7data_info_parse((const uint8_t *)doc, strlen(doc), &info));
                ASSERT_STREQ(info.key, text);
                pcr7data_info_free(&info);
        }
}

/* info.json keeps the form of the deployed files: \n and \t short. */
static void test_info_format(void)
{
        struct pcr7data_info i = { .key = "snakeoil", .key_type = "production",
                                   .comment = "line\none\ttab\r" };
        _cleanup_free_ char *text = pcr7data_info_format(&i);

        ASSERT_STREQ(text, "{\"key\":\"snakeoil\",\"key_type\":\"production\",\"est_date\":\"\","
                           "\"comment\":\"line\\none\\ttab\\u000d\"}\n");
}

int main(void)
{
        RUN(test_escapes);
        RUN(test_members);
        RUN(test_strv);
        RUN(test_round_trip);
        RUN(test_info_format);
        return test_exit();
}
