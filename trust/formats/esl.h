/* esl.h: the well-known EFI GUIDs, EFI_SIGNATURE_LISTs and UEFI_VARIABLE_DATA (UEFI 2.10
 * §32.4.1 signature database, TCG PC Client PFP §10.2.6 variable events).
 * Owner: PCR7 module; used by efivars enroll and PCR7 prediction alike so the
 * bytes enrolled are the bytes predicted. */
#pragma once

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/guid.h"

extern const efi_guid EFI_GLOBAL_VARIABLE_GUID;  /* 8be4df61-93ca-11d2-aa0d-00e098032b8c */
extern const efi_guid EFI_IMAGE_SECURITY_DB_GUID; /* d719b2cb-3d3a-4596-a3bc-dad00e67656f */
extern const efi_guid EFI_CERT_X509_GUID;        /* a5c059a1-94e4-4aa7-87b5-ab155c2bf072 */
extern const efi_guid EFI_CERT_SHA256_GUID;      /* c1c41626-504c-4092-aca9-41f936934328 */

/* One signature list holding one X509 cert owned by `owner`; appended to *buf. */
int esl_append_cert(uint8_t **buf, size_t *len, const efi_guid *owner, X509 *cert);
/* One signature list holding one SHA-256 hash (an image, for dbx) owned by `owner`. */
void esl_append_sha256(uint8_t **buf, size_t *len, const efi_guid *owner, const uint8_t hash[32]);

/* Walks a signature-list blob, checking every bound; calls fn for each entry
 * (type, owner, data). Returns -EBADMSG on any inconsistency. */
typedef int (*esl_entry_fn)(const efi_guid *type, const efi_guid *owner, const uint8_t *data,
                            size_t len, void *userdata);
int esl_walk(const uint8_t *buf, size_t len, esl_entry_fn fn, void *userdata);
/* Whether the lists in buf hold an entry of this type with these data, owned
 * by owner (NULL: by anyone). Lists past a malformed one hold nothing. */
bool esl_holds(const uint8_t *buf, size_t len, const efi_guid *type, const efi_guid *owner,
               const uint8_t *data, size_t data_len);

/* UEFI_VARIABLE_DATA serialisation measured into PCR7 (pcr7.md). */
int efi_variable_data(const efi_guid *vendor, const char *name, const uint8_t *data, size_t len,
                      uint8_t **ret, size_t *ret_len);
