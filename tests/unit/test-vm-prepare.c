/* test-vm-prepare.c: the disk of a host-side launch (vm_prepare_disk) made
 * from a payload written by sfdisk, read back with independent tools:
 * sfdisk (the partition table), debugfs (pbf's pcr7data), cryptsetup (the
 * LUKS2 headers and passphrases), cmp (the ESP byte for byte), and the root
 * decrypted here with the volume key libcryptsetup gives back for the
 * passphrase (AES-256-XTS per 4096-byte sector, tweak in 512-byte units:
 * dm-crypt's reading; tests/unit/test-luks.c checks that against dm-crypt
 * itself where the kernel has it, and the VM tests boot such a disk). Also
 * its refusals: a payload without a root, a disk too small. */
#include <fcntl.h>
#include <libcryptsetup.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"
#include "machine/vm-prepare.h"
#include "machine/vmdir.h"
#include "target/luks.h"
#include "base/secure.h"
#include "base/util.h"

static char dir[] = "/tmp/trust-test-vm-prepare-XXXXXX";
static char *payload, *state, *pcr7data;
static struct secret sbf, os;

/* runs a shell command (the test's independent tools); aborts on failure */
static void sh_run(char *cmd)
{
        if (system(cmd) != 0) {
                fprintf(stderr, "failed: %s\n", cmd);
                abort();
        }
        free(cmd);
}
#define sh(...) sh_run(xasprintf(__VA_ARGS__))

static struct secret pass(const char *text)
{
        struct secret s = {};

        if (secret_alloc(&s, strlen(text)) < 0)
                abort();
        memcpy(s.data, text, s.len);
        return s;
}

/* the state directory of a launch: an empty sparse os.img of `size` */
static void fresh_state(unsigned long long size)
{
        _cleanup_free_ char *img = NULL;
        int fd;

        (void)rm_rf(state);
        if (mkdir(state, 0700) < 0)
                abort();
        img = path_join(state, VM_OS_DISK);
        fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
                abort();
        close(fd);
}

/* bytes [off, off+len) of the state's os.img into file `name` of dir */
static char *extract(const char *name, unsigned long long off, unsigned long long len)
{
        _cleanup_free_ char *img = path_join(state, VM_OS_DISK);
        char *out = path_join(dir, name);
        _cleanup_free_ char *cmd = xasprintf("dd if='%s' of='%s' bs=1M iflag=skip_bytes,count_bytes "
                                             "skip=%llu count=%llu status=none",
                                             img, out, off, len);

        if (system(cmd) != 0)
                abort();
        return out;
}

static unsigned long long part_field(const char *name, const char *field)
{
        _cleanup_free_ char *img = path_join(state, VM_OS_DISK), *cmd = NULL, *out = NULL;
        _cleanup_free_ uint8_t *buf = NULL;

        out = path_join(dir, "field");
        cmd = xasprintf("sfdisk -d '%s' | sed -n 's/.*%s= *\\([0-9]*\\),.*name=\"%s\".*/\\1/p' >'%s'",
                        img, field, name, out);
        if (system(cmd) != 0 || read_file(out, 64, &buf, NULL) < 0)
                abort();
        return strtoull((char *)buf, NULL, 10) * 512;
}

