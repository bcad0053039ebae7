/* dirlist.c: sorted directory listings as NULL-terminated string vectors. */
#include "base/dirlist.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "base/util.h"

int dir_names(const char *dir, bool (*keep)(int dir_fd, const char *name, void *userdata),
              void *userdata, char ***ret, size_t *ret_n)
{
        _cleanup_(strv_done) struct strv names = {};
        struct dirent *de;
        DIR *d = opendir(dir);

        if (!d) {
                if (errno != ENOENT)
                        return errf(-errno, "%s: %s", dir, strerror(errno));
        } else {
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.' && keep(dirfd(d), de->d_name, userdata))
                                strv_add(&names, xstrdup(de->d_name));
                closedir(d);
        }
        strv_sort(&names);
        *ret = strv_steal(&names, ret_n);
        return 0;
}

static bool is_type(int dir_fd, const char *name, void *type)
{
        struct stat st;

        return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               (st.st_mode & S_IFMT) == (mode_t)(uintptr_t)type;
}

int subdir_names(const char *dir, char ***ret, size_t *ret_n)
{
        return dir_names(dir, is_type, (void *)(uintptr_t)S_IFDIR, ret, ret_n);
}

int file_names(const char *dir, char ***ret, size_t *ret_n)
{
        return dir_names(dir, is_type, (void *)(uintptr_t)S_IFREG, ret, ret_n);
}
