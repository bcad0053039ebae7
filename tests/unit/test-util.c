/* test-util.c: name validation, hex, reading files of any kind, atomic files
 * and directories. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "base/base64.h"
#include "formats/pkcs11-uri.h"
#include "base/util.h"

static char *tmpdir(void)
{
        char tmpl[] = "/tmp/trust-test-XXXXXX";

        return xstrdup(mkdtemp(tmpl));
}

static void test_name_validate(void)
{
        char longname[301];

        ASSERT_OK(name_validate("keyset", "prod-2024_a.b"));
        ASSERT_EQ(name_validate("keyset", ""), -EINVAL);
        ASSERT_EQ(name_validate("keyset", "../x"), -EINVAL);
        ASSERT_EQ(name_validate("keyset", "a/b"), -EINVAL);
        ASSERT_EQ(name_validate("keyset", ".x"), -EINVAL);
        ASSERT_EQ(name_validate("keyset", "\xff\xfe"), -EINVAL);
        ASSERT_EQ(name_validate("project", "a:b"), -EINVAL); /* the KEYSET:PROJECT separator */
        ASSERT_STREQ(err_msg(-EINVAL), "project name 'a:b' must not contain ':'");
        memset(longname, 'a', 300);
        longname[300] = 0;
        ASSERT_EQ(name_validate("keyset", longname), -EINVAL);
        ASSERT_TRUE(strstr(err_msg(-EINVAL), "longer than") != NULL);
}

static void test_hex(void)
{
        uint8_t in[4] = { 0x00, 0xab, 0x10, 0xff }, out[4];
        _cleanup_free_ char *h = hex_encode(in, 4);

        ASSERT_STREQ(h, "00ab10ff");
        ASSERT_OK(hex_decode("00AB10ff", out, 4));
        ASSERT_MEMEQ(in, out, 4);
        ASSERT_EQ(hex_decode("00ab10f", out, 4), -EINVAL);
        ASSERT_EQ(hex_decode("00ab10fg", out, 4), -EINVAL);
}

static void test_files(void)
{
        _cleanup_free_ char *d = tmpdir(), *p = path_join(d, "f");
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t n;

        ASSERT_OK(write_file_excl(p, "abc", 3, 0600));
        ASSERT_EQ(write_file_excl(p, "abc", 3, 0600), -EEXIST);
        ASSERT_OK(stat(p, &st));
        ASSERT_EQ(st.st_mode & 07777, 0600);
        ASSERT_OK(write_file_atomic(p, "defg", 4, 0640));
        ASSERT_OK(read_file(p, 16, &buf, &n));
        ASSERT_EQ(n, 4);
        ASSERT_MEMEQ(buf, "defg", 4);
        free(TAKE_PTR(buf));
        ASSERT_EQ(read_file(p, 3, &buf, &n), -EFBIG);
        {
                uint8_t four[4] = { 0 }, three[3], five[5];
                _cleanup_free_ char *none = path_join(d, "none");

                ASSERT_OK(read_file_exact(p, four, 4, "digest"));
                ASSERT_MEMEQ(four, "defg", 4);
                ASSERT_EQ(read_file_exact(p, three, 3, "digest"), -EBADMSG);
                ASSERT_TRUE(strstr(err_msg(-EBADMSG), ": not a 3-byte digest") != NULL);
                ASSERT_EQ(read_file_exact(p, five, 5, "digest"), -EBADMSG);
                ASSERT_EQ(read_file_exact(none, four, 4, "digest"), -ENOENT);
        }
        /* a FIFO without a writer: refused at once, not waited on */
        ASSERT_OK(unlink(p));
        ASSERT_OK(mkfifo(p, 0600));
        ASSERT_EQ(read_file(p, 16, &buf, &n), -EINVAL);
        ASSERT_TRUE(strstr(err_msg(-EINVAL), "/f: not a regular file") != NULL);
        ASSERT_EQ(read_file(d, 16, &buf, &n), -EISDIR);
        ASSERT_OK(rm_rf(d));
        ASSERT_TRUE(!path_exists(d));
}

