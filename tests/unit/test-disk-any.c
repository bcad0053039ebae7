/* test-disk-any.c: which disk `trust provision --disk any` takes, on a fake
 * /sys/block and /dev (regular files stand in for the disks: the choice
 * reads sysfs attributes and the first two sectors, nothing else). A test on
 * the host's real disks could wipe one, so the selection is tested here and
 * the partitioning itself on loop devices (tests/tpm/test-disk.sh). */
#include <sys/stat.h>

#include "harness.h"
#include "target/runtime.h"
#include "base/util.h"

#define GIB_SECTORS (1024ull * 1024 * 1024 / 512)

static char dir[] = "/tmp/trust-test-disk-any-XXXXXX";
static char *sys, *dev;

enum content { BLANK, MBR, GPT };

/* disk NAME REMOVABLE SECTORS CONTENT: a fake disk in both trees. */
static void disk(const char *name, int removable, unsigned long long sectors, enum content c)
{
        _cleanup_free_ char *d = path_join(sys, name), *node = path_join(dev, name),
                            *rem = path_join(d, "removable"), *size = path_join(d, "size");
        _cleanup_free_ char *rem_s = xasprintf("%d\n", removable),
                            *size_s = xasprintf("%llu\n", sectors);
        uint8_t head[1024] = {};

        if (c == MBR)
                head[510] = 0x55, head[511] = 0xaa;
        if (c == GPT)
                memcpy(head + 512, "EFI PART", 8);
        if (mkdir_p(d, 0755) < 0 || write_file_atomic(rem, rem_s, strlen(rem_s), 0644) < 0 ||
            write_file_atomic(size, size_s, strlen(size_s), 0644) < 0 ||
            write_file_atomic(node, head, sizeof(head), 0600) < 0)
                abort();
}

/* a partition the kernel knows: NAME/NAME1/partition */
static void kernel_partition(const char *name)
{
        _cleanup_free_ char *p = xasprintf("%s/%s/%s1", sys, name, name),
                            *attr = path_join(p, "partition");

        if (mkdir_p(p, 0755) < 0 || write_file_atomic(attr, "1\n", 2, 0644) < 0)
                abort();
}

static void reset(void)
{
        (void)rm_rf(sys);
        (void)rm_rf(dev);
        if (mkdir_p(sys, 0755) < 0 || mkdir_p(dev, 0755) < 0)
                abort();
}

static int pick(bool wipe, char **name)
{
        _cleanup_free_ char *p = NULL;
        int r = disk_pick_any(sys, dev, wipe, &p);

        if (r >= 0)
                *name = xstrdup(strrchr(p, '/') + 1);
        return r;
}

static void test_first_blank_fixed_disk(void)
{
        _cleanup_free_ char *a = NULL, *b = NULL;

        reset();
        disk("loop0", 0, 4 * GIB_SECTORS, BLANK);  /* a loop device */
        disk("nbd0", 0, 4 * GIB_SECTORS, BLANK);   /* a network block device */
        disk("sda", 1, 4 * GIB_SECTORS, BLANK);    /* removable */
        disk("sdb", 0, GIB_SECTORS - 1, BLANK);    /* one sector short of 1 GiB */
        disk("sdc", 0, 4 * GIB_SECTORS, GPT);      /* has a partition table */
        disk("sdd", 0, 4 * GIB_SECTORS, MBR);      /* has an MBR */
        disk("sde", 0, 4 * GIB_SECTORS, BLANK);    /* the kernel knows a partition */
        kernel_partition("sde");
        disk("vda", 0, GIB_SECTORS, BLANK);        /* exactly 1 GiB, blank: this one */
        disk("vdb", 0, 8 * GIB_SECTORS, BLANK);
        ASSERT_OK(pick(false, &a));
        ASSERT_STREQ(a, "vda");
        /* with --wipe a partition table is no obstacle: the first fixed disk */
        ASSERT_OK(pick(true, &b));
        ASSERT_STREQ(b, "sdc");
}

static void test_none(void)
{
        _cleanup_free_ char *a = NULL;

        reset();
        disk("sda", 0, 4 * GIB_SECTORS, GPT);
        disk("sdb", 1, 4 * GIB_SECTORS, BLANK);
        disk("zram0", 0, 4 * GIB_SECTORS, BLANK);
        ASSERT_EQ(pick(false, &a), -ENOENT);
        ASSERT_TRUE(strstr(err_msg(-ENOENT), "no unused fixed disk of 1 GiB or more without "
                                             "a partition table (--wipe to take one)") != NULL);
        ASSERT_OK(pick(true, &a));
        ASSERT_STREQ(a, "sda");
}

static void test_unreadable(void)
{
        _cleanup_free_ char *a = NULL, *node = NULL, *size = NULL;

        reset();
        /* sda: no device node (cannot be read); sdb: no size attribute */
        disk("sda", 0, 4 * GIB_SECTORS, BLANK);
        node = path_join(dev, "sda");
        ASSERT_OK(unlink(node));
        disk("sdb", 0, 4 * GIB_SECTORS, BLANK);
        size = xasprintf("%s/sdb/size", sys);
        ASSERT_OK(unlink(size));
        ASSERT_EQ(pick(false, &a), -ENOENT);
        ASSERT_EQ(disk_pick_any("/nonexistent/sys/block", dev, false, &a), -ENOENT);
}

int main(void)
{
        if (!mkdtemp(dir))
                return 1;
        sys = path_join(dir, "sys/block");
        dev = path_join(dir, "dev");
        RUN(test_first_blank_fixed_disk);
        RUN(test_none);
        RUN(test_unreadable);
        (void)rm_rf(dir);
        free(sys);
        free(dev);
        return test_exit();
}
