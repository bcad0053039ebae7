/* keyset-path.h: where keysets live and what is in them (spec keysets.md). */
#pragma once

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

