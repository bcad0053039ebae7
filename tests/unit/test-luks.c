/* test-luks.c: LUKS2 format and passphrase check through libcryptsetup on an
 * image file (no device-mapper needed), the keyring token read back with
 * cryptsetup's own luksDump as the independent peer. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"
#include "target/luks.h"
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

        ASSERT_OK(luks_format(img, pass, 40, NULL));
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

        ASSERT_OK(luks_format(img, pass, strlen(pass), "machine:luks"));
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

int main(void)
{
        if (!mkdtemp(dir))
                return 1;
        RUN(test_format_and_check);
        RUN(test_keyring_token);
        RUN(test_not_luks);
        (void)rm_rf(dir);
        return test_exit();
}