static void test_disk(void)
{
        const struct vm_prepare_args a = { .dir = state, .pcr7data = pcr7data, .payload = payload };
        _cleanup_free_ char *pbf = NULL, *sbf_img = NULL, *esp = NULL, *osv = NULL, *cmd = NULL,
                            *tree = NULL, *root_plain = NULL;
        _cleanup_free_ uint8_t *want = NULL, *got = NULL;
        unsigned long long off, len;
        struct crypt_device *cd = NULL;
        uint8_t vk[64];
        size_t vk_len = sizeof(vk), want_len, got_len;
        uint64_t data;
        EVP_CIPHER_CTX *ctx;
        int outl;

        fresh_state(2ull << 30);
        ASSERT_OK(vm_prepare_disk(&a, &sbf, &os));

        /* the layout of provision --disk plus the installer */
        ASSERT_EQ(part_field("pbf", "start"), 4ull << 20);
        ASSERT_EQ(part_field("pbf", "size"), 64ull << 20);
        ASSERT_EQ(part_field("sbf", "start"), 68ull << 20);
        ASSERT_EQ(part_field("sbf", "size"), 256ull << 20);
        ASSERT_EQ(part_field("esp", "start"), 324ull << 20);
        ASSERT_EQ(part_field("esp", "size"), 8ull << 20);
        ASSERT_EQ(part_field("os", "start"), 332ull << 20);

        /* pbf: ext4 labelled pbf, the pcr7data tree */
        pbf = extract("pbf", 4ull << 20, 64ull << 20);
        tree = path_join(dir, "tree");
        ASSERT_EQ(mkdir(tree, 0700), 0);
        sh("debugfs -R 'rdump /pcr7data %s' '%s' >/dev/null 2>&1", tree, pbf);
        sh("diff -r '%s' '%s/pcr7data'", pcr7data, tree);
        sh("test \"$(blkid -o value -s LABEL '%s')\" = pbf", pbf);

        /* sbf: LUKS2 opened by its passphrase only */
        sbf_img = extract("sbf", 68ull << 20, 256ull << 20);
        ASSERT_OK(luks_check_passphrase(sbf_img, sbf.data, sbf.len));
        ASSERT_EQ(luks_check_passphrase(sbf_img, os.data, os.len), -EPERM);

        /* esp: the payload's, byte for byte */
        esp = extract("esp", 324ull << 20, 8ull << 20);
        cmd = xasprintf("cmp -s -i 1048576:0 -n 8388608 '%s' '%s'", payload, esp);
        ASSERT_EQ(system(cmd), 0);

        /* os: LUKS2 as the installer makes it */
        off = part_field("os", "start");
        len = part_field("os", "size");
        osv = extract("os", off, 32ull << 20);
        ASSERT_OK(luks_check_passphrase(osv, os.data, os.len));
        ASSERT_EQ(luks_check_passphrase(osv, sbf.data, sbf.len), -EPERM);
        ASSERT_EQ(crypt_init(&cd, osv), 0);
        ASSERT_EQ(crypt_load(cd, CRYPT_LUKS2, NULL), 0);
        ASSERT_STREQ(crypt_get_label(cd), "trust-os");
        ASSERT_STREQ(crypt_get_cipher(cd), "aes");
        ASSERT_STREQ(crypt_get_cipher_mode(cd), "xts-plain64");
        ASSERT_EQ(crypt_get_sector_size(cd), 4096);
        ASSERT_TRUE(crypt_token_status(cd, 0, NULL) != CRYPT_TOKEN_INACTIVE);
        data = crypt_get_data_offset(cd) * 512;
        ASSERT_TRUE(crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)vk, &vk_len, (char *)os.data,
                                         os.len) >= 0);
        crypt_free(cd);
        ASSERT_TRUE(len > data + (16ull << 20));

        /* the root: the payload's second partition, decrypted sector by sector */
        free(cmd);
        cmd = xasprintf("dd if='%s' of='%s/want' bs=1M skip=9 count=16 status=none", payload, dir);
        ASSERT_EQ(system(cmd), 0);
        free(cmd);
        cmd = path_join(dir, "want");
        ASSERT_OK(read_file(cmd, 32 << 20, &want, &want_len));
        root_plain = extract("root", off + data, 16ull << 20);
        ASSERT_OK(read_file(root_plain, 32 << 20, &got, &got_len));
        ASSERT_EQ(got_len, want_len);
        ASSERT_TRUE(memcmp(got, want, 4096) != 0); /* encrypted */
        ctx = EVP_CIPHER_CTX_new();
        ASSERT_TRUE(ctx != NULL);
        for (size_t i = 0; i < got_len; i += 4096) {
                uint64_t n = i / 512;
                uint8_t iv[16] = {};

                memcpy(iv, &n, sizeof(n)); /* little-endian host */
                ASSERT_EQ(EVP_DecryptInit_ex(ctx, EVP_aes_256_xts(), NULL, vk, iv), 1);
                ASSERT_EQ(EVP_DecryptUpdate(ctx, got + i, &outl, got + i, 4096), 1);
        }
        EVP_CIPHER_CTX_free(ctx);
        explicit_bzero(vk, sizeof(vk));
        ASSERT_MEMEQ(got, want, got_len);
        /* no scratch file left */
        free(cmd);
        cmd = xasprintf("test -z \"$(ls '%s' | grep -v '^os.img$')\"", state);
        ASSERT_EQ(system(cmd), 0);
}