/* Files whose size fstat does not tell (procfs, pipes) grow the buffer; the
 * bound holds either way. */
static void test_read_unsized(void)
{
        _cleanup_free_ uint8_t *buf = NULL, *big = xmalloc0(200000);
        _cleanup_free_ char *d = tmpdir(), *p = path_join(d, "big");
        size_t n = 0;
        int fds[2];

        ASSERT_OK(read_file("/proc/self/maps", 1 << 24, &buf, &n));
        ASSERT_TRUE(n > 100);
        ASSERT_EQ(strlen((char *)buf), n);
        free(TAKE_PTR(buf));
        ASSERT_EQ(read_file("/proc/self/maps", 50, &buf, &n), -EFBIG);

        /* a pipe is no regular file: refused at once, never waited on */
        for (size_t i = 0; i < 200000; i++)
                big[i] = (uint8_t)(i * 7 + 1);
        ASSERT_OK(pipe(fds));
        {
                _cleanup_free_ char *path = xasprintf("/proc/self/fd/%d", fds[0]);
                ASSERT_EQ(read_file(path, 1 << 20, &buf, &n), -EINVAL);
        }
        close(fds[0]);
        close(fds[1]);

        /* a regular file exactly at the bound, and one byte over it */
        ASSERT_OK(write_file_excl(p, big, 4096, 0600));
        ASSERT_OK(read_file(p, 4096, &buf, &n));
        ASSERT_EQ(n, 4096);
        ASSERT_MEMEQ(buf, big, 4096);
        ASSERT_EQ(read_file(p, 4095, &buf, &n), -EFBIG);
        ASSERT_OK(rm_rf(d));
}

static void test_tmp_dirs(void)
{
        _cleanup_free_ char *d = tmpdir(), *final = path_join(d, "ks"), *tmp = NULL;
        _cleanup_free_ char *stale = path_join(d, ".tmp-ks-999999999-abcdef");

        _cleanup_free_ char *key = path_join(stale, "privkey.pem");
        static const char secret[] = "-----BEGIN PRIVATE KEY-----\nsecret\n";
        char back[sizeof(secret)];
        int fd;

        ASSERT_OK(make_tmp_sibling(final, &tmp));
        ASSERT_TRUE(strstr(tmp, "/.tmp-ks-") != NULL);
        ASSERT_OK(mkdir(stale, 0700));
        ASSERT_OK(write_file_excl(key, (const uint8_t *)secret, sizeof(secret), 0600));
        fd = open(key, O_RDONLY | O_CLOEXEC); /* sees the inode after the unlink */
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(clean_stale_tmp(d));
        ASSERT_TRUE(!path_exists(stale)); /* pid 999999999 cannot exist */
        /* what a killed `keyset add` or `vm launch` left was overwritten */
        ASSERT_EQ(pread(fd, back, sizeof(back), 0), (ssize_t)sizeof(back));
        for (size_t i = 0; i < sizeof(back); i++)
                ASSERT_EQ(back[i], 0);
        close(fd);
        ASSERT_TRUE(path_exists(tmp));    /* ours is alive */
        ASSERT_OK(commit_tmp_dir(tmp, final, 0750));
        ASSERT_TRUE(path_exists(final));
        ASSERT_OK(mkdir(tmp, 0700));
        ASSERT_EQ(commit_tmp_dir(tmp, final, 0750), -EEXIST);
        ASSERT_OK(rm_rf(d));
}

static void test_uuid(void)
{
        char u[37];

        ASSERT_OK(uuid_random(u));
        ASSERT_EQ(strlen(u), 36);
        ASSERT_EQ(u[14], '4');
        ASSERT_TRUE(strchr("89ab", u[19]) != NULL);
}

