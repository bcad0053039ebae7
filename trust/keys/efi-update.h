/* efi-update.h: a keyset's signed updates of the Secure Boot variables
 * (`efivars sign-update`) and what PCR7 becomes once firmware applies them
 * (`computepcr7 --update`, `keyset rollout`). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/auth2.h"
#include "formats/pcr7.h"

/* The new data of an update from INPUTs: a PEM certificate (one X509 list
 * owned by owner), a file of EFI_SIGNATURE_LISTs (taken as is) or
 * "sha256:HEX" (one SHA-256 list owned by owner). */
int efi_update_data(const char *const *inputs, size_t n, const efi_guid *owner, uint8_t **ret,
                    size_t *ret_len);

/* The keyset item that signs updates of var: uefi-pk for PK and KEK,
 * uefi-kek for db and dbx. */
const char *efi_update_signer(enum sbvar var);
/* The owner GUID of that item (the default owner of new entries). */
int efi_update_default_owner(const char *keyset_dir, enum sbvar var, efi_guid *ret);

/* A signed EFI_VARIABLE_AUTHENTICATION_2 payload for var. */
int keyset_sign_update(const char *keyset_dir, enum sbvar var, bool append,
                       const uint8_t ts[EFI_TIME_SIZE], const uint8_t *data, size_t len,
                       uint8_t **ret, size_t *ret_len);

/* Applies the payload files in order to the keyset's enrolled variables v
 * (keyset_efi_vars_load), as firmware would (auth2_apply). After it, a class
 * whose certificate dbx now holds, or whose db entry is gone, cannot boot:
 * refused[c] says why (NULL: it boots). */
int keyset_efi_vars_update(struct keyset_efi_vars *v, const char *const *auth_paths, size_t n,
                           const char *refused[_UKI_CLASS_MAX]);

/* keyset_path + keyset_efi_vars_load (dbx_path may be NULL) + the updates
 * (n may be 0): the variables a keyset's machines hold, as the PCR7
 * commands predict from. ret_dir (optional) gets the keyset's directory. */
int keyset_efi_vars_after(const char *keyset, const char *dbx_path, const char *const *updates,
                          size_t n, struct keyset_efi_vars *v, const char *refused[_UKI_CLASS_MAX],
                          char **ret_dir);
