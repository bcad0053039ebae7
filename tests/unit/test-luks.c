/* test-luks.c: LUKS2 format and passphrase check through libcryptsetup on an
 * image file (no device-mapper needed), the keyring token read back with
 * cryptsetup's own luksDump as the independent peer; the OS volume rules
 * (luks_open_os, osvol_open) against headers an attacker would write: a
 * cipher_null keyslot or segment, another cipher, LUKS1, another passphrase,
 * a second volume with the label. cryptsetup writes no cipher_null keyslot
 * (and needs device-mapper to format a cipher_null segment), so those headers
 * are forged here: the JSON edited, both checksums recomputed. */
#include <fcntl.h>
#include <keyutils.h>
#include <libcryptsetup.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"
#include "target/keyring.h"
#include "target/luks.h"
#include "target/osvol.h"
#include "base/dirlist.h"
#include "base/util.h"

static char dir[] = "/tmp/trust-test-luks-XXXXXX";

static char *image(const char *name)
{
        char *p = path_join(dir, name);
        int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0 || ftruncate(fd, 32 * 1024 * 1024) < 0)
                abort();
        close(fd);
        return p;
}

static void test_format_and_check(void)
{
        _cleanup_free_ char *img = image("plain.img");
        const char pass[] = "0123456789abcdefghijABCDEFGHIJ0123456789";

        ASSERT_OK(luks_format(img, pass, 40, NULL, NULL));
        ASSERT_OK(luks_check_passphrase(img, pass, 40));
        ASSERT_EQ(luks_check_passphrase(img, pass, 39), -EPERM);
        ASSERT_EQ(luks_check_passphrase(img, "wrong", 5), -EPERM);
        ASSERT_TRUE(strstr(err_msg(-EPERM), "opens no keyslot") != NULL);
}

static void test_keyring_token(void)
{
        _cleanup_free_ char *img = image("token.img"), *cmd = NULL, *out = NULL;
        _cleanup_free_ uint8_t *dump = NULL;
        const char pass[] = "passphrase-of-forty-characters-xxxxxxxx";

        ASSERT_OK(luks_format(img, pass, strlen(pass), &(struct luks_format_opts){ .keyring_key = "machine:luks" },
                              NULL));
        ASSERT_OK(luks_check_passphrase(img, pass, strlen(pass)));
        if (system("command -v cryptsetup >/dev/null") != 0) {
                fprintf(stderr, "cryptsetup not installed: token not cross-checked\n");
                return;
        }
        out = path_join(dir, "dump");
        cmd = xasprintf("cryptsetup luksDump '%s' >'%s' 2>&1", img, out);
        ASSERT_EQ(system(cmd), 0);
        ASSERT_OK(read_file(out, 1 << 20, &dump, NULL));
        ASSERT_TRUE(strstr((char *)dump, "luks2-keyring") != NULL);
        ASSERT_TRUE(strstr((char *)dump, "machine:luks") != NULL);
        ASSERT_TRUE(strstr((char *)dump, "pbkdf2") != NULL);
}

static void test_not_luks(void)
{
        _cleanup_free_ char *img = image("empty.img");
        int r = luks_check_passphrase(img, "x", 1);

        ASSERT_TRUE(r < 0);
        ASSERT_TRUE(strstr(err_msg(r), "not a LUKS2 volume") != NULL);
}

static const char os_pass[] = "0123456789abcdefghijABCDEFGHIJ0123456789";

/* A genuine OS volume: what luks_format writes, labelled like the
 * installer's (cryptsetup luksFormat --label). */
static char *os_volume(const char *name, const char *label)
{
        char *img = image(name);
        const struct luks_format_opts o = { .keyring_key = "machine:luks", .label = label };

        if (luks_format(img, os_pass, 40, &o, NULL) < 0)
                abort();
        return img;
}

/* Rewrites the LUKS2 JSON of img as an attacker with a hex editor would:
 * in the keyslots part (segments false) or the segments part, replaces
 * every `from` by `to`, then recomputes the SHA-256 checksum of both header
 * copies (LUKS2 on-disk format: binary header of 4096 bytes, checksum at
 * offset 448 over the header with the checksum zeroed plus the JSON area;
 * the secondary copy at offset hdr_size). */
