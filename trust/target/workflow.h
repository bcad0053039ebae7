/* workflow.h: what the on-target workflows share, written once above the
 * truststore interface (truststore.h), so that every store gets the same
 * fail-closed rules: once a locking workflow has opened the store, every way
 * out extends the measured state (PCR7) and reads it back, or says that lock
 * failed so the caller powers off; nothing leaves the process before it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "formats/pcr7.h" /* pcr7_lock_digest */
#include "formats/pcr7data.h"
#include "target/truststore.h"

struct workflow {
        const struct truststore_ops *ops;
        struct truststore *store; /* NULL until opened */
        bool fail_closed;         /* lock on every way out once opened */
        bool measured_known;
        uint8_t measured[32]; /* the boot's measured state, read at open */
        bool locked;          /* extended, and read back as expected */
        bool lock_failed;     /* a lock was tried and did not succeed */
        char lock_why[200];   /* how it failed, for a failure it follows */
        struct pcr7data_match entry; /* workflow_authorize: this boot's entry */
        char version[POLICY_VERSION_LEN + 1];
};

/* Opens the store (ops NULL: TPM2) at `where` (NULL: its default; see
 * truststore_ops.open) and reads the measured state. With
 * fail_closed, from the moment the store is open workflow_end locks it
 * whatever happened; a failed read of the measured state is such a failure. */
int workflow_open(struct workflow *w, const struct truststore_ops *ops, const char *where,
                  bool fail_closed);

/* The entry of `measured` in pcr7data `root` and the EA policy version its
 * luks policy is signed for: POLICY_VERSION without asking the store, else
 * the version the store holds now (re-signed pcr7data after a revocation). */
int workflow_find(struct workflow *w, const char *root, const uint8_t measured[32],
                  struct pcr7data_match *m, char version[static POLICY_VERSION_LEN + 1]);

/* Finds this boot's entry, which must be of pcr7data class `class`
 * ("production", "tpm"; `gets` says what that class is for), and starts its
 * signed-policy authorization in the store. */
int workflow_authorize(struct workflow *w, const char *root, const char *class,
                       const char *gets);

/* The lock: extends the measured state with pcr7_lock_digest and reads it
 * back; anything but SHA-256(before || digest) is a failed lock. */
int workflow_lock(struct workflow *w);

/* Ends w after the workflow returned r: with fail_closed locks a store that
 * was opened and is not locked yet, then closes it. Returns r, or the lock's
 * failure; *lock_failed (may be NULL) says the lock did not succeed. */
int workflow_end(struct workflow *w, int r, bool *lock_failed);
