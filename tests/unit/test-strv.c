/* test-strv.c: the string vector (an argv built word by word, handed over
 * NULL-terminated) and the sorted directory listings that return it. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/dirlist.h"
#include "base/strv.h"
#include "base/util.h"
#include "harness.h"

static void test_build(void)
{
        _cleanup_(strv_done) struct strv a = {};

        ASSERT_TRUE(a.v == NULL);
        strv_addl(&a, "qemu-system-x86_64", "-m", NULL);
        strv_addf(&a, "%u", 2048u);
        strv_add(&a, xstrdup("-nodefaults"));
        strv_addl(&a, NULL); /* nothing */
        ASSERT_EQ(a.n, 4);
        ASSERT_STREQ(a.v[0], "qemu-system-x86_64");
        ASSERT_STREQ(a.v[1], "-m");
        ASSERT_STREQ(a.v[2], "2048");
        ASSERT_STREQ(a.v[3], "-nodefaults");
        ASSERT_TRUE(a.v[4] == NULL);
        ASSERT_EQ(strv_length(a.v), 4);

        /* growth past the first allocation keeps every word and the NULL */
        for (int i = 0; i < 1000; i++)
                strv_addf(&a, "w%d", i);
        ASSERT_EQ(a.n, 1004);
        ASSERT_STREQ(a.v[1003], "w999");
        ASSERT_TRUE(a.v[1004] == NULL);
        strv_done(&a);
        ASSERT_TRUE(a.v == NULL && a.n == 0 && a.cap == 0);
        strv_done(&a); /* twice is fine */
}

static void test_steal_sort(void)
{
        struct strv s = {};
        char **v;
        size_t n = 99;

        v = strv_steal(&s, &n); /* empty: a vector, not NULL */
        ASSERT_TRUE(v != NULL && v[0] == NULL);
        ASSERT_EQ(n, 0);
        strv_free(v);

        strv_addl(&s, "uki-tpm", "manifest", "uefi-db", "Z", NULL);
        strv_sort(&s);
        v = strv_steal(&s, &n);
        ASSERT_TRUE(s.v == NULL && s.n == 0);
        ASSERT_EQ(n, 4);
        ASSERT_STREQ(v[0], "Z");
        ASSERT_STREQ(v[1], "manifest");
        ASSERT_STREQ(v[2], "uefi-db");
        ASSERT_STREQ(v[3], "uki-tpm");
        ASSERT_TRUE(v[4] == NULL);
        strv_free(v);
        strv_free(NULL);
        ASSERT_EQ(strv_length(NULL), 0);
}

static bool ends_in_pem(int dir_fd, const char *name, void *userdata)
{
        size_t l = strlen(name);

        (void)dir_fd;
        (*(int *)userdata)++;
        return l > 4 && !strcmp(name + l - 4, ".pem");
}

static void test_listing(void)
{
        char tmpl[] = "/tmp/trust-test-strv-XXXXXX";
        _cleanup_free_ char *d = xstrdup(mkdtemp(tmpl)), *missing = path_join(d, "none");
        _cleanup_(strv_freep) char **dirs = NULL, **files = NULL, **pems = NULL, **none = NULL;
        static const char *const subdirs[] = { "b-dir", "a-dir", ".tmp-x-1-abc" };
        static const char *const regular[] = { "privkey.pem", "cert.pem", "guid", ".hidden" };
        size_t n;
        int seen = 0;

        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_free_ char *p = path_join(d, subdirs[i]);
                ASSERT_OK(mkdir(p, 0700));
        }
        for (size_t i = 0; i < ELEMENTSOF(regular); i++) {
                _cleanup_free_ char *p = path_join(d, regular[i]);
                ASSERT_OK(write_file_excl(p, "x", 1, 0600));
        }
        {
                _cleanup_free_ char *l = path_join(d, "link.pem");
                ASSERT_OK(symlink("cert.pem", l));
        }

        ASSERT_OK(subdir_names(d, &dirs, &n));
        ASSERT_EQ(n, 2);
        ASSERT_STREQ(dirs[0], "a-dir");
        ASSERT_STREQ(dirs[1], "b-dir");
        ASSERT_TRUE(dirs[2] == NULL);

        ASSERT_OK(file_names(d, &files, &n)); /* no link, no dot entry */
        ASSERT_EQ(n, 3);
        ASSERT_STREQ(files[0], "cert.pem");
        ASSERT_STREQ(files[1], "guid");
        ASSERT_STREQ(files[2], "privkey.pem");

        ASSERT_OK(dir_names(d, ends_in_pem, &seen, &pems, &n));
        ASSERT_EQ(seen, 6); /* every entry but the dot ones was asked about */
        ASSERT_EQ(n, 3);
        ASSERT_STREQ(pems[0], "cert.pem");
        ASSERT_STREQ(pems[1], "link.pem");
        ASSERT_STREQ(pems[2], "privkey.pem");

        ASSERT_OK(subdir_names(missing, &none, &n));
        ASSERT_EQ(n, 0);
        ASSERT_TRUE(none[0] == NULL);
        ASSERT_OK(rm_rf(d));
}

int main(void)
{
        RUN(test_build);
        RUN(test_steal_sort);
        RUN(test_listing);
        return test_exit();
}