static int forge(const char *img, bool segments, const char *from, const char *to)
{
        _cleanup_close_ int fd = open(img, O_RDWR | O_CLOEXEC);
        uint8_t hdr[2][16384];
        char *json, *seg, *p;
        size_t hsize = sizeof(hdr[0]), nfrom = strlen(from), nto = strlen(to);
        bool changed = false;

        if (fd < 0 || pread(fd, hdr, sizeof(hdr), 0) != sizeof(hdr) ||
            memcmp(hdr[0], "LUKS\xba\xbe", 6))
                return -EIO;
        /* hdr_size is big-endian at offset 8: this test formats 16 KiB headers */
        if (hdr[0][14] != 0x40 || hdr[0][15] != 0)
                return -EBADMSG;
        json = (char *)hdr[0] + 4096;
        seg = strstr(json, "\"segments\"");
        if (!seg)
                return -EBADMSG;
        for (p = segments ? seg : json; (p = strstr(p, from)) && (segments || p < seg);) {
                size_t tail = strlen(p + nfrom) + 1;

                if ((size_t)(p - (char *)hdr[0]) + nto + tail > hsize)
                        return -ENOSPC;
                if (!segments && nto != nfrom)
                        seg += (ptrdiff_t)nto - (ptrdiff_t)nfrom;
                memmove(p + nto, p + nfrom, tail);
                memcpy(p, to, nto);
                p += nto;
                changed = true;
        }
        if (!changed)
                return -ENOENT;
        memset(json + strlen(json), 0, hsize - 4096 - strlen(json));
        memcpy(hdr[1] + 4096, hdr[0] + 4096, hsize - 4096);
        for (int i = 0; i < 2; i++) {
                memset(hdr[i] + 448, 0, 64);
                SHA256(hdr[i], hsize, hdr[i] + 448);
        }
        return pwrite(fd, hdr, sizeof(hdr), 0) == sizeof(hdr) ? 0 : -EIO;
}

static void test_os_genuine(void)
{
        _cleanup_free_ char *img = os_volume("genuine.img", NULL);
        int r;

        ASSERT_OK(luks_open_os(img, NULL, os_pass, 40));
        /* a real-cipher volume whose maker does not know the passphrase */
        r = luks_open_os(img, NULL, "attacker's own passphrase", 25);
        ASSERT_EQ(r, -EPERM);
        ASSERT_TRUE(strstr(err_msg(r), "the passphrase opens no keyslot") != NULL);
}

static void test_os_cipher_null(void)
{
        _cleanup_free_ char *ks = os_volume("null-keyslot.img", NULL),
                            *sg = os_volume("null-segment.img", NULL);
        struct crypt_device *cd = NULL;
        const char *enc;
        size_t key_size;
        int r;

        ASSERT_OK(forge(ks, false, "\"aes-xts-plain64\"", "\"cipher_null-ecb\""));
        /* libcryptsetup itself takes the forged header: the refusal below is ours */
        ASSERT_OK(crypt_init(&cd, ks));
        ASSERT_OK(crypt_load(cd, CRYPT_LUKS2, NULL));
        enc = crypt_keyslot_get_encryption(cd, 0, &key_size);
        ASSERT_TRUE(enc && !strcmp(enc, "cipher_null-ecb"));
        crypt_free(TAKE_PTR(cd));
        /* refused before any passphrase is tried, the right one included */
        r = luks_open_os(ks, NULL, os_pass, 40);
        ASSERT_EQ(r, -ENOTSUP);
        ASSERT_TRUE(strstr(err_msg(r), "keyslot 0 uses cipher_null-ecb") != NULL);
        ASSERT_TRUE(strstr(err_msg(r), "only aes-xts-plain64 with a 512-bit key") != NULL);

        ASSERT_OK(forge(sg, true, "\"aes-xts-plain64\"", "\"cipher_null-ecb\""));
        r = luks_open_os(sg, NULL, os_pass, 40);
        ASSERT_EQ(r, -ENOTSUP);
        ASSERT_TRUE(strstr(err_msg(r), "its data segment uses cipher_null-ecb") != NULL);
}

