/* project.h: projects (products) of a keyset and the manifest identity they
 * carry: uuid, keypair and a cert issued by manifest-ca (spec keysets.md
 * "Projects"); `new-uuid` makes the same triple in the user's config dir. */
#pragma once

#include <stddef.h>

#include "keys/x509.h"

/* Writes dir/uuid, dir/privkey.pem, dir/cert.pem (CN "manifest PRODUCT:<uuid>",
 * 20 y, digitalSignature + codeSigning) into the existing dir. */
int manifest_identity_write(const char *dir, X509 *ca_cert, EVP_PKEY *ca_key,
                            EVP_PKEY *key /* NULL: a fresh one */, char ret_uuid[static 37]);
/* manifest_identity_write + an empty sudi/ dir. */
int project_populate(const char *project_dir, X509 *ca_cert, EVP_PKEY *ca_key, EVP_PKEY *key);

/* <keyset>/manifest/<project> of an existing project (-ENOENT otherwise). */
int project_path(const char *keyset, const char *project, char **ret);
/* Creates a project atomically (temp sibling + rename). */
int project_create(const char *keyset, const char *project, char **ret_path);
int project_list(const char *keyset, char ***ret, size_t *ret_n);

/* $XDG_CONFIG_HOME/machine/trust/manifest: uuid, keypair and cert issued by
 * the keyset's manifest-ca, created atomically; refuses to replace one. */
int new_uuid_create(const char *keyset, char **ret_dir, char ret_uuid[static 37]);
