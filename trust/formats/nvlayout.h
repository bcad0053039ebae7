/* nvlayout.h: trust's NV layout in the TPM (spec tpm.md, "NV indices"): the
 * index numbers, the layout version provision writes and the EA policy
 * version, spelled once for the policy math, pcr7data and the TPM2 store. */
#pragma once

#include <stdbool.h>
#include <string.h>

/* NV indices (layouts 3 and 4 use the same ones) */
#define NV_ADMIN_PASSWORD 0x01500001u
#define NV_LAYOUT_VERSION 0x01500002u
#define NV_POLICY_VERSION 0x01500020u
#define NV_CERT 0x01500021u
#define NV_KEY 0x01500022u
#define NV_SBF_PASSPHRASE 0x01500030u
#define NV_OS_PASSPHRASE 0x01500040u

/* The layout provision writes (spec tpm.md "Layout 4"); readers take 3 as well. */
#define NV_LAYOUT 4
#define LAYOUT_VERSION "00000004"

/* The EA policy version in NV_POLICY_VERSION: four ASCII digits, the luks
 * policy's PolicyNV operand. Every deployment starts at POLICY_VERSION; the
 * owner bumps it to revoke pcr7data signed for an older one. */
#define POLICY_VERSION_LEN 4
#define POLICY_VERSION "0001"

/* Its attributes once written: OWNERWRITE (bit 1) | OWNERREAD (17) |
 * AUTHREAD (18) | WRITTEN (29). The TPM names an index by its current public
 * area, so PolicyNV against a written index needs the WRITTEN bit in the
 * name; leaving it out gives a digest no TPM will ever reproduce. */
#define NV_POLICY_VERSION_ATTRS 0x20060002u

/* A policy version as the NV index holds it: exactly four decimal digits. */
static inline bool policy_version_valid(const char *v)
{
        return v && strlen(v) == POLICY_VERSION_LEN &&
               strspn(v, "0123456789") == POLICY_VERSION_LEN;
}