static void test_os_other_cipher(void)
{
        _cleanup_free_ char *cbc = os_volume("cbc.img", NULL), *k256 = os_volume("k256.img", NULL);
        int r;

        ASSERT_OK(forge(cbc, true, "\"aes-xts-plain64\"", "\"aes-cbc-essiv:sha256\""));
        r = luks_open_os(cbc, NULL, os_pass, 40);
        ASSERT_EQ(r, -ENOTSUP);
        ASSERT_TRUE(strstr(err_msg(r), "data segment uses aes-cbc-essiv:sha256") != NULL);
        /* the right cipher with a 256-bit keyslot key: not what we write */
        ASSERT_OK(forge(k256, false, "\"encryption\":\"aes-xts-plain64\",\"key_size\":64",
                        "\"encryption\":\"aes-xts-plain64\",\"key_size\":32"));
        r = luks_open_os(k256, NULL, os_pass, 40);
        ASSERT_EQ(r, -ENOTSUP);
        ASSERT_TRUE(strstr(err_msg(r), "keyslot 0 uses aes-xts-plain64 with a 256-bit key"));
}

static void test_os_luks1(void)
{
        _cleanup_free_ char *img = image("luks1.img");
        struct crypt_device *cd = NULL;
        struct crypt_params_luks1 params = { .hash = "sha256" };
        struct crypt_pbkdf_type pbkdf = { .type = CRYPT_KDF_PBKDF2, .hash = "sha256",
                                          .iterations = 1000, .flags = CRYPT_PBKDF_NO_BENCHMARK };
        int r;

        /* same cipher, same passphrase: only the format differs */
        ASSERT_OK(crypt_init(&cd, img));
        ASSERT_OK(crypt_set_pbkdf_type(cd, &pbkdf));
        ASSERT_OK(crypt_format(cd, CRYPT_LUKS1, "aes", "xts-plain64", NULL, NULL, 64, &params));
        r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, os_pass, 40);
        crypt_free(cd);
        ASSERT_OK(r);
        r = luks_open_os(img, NULL, os_pass, 40);
        ASSERT_EQ(r, -EMEDIUMTYPE);
        ASSERT_TRUE(strstr(err_msg(r), "LUKS1, not LUKS2") != NULL);
}

static void test_os_not_luks(void)
{
        _cleanup_free_ char *img = image("plain-ext4.img");
        int r = luks_open_os(img, NULL, os_pass, 40);

        ASSERT_EQ(r, -EMEDIUMTYPE);
        ASSERT_TRUE(strstr(err_msg(r), "not a LUKS volume") != NULL);
}

static void test_os_reencrypt(void)
{
        _cleanup_free_ char *img = os_volume("reencrypt.img", NULL);
        struct crypt_device *cd = NULL;
        int r;

        ASSERT_OK(crypt_init(&cd, img));
        ASSERT_OK(crypt_load(cd, CRYPT_LUKS2, NULL));
        r = crypt_persistent_flags_set(cd, CRYPT_FLAGS_REQUIREMENTS,
                                       CRYPT_REQUIREMENT_OFFLINE_REENCRYPT);
        crypt_free(cd);
        ASSERT_OK(r);
        r = luks_open_os(img, NULL, os_pass, 40);
        ASSERT_EQ(r, -ENOTSUP);
        ASSERT_TRUE(strstr(err_msg(r), "requirements") != NULL);
}

/* A fake /sys/class/block and /dev: the label search reads only names. */
static void test_find_label(void)
{
        _cleanup_free_ char *sys = path_join(dir, "sys"), *dev = path_join(dir, "dev");
        _cleanup_(strv_freep) char **v = NULL;
        const char *names[] = { "vda", "vda4", "vdb", "sr0" };
        size_t n;

        ASSERT_OK(mkdir_p(sys, 0755));
        ASSERT_OK(mkdir_p(dev, 0755));
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *s = path_join(sys, names[i]);

                ASSERT_OK(mkdir_p(s, 0755));
        }
        /* vda: a blank disk, vdb: another label, sr0: never looked at */
        free(os_volume("dev/vda4", "trust-os"));
        free(os_volume("dev/vdb", "other"));
        free(image("dev/vda"));
        free(os_volume("dev/sr0", "trust-os"));
        ASSERT_OK(luks_find_label(sys, dev, "trust-os", &v, &n));
        ASSERT_EQ(n, 1);
        ASSERT_TRUE(strstr(v[0], "/dev/vda4") != NULL);
        strv_free(TAKE_PTR(v));
        ASSERT_OK(luks_find_label(sys, dev, "nothing", &v, &n));
        ASSERT_EQ(n, 0);
        ASSERT_TRUE(v[0] == NULL);
}

/* osvol_open: the key comes from the (session) keyring and is dropped
 * afterwards, whether the volume opened or was refused. */
