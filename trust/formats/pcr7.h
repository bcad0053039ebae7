/* pcr7.h: what firmware measures into PCR7 for a keyset (spec pcr7.md), and
 * the signature lists it enrolls. */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum uki_class { UKI_PRODUCTION, UKI_TPM, UKI_LIMITED, _UKI_CLASS_MAX };
const char *uki_class_name(enum uki_class c); /* "production", "tpm", "limited" */
const char *uki_class_keydir(enum uki_class c); /* "uki-production", ... */
int uki_class_from_string(const char *s, enum uki_class *ret);

/* PK, KEK and db signature lists of a keyset exactly as enrolled. */
struct keyset_efi_vars {
        uint8_t *pk, *kek, *db, *dbx; /* dbx NULL when absent */
        size_t pk_len, kek_len, db_len, dbx_len;
        /* owner GUID || DER cert of each uki-* db entry (the PCR7 authority event data) */
        uint8_t *authority[_UKI_CLASS_MAX];
        size_t authority_len[_UKI_CLASS_MAX];
};
void keyset_efi_vars_free(struct keyset_efi_vars *v);

struct pcr7_event {
        const char *name; /* "SecureBoot", "PK", "KEK", "db", "dbx", "separator", "authority" */
        uint8_t digest[32];
};
#define PCR7_MAX_EVENTS 8

/* Events in measurement order for one class, and the resulting PCR7. */
int pcr7_events(const struct keyset_efi_vars *v, enum uki_class c, struct pcr7_event *events,
                size_t *n_events, uint8_t pcr7[32]);

/* The digest setup (and every locking workflow) extends PCR7 with once the
 * secrets are read: SHA-256("atomix\n"), the value deployed initrds already
 * use. A verifier computes the locked value offline (pcr7_after_lock). */
extern const uint8_t pcr7_lock_digest[32];
/* SHA-256(before || pcr7_lock_digest): PCR7 after the lock extend. */
int pcr7_after_lock(const uint8_t before[32], uint8_t after[32]);
