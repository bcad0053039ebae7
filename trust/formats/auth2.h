/* auth2.h: signed updates of the Secure Boot variables: the
 * EFI_VARIABLE_AUTHENTICATION_2 payload (UEFI 2.10 §8.2.2, spec
 * lifecycle.md) that `efivars sign-update` writes, and the rules by which
 * firmware applies one to PK, KEK, db or dbx (those of edk2's
 * AuthVariableLib, which OVMF runs): who may sign, timestamp order, append
 * semantics. `efivars apply` and `computepcr7 --update` use the same rules,
 * so what they predict is what the firmware keeps. */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/guid.h"

#define EFI_VARIABLE_NON_VOLATILE 0x01u
#define EFI_VARIABLE_BOOTSERVICE_ACCESS 0x02u
#define EFI_VARIABLE_RUNTIME_ACCESS 0x04u
#define EFI_VARIABLE_TIME_BASED_AUTHENTICATED_WRITE_ACCESS 0x20u
#define EFI_VARIABLE_APPEND_WRITE 0x40u
/* PK, KEK, db and dbx as firmware stores them (NV|BS|RT|AT = 0x27). */
#define EFI_SECURE_BOOT_VAR_ATTRS                                                                  \
        (EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS |                             \
         EFI_VARIABLE_RUNTIME_ACCESS | EFI_VARIABLE_TIME_BASED_AUTHENTICATED_WRITE_ACCESS)
#define EFI_TIME_SIZE 16
#define AUTH2_MAX ((size_t)4 << 20) /* larger than any variable store */

enum sbvar { SBVAR_PK, SBVAR_KEK, SBVAR_DB, SBVAR_DBX, _SBVAR_MAX };
const char *sbvar_name(enum sbvar v); /* "PK", "KEK", "db", "dbx" */
const efi_guid *sbvar_vendor(enum sbvar v);
int sbvar_from_string(const char *s, enum sbvar *ret); /* -EINVAL unless one of the names */

/* A parsed payload; the pointers are into the caller's buffer. */
struct auth2 {
        uint8_t timestamp[EFI_TIME_SIZE]; /* EFI_TIME as written */
        const uint8_t *p7;                /* PKCS#7 SignedData DER, bare or in a ContentInfo */
        size_t p7_len;
        const uint8_t *data; /* the new value: EFI_SIGNATURE_LISTs (may be empty) */
        size_t data_len;
};

/* Checks every bound and the fields firmware checks (WIN_CERTIFICATE type,
 * revision and GUID; EFI_TIME's must-be-zero fields). -EBADMSG names the
 * offset and the cause. */
int auth2_parse(const uint8_t *buf, size_t len, struct auth2 *ret);

/* EFI_TIME of a UTC time (Nanosecond, TimeZone, Daylight zero). */
int efi_time_from_unix(int64_t t, uint8_t out[EFI_TIME_SIZE]);
/* "YYYY-MM-DDTHH:MM:SSZ" (all zero: "0000-00-00T00:00:00Z"). */
void efi_time_format(const uint8_t t[EFI_TIME_SIZE], char out[static 21]);

/* A payload for var signed by key/cert (SHA-256, detached, no signed
 * attributes, the bare SignedData as efitools writes it). */
int auth2_sign(enum sbvar var, bool append, const uint8_t ts[EFI_TIME_SIZE], const uint8_t *data,
               size_t len, EVP_PKEY *key, X509 *cert, uint8_t **ret, size_t *ret_len);

/* Which variable the payload is for: the payload does not name it, so each
 * of PK, KEK, db and dbx, plain and append, is tried against the signature
 * with the signer's own certificate (no trust decision yet). signer gets
 * the signer's subject for messages. -EBADMSG when none matches. */
struct auth2_target {
        enum sbvar var;
        bool append;
};
int auth2_identify(const struct auth2 *a, struct auth2_target *ret, char *signer,
                   size_t signer_size);

/* A variable's value as firmware keeps it. */
struct sbvar_value {
        bool exists;
        bool time_known; /* false through efivarfs, which does not show it */
        uint8_t timestamp[EFI_TIME_SIZE];
        uint8_t *data; /* owned */
        size_t len;
};
void sbvar_value_done(struct sbvar_value *v);
void sbvar_values_done(struct sbvar_value vars[_SBVAR_MAX]);

/* Applies a payload the way firmware does, to vars (the current PK, KEK, db
 * and dbx): refused (-EPERM, vars unchanged) when no PK is enrolled, when
 * the signature does not chain to a certificate of PK (for db and dbx: of
 * PK or KEK), when a replacing write is not newer than the stored
 * timestamp, or when the data are not signature lists fit for the
 * variable. Appending to KEK, db or dbx drops entries already there. */
int auth2_apply(const struct auth2 *a, const struct auth2_target *t,
                struct sbvar_value vars[_SBVAR_MAX]);
