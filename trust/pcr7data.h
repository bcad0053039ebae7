/* pcr7data.h: the signed policy tree shipped in initrds (spec keysets.md,
 * "pcr7data"), read by setup/provision and written by keyset commands. */
#pragma once

#include <stdint.h>

struct pcr7data_match {
        char *dir;      /* .../policy-N/<h0h1>/<rest> */
        char *key;      /* info.json "key": the keyset class, e.g. "snakeoil" */
        char *key_type; /* "production", "tpm" ("password" in older data), "limited" */
        char *pubkey;   /* pubkeys/luks-<key>.pem or pubkeys/tpmpass-<key>.pem for the type */
        char *signed_policy; /* tpm_luks.policy.signed / tpm_passwd.policy.signed, or NULL */
        int policy_n;   /* N of the policy-N used */
};
/* Finds the highest policy-N under root and the entry for pcr7; -ENOENT with
 * "PCR7 <hex> does not match any signed policy" when absent. */
int pcr7data_lookup(const char *root, const uint8_t pcr7[32], struct pcr7data_match *ret);
void pcr7data_match_free(struct pcr7data_match *m);