static void test_osvol(void)
{
        _cleanup_free_ char *sys = path_join(dir, "sys2"), *devdir = path_join(dir, "dev2"),
                            *found = NULL;
        struct osvol_opts o = { .label = "trust-os", .wait_s = 0, .keyring = KEYRING_SESSION,
                                .drop_key = true, .sys_class_block = sys, .dev_dir = devdir };
        struct secret s = {};
        int32_t serial;
        int r;

        ASSERT_OK(mkdir_p(sys, 0755));
        ASSERT_OK(mkdir_p(devdir, 0755));
        {
                _cleanup_free_ char *s1 = path_join(sys, "vda4"), *s2 = path_join(sys, "vdc");

                ASSERT_OK(mkdir_p(s1, 0755));
                ASSERT_OK(mkdir_p(s2, 0755));
        }
        free(os_volume("dev2/vda4", "trust-os"));

        /* no key: nothing is tried */
        r = osvol_open(&o, NULL);
        ASSERT_EQ(r, -ENOKEY);
        ASSERT_TRUE(strstr(err_msg(r), "no key machine:luks in the session keyring") != NULL);

        ASSERT_OK(keyring_add(KEYRING_SESSION, KEYRING_LUKS_DESCRIPTION, os_pass, 40, &serial));
        ASSERT_OK(osvol_open(&o, &found)); /* check only: name NULL */
        ASSERT_TRUE(strstr(found, "/dev2/vda4") != NULL);
        ASSERT_EQ(keyring_read(KEYRING_SESSION, KEYRING_LUKS_DESCRIPTION, &s, &serial), -ENOKEY);

        /* the wrong passphrase: refused, and the key is dropped all the same */
        ASSERT_OK(keyring_add(KEYRING_SESSION, KEYRING_LUKS_DESCRIPTION, "not it", 6, &serial));
        r = osvol_open(&o, NULL);
        ASSERT_EQ(r, -EPERM);
        ASSERT_EQ(keyring_read(KEYRING_SESSION, KEYRING_LUKS_DESCRIPTION, &s, &serial), -ENOKEY);

        /* a second volume labelled trust-os: refused whichever is genuine */
        free(os_volume("dev2/vdc", "trust-os"));
        ASSERT_OK(keyring_add(KEYRING_SESSION, KEYRING_LUKS_DESCRIPTION, os_pass, 40, &serial));
        r = osvol_open(&o, NULL);
        ASSERT_EQ(r, -ENOTUNIQ);
        ASSERT_TRUE(strstr(err_msg(r), "2 LUKS2 volumes labelled trust-os") != NULL);
        ASSERT_EQ(keyring_read(KEYRING_SESSION, KEYRING_LUKS_DESCRIPTION, &s, &serial), -ENOKEY);

        /* --device bypasses the search; the key is read, kept with drop_key off */
        o.device = found;
        o.drop_key = false;
        ASSERT_OK(keyring_add(KEYRING_SESSION, KEYRING_LUKS_DESCRIPTION, os_pass, 40, &serial));
        ASSERT_OK(osvol_open(&o, NULL));
        ASSERT_OK(keyring_read(KEYRING_SESSION, KEYRING_LUKS_DESCRIPTION, &s, &serial));
        ASSERT_EQ(s.len, 40);
        ASSERT_MEMEQ(s.data, os_pass, 40);
        secret_free(&s);
        ASSERT_OK(keyring_remove(KEYRING_SESSION, serial));
}

/* luks_encrypt_copy against dm-crypt: a volume formatted with a known
 * volume key (read back through libcryptsetup), plaintext written into it
 * while it is only a file, then opened by cryptsetup (a loop device and
 * dm-crypt, root only) and read back through the mapping. Both sector sizes
 * trust writes: 4096 (a VM's OS volume) and 512. */
