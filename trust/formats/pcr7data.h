/* pcr7data.h: the signed policy tree shipped in initrds (spec keysets.md,
 * "pcr7data"), read by setup/provision (keys/pcr7data-write.h writes it). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct pcr7data_match {
        char *dir;      /* .../policy-N/<h0h1>/<rest> */
        char *key;      /* info.json "key": the keyset class, e.g. "snakeoil" */
        char *key_type; /* "production", "tpm" ("password" in older data), "limited" */
        char *pubkey;   /* pubkeys/luks-<key>.pem or pubkeys/tpmpass-<key>.pem for the type */
        char *signed_policy; /* tpm_luks.policy.signed / tpm_passwd.policy.signed, or NULL */
        int policy_n;   /* N of the policy-N used */
        /* Both policy public keys of `key` (paths, whatever the entry's type;
         * provision needs both): .../policy-N/pubkeys/{luks,tpmpass}-<key>.pem */
        char *luks_pubkey, *tpmpass_pubkey;
};
/* Finds the highest policy-N under root and the entry for pcr7; -ENOENT with
 * "PCR7 <hex> does not match any signed policy" when absent. */
int pcr7data_lookup(const char *root, const uint8_t pcr7[32], struct pcr7data_match *ret);
void pcr7data_match_free(struct pcr7data_match *m);

/* The PCR7 values that have an entry under the highest policy-N of root (read
 * from the entry names; directories that are not entry names are ignored), at
 * most PCR7DATA_ENTRIES_MAX. */
#define PCR7DATA_ENTRIES_MAX 4096
int pcr7data_values(const char *root, uint8_t (**ret)[32], size_t *ret_n);

/* The policy tree generation we read and write (the older tool's layout). */
#define PCR7DATA_POLICY_DIR "policy-2"
#define PCR7DATA_INFO_MAX 4096
#define PCR7DATA_SIGNED_MAX 4096

/* <dir>/info.json, parsed (pcr7data_info_parse); errors name the file. */
struct pcr7data_info;
int pcr7data_read_info(const char *dir, struct pcr7data_info *info);
/* The class of an info.json key_type: "production", "tpm" (written
 * "password" by the older tool) or "limited"; -EBADMSG otherwise. */
int pcr7data_class_normalise(const char *key_type, const char **ret);

/* Lookup with an explicit EA policy version (4 ASCII digits) for checking a
 * production entry's luks policy; pcr7data_lookup uses "0001". A signature
 * that does not verify (another key, or signed for another version) gives
 * -EKEYREJECTED, a malformed entry -EBADMSG. key_type is
 * normalised to the class names: "password" in the file reads as "tpm". For a
 * limited entry pubkey and signed_policy are NULL (nothing is signed there);
 * its pcr_limited.bin must equal pcr7. */
int pcr7data_lookup_version(const char *root, const uint8_t pcr7[32], const char *version,
                            struct pcr7data_match *ret);

/* info.json: a flat JSON object of strings. The parser is strict (one object,
 * string values only, no duplicate members, valid escapes and UTF-8, at most
 * PCR7DATA_INFO_MAX bytes) and returns -EBADMSG on anything else; "key" and
 * "key_type" are required, unknown members are ignored. */
struct pcr7data_info {
        char *key, *key_type, *est_date, *comment; /* est_date/comment NULL when absent */
};
int pcr7data_info_parse(const uint8_t *buf, size_t len, struct pcr7data_info *ret);
void pcr7data_info_free(struct pcr7data_info *i);
/* The JSON text (with a final newline) in the deployed member order. */
char *pcr7data_info_format(const struct pcr7data_info *i);

/* "<h0h1>/<h2...h63>" where h is the hex of pcr7 with every pair of bytes
 * swapped (the deployed quirk, see pcr7data.c). */
void pcr7data_entry_name(const uint8_t pcr7[32], char out[static 66]);
