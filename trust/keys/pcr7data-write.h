/* pcr7data-write.h: signing and adding entries to a keyset's pcr7data. */
#pragma once

#include <stdint.h>

/* The three PCR7 values of one keyset on one kind of machine. A class in
 * `absent` (PCR7DATA_NO_*) has no value (the firmware refuses it, as after a
 * dbx update that revoked its certificate): it gets no entry. */
#define PCR7DATA_NO_PRODUCTION 1u
#define PCR7DATA_NO_TPM 2u
#define PCR7DATA_NO_LIMITED 4u
struct pcr7data_set {
        uint8_t production[32], tpm[32], limited[32];
        unsigned absent;
};
/* Adds the three entries of `set` (and the pubkeys when missing) to
 * <keyset_dir>/pcr7data/policy-2 as key `key`, signing the luks policy
 * (with `version`) with tpmpol-luks and the passwd policy with tpmpol-admin
 * of keyset_dir. The whole policy-2 tree is rebuilt in a temporary sibling and
 * swapped in with one rename: nothing is half-written. Entries that already
 * exist with the same key and type are kept, or re-signed when their signed
 * policy differs (another `version`: a revocation); the count added or
 * re-signed is returned. A conflicting entry or pubkey fails with -EEXIST. comment/est_date may be
 * NULL (est_date then is today, UTC). */
int pcr7data_add(const char *keyset_dir, const char *key, const struct pcr7data_set *set,
                 const char *version, const char *comment, const char *est_date);
