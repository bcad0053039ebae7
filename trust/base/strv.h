/* strv.h: string vectors: NULL-terminated arrays of owned strings (char **,
 * what execvp() takes and the directory listings return), grown through
 * struct strv, e.g. an argv built word by word. */
#pragma once

#include <stddef.h>

#include "base/error.h" /* _printf_ */

/* A growing vector; v is NULL until the first add, then NULL-terminated.
 * Zero-initialised is empty. */
struct strv {
        char **v;
        size_t n, cap;
};

void strv_add(struct strv *s, char *owned);                          /* takes the string */
void strv_addf(struct strv *s, const char *fmt, ...) _printf_(2, 3); /* a formatted copy */
void strv_addl(struct strv *s, ...) __attribute__((sentinel));       /* copies, up to a NULL */
void strv_sort(struct strv *s);                                      /* strcmp order */
/* Hands the vector over (never NULL: an empty one when nothing was added),
 * with its length in *ret_n (may be NULL); s is empty afterwards. */
char **strv_steal(struct strv *s, size_t *ret_n);
void strv_done(struct strv *s); /* frees every string; also a cleanup function */

/* A vector handed over by strv_steal() (or a listing); NULL is fine. */
void strv_free(char **v);
static inline void strv_freep(char ***p)
{
        strv_free(*p);
}
size_t strv_length(char *const *v);
