/* keyset.h: where keysets live and what is in them (spec keysets.md). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The key directories of a keyset, in the spec's order. */
extern const char *const keyset_keydirs[];
extern const unsigned keyset_n_keydirs;

/* $XDG_DATA_HOME/machine/trust/keys */
int keysets_root(char **ret);
/* Path of an existing keyset; -ENOENT with "keyset 'x' does not exist". */
int keyset_path(const char *keyset, char **ret);
/* "<keyset dir>/<keydir>/<file>", e.g. keyset_file(ks, "uki-tpm", "cert.pem"). */
char *keyset_file(const char *keyset_dir, const char *keydir, const char *file);

/* Removes temp siblings left by killed runs below the keys root (best effort). */
void keysets_clean_stale(void);

/* Builds the whole keyset of the spec (every key dir, project `default` with
 * its sudi/ dir, pcr7data/) in a temp sibling and renames it into place:
 * the keyset appears whole or not at all. orgs become the subject O values. */
int keyset_create(const char *name, const char *const *orgs, size_t n_orgs);

/* Installs a copy of a prepared keyset tree (the committed snakeoil keyset)
 * under `name`, atomically, with modes fixed: privkey.pem 0600, other files
 * 0640, dirs 0750 (git keeps none of these). */
int keyset_install_copy(const char *name, const char *src_dir);

/* Directory of the committed snakeoil keyset: $TRUST_SNAKEOIL_DIR, else
 * next to the executable (source tree, ASan build, installed share/trust). */
int snakeoil_dir(char **ret);

/* Hook run by keyset_create on the temp keyset dir once every key exists and
 * before the rename: writes pcr7data/ (keyset-pcr7data.c). */
int keyset_write_pcr7data(const char *tmp_keyset_dir, const char *keyset_name);

/* errf() with a prefix in front of the message already recorded for r:
 * errf_prefix(r, "keyset '%s'", name) gives "keyset 'k': <cause>". */
int errf_prefix(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sorted names of the sub-directories of dir, skipping dot entries (temp
 * siblings); a missing dir gives an empty list. Free with strv_free. */
int subdir_names(const char *dir, char ***ret, size_t *ret_n);
int file_names(const char *dir, char ***ret, size_t *ret_n); /* regular files */
void strv_free(char **v);
static inline void strv_freep(char ***p)
{
        strv_free(*p);
}
