/* test-gpt.c: GPT type lookup on images written by sfdisk (the independent
 * writer), and its refusal of damaged tables. */
#include <fcntl.h>
#include <stdlib.h>

#include "formats/gpt.h"
#include "harness.h"
#include "target/runtime.h"
#include "base/util.h"

static char dir[] = "/tmp/trust-test-gpt-XXXXXX";
static char *img;

static void test_guid_parse(void)
{
        static const uint8_t pbf[16] = { 0x9f, 0xe1, 0xa3, 0x01, 0xea, 0x9f, 0x47, 0xed,
                                         0x92, 0xc2, 0xe7, 0x56, 0x39, 0xff, 0x56, 0x01 };
        uint8_t g[16];

        ASSERT_OK(gpt_guid_parse(PBF_TYPE_GUID, g));
        ASSERT_MEMEQ(g, pbf, 16);
        ASSERT_OK(gpt_guid_parse("01a3e19f-9fea-ed47-92c2-e75639ff5601", g));
        ASSERT_MEMEQ(g, pbf, 16);
        ASSERT_EQ(gpt_guid_parse("01A3E19F-9FEA-ED47-92C2-E75639FF560", g), -EINVAL);
        ASSERT_EQ(gpt_guid_parse("01A3E19F-9FEA-ED47-92C2-E75639FF56011", g), -EINVAL);
        ASSERT_EQ(gpt_guid_parse("01A3E19F-9FEA-ED47-92C2-E75639FF56x1", g), -EINVAL);
        ASSERT_EQ(gpt_guid_parse("01A3E19F+9FEA-ED47-92C2-E75639FF5601", g), -EINVAL);
        ASSERT_EQ(gpt_guid_parse("", g), -EINVAL);
}

static void test_find(void)
{
        uint8_t pbf[16], sbf[16], other[16];
        struct gpt_extent x;
        uint32_t n = 0;

        ASSERT_OK(gpt_guid_parse(PBF_TYPE_GUID, pbf));
        ASSERT_OK(gpt_guid_parse(SBF_TYPE_GUID, sbf));
        ASSERT_OK(gpt_guid_parse("0FC63DAF-8483-4772-8E79-3D69D8477DE4", other));
        ASSERT_OK(gpt_disk_find_type(img, pbf, &n, NULL));
        ASSERT_EQ(n, 2);
        ASSERT_OK(gpt_disk_find_type(img, sbf, &n, &x));
        ASSERT_EQ(n, 3);
        /* sfdisk's layout: 1 MiB aligned, 8 MiB each, the third from 17 MiB */
        ASSERT_EQ(x.first, 34816);
        ASSERT_EQ(x.last, 51199);
        ASSERT_EQ(x.offset, 17ull << 20);
        ASSERT_EQ(x.size, 8ull << 20);
        ASSERT_OK(gpt_disk_find_type(img, other, &n, NULL));
        ASSERT_EQ(n, 1);
        other[0] ^= 1;
        ASSERT_EQ(gpt_disk_find_type(img, other, &n, NULL), -ENOENT);
}

/* flip one byte at off; the lookup must refuse; flip it back */
static int damaged(off_t off)
{
        uint8_t pbf[16], b;
        uint32_t n;
        int fd = open(img, O_RDWR | O_CLOEXEC), r;

        if (fd < 0 || pread(fd, &b, 1, off) != 1)
                abort();
        b ^= 0x40;
        if (pwrite(fd, &b, 1, off) != 1)
                abort();
        (void)gpt_guid_parse(PBF_TYPE_GUID, pbf);
        r = gpt_disk_find_type(img, pbf, &n, NULL);
        b ^= 0x40;
        if (pwrite(fd, &b, 1, off) != 1)
                abort();
        close(fd);
        return r;
}

static void test_damage(void)
{
        ASSERT_EQ(damaged(512 + 0), -EBADMSG);          /* signature */
        ASSERT_EQ(damaged(512 + 40), -EBADMSG);         /* first usable LBA (header CRC) */
        ASSERT_EQ(damaged(512 + 84), -EBADMSG);         /* entry size */
        ASSERT_EQ(damaged(1024 + 128 + 5), -EBADMSG);   /* second entry's type (array CRC) */
        ASSERT_EQ(damaged(1024 + 128 * 127), -EBADMSG); /* an unused entry (array CRC) */
        ASSERT_EQ(damaged(512 + 200), 0);               /* LBA 1 past the header: ignored */
}

static void test_not_gpt(void)
{
        _cleanup_free_ char *p = path_join(dir, "zero.img");
        uint8_t t[16] = {};
        uint32_t n;
        int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

        ASSERT_TRUE(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
        close(fd);
        ASSERT_EQ(gpt_disk_find_type(p, t, &n, NULL), -EBADMSG);
        ASSERT_EQ(gpt_disk_find_type("/nonexistent", t, &n, NULL), -ENOENT);
}

int main(void)
{
        _cleanup_free_ char *cmd = NULL;

        if (system("command -v sfdisk >/dev/null") != 0) {
                fprintf(stderr, "SKIP: sfdisk is not installed\n");
                return 77;
        }
        if (!mkdtemp(dir))
                return 1;
        img = path_join(dir, "disk.img");
        cmd = xasprintf("truncate -s 64M '%s' && printf 'label: gpt\\n"
                        "size=8M, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\\n"
                        "size=8M, type=%s, name=pbf\\nsize=8M, type=%s, name=sbf\\n' | "
                        "sfdisk --quiet '%s'",
                        img, PBF_TYPE_GUID, SBF_TYPE_GUID, img);
        if (system(cmd) != 0)
                return 1;
        RUN(test_guid_parse);
        RUN(test_find);
        RUN(test_damage);
        RUN(test_not_gpt);
        (void)rm_rf(dir);
        free(img);
        return test_exit();
}
