/* store-tpm2.c: the truststore (truststore.h) as a TPM2: slots are the NV
 * indices of spec tpm.md, the measured state is PCR7, a grant is a signed
 * PolicyAuthorize session. Besides tpm2*.c the only code that knows a TPM;
 * it talks to it through tpm2.h. */
#include <stdio.h>

#include "base/crypto.h"
#include "formats/policy.h"
#include "target/tpm2.h"
#include "target/truststore.h"

/* Dictionary-attack limits. The version indices are read with an empty
 * password and their attributes (no NO_DA) are fixed by the deployed layout,
 * so every unclean power-off after setup counts as a failed try: a finite
 * limit would lock a machine out of its own boot after enough power losses
 * (the fault-injection test hits it). The passwords are 32 random characters,
 * so no limit is needed against guessing; the older tool made the same
 * choice. A failed lockout-password use waits 2 minutes. */
#define DA_MAX_TRIES UINT32_MAX
#define DA_RECOVERY_S 600
#define DA_LOCKOUT_RECOVERY_S 120

struct store_tpm2 {
        struct truststore base;
        struct tpm2 *t;
        char *tcti; /* NULL: $TRUST_TPM2_TCTI */
        char version[POLICY_VERSION_LEN + 1]; /* of the grant, for explain() */
};

static struct tpm2 *tpm(struct truststore *s)
{
        return ((struct store_tpm2 *)s)->t;
}

static const uint32_t slot_index[_SLOT_MAX] = {
        [SLOT_ADMIN_PASSWORD] = NV_ADMIN_PASSWORD, [SLOT_CERT] = NV_CERT,
        [SLOT_KEY] = NV_KEY,                       [SLOT_SBF_PASSPHRASE] = NV_SBF_PASSPHRASE,
        [SLOT_OS_PASSPHRASE] = NV_OS_PASSPHRASE,
};

static int tpm2s_open(const char *where, struct truststore **ret)
{
        struct store_tpm2 *s = xmalloc0(sizeof(*s));
        int r;

        r = tpm2_open_at(where, &s->t);
        if (r < 0) {
                free(s);
                return r;
        }
        s->tcti = where ? xstrdup(where) : NULL;
        s->base.ops = &truststore_tpm2;
        *ret = &s->base;
        return 0;
}

static void tpm2s_close(struct truststore *s)
{
        if (!s)
                return;
        tpm2_close(tpm(s));
        free(((struct store_tpm2 *)s)->tcti);
        free(s);
}

/* A TPM that did not answer leaves the ESAPI context unusable (spec tpm.md,
 * "Failure signatures"). The lock matters most right then, so reading and
 * extending PCR7 try once more on a new connection; the first failure is the
 * one told. */
static bool reconnect(struct store_tpm2 *st)
{
        struct tpm2 *t = NULL;
        int r;

        if (tpm2_refusal_take() != TPM2_REFUSAL_UNREACHABLE)
                return false;
        err_freeze();
        r = tpm2_open_at(st->tcti, &t);
        err_thaw();
        if (r < 0)
                return false;
        tpm2_close(st->t);
        st->t = t;
        return true;
}

static int tpm2s_measured(struct truststore *s, uint8_t out[32])
{
        struct store_tpm2 *st = (struct store_tpm2 *)s;
        int r, q;

        (void)tpm2_refusal_take();
        r = tpm2_pcr7_read(st->t, out);
        if (r >= 0 || !reconnect(st))
                return r;
        err_freeze();
        q = tpm2_pcr7_read(st->t, out);
        err_thaw();
        return q < 0 ? r : 0;
}

static int tpm2s_extend(struct truststore *s, const uint8_t digest[32])
{
        struct store_tpm2 *st = (struct store_tpm2 *)s;
        int r, q;

        (void)tpm2_refusal_take();
        r = tpm2_pcr7_extend(st->t, digest);
        if (r >= 0 || !reconnect(st))
                return r;
        err_freeze();
        q = tpm2_pcr7_extend(st->t, digest);
        err_thaw();
        return q < 0 ? r : 0;
}

