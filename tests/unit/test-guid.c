/* test-guid.c: one GUID parser for EFI and GPT: the mixed-endian storage
 * bytes, the same through guid_parse(), gpt_guid_parse() and GUID_INIT, and
 * nothing but canonical 8-4-4-4-12 text accepted. */
#include "base/guid.h"
#include "base/util.h"
#include "formats/esl.h"
#include "formats/gpt.h"
#include "harness.h"

/* The pbf partition type (target/runtime.h), bytes as sfdisk writes them. */
#define PBF_TEXT "01A3E19F-9FEA-ED47-92C2-E75639FF5601"
static const uint8_t pbf_bytes[16] = { 0x9f, 0xe1, 0xa3, 0x01, 0xea, 0x9f, 0x47, 0xed,
                                       0x92, 0xc2, 0xe7, 0x56, 0x39, 0xff, 0x56, 0x01 };

static void test_storage_order(void)
{
        static const efi_guid global = GUID_INIT(0x8be4df61, 0x93ca, 0x11d2, 0xaa, 0x0d, 0x00,
                                                 0xe0, 0x98, 0x03, 0x2b, 0x8c);
        efi_guid g;
        uint8_t b[16];

        ASSERT_OK(guid_parse(PBF_TEXT, &g));
        ASSERT_MEMEQ(g.b, pbf_bytes, 16);
        ASSERT_OK(gpt_guid_parse(PBF_TEXT, b));
        ASSERT_MEMEQ(b, pbf_bytes, 16);

        ASSERT_OK(guid_parse("8be4df61-93ca-11d2-aa0d-00e098032b8c", &g));
        ASSERT_MEMEQ(g.b, global.b, 16);
        ASSERT_MEMEQ(g.b, EFI_GLOBAL_VARIABLE_GUID.b, 16);
        ASSERT_OK(gpt_guid_parse("8BE4DF61-93CA-11D2-AA0D-00E098032B8C", b));
        ASSERT_MEMEQ(b, global.b, 16);
}

static void test_format_round_trip(void)
{
        char text[37];
        efi_guid g, h;

        guid_format(&EFI_CERT_X509_GUID, text);
        ASSERT_STREQ(text, "a5c059a1-94e4-4aa7-87b5-ab155c2bf072");
        for (int k = 0; k < 64; k++) {
                ASSERT_OK(random_bytes(g.b, sizeof(g.b)));
                guid_format(&g, text);
                ASSERT_EQ(strlen(text), 36);
                ASSERT_OK(guid_parse(text, &h));
                ASSERT_MEMEQ(g.b, h.b, 16);
        }
}

static void test_refused(void)
{
        static const char *const bad[] = {
                "",
                "01A3E19F-9FEA-ED47-92C2-E75639FF560",   /* short */
                "01A3E19F-9FEA-ED47-92C2-E75639FF56011", /* long */
                "01A3E19F-9FEA-ED47-92C2-E75639FF56x1",  /* not hex */
                "01A3E19F+9FEA-ED47-92C2-E75639FF5601",  /* separator */
                "01A3E19F9-FEA-ED47-92C2-E75639FF5601",  /* dash misplaced */
                "01A3E19F9FEAED4792C2E75639FF56010000",  /* no dashes, 36 long */
                "01A3E19F9FEAED4792C2E75639FF5601",      /* 32 digits, no dashes */
                " 1A3E19F-9FEA-ED47-92C2-E75639FF5601",  /* blank */
                "+1A3E19F-9FEA-ED47-92C2-E75639FF5601",  /* sign */
                "{1A3E19F-9FEA-ED47-92C2-E75639FF560}",
        };
        efi_guid g;
        uint8_t b[16];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                memset(g.b, 0x5a, 16);
                ASSERT_EQ(guid_parse(bad[i], &g), -EINVAL);
                ASSERT_EQ(g.b[0], 0x5a); /* untouched */
                ASSERT_EQ(gpt_guid_parse(bad[i], b), -EINVAL);
        }
        ASSERT_EQ(guid_parse(NULL, &g), -EINVAL);
}

int main(void)
{
        RUN(test_storage_order);
        RUN(test_format_round_trip);
        RUN(test_refused);
        return test_exit();
}
