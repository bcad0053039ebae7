/* workflow.c: the fail-closed core of the on-target workflows (see
 * workflow.h): opening a truststore, this boot's signed policy, and the lock
 * that every way out of a locking workflow goes through. */
#include "target/workflow.h"

#include <stdio.h>


#define LOCK_FAILED                                                                                \
        "PCR7 could not be locked, the secrets may stay readable in this boot: power off"

int workflow_open(struct workflow *w, const struct truststore_ops *ops, const char *where,
                  bool fail_closed)
{
        int r;

        *w = (struct workflow){ .ops = ops ? ops : &truststore_tpm2, .fail_closed = fail_closed };
        r = w->ops->open(where, &w->store);
        if (r < 0) {
                w->store = NULL;
                return r;
        }
        r = w->ops->measured(w->store, w->measured);
        if (r < 0)
                return r;
        w->measured_known = true;
        return 0;
}

int workflow_find(struct workflow *w, const char *root, const uint8_t measured[32],
                  struct pcr7data_match *m, char version[static POLICY_VERSION_LEN + 1])
{
        _cleanup_free_ char *hex = NULL;
        char held[POLICY_VERSION_LEN + 1];
        int r;

        snprintf(version, POLICY_VERSION_LEN + 1, "%s", POLICY_VERSION);
        r = pcr7data_lookup_version(root, measured, version, m);
        if (r != -EKEYREJECTED)
                return r;
        /* Not signed for the version every deployment starts at: perhaps
         * re-signed after a revocation, for the version the store holds. */
        hex = hex_encode(measured, 32);
        r = w->ops->policy_version(w->store, held);
        if (r < 0)
                return r;
        if (!strcmp(held, POLICY_VERSION))
                return errf_prefix(-EKEYREJECTED,
                                   "pcr7data for PCR7 %s is not signed for the TPM's policy "
                                   "version %s",
                                   hex, held);
        r = pcr7data_lookup_version(root, measured, held, m);
        if (r == -EKEYREJECTED)
                return errf_prefix(r, "pcr7data for PCR7 %s is signed neither for policy version "
                                      "%s nor for the TPM's %s",
                                   hex, POLICY_VERSION, held);
        if (r < 0)
                return r;
        memcpy(version, held, sizeof(held));
        return 0;
}

int workflow_authorize(struct workflow *w, const char *root, const char *class, const char *gets)
{
        struct truststore_grant g = { .entry = &w->entry, .version = w->version };
        _cleanup_free_ char *hex = NULL;
        int r;

        pcr7data_match_free(&w->entry);
        r = workflow_find(w, root, w->measured, &w->entry, w->version);
        if (r < 0)
                return r;
        if (strcmp(w->entry.key_type, class)) {
                hex = hex_encode(w->measured, 32);
                return errf(-EACCES, "PCR7 %s is the '%s' value of keyset '%s': only a %s-signed "
                                     "OS %s",
                            hex, w->entry.key_type, w->entry.key, class, gets);
        }
        memcpy(g.measured, w->measured, 32);
        return w->ops->authorize(w->store, &g);
}

static int lock_fail(struct workflow *w, int r, const char *why)
{
        w->lock_failed = true;
        snprintf(w->lock_why, sizeof(w->lock_why), "%s", why);
        return errf_prefix(r, LOCK_FAILED);
}

int workflow_lock(struct workflow *w)
{
        _cleanup_free_ char *got = NULL, *want_hex = NULL, *why = NULL;
        uint8_t want[32], now[32];
        int r;

        if (!w->measured_known) {
                r = w->ops->measured(w->store, w->measured);
                if (r < 0)
                        return lock_fail(w, r, "PCR7 could not be read");
                w->measured_known = true;
        }
        r = pcr7_after_lock(w->measured, want);
        if (r < 0)
                return lock_fail(w, r, "SHA-256 failed");
        r = w->ops->extend(w->store, pcr7_lock_digest);
        if (r < 0)
                return lock_fail(w, r, "its extend failed");
        r = w->ops->measured(w->store, now);
        if (r < 0)
                return lock_fail(w, r, "PCR7 could not be read back");
        if (memcmp(now, want, 32)) {
                got = hex_encode(now, 32);
                want_hex = hex_encode(want, 32);
                why = xasprintf("PCR7 reads %.16s... after the extend, not %.16s...", got,
                                want_hex);
                r = errf(-EIO, "PCR7 reads %s after the extend, not %s", got, want_hex);
                return lock_fail(w, r, why);
        }
        w->locked = true;
        return 0;
}

int workflow_end(struct workflow *w, int r, bool *lock_failed)
{
        int q;

        if (w->store && w->fail_closed && !w->locked && !w->lock_failed) {
                if (r >= 0)
                        r = workflow_lock(w);
                else {
                        /* The failure being handled keeps its words; the
                         * lock's are said in front of them. */
                        err_freeze();
                        q = workflow_lock(w);
                        err_thaw();
                        if (q < 0)
                                r = errf_prefix(r, "PCR7 could not be locked (%s), the secrets may "
                                                   "stay readable in this boot: power off",
                                                w->lock_why);
                }
        }
        if (w->store)
                w->ops->close(w->store);
        w->store = NULL;
        pcr7data_match_free(&w->entry);
        if (lock_failed)
                *lock_failed = w->lock_failed;
        return r;
}