static unsigned long long disk_size(void)
{
        _cleanup_free_ char *img = path_join(state, VM_OS_DISK);
        struct stat st;

        if (stat(img, &st) < 0)
                abort();
        return (unsigned long long)st.st_size;
}

/* No scratch partition (pbf.tmp, sbf.tmp, os.tmp) outlives a refusal. */
static void no_scratch(void)
{
        _cleanup_free_ char *cmd = xasprintf("test -z \"$(ls '%s' | grep '[.]tmp$')\"", state);

        ASSERT_EQ(system(cmd), 0);
}

static void test_refusals(void)
{
        const struct vm_prepare_args a = { .dir = state, .pcr7data = pcr7data, .payload = payload };
        struct vm_prepare_args b = a;
        _cleanup_free_ char *no_root = path_join(dir, "no-root.img");
        int r;

        /* a disk too small for the root */
        fresh_state(360ull << 20);
        r = vm_prepare_disk(&a, &sbf, &os);
        ASSERT_TRUE(r < 0);
        ASSERT_EQ(r, -ENOSPC);
        ASSERT_TRUE(strstr(err_msg(r), "too small") != NULL);
        no_scratch();

        /* an os partition smaller than its LUKS2 header (libcryptsetup
         * formats it, with a warning): refused, nothing written past the
         * partition's end (the disk file keeps its size) */
        fresh_state(336ull << 20);
        r = vm_prepare_disk(&a, &sbf, &os);
        ASSERT_EQ(r, -ENOSPC);
        ASSERT_TRUE(strstr(err_msg(r), "does not hold its LUKS2 header") != NULL);
        ASSERT_EQ(disk_size(), 336ull << 20);
        no_scratch();

        /* a payload without a Linux root partition */
        sh("truncate -s 32M '%s' && echo 'label: gpt\nsize=8M, type=U, name=trust-esp' | "
           "sfdisk --quiet '%s'",
           no_root, no_root);
        b.payload = no_root;
        fresh_state(2ull << 30);
        r = vm_prepare_disk(&b, &sbf, &os);
        ASSERT_EQ(r, -ENOENT);
        ASSERT_TRUE(strstr(err_msg(r), "no trust-root partition") != NULL);
}

int main(void)
{
        if (system("command -v sfdisk >/dev/null && command -v mkfs.ext4 >/dev/null && "
                   "command -v debugfs >/dev/null") != 0) {
                fprintf(stderr, "SKIP: sfdisk, mkfs.ext4 or debugfs is not installed\n");
                return 77;
        }
        if (!mkdtemp(dir))
                return 1;
        payload = path_join(dir, "payload.img");
        state = path_join(dir, "state");
        pcr7data = path_join(dir, "pcr7data");
        /* the payload: an 8 MiB ESP and a 24 MiB root of random bytes (40 MiB) */
        sh("head -c 41943040 /dev/urandom >'%s' && printf 'label: gpt\\nsize=8M, type=U, "
           "name=trust-esp\\nsize=24M, type=L, name=trust-root\\n' | sfdisk --quiet '%s'",
           payload, payload);
        sh("mkdir -p '%s/policy-2/ab' && echo entry >'%s/policy-2/ab/x'", pcr7data, pcr7data);
        sbf = pass("sbf-passphrase-of-forty-characters-xxxxx");
        os = pass("os-passphrase-of-forty-characters-yyyyyy");
        RUN(test_disk);
        RUN(test_refusals);
        secret_free(&sbf);
        secret_free(&os);
        (void)rm_rf(dir);
        free(payload);
        free(state);
        free(pcr7data);
        return test_exit();
}
