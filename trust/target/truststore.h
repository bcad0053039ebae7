/* truststore.h: the interface the on-target workflows (workflow.h) run over.
 * A truststore keeps the machine's secrets in slots it releases only to a boot
 * whose measured state a signed policy of pcr7data names, and can be locked
 * for the rest of the boot. store-tpm2.c implements it with a TPM2 (NV
 * indices, PCR7, PolicyAuthorize); README "Adding a truststore" says what each
 * operation must guarantee. Every operation returns >= 0 or -errno with
 * errf() text; none prints. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/util.h"
#include "formats/nvlayout.h"
#include "formats/pcr7data.h"

/* The guarded secrets. A slot belongs to one pcr7data class: the admin
 * password to "tpm" (maintenance) boots, the rest to "production" ones. */
enum truststore_slot {
        SLOT_ADMIN_PASSWORD,
        SLOT_CERT,
        SLOT_KEY,
        SLOT_SBF_PASSPHRASE,
        SLOT_OS_PASSPHRASE,
        _SLOT_MAX,
};

/* The signed policy of one measured state: the pcr7data entry that
 * pcr7data_lookup_version() found (and checked offline) for `measured`, and
 * the EA policy version its luks policy is signed for. */
struct truststore_grant {
        const struct pcr7data_match *entry;
        uint8_t measured[32];
        const char *version;
};

/* What provision stores: the production entry of this boot names the policy
 * keys (entry->luks_pubkey, entry->tpmpass_pubkey) the slots are bound to. */
struct truststore_contents {
        const struct pcr7data_match *entry;
        const char *version; /* the EA policy version to start at */
        const uint8_t *cert;
        size_t cert_len;
        const struct secret *key, *admin, *sbf, *os;
        /* The name the key takes when the TPM holds it (policy_held_key_name;
         * `trust tpm load-key`), NULL for a key the TPM cannot hold: the
         * store lets exactly that key be made persistent. */
        const uint8_t *held_key_name;
};

/* A read attempt the way anything in this boot could make it. */
struct truststore_probe {
        uint32_t id; /* the slot's name in the store (an NV index) */
        bool defined;
        bool readable;
        char why[512]; /* the store's refusals, "; "-separated */
};

/* What the store holds, read without any secret. */
struct truststore_entry {
        uint32_t id;
        const char *role;
        bool defined;
        uint16_t size;
        char *attributes; /* the store's words for them, e.g. "ownerwrite|policyread" */
        bool policy;      /* guarded by a policy */
        bool owner_reads; /* a secret the owner can read too (TPM2: NV layout 3) */
};
#define TRUSTSTORE_ENTRIES_MAX 16
struct truststore_report {
        char *layout_version; /* NULL: none */
        char *policy_version; /* NULL: none */
        struct truststore_entry entries[TRUSTSTORE_ENTRIES_MAX];
        size_t n_entries;
};
static inline void truststore_report_done(struct truststore_report *r)
{
        free(r->layout_version);
        free(r->policy_version);
        for (size_t i = 0; i < r->n_entries; i++)
                free(r->entries[i].attributes);
        *r = (struct truststore_report){};
}

struct truststore_ops;

/* One open store; an implementation embeds it first in its own state. */
struct truststore {
        const struct truststore_ops *ops;
};

struct truststore_ops {
        const char *name;
        /* Connects to the store at `where` (for the TPM2 a TCTI; NULL: the
         * store's default); reads nothing. */
        int (*open)(const char *where, struct truststore **ret);
        /* Releases the connection (never fails, accepts NULL); the store
         * forgets any authorization. */
        void (*close)(struct truststore *s);
        /* The boot's measured state (PCR7): a SHA-256 chain only extend moves. */
        int (*measured)(struct truststore *s, uint8_t out[32]);
        /* Extends the measured state: afterwards it must read as
         * SHA-256(before || digest). The workflow checks that (workflow_lock). */
        int (*extend)(struct truststore *s, const uint8_t digest[32]);
        /* The EA policy version the store holds now. */
        int (*policy_version)(struct truststore *s, char out[POLICY_VERSION_LEN + 1]);
        /* Starts the signed-policy authorization of g for the reads and writes
         * below; the store itself must refuse it unless the measured state is
         * g->measured and g's signature is by the key the slots are bound to. */
        int (*authorize)(struct truststore *s, const struct truststore_grant *g);
        /* Reads or writes a whole guarded slot under that authorization;
         * `last` marks its last use (the store may end it). */
        int (*read)(struct truststore *s, enum truststore_slot slot, bool last,
                    struct secret *ret);
        int (*write)(struct truststore *s, enum truststore_slot slot, const struct secret *data,
                     bool last);
        /* Proves `password` is the one that owns the store (-EPERM if not). */
        int (*check_admin)(struct truststore *s, const struct secret *password);
        /* Takes the store: a fresh owner password (c->admin) and every slot
         * written and bound to the entry's policy keys. */
        int (*provision)(struct truststore *s, const struct truststore_contents *c);
        /* Tries to read `slot` with g (NULL: no policy) whatever the store
         * answers to each step; only the store's answer counts. Returns 0
         * when asked, 1 when g cannot be put to this store (nothing asked),
         * < 0 only when the store could not be asked. */
        int (*probe)(struct truststore *s, const struct truststore_grant *g,
                     enum truststore_slot slot, struct truststore_probe *ret);
        /* The same attempt made with the owner's password instead of a
         * policy (an owner who is not the production OS must be refused).
         * 1: the slot is the owner's to read by design (nothing asked). A
         * store without an owner sets it NULL. */
        int (*probe_owner)(struct truststore *s, enum truststore_slot slot,
                           const struct secret *password, struct truststore_probe *ret);
        int (*report)(struct truststore *s, struct truststore_report *ret);
};

/* store-tpm2.c: the TPM2 behind the TCTI given to open, by default
 * $TRUST_TPM2_TCTI's. */
extern const struct truststore_ops truststore_tpm2;
