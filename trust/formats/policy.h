/* policy.h: offline TPM2 policy math (spec tpm.md), key names for
 * PolicyAuthorize, and signing/verifying policy digests. No TPM needed. */
#pragma once

#include <openssl/evp.h>
#include <stdint.h>

#include "formats/nvlayout.h"

/* PolicyPCR(sha256:{7}, SHA256(pcr7)) then PolicyNV(0x01500020 == version),
 * version being four digits (policy_version_valid). */
int policy_luks_digest(const uint8_t pcr7[32], const char *version,
                       uint8_t out[32]);
/* PolicyPCR(sha256:{7}, SHA256(pcr7)). */
int policy_passwd_digest(const uint8_t pcr7[32], uint8_t out[32]);
/* Name (0x000b || SHA256(TPMT_PUBLIC)) of an RSA-2048 public key as loaded
 * with LoadExternal (exponent written as 65537). */
int policy_key_name(EVP_PKEY *pub, uint8_t name[34]);
/* authPolicy of an NV index: PolicyAuthorize(keyName, empty policyRef). */
int policy_authorize_digest(EVP_PKEY *pub, uint8_t out[32]);
/* The 256-byte big-endian RSA modulus (for a TPM2B_PUBLIC). */
int policy_rsa_modulus(EVP_PKEY *pub, uint8_t n[256]);
/* The RSA public exponent, when it fits the TPM's 32 bits. */
int policy_rsa_exponent(EVP_PKEY *pub, uint32_t *ret);

/* RSASSA-PKCS1-v1_5 / SHA-256 over the 32-byte digest. */
int policy_sign(EVP_PKEY *priv, const uint8_t digest[32], uint8_t **sig, size_t *sig_len);
int policy_verify(EVP_PKEY *pub, const uint8_t digest[32], const uint8_t *sig, size_t sig_len);

/* The TPM-held SUDI key (`trust tpm load-key`, spec tpm.md): an imported
 * RSA-2048 key with USERWITHAUTH | SIGN_ENCRYPT | DECRYPT | NODA, an empty
 * authPolicy (so no policy, hence no TPM2_Duplicate, ever applies to it) and
 * its exponent written as the number. Its name is fixed by the public key. */
int policy_held_key_name(EVP_PKEY *pub, uint8_t name[34]);
/* The owner hierarchy's authPolicy that provision sets, so that a production
 * boot, which never holds the owner password, can make exactly that key
 * persistent: PolicyOR of
 *   evict:  PolicyCommandCode(EvictControl) then PolicyNameHash(H(owner's
 *           name || the key's name)): persist (or evict) that object only;
 *   create: PolicyCommandCode(CreatePrimary): a storage primary of the owner
 *           hierarchy to import the key under (anyone may make one; it lives
 *           until the next reset and unlocks nothing).
 * policy_owner_branches gives the two branch digests PolicyOR lists. */
int policy_owner_branches(const uint8_t held_name[34], uint8_t evict[32], uint8_t create[32]);
int policy_owner_digest(const uint8_t held_name[34], uint8_t out[32]);
