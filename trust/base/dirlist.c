/* dirlist.c: sorted directory listings as NULL-terminated string vectors. */
#include "base/dirlist.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int names_of_type(const char *dir, mode_t type, char ***ret, size_t *ret_n)
{
        DIR *d = opendir(dir);
        char **v = xmalloc0(sizeof(char *));
        size_t n = 0;
        struct dirent *de;

        if (!d) {
                if (errno != ENOENT) {
                        int r = -errno;
                        free(v);
                        return errf(r, "%s: %s", dir, strerror(-r));
                }
                *ret = v;
                *ret_n = 0;
                return 0;
        }
        while ((de = readdir(d))) {
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    (st.st_mode & S_IFMT) != type)
                        continue;
                v = realloc(v, (n + 2) * sizeof(char *));
                if (!v)
                        abort();
                v[n++] = xstrdup(de->d_name);
                v[n] = NULL;
        }
        closedir(d);
        qsort(v, n, sizeof(char *), cmp_str);
        *ret = v;
        *ret_n = n;
        return 0;
}

int subdir_names(const char *dir, char ***ret, size_t *ret_n)
{
        return names_of_type(dir, S_IFDIR, ret, ret_n);
}

int file_names(const char *dir, char ***ret, size_t *ret_n)
{
        return names_of_type(dir, S_IFREG, ret, ret_n);
}

