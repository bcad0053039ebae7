/* test-endian.c: the little-endian field helpers read and write the bytes a
 * spec lays out, whatever the host order, and each read undoes its write. */
#include "base/endian.h"
#include "harness.h"

static void test_read(void)
{
        static const uint8_t b[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88 };

        ASSERT_EQ(le16(b), 0x0201);
        ASSERT_EQ(le32(b), 0x04030201);
        ASSERT_TRUE(le64(b) == 0x8807060504030201ull);
        /* the top bit of the last byte is not sign-extended */
        ASSERT_EQ(le16(b + 6), 0x8807);
        ASSERT_TRUE(le32(b + 4) == 0x88070605u);
}

static void test_write(void)
{
        static const uint8_t want[8] = { 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0xf1 };
        uint8_t b[10];

        memset(b, 0xaa, sizeof(b));
        put_le64(b + 1, 0xf123456789abcdefull);
        ASSERT_MEMEQ(b + 1, want, 8);
        ASSERT_EQ(b[0], 0xaa); /* nothing written outside the field */
        ASSERT_EQ(b[9], 0xaa);
        put_le32(b, 0xdeadbeef);
        ASSERT_MEMEQ(b, "\xef\xbe\xad\xde", 4);
        put_le16(b, 0xfffe);
        ASSERT_MEMEQ(b, "\xfe\xff", 2);
}

static void test_round_trip(void)
{
        uint8_t b[8];

        for (uint64_t v = 1; v; v <<= 7) {
                uint64_t x = v * 0x9e3779b97f4a7c15ull;

                put_le64(b, x);
                ASSERT_TRUE(le64(b) == x);
                put_le32(b, (uint32_t)x);
                ASSERT_TRUE(le32(b) == (uint32_t)x);
                put_le16(b, (uint16_t)x);
                ASSERT_EQ(le16(b), (uint16_t)x);
        }
}

int main(void)
{
        RUN(test_read);
        RUN(test_write);
        RUN(test_round_trip);
        return test_exit();
}
