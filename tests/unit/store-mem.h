/* store-mem.h: a second truststore (truststore.h), in memory, for the unit
 * tests of the workflows: a "TPM" whose slots open only to a grant for the
 * current measured state, that any operation can be made to fail (the Nth
 * call fails), and whose measured state can be made to read back wrong after
 * an extend. Compiled into the unit tests only. */
#pragma once

#include <stdio.h>

#include "base/crypto.h"
#include "target/truststore.h"

struct mem_tpm {
        /* the device: survives open and close, as a TPM does */
        uint8_t pcr7[32];
        bool provisioned;
        char policy_version[POLICY_VERSION_LEN + 1];
        struct secret slots[_SLOT_MAX];
        /* the test's hooks and counters */
        unsigned calls;        /* operations run (open included) */
        unsigned fail_at;      /* fail the fail_at-th operation (0: none) */
        const char *failed;    /* the operation that was made to fail */
        bool failed_after_extend; /* ... after an extend of this run succeeded */
        bool bad_readback;     /* measured reads wrong after an extend */
        unsigned extends;      /* extends that took effect */
        unsigned open;         /* stores open now */
};
static struct mem_tpm mem;

struct store_mem {
        struct truststore base;
        const char *class; /* authorized pcr7data class, NULL: none */
        uint8_t grant_measured[32];
};

static const char *const mem_slot_class[_SLOT_MAX] = {
        [SLOT_ADMIN_PASSWORD] = "tpm",          [SLOT_CERT] = "production",
        [SLOT_KEY] = "production",              [SLOT_SBF_PASSPHRASE] = "production",
        [SLOT_OS_PASSPHRASE] = "production",
};
static const char *const mem_slot_role[_SLOT_MAX] = {
        [SLOT_ADMIN_PASSWORD] = "admin-password", [SLOT_CERT] = "certificate",
        [SLOT_KEY] = "private-key",               [SLOT_SBF_PASSPHRASE] = "sbf-passphrase",
        [SLOT_OS_PASSPHRASE] = "os-passphrase",
};

/* Counts an operation and fails it when it is the one asked for. */
static int mem_step(const char *op)
{
        if (++mem.calls != mem.fail_at)
                return 0;
        mem.failed = op;
        mem.failed_after_extend = mem.extends > 0;
        return errf(-EIO, "mem store: %s failed (injected at operation %u)", op, mem.calls);
}

static void mem_set_secret(struct secret *s, const void *data, size_t len)
{
        secret_free(s);
        if (secret_alloc(s, len) < 0)
                abort();
        if (len)
                memcpy(s->data, data, len);
}

static void mem_reset(const uint8_t pcr7[32])
{
        for (size_t i = 0; i < _SLOT_MAX; i++)
                secret_free(&mem.slots[i]);
        mem = (struct mem_tpm){};
        memcpy(mem.pcr7, pcr7, 32);
}

static int mem_open(const char *where, struct truststore **ret);

static void mem_close(struct truststore *s)
{
        if (!s)
                return;
        mem.open--;
        free(s);
}

static int mem_measured(struct truststore *s, uint8_t out[32])
{
        int r = mem_step("measured");

        (void)s;
        if (r < 0)
                return r;
        memcpy(out, mem.pcr7, 32);
        if (mem.bad_readback && mem.extends > 0)
                out[0] ^= 0x01;
        return 0;
}

static int mem_extend(struct truststore *s, const uint8_t digest[32])
{
        uint8_t chain[64];
        int r = mem_step("extend");

        (void)s;
        if (r < 0)
                return r;
        memcpy(chain, mem.pcr7, 32);
        memcpy(chain + 32, digest, 32);
        r = sha256(chain, sizeof(chain), mem.pcr7);
        if (r >= 0)
                mem.extends++;
        return r;
}

static int mem_policy_version(struct truststore *s, char out[POLICY_VERSION_LEN + 1])
{
        int r = mem_step("policy_version");

        (void)s;
        if (r < 0)
                return r;
        if (!mem.provisioned)
                return errf(-ENOENT, "mem store: not provisioned");
        memcpy(out, mem.policy_version, POLICY_VERSION_LEN + 1);
        return 0;
}

/* What the device itself enforces: a grant for the current measured state,
 * of a class with a signed policy, and for the version the store holds. */
static const char *mem_refusal(const struct truststore_grant *g)
{
        if (!mem.provisioned)
                return "not provisioned";
        if (!g)
                return "no signed policy";
        if (!g->entry->signed_policy)
                return "no signed policy in the entry";
        if (memcmp(g->measured, mem.pcr7, 32))
                return "the measured state is not the grant's";
        if (!strcmp(g->entry->key_type, "production") && strcmp(g->version, mem.policy_version))
                return "policy version revoked";
        return NULL;
}

static int mem_authorize(struct truststore *s, const struct truststore_grant *g)
{
        struct store_mem *m = (struct store_mem *)s;
        const char *why;
        int r = mem_step("authorize");

        if (r < 0)
                return r;
        why = mem_refusal(g);
        if (why)
                return errf(-EACCES, "mem store: %s", why);
        m->class = !strcmp(g->entry->key_type, "production") ? "production" : "tpm";
        memcpy(m->grant_measured, g->measured, 32);
        return 0;
}

