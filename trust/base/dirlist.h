/* dirlist.h: directory listings and string vectors. */
#pragma once

#include <stddef.h>

/* Sorted names of the sub-directories of dir, skipping dot entries (temp
 * siblings); a missing dir gives an empty list. Free with strv_free. */
int subdir_names(const char *dir, char ***ret, size_t *ret_n);
int file_names(const char *dir, char ***ret, size_t *ret_n); /* regular files */
void strv_free(char **v);
static inline void strv_freep(char ***p)
{
        strv_free(*p);
}