/* A version index holds ASCII digits; anything else reads as none. */
static char *read_version(struct tpm2 *t, uint32_t index)
{
        struct secret v = {};
        char *ret = NULL;

        if (tpm2_nv_read_authread(t, index, &v) < 0)
                return NULL;
        if (v.len > 0 && v.len <= 16 && strspn((char *)v.data, "0123456789") == v.len)
                ret = xstrdup((char *)v.data);
        secret_free(&v);
        return ret;
}

static int tpm2s_policy_version(struct truststore *s, char out[POLICY_VERSION_LEN + 1])
{
        _cleanup_free_ char *v = read_version(tpm(s), NV_POLICY_VERSION);

        if (!policy_version_valid(v))
                return errf(-ENOENT, "NV index 0x%08x holds no %d-digit policy version: this TPM "
                                     "was not provisioned by trust",
                            NV_POLICY_VERSION, POLICY_VERSION_LEN);
        memcpy(out, v, POLICY_VERSION_LEN + 1);
        return 0;
}

/* The session inputs of g: a production entry gives the luks policy (with
 * PolicyNV on the EA policy version), a tpm entry the passwd policy. *sig
 * stays allocated as long as p is used. */
static int policy_prepare(const struct truststore_grant *g, struct tpm2_policy *p, uint8_t **sig)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;
        const struct pcr7data_match *m = g->entry;
        bool luks;
        size_t sig_len = 0;
        int r;

        if (!m->signed_policy || !m->pubkey)
                return errf(-ENOENT, "pcr7data entry %s ('%s'): no signed policy", m->dir,
                            m->key_type);
        if (!policy_version_valid(g->version))
                return errf(-EINVAL, "policy version must be %d decimal digits",
                            POLICY_VERSION_LEN);
        luks = !strcmp(m->key_type, "production");
        r = pem_load_pubkey(m->pubkey, &pub);
        if (r < 0)
                return r;
        r = read_file(m->signed_policy, PCR7DATA_SIGNED_MAX, sig, &sig_len);
        if (r < 0)
                return r;
        *p = (struct tpm2_policy){ .nv_version = luks, .sig = *sig, .sig_len = sig_len };
        memcpy(p->pcr7, g->measured, 32);
        memcpy(p->version, g->version, POLICY_VERSION_LEN);
        r = luks ? policy_luks_digest(g->measured, g->version, p->approved)
                 : policy_passwd_digest(g->measured, p->approved);
        if (r < 0)
                return r;
        return policy_rsa_modulus(pub, p->modulus);
}

/* A refusal by the TPM in words a reader can act on, told by its response
 * code, in front of the TPM's own message. */
static int explain(struct store_tpm2 *s, int r)
{
        switch (tpm2_refusal_take()) {
        case TPM2_REFUSAL_POLICY:
                return errf_prefix(r, "the TPM's policy version is not %s (revoked)", s->version);
        case TPM2_REFUSAL_POLICY_FAIL:
                return errf_prefix(r, "this TPM's secrets are not guarded by the key that signed "
                                      "this pcr7data (another keyset?)");
        case TPM2_REFUSAL_SIGNATURE:
        case TPM2_REFUSAL_VALUE:
                return errf_prefix(r, "the TPM refused the signed policy for this PCR7");
        default:
                return r;
        }
}

static int tpm2s_authorize(struct truststore *s, const struct truststore_grant *g)
{
        struct store_tpm2 *st = (struct store_tpm2 *)s;
        _cleanup_free_ uint8_t *sig = NULL;
        struct tpm2_policy p;
        int r;

        r = policy_prepare(g, &p, &sig);
        if (r < 0)
                return r;
        snprintf(st->version, sizeof(st->version), "%s", g->version);
        (void)tpm2_refusal_take();
        r = tpm2_policy_start(st->t, &p);
        return r < 0 ? explain(st, r) : 0;
}

static int tpm2s_read(struct truststore *s, enum truststore_slot slot, bool last,
                      struct secret *ret)
{
        struct store_tpm2 *st = (struct store_tpm2 *)s;
        int r;