static void encrypt_copy_check(unsigned sector_size)
{
        _cleanup_free_ char *img = image("enc.img"), *plain = path_join(dir, "plain"),
                            *back = path_join(dir, "back"), *cmd = NULL;
        _cleanup_free_ uint8_t *text = xmalloc0(3 << 20), *got = NULL;
        const struct luks_format_opts o = { .label = "enc", .sector_size = sector_size };
        struct luks_format_opts ok = o;
        uint8_t vk[LUKS_OS_KEY_SIZE], vk_back[LUKS_OS_KEY_SIZE];
        struct crypt_device *cd = NULL;
        size_t vk_len = sizeof(vk_back), got_len = 0;
        uint64_t off = 0;
        int src, dst;

        for (size_t i = 0; i < sizeof(vk); i++)
                vk[i] = (uint8_t)(i * 7 + 1);
        for (size_t i = 0; i < (3u << 20); i++)
                text[i] = (uint8_t)(i * 2654435761u >> 13);
        ASSERT_OK(write_file_excl(plain, text, 3 << 20, 0600));
        ok.volume_key = vk;
        ASSERT_OK(luks_format(img, os_pass, 40, &ok, &off));
        ASSERT_TRUE(off >= 16384 && off % sector_size == 0);
        /* the volume's key is the one given */
        ASSERT_EQ(crypt_init(&cd, img), 0);
        ASSERT_EQ(crypt_load(cd, CRYPT_LUKS2, NULL), 0);
        ASSERT_EQ(crypt_get_sector_size(cd), (int)sector_size);
        ASSERT_EQ((uint64_t)crypt_get_data_offset(cd) * 512, off);
        ASSERT_TRUE(crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)vk_back, &vk_len, os_pass,
                                         40) >= 0);
        crypt_free(cd);
        ASSERT_EQ(vk_len, sizeof(vk));
        ASSERT_MEMEQ(vk_back, vk, sizeof(vk));

        src = open(plain, O_RDONLY | O_CLOEXEC);
        dst = open(img, O_RDWR | O_CLOEXEC);
        ASSERT_TRUE(src >= 0 && dst >= 0);
        /* from 1 MiB of the plaintext, 2 MiB, to 64 KiB into the segment */
        ASSERT_OK(luks_encrypt_copy(&(struct luks_copy){ .src_fd = src, .src_off = 1 << 20,
                                                         .src_name = plain, .dst_fd = dst,
                                                         .dst_off = off + 65536,
                                                         .dst_name = img, .len = 2 << 20,
                                                         .sector_size = sector_size },
                                    vk));
        /* not whole sectors: refused, nothing written */
        ASSERT_EQ(luks_encrypt_copy(&(struct luks_copy){ .src_fd = src, .src_name = plain,
                                                         .dst_fd = dst, .dst_off = off,
                                                         .dst_name = img, .len = 100,
                                                         .sector_size = sector_size },
                                    vk),
                  -EINVAL);
        close(src);
        close(dst);
        /* the ciphertext is not the plaintext */
        ASSERT_OK(read_file(img, 64 << 20, &got, &got_len));
        ASSERT_TRUE(memcmp(got + off + 65536, text + (1 << 20), 4096) != 0);
        free(TAKE_PTR(got));

        (void)unlink(plain);
        /* (the VM tests read such a volume through the guest's dm-crypt) */
        if (geteuid() != 0 || system("command -v cryptsetup >/dev/null && "
                                     "dmsetup version >/dev/null 2>&1") != 0) {
                fprintf(stderr, "not root or no device-mapper: dm-crypt read-back skipped\n");
                return;
        }
        cmd = xasprintf("printf %%s '%s' | cryptsetup open --key-file - '%s' trust-test-enc && "
                        "dd if=/dev/mapper/trust-test-enc of='%s' bs=65536 skip=1 count=32 "
                        "status=none; r=$?; cryptsetup close trust-test-enc; exit $r",
                        os_pass, img, back);
        ASSERT_EQ(system(cmd), 0);
        ASSERT_OK(read_file(back, 4 << 20, &got, &got_len));
        ASSERT_EQ(got_len, (size_t)(2 << 20));
        ASSERT_MEMEQ(got, text + (1 << 20), 2 << 20);
        (void)unlink(back);
}

static void test_encrypt_copy_4096(void)
{
        encrypt_copy_check(4096);
}

static void test_encrypt_copy_512(void)
{
        encrypt_copy_check(512);
}

int main(void)
{
        if (!mkdtemp(dir))
                return 1;
        /* a private session keyring: other tests' machine:luks stay apart */
        if (keyctl_join_session_keyring(NULL) < 0)
                return 1;
        RUN(test_format_and_check);
        RUN(test_keyring_token);
        RUN(test_not_luks);
        RUN(test_encrypt_copy_4096);
        RUN(test_encrypt_copy_512);
        RUN(test_os_genuine);
        RUN(test_os_cipher_null);
        RUN(test_os_other_cipher);
        RUN(test_os_luks1);
        RUN(test_os_not_luks);
        RUN(test_os_reencrypt);
        RUN(test_find_label);
        RUN(test_osvol);
        (void)rm_rf(dir);
        return test_exit();
}