/* RFC 4648 §10 vectors both ways, and the one-spelling rules of the decoder. */
static void test_base64(void)
{
        static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
        static const char *const coded[] = { "",         "Zg==",     "Zm8=",    "Zm9v",
                                             "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
        static const char *const bad[] = { "Zg=",  "Zg",   "Z===", "Zh==", "Zm9=", "=Zg=",
                                           "Zg=a", "Zm 9v", "Zm9v\n", "Zm-v", "Zm9vZg==Zm9v" };
        uint8_t all[256];

        for (size_t i = 0; i < ELEMENTSOF(plain); i++) {
                _cleanup_free_ char *e = base64_encode((const uint8_t *)plain[i], strlen(plain[i]));
                _cleanup_free_ uint8_t *d = NULL;
                size_t n;

                ASSERT_STREQ(e, coded[i]);
                ASSERT_OK(base64_decode(coded[i], 64, &d, &n));
                ASSERT_EQ(n, strlen(plain[i]));
                ASSERT_MEMEQ(d, plain[i], n);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint8_t *d = NULL;
                size_t n;

                ASSERT_EQ(base64_decode(bad[i], 64, &d, &n), -EBADMSG);
                ASSERT_TRUE(d == NULL);
        }
        for (int i = 0; i < 256; i++)
                all[i] = (uint8_t)i;
        for (size_t len = 250; len <= 256; len++) {
                _cleanup_free_ char *e = base64_encode(all, len);
                _cleanup_free_ uint8_t *d = NULL;
                size_t n;

                ASSERT_OK(base64_decode(e, len, &d, &n));
                ASSERT_EQ(n, len);
                ASSERT_MEMEQ(d, all, len);
                free(d);
                d = NULL;
                ASSERT_EQ(base64_decode(e, len - 1, &d, &n), -EBADMSG); /* over max */
        }
}

static void test_pkcs11_uri(void)
{
        static const char *const bad[] = {
                "pkcs11",                          /* no scheme */
                "pkcs11:token=a;token=b",          /* twice */
                "pkcs11:tokn=a",                   /* unknown */
                "pkcs11:token=a?pin-value=1234",   /* a PIN in the URI */
                "pkcs11:token=a%2",                /* short escape */
                "pkcs11:token=a%zz",               /* bad escape */
                "pkcs11:token=a%00b",              /* NUL in text */
                "pkcs11:token=a b",                /* not printable */
                "pkcs11:token=a;;object=b",        /* empty attribute */
                "pkcs11:token",                    /* no = */
                "pkcs11:type=secret",              /* unknown type */
                "pkcs11:token=a?module-path=x&",   /* trailing & */
        };
        struct pkcs11_uri u;
        _cleanup_free_ char *again = NULL;

        ASSERT_OK(pkcs11_uri_parse("pkcs11:token=My%20Token;id=%01%00%ff;type=private"
                                   "?module-path=/m.so&pin-source=file:/p",
                                   &u));
        ASSERT_STREQ(u.token, "My Token");
        ASSERT_EQ(u.id_len, 3u);
        ASSERT_MEMEQ(u.id, "\x01\x00\xff", 3);
        ASSERT_STREQ(u.module_path, "/m.so");
        ASSERT_STREQ(u.pin_source, "file:/p");
        again = pkcs11_uri_for_object(&u, "uefi-db");
        ASSERT_STREQ(again, "pkcs11:token=My%20Token;object=uefi-db;type=private"
                            "?module-path=/m.so&pin-source=file:/p");
        pkcs11_uri_done(&u);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ASSERT_EQ(pkcs11_uri_parse(bad[i], &u), -EINVAL);
                ASSERT_TRUE(!u.token && !u.module_path);
        }
}

int main(void)
{
        RUN(test_name_validate);
        RUN(test_hex);
        RUN(test_files);
        RUN(test_read_unsized);
        RUN(test_tmp_dirs);
        RUN(test_uuid);
        RUN(test_base64);
        RUN(test_pkcs11_uri);
        return test_exit();
}
