/* report.c: tpm status and tpm check-locked: what the store holds and what
 * this boot can read from it, returned as data (cmd-tpm.c prints them). Both
 * only look: they never lock and never release. */
#include "target/runtime.h"

#include <stdio.h>

#include "target/keyring.h"
#include "target/workflow.h"

int runtime_status(const struct runtime_opts *o, struct runtime_status *ret)
{
        struct workflow w;
        int r;

        *ret = (struct runtime_status){};
        r = workflow_open(&w, o->store, o->tcti, false);
        if (r >= 0) {
                memcpy(ret->pcr7, w.measured, 32);
                r = w.ops->report(w.store, &ret->store);
        }
        return workflow_end(&w, r, NULL);
}

void runtime_status_done(struct runtime_status *s)
{
        truststore_report_done(&s->store);
}

/* The slots a locked boot must not read, and the pcr7data class whose
 * signed policy guards each. */
static const struct {
        enum truststore_slot slot;
        const char *role;
        const char *class;
} guarded[RUNTIME_GUARDED] = {
        { SLOT_ADMIN_PASSWORD, "admin-password", "tpm" },
        { SLOT_CERT, "certificate", "production" },
        { SLOT_KEY, "private-key", "production" },
        { SLOT_SBF_PASSPHRASE, "sbf-passphrase", "production" },
        { SLOT_OS_PASSPHRASE, "os-passphrase", "production" },
};

/* One attempt at slot i with g; the first refusal is kept as the account, a
 * release wins over any refusal. 1: g cannot be put to this store. */
static int probe_one(struct workflow *w, const struct truststore_grant *g, size_t i,
                     struct runtime_check *res, bool *tried)
{
        struct truststore_probe pr;
        int r;

        r = w->ops->probe(w->store, g, guarded[i].slot, &pr);
        if (r != 0)
                return r;
        if (!tried[i] || (pr.readable && !res->slots[i].readable)) {
                res->slots[i] = (struct runtime_check_slot){ .id = pr.id,
                                                             .role = guarded[i].role,
                                                             .defined = pr.defined,
                                                             .readable = pr.readable };
                memcpy(res->slots[i].why, pr.why, sizeof(pr.why));
        }
        tried[i] = true;
        return 0;
}

/* Every guarded slot of value's class, with value's signed policy; an entry
 * that does not check out offline is no key anyone holds (skipped). */
static int probe_value(struct workflow *w, const char *root, const uint8_t value[32],
                       struct runtime_check *res, bool *tried)
{
        struct truststore_grant g = {};
        struct pcr7data_match m = {};
        char version[POLICY_VERSION_LEN + 1];
        int r = 0;

        if (workflow_find(w, root, value, &m, version) < 0 || !strcmp(m.key_type, "limited")) {
                pcr7data_match_free(&m);
                return 0;
        }
        g = (struct truststore_grant){ .entry = &m, .version = version };
        memcpy(g.measured, value, 32);
        for (size_t i = 0; i < RUNTIME_GUARDED && r == 0; i++)
                if (!strcmp(guarded[i].class, m.key_type))
                        r = probe_one(w, &g, i, res, tried);
        pcr7data_match_free(&m);
        return r < 0 ? r : 0;
}

/* check-locked's admin password: --admin-password-file (one trailing newline
 * dropped), else the keyring's machine:tpm-admin; none is no error. */
static int admin_password_get(const struct runtime_opts *o, struct secret *ret)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0, n;
        int r;

        if (!o->admin_password_file) {
                r = keyring_find(KEYRING_ADMIN_DESCRIPTION, ret);
                return r == -ENOKEY ? 0 : r;
        }
        r = read_file(o->admin_password_file, 256, &buf, &len);
        if (r < 0)
                return r;
        n = len > 0 && buf[len - 1] == '\n' ? len - 1 : len;
        r = n ? secret_alloc(ret, n) : errf(-EINVAL, "%s: empty", o->admin_password_file);
        if (r >= 0)
                memcpy(ret->data, buf, n);
        explicit_bzero(buf, len);
        return r;
}

/* With the admin password, the owner's read of each secret slot too: a
 * release is READABLE whatever the policies said. */
static int probe_owner(struct workflow *w, const struct secret *pw, struct runtime_check *res)
{
        struct truststore_probe pr;
        int r;

        if (!w->ops->probe_owner || !pw->len)
                return 0;
        for (size_t i = 0; i < RUNTIME_GUARDED; i++) {
                struct runtime_check_slot *c = &res->slots[i];
                size_t len = strlen(c->why);

                r = w->ops->probe_owner(w->store, guarded[i].slot, pw, &pr);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                c->defined = c->defined || pr.defined;
                c->readable = c->readable || pr.readable;
                snprintf(c->why + len, sizeof(c->why) - len, "%sowner password: %s",
                         len ? "; " : "", pr.why);
                explicit_bzero(&pr, sizeof(pr));
        }
        return 0;
}

int runtime_check_locked(const struct runtime_opts *o, struct runtime_check *ret)
{
        _cleanup_(secret_free) struct secret pw = {};
        _cleanup_free_ char *root = NULL;
        _cleanup_free_ uint8_t(*values)[32] = NULL;
        bool tried[RUNTIME_GUARDED] = {};
        size_t n_values = 0;
        struct workflow w;
        int r;

        *ret = (struct runtime_check){};
        r = pcr7data_root(o, &root);
        if (r < 0)
                return r;
        r = pcr7data_values(root, &values, &n_values);
        if (r < 0)
                return r;
        r = admin_password_get(o, &pw);
        if (r < 0)
                return r;
        r = workflow_open(&w, o->store, o->tcti, false);
        for (size_t v = 0; v < n_values && r >= 0; v++)
                r = probe_value(&w, root, values[v], ret, tried);
        /* A slot no signed policy names is still tried, with none. */
        for (size_t i = 0; i < RUNTIME_GUARDED && r >= 0; i++)
                if (!tried[i])
                        r = probe_one(&w, NULL, i, ret, tried);
        if (r >= 0)
                r = probe_owner(&w, &pw, ret);
        for (size_t i = 0; i < RUNTIME_GUARDED && r >= 0; i++)
                ret->n_readable += ret->slots[i].readable;
        return workflow_end(&w, r, NULL);
}
