/* keyset.h: making keysets (spec keysets.md): generated, or installed from a
 * prepared tree such as the committed snakeoil keyset. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Builds the whole keyset of the spec (every key dir, project `default` with
 * its sudi/ dir, pcr7data/) in a temp sibling and renames it into place:
 * the keyset appears whole or not at all. orgs become the subject O values. */
/* pkcs11_uri: NULL, or a pkcs11: URI naming a token where the keys of the
 * table (all but the project's) are made, labelled with their item names;
 * their items hold privkey.uri instead of privkey.pem. */
int keyset_create(const char *name, const char *const *orgs, size_t n_orgs,
                  const char *pkcs11_uri);

/* Installs a copy of a prepared keyset tree (the committed snakeoil keyset)
 * under `name`, atomically, with modes fixed: privkey.pem 0600, other files
 * 0640, dirs 0750 (git keeps none of these). */
int keyset_install_copy(const char *name, const char *src_dir);

/* Directory of the committed snakeoil keyset: $TRUST_SNAKEOIL_DIR, else
 * next to the executable (source tree, ASan build, installed share/trust). */
int snakeoil_dir(char **ret);