        if (last)
                tpm2_policy_last(st->t);
        (void)tpm2_refusal_take();
        r = tpm2_nv_read_policy(st->t, slot_index[slot], ret);
        return r < 0 ? explain(st, r) : 0;
}

static int tpm2s_write(struct truststore *s, enum truststore_slot slot, const struct secret *data,
                       bool last)
{
        struct store_tpm2 *st = (struct store_tpm2 *)s;
        int r;

        if (last)
                tpm2_policy_last(st->t);
        (void)tpm2_refusal_take();
        r = tpm2_nv_write_policy(st->t, slot_index[slot], data->data, data->len);
        return r < 0 ? explain(st, r) : 0;
}

static int tpm2s_check_admin(struct truststore *s, const struct secret *password)
{
        int r = tpm2_owner_verify(tpm(s), password->data, password->len);

        return r < 0 ? errf_prefix(r, "NV index 0x%08x", NV_ADMIN_PASSWORD) : 0;
}

static int define_write(struct tpm2 *t, uint32_t index, const uint8_t *policy, const void *data,
                        size_t len)
{
        int r;

        if (len > UINT16_MAX)
                return errf(-EFBIG, "NV index 0x%08x: %zu bytes is too much", index, len);
        r = tpm2_nv_define(t, index, tpm2_nv_layout_attributes(NV_LAYOUT, index), policy,
                           (uint16_t)len);
        if (r < 0)
                return r;
        return tpm2_nv_write_owner(t, index, data, len);
}

/* The PolicyAuthorize digests (the indices' authPolicy) of the entry's two
 * policy keys: luks for the production indices, tpmpass for the admin one. */
static int auth_digests(const struct pcr7data_match *m, uint8_t luks[32], uint8_t pass[32])
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *luks_pub = NULL, *pass_pub = NULL;
        int r;

        r = pem_load_pubkey(m->luks_pubkey, &luks_pub);
        if (r >= 0)
                r = pem_load_pubkey(m->tpmpass_pubkey, &pass_pub);
        if (r >= 0)
                r = policy_authorize_digest(luks_pub, luks);
        if (r >= 0)
                r = policy_authorize_digest(pass_pub, pass);
        return r;
}

static int tpm2s_provision(struct truststore *s, const struct truststore_contents *c)
{
        struct tpm2 *t = tpm(s);
        const char *admin = (const char *)c->admin->data;
        uint8_t luks[32], pass[32], owner_policy[32];
        int r;

        r = auth_digests(c->entry, luks, pass);
        if (r < 0)
                return r;
        r = tpm2_clear(t);
        if (r >= 0)
                r = tpm2_da_parameters(t, DA_MAX_TRIES, DA_RECOVERY_S, DA_LOCKOUT_RECOVERY_S);
        if (r >= 0)
                r = tpm2_change_auth(t, 'o', admin);
        /* A production boot may make exactly this key persistent (tpm
         * load-key), without the owner password (formats/policy.h). */
        if (r >= 0 && c->held_key_name)
                r = policy_owner_digest(c->held_key_name, owner_policy);
        if (r >= 0 && c->held_key_name)
                r = tpm2_owner_policy_set(t, owner_policy);
        if (r >= 0)
                r = define_write(t, NV_LAYOUT_VERSION, NULL, LAYOUT_VERSION,
                                 strlen(LAYOUT_VERSION));
        if (r >= 0)
                r = define_write(t, NV_POLICY_VERSION, NULL, c->version, strlen(c->version));
        if (r >= 0)
                r = define_write(t, NV_ADMIN_PASSWORD, pass, c->admin->data, c->admin->len);
        if (r >= 0)
                r = define_write(t, NV_CERT, luks, c->cert, c->cert_len);
        if (r >= 0)
                r = define_write(t, NV_KEY, luks, c->key->data, c->key->len);
        if (r >= 0)
                r = define_write(t, NV_SBF_PASSPHRASE, luks, c->sbf->data, c->sbf->len);
        if (r >= 0)
                r = define_write(t, NV_OS_PASSPHRASE, luks, c->os->data, c->os->len);
        /* Lockout last: until here a failed run is undone by the next one's
         * Clear with the empty lockout password. */
        if (r >= 0)
                r = tpm2_change_auth(t, 'e', admin);
        if (r >= 0) {
                tpm2_owner_last(t);
                r = tpm2_change_auth(t, 'l', admin);
        }
        return r;
}

