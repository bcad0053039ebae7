/* dirlist.h: sorted directory listings as string vectors (base/strv.h). */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/strv.h"

/* Sorted names in dir that keep(dir_fd, name, userdata) accepts, skipping dot
 * entries (temp siblings); a missing dir gives an empty list. Free the vector
 * with strv_free. */
int dir_names(const char *dir, bool (*keep)(int dir_fd, const char *name, void *userdata),
              void *userdata, char ***ret, size_t *ret_n);
/* The sub-directories, and the regular files (links are neither). */
int subdir_names(const char *dir, char ***ret, size_t *ret_n);
int file_names(const char *dir, char ***ret, size_t *ret_n);

/* For _cleanup_(closedirp) DIR *d. */
static inline void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}
