/* util.h: small helpers shared by every module: cleanup attributes, secrets,
 * careful file I/O (errors: error.h), and the
 * atomic "build in a temp sibling, rename at the end" pattern. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/error.h"
#include "base/secure.h"

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand ownership over: returns the pointer and clears the variable so the
 * cleanup attribute of the old owner does nothing. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                typeof(p) _p_ = (p);                                                               \
                (p) = NULL;                                                                        \
                _p_;                                                                               \
        })

/* DEFINE_CLEANUP(X509_freep, X509 *, X509_free) defines X509_freep(X509 **)
 * for _cleanup_(X509_freep): the destructor, called on the variable. */
#define DEFINE_CLEANUP(name, type, func)                                                           \
        static inline void name(type *p)                                                           \
        {                                                                                          \
                func(*p);                                                                          \
        }

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
        if (*fd >= 0)
                (void)close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Secrets. erase_and_freep() wipes a whole malloc'd block (a PEM private key,
 * a passphrase) before freeing it; struct secret (secure.h) is for secrets
 * on locked pages. */
void erase_and_freep(void *p);

/* Memory */
void *xmalloc0(size_t n); /* aborts on OOM: callers never handle it */
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);
char *path_join(const char *a, const char *b);

/* Files. read_file reads regular files only (a FIFO or device is refused, not
 * waited on) and refuses files larger than max (-EFBIG); it allocates what
 * the file holds, not max, so max may be large (a 2 GiB image). The buffer
 * is NUL-terminated (not counted in *ret_len). */
int read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len);
/* Cuts a text read by read_file before its line end (every trailing '\n'
 * and '\r'), keeping it NUL-terminated; returns the new length. */
size_t text_chomp(uint8_t *buf, size_t len);
/* A file of exactly len bytes (a digest, a PCR value) into out; any other
 * size is -EBADMSG "<path>: not a <len>-byte <what>". */
int read_file_exact(const char *path, void *out, size_t len, const char *what);
/* Creates path (it must not exist) as a sparse file of size bytes. */
int sparse_file_create(const char *path, uint64_t size, mode_t mode);
/* Writes all of buf to fd (retrying short writes and EINTR); -errno. */
int write_all(int fd, const void *buf, size_t len);
/* Creates path with O_EXCL and the given mode, writes, fsyncs. */
int write_file_excl(const char *path, const void *buf, size_t len, mode_t mode);
/* Writes to a temp sibling and renames over path. */
int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode);
/* The same for a file made of pieces (NULL base: that many zero bytes). */
struct iovec;
int write_file_atomic_iov(const char *path, const struct iovec *iov, size_t n, mode_t mode);
int mkdir_p(const char *path, mode_t mode);
/* Copies the tree below src into the existing directory dst: directories are
 * made with dir_mode, regular files (at most file_max bytes each) get
 * file_mode(name, source mode); links and special files are refused, and
 * nesting deeper than 8 levels. File contents are wiped from memory after the
 * copy (trees may hold private keys). */
int copy_tree(const char *src, const char *dst, mode_t dir_mode,
              mode_t (*file_mode)(const char *name, mode_t src_mode), size_t file_max);
int rm_rf(const char *path);
/* Overwrites a regular file with zeros (fsync'd), then unlinks it; a link or
 * special file is only unlinked. Best effort: for files that held secrets. */
void wipe_file(const char *path);
/* rm_rf on a failure's way out: best effort, and the failure keeps its message. */
void rm_rf_after_failure(const char *path);
bool path_exists(const char *path);

/* Atomic directories: make_tmp_sibling("/a/b/name") creates
 * "/a/b/.tmp-name-<pid>-XXXXXX" (mode 0700) next to the final name.
 * commit_tmp_dir renames it into place, refusing to replace (-EEXIST).
 * clean_stale_tmp removes temp siblings in dir whose creator is dead,
 * overwriting their files of up to 64 MiB first (they may hold keys). */
int make_tmp_sibling(const char *final_path, char **ret_tmp);
int commit_tmp_dir(const char *tmp, const char *final_path, mode_t final_mode);
int clean_stale_tmp(const char *dir);

/* Names of keysets, projects, serials, VMs: 1..128 bytes of [A-Za-z0-9._-],
 * not starting with '.' or '-'; no ':', which separates KEYSET:PROJECT (`vm
 * launch --project`, `keyset show NAME manifest:PROJECT`). Records a message
 * naming `what`. */
int name_validate(const char *what, const char *name);

/* A directory below an XDG base directory (an absolute $env, else
 * $HOME/home_fallback): xdg_dir("XDG_DATA_HOME", ".local/share",
 * "machine/trust/keys", &p). */
int xdg_dir(const char *env, const char *home_fallback, const char *sub, char **ret);

/* What is shipped beside the binary: the first directory of rel[] (paths
 * relative to the directory of /proc/self/exe, e.g. "../share/trust/images")
 * that holds the file probe. ret_exe (optional) gets the executable's own
 * path, even on failure (for messages). -ENOENT when none does. */
int exe_relative_dir(const char *const *rel, size_t n_rel, const char *probe, char **ret,
                     char **ret_exe);

/* Hex */
char *hex_encode(const uint8_t *buf, size_t len); /* lower case */
int hex_decode(const char *hex, uint8_t *out, size_t out_len); /* exact length */
int unhexchar(char c); /* the value of one hex digit (either case), or -1 */

/* Random UUID v4 as text (36 chars + NUL) */
int uuid_random(char out[static 37]);
int random_bytes(void *buf, size_t len);

/* Monotonic seconds. */
double now_s(void);
/* Sleeps ms milliseconds, signals or not. */
void sleep_ms(unsigned ms);