static int tpm2s_probe(struct truststore *s, const struct truststore_grant *g,
                       enum truststore_slot slot, struct truststore_probe *ret)
{
        _cleanup_free_ uint8_t *sig = NULL;
        struct tpm2_policy p;
        struct tpm2_probe pr;
        int r;

        /* An entry that does not make a session is no key anyone holds: its
         * signature would fail in the TPM as well. */
        if (g && policy_prepare(g, &p, &sig) < 0)
                return 1;
        r = tpm2_nv_probe(tpm(s), g ? &p : NULL, slot_index[slot], &pr);
        if (r < 0)
                return r;
        *ret = (struct truststore_probe){ .id = slot_index[slot],
                                          .defined = pr.defined,
                                          .readable = pr.readable };
        memcpy(ret->why, pr.why, sizeof(ret->why));
        explicit_bzero(&pr, sizeof(pr));
        return 0;
}

static int tpm2s_probe_owner(struct truststore *s, enum truststore_slot slot,
                             const struct secret *password, struct truststore_probe *ret)
{
        struct tpm2_probe pr;
        int r;

        if (!tpm2_nv_policy_only(slot_index[slot]))
                return 1;
        r = tpm2_nv_probe_owner(tpm(s), slot_index[slot], password->data, password->len, &pr);
        if (r < 0)
                return r;
        *ret = (struct truststore_probe){ .id = slot_index[slot],
                                          .defined = pr.defined,
                                          .readable = pr.readable };
        memcpy(ret->why, pr.why, sizeof(ret->why));
        explicit_bzero(&pr, sizeof(pr));
        return 0;
}

static const struct {
        uint32_t index;
        const char *role;
} layout[] = {
        { NV_ADMIN_PASSWORD, "admin-password" }, { NV_LAYOUT_VERSION, "layout-version" },
        { NV_POLICY_VERSION, "policy-version" }, { NV_CERT, "certificate" },
        { NV_KEY, "private-key" },               { NV_SBF_PASSPHRASE, "sbf-passphrase" },
        { NV_OS_PASSPHRASE, "os-passphrase" },
};

static int tpm2s_report(struct truststore *s, struct truststore_report *ret)
{
        struct truststore_report rep = {};
        struct tpm2 *t = tpm(s);
        int r;

        rep.layout_version = read_version(t, NV_LAYOUT_VERSION);
        rep.policy_version = read_version(t, NV_POLICY_VERSION);
        for (size_t i = 0; i < ELEMENTSOF(layout); i++) {
                struct truststore_entry *e = &rep.entries[rep.n_entries++];
                struct tpm2_nv_info info;

                *e = (struct truststore_entry){ .id = layout[i].index, .role = layout[i].role };
                r = tpm2_nv_info(t, layout[i].index, &info);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        truststore_report_done(&rep);
                        return r;
                }
                e->defined = true;
                e->size = info.size;
                e->attributes = tpm2_nv_attributes_string(info.attributes);
                e->policy = info.auth_policy_len > 0;
                e->owner_reads = tpm2_nv_secret_owner_readable(layout[i].index, info.attributes);
        }
        *ret = rep;
        return 0;
}

const struct truststore_ops truststore_tpm2 = {
        .name = "tpm2",
        .open = tpm2s_open,
        .close = tpm2s_close,
        .measured = tpm2s_measured,
        .extend = tpm2s_extend,
        .policy_version = tpm2s_policy_version,
        .authorize = tpm2s_authorize,
        .read = tpm2s_read,
        .write = tpm2s_write,
        .check_admin = tpm2s_check_admin,
        .provision = tpm2s_provision,
        .probe = tpm2s_probe,
        .probe_owner = tpm2s_probe_owner,
        .report = tpm2s_report,
};