static int mem_use(struct store_mem *m, enum truststore_slot slot)
{
        if (!m->class || strcmp(m->class, mem_slot_class[slot]))
                return errf(-EACCES, "mem store: %s: not authorized", mem_slot_role[slot]);
        if (memcmp(m->grant_measured, mem.pcr7, 32))
                return errf(-EACCES, "mem store: %s: the measured state moved on",
                            mem_slot_role[slot]);
        return 0;
}

static int mem_read(struct truststore *s, enum truststore_slot slot, bool last,
                    struct secret *ret)
{
        int r = mem_step("read");

        (void)last;
        if (r >= 0)
                r = mem_use((struct store_mem *)s, slot);
        if (r < 0)
                return r;
        *ret = (struct secret){};
        mem_set_secret(ret, mem.slots[slot].data, mem.slots[slot].len);
        return 0;
}

static int mem_write(struct truststore *s, enum truststore_slot slot, const struct secret *data,
                     bool last)
{
        int r = mem_step("write");

        (void)last;
        if (r >= 0)
                r = mem_use((struct store_mem *)s, slot);
        if (r < 0)
                return r;
        mem_set_secret(&mem.slots[slot], data->data, data->len);
        return 0;
}

static int mem_check_admin(struct truststore *s, const struct secret *pw)
{
        const struct secret *a = &mem.slots[SLOT_ADMIN_PASSWORD];
        int r = mem_step("check_admin");

        (void)s;
        if (r < 0)
                return r;
        if (pw->len != a->len || memcmp(pw->data, a->data, a->len))
                return errf(-EPERM, "mem store: not the owner's password");
        return 0;
}

static int mem_provision(struct truststore *s, const struct truststore_contents *c)
{
        int r = mem_step("provision");

        (void)s;
        if (r < 0)
                return r;
        if (!path_exists(c->entry->luks_pubkey) || !path_exists(c->entry->tpmpass_pubkey))
                return errf(-ENOENT, "mem store: the entry's policy keys are missing");
        mem_set_secret(&mem.slots[SLOT_ADMIN_PASSWORD], c->admin->data, c->admin->len);
        mem_set_secret(&mem.slots[SLOT_CERT], c->cert, c->cert_len);
        mem_set_secret(&mem.slots[SLOT_KEY], c->key->data, c->key->len);
        mem_set_secret(&mem.slots[SLOT_SBF_PASSPHRASE], c->sbf->data, c->sbf->len);
        mem_set_secret(&mem.slots[SLOT_OS_PASSPHRASE], c->os->data, c->os->len);
        snprintf(mem.policy_version, sizeof(mem.policy_version), "%s", c->version);
        mem.provisioned = true;
        return 0;
}

static int mem_probe(struct truststore *s, const struct truststore_grant *g,
                     enum truststore_slot slot, struct truststore_probe *ret)
{
        const char *why;
        int r = mem_step("probe");

        (void)s;
        if (r < 0)
                return r;
        why = mem_refusal(g);
        if (!why && strcmp(g->entry->key_type, mem_slot_class[slot]))
                why = "another class";
        *ret = (struct truststore_probe){ .id = 0x01500000u + slot,
                                          .defined = mem.provisioned,
                                          .readable = !why };
        snprintf(ret->why, sizeof(ret->why), "%s", why ? why : "released");
        return 0;
}

static int mem_report(struct truststore *s, struct truststore_report *ret)
{
        int r = mem_step("report");

        (void)s;
        if (r < 0)
                return r;
        *ret = (struct truststore_report){};
        if (mem.provisioned)
                ret->policy_version = xstrdup(mem.policy_version);
        for (size_t i = 0; i < _SLOT_MAX; i++)
                ret->entries[ret->n_entries++] = (struct truststore_entry){
                        .id = 0x01500000u + (uint32_t)i,
                        .role = mem_slot_role[i],
                        .defined = mem.provisioned,
                        .size = (uint16_t)mem.slots[i].len,
                        .attributes = xstrdup("mem"),
                        .policy = true,
                };
        return 0;
}

static const struct truststore_ops truststore_mem = {
        .name = "mem",
        .open = mem_open,
        .close = mem_close,
        .measured = mem_measured,
        .extend = mem_extend,
        .policy_version = mem_policy_version,
        .authorize = mem_authorize,
        .read = mem_read,
        .write = mem_write,
        .check_admin = mem_check_admin,
        .provision = mem_provision,
        .probe = mem_probe,
        .report = mem_report,
};

static int mem_open(const char *where, struct truststore **ret)
{
        (void)where;
        struct store_mem *m;
        int r = mem_step("open");

        if (r < 0)
                return r;
        m = xmalloc0(sizeof(*m));
        m->base.ops = &truststore_mem;
        mem.open++;
        *ret = &m->base;
        return 0;
}
