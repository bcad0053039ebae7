/* eventlog-match.c: a log's PCR7 events, or a machine's variable store,
 * against a keyset's prediction (see eventlog-match.h). The log is untrusted: its variable data are parsed with
 * the checked walkers, and every digest the firmware computes from the event
 * data is checked against that data before the data are believed. */
#include "keys/eventlog-match.h"

#include <openssl/err.h>
#include <stdio.h>

#include "base/crypto.h"
#include "base/util.h"
#include "formats/efivars.h"
#include "formats/esl.h"

const char *evlog_pcr7_name(const struct evlog_event *e, char *buf, size_t size)
{
        struct evlog_var v;
        const char *t;

        if (e->type == EV_SEPARATOR)
                return "separator";
        if ((e->type == EV_EFI_VARIABLE_DRIVER_CONFIG || e->type == EV_EFI_VARIABLE_AUTHORITY) &&
            evlog_var_parse(e->data, e->len, &v) >= 0) {
                if (e->type == EV_EFI_VARIABLE_AUTHORITY && !strcmp(v.name, "db") &&
                    !memcmp(v.vendor.b, EFI_IMAGE_SECURITY_DB_GUID.b, 16))
                        return "authority";
                snprintf(buf, size, "%s", v.name);
                return buf;
        }
        t = evlog_type_name(e->type);
        if (t)
                return t;
        snprintf(buf, size, "event type 0x%08x", e->type);
        return buf;
}

void esl_entry_describe(const efi_guid *type, const uint8_t *data, size_t len, char *buf,
                        size_t size)
{
        if (!memcmp(type->b, EFI_CERT_X509_GUID.b, 16)) {
                const unsigned char *p = data;
                X509 *x = d2i_X509(NULL, &p, (long)len);
                char subject[256] = "(unparsable certificate)";

                if (x)
                        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
                X509_free(x);
                ERR_clear_error();
                snprintf(buf, size, "x509 %s", subject);
        } else if (!memcmp(type->b, EFI_CERT_SHA256_GUID.b, 16) && len == 32) {
                _cleanup_free_ char *hex = hex_encode(data, len);

                snprintf(buf, size, "sha256:%s", hex);
        } else {
                char g[37];

                guid_format(type, g);
                snprintf(buf, size, "type %s (%zu bytes)", g, len);
        }
}

/* ---- entries one list holds that another does not ------------------------ */

struct diff_ctx {
        const uint8_t *other;
        size_t other_len;
        unsigned n;
        char *buf;
        size_t size;
};

static int not_in_other(const efi_guid *type, const efi_guid *owner, const uint8_t *data,
                        size_t len, void *userdata)
{
        struct diff_ctx *c = userdata;
        size_t used = strlen(c->buf);
        char d[320];

        if (esl_holds(c->other, c->other_len, type, owner, data, len))
                return 0;
        esl_entry_describe(type, data, len, d, sizeof(d));
        if (used + 4 < c->size)
                snprintf(c->buf + used, c->size - used, "%s%s", c->n ? ", " : "", d);
        c->n++;
        return 0;
}

/* "dbx: the firmware holds 2 entries the keyset does not predict: ...;
 * it lacks 1 entry the keyset predicts: ..." */
static void explain_variable(const char *name, const uint8_t *have, size_t have_len,
                             const uint8_t *want, size_t want_len, char *why, size_t size)
{
        char extra[400] = "", missing[400] = "";
        struct diff_ctx x = { want, want_len, 0, extra, sizeof(extra) };
        struct diff_ctx m = { have, have_len, 0, missing, sizeof(missing) };

        if (esl_walk(have, have_len, NULL, NULL) < 0) {
                snprintf(why, size, "%s: the firmware's value is not a valid signature list", name);
                return;
        }
        (void)esl_walk(have, have_len, not_in_other, &x);
        (void)esl_walk(want, want_len, not_in_other, &m);
        if (x.n && m.n)
                snprintf(why, size, "%s: the firmware holds %u entr%s the keyset does not predict: %s; "
                                    "it lacks %u the keyset predicts: %s",
                         name, x.n, x.n == 1 ? "y" : "ies", extra, m.n, missing);
        else if (x.n)
                snprintf(why, size, "%s: the firmware holds %u entr%s the keyset does not predict: %s",
                         name, x.n, x.n == 1 ? "y" : "ies", extra);
        else if (m.n)
                snprintf(why, size, "%s: the firmware lacks %u entr%s the keyset predicts: %s", name,
                         m.n, m.n == 1 ? "y" : "ies", missing);
        else
                snprintf(why, size, "%s: the same entries in another order or grouping", name);
}

static bool is_shim_name(const char *n)
{
        return !strcmp(n, "SbatLevel") || !strncmp(n, "Mok", 3) || !strcmp(n, "Shim");
}

static const uint8_t *expected_data(const struct keyset_efi_vars *v, const char *name, size_t *len)
{
        static const uint8_t on = 1;

        if (!strcmp(name, "SecureBoot")) {
                *len = 1;
                return &on;
        }
        if (!strcmp(name, "PK")) {
                *len = v->pk_len;
                return v->pk;
        }
        if (!strcmp(name, "KEK")) {
                *len = v->kek_len;
                return v->kek;
        }
        if (!strcmp(name, "db")) {
                *len = v->db_len;
                return v->db;
        }
        *len = v->dbx ? v->dbx_len : 0;
        return v->dbx;
}

/* Why log event e differs from the predicted event x of class base. */
static void explain(const struct evlog_event *e, const char *name, const struct pcr7_event *x,
                    const struct keyset_efi_vars *v, enum uki_class base, char *why, size_t size)
{
        struct evlog_var var;
        uint8_t d[32];

        if (strcmp(name, x->name) != 0) {
                if (is_shim_name(name))
                        snprintf(why, size, "extra event %s before %s: booted through shim", name,
                                 x->name);
                else
                        snprintf(why, size, "extra event %s before %s", name, x->name);
                return;
        }
        if (evlog_digest_is_of_data(e->type) &&
            (sha256(e->data, e->len, d) < 0 || memcmp(d, e->sha256, 32) != 0)) {
                snprintf(why, size, "%s: the event's digest is not the SHA-256 of its data "
                                    "(a forged or corrupt log)", name);
                return;
        }
        if (!strcmp(name, "separator")) {
                snprintf(why, size, "separator: not the 4 zero bytes of a normal boot");
                return;
        }
        if (evlog_var_parse(e->data, e->len, &var) < 0) {
                snprintf(why, size, "%s: malformed UEFI_VARIABLE_DATA", name);
                return;
        }
        if (!strcmp(name, "SecureBoot")) {
                if (var.len == 1 && var.data[0] == 0)
                        snprintf(why, size, "SecureBoot: 0, Secure Boot is off");
                else
                        snprintf(why, size, "SecureBoot: an unexpected value (%zu bytes)", var.len);
                return;
        }
        if (!strcmp(name, "authority")) {
                for (int c = 0; c < _UKI_CLASS_MAX; c++)
                        if (v->authority[c] && var.len == v->authority_len[c] &&
                            !memcmp(var.data, v->authority[c], var.len)) {
                                snprintf(why, size, "authority: booted with %s",
                                         uki_class_keydir((enum uki_class)c));
                                return;
                        }
                if (var.len > 16) {
                        char desc[320];

                        esl_entry_describe(&EFI_CERT_X509_GUID, var.data + 16, var.len - 16, desc,
                                           sizeof(desc));
                        snprintf(why, size, "authority: verified by a db entry of no %s key: %s",
                                 uki_class_keydir(base), desc);
                } else
                        snprintf(why, size, "authority: a malformed db entry");
                return;
        }
        {
                size_t want_len;
                const uint8_t *want = expected_data(v, name, &want_len);

                explain_variable(name, var.data, var.len, want, want_len, why, size);
        }
}

int eventlog_match(const struct eventlog *l, const struct keyset_efi_vars *v,
                   const char *const refused[_UKI_CLASS_MAX], struct evlog_match *ret)
{
        struct pcr7_event ev[_UKI_CLASS_MAX][PCR7_MAX_EVENTS];
        size_t n_ev[_UKI_CLASS_MAX], idx[EVLOG_MAX_EVENTS > 64 ? 64 : EVLOG_MAX_EVENTS], n7 = 0;
        uint8_t pcr[32];
        int r;

        *ret = (struct evlog_match){ .match = -1, .base = UKI_PRODUCTION };
        for (int c = 0; c < _UKI_CLASS_MAX; c++) {
                r = pcr7_events(v, (enum uki_class)c, ev[c], &n_ev[c], pcr);
                if (r < 0)
                        return r;
        }
        /* The log's PCR7 events (EV_NO_ACTION extends nothing). */
        for (size_t i = 0; i < l->n; i++) {
                if (l->events[i].pcr != 7 || l->events[i].type == EV_NO_ACTION)
                        continue;
                if (n7 == ELEMENTSOF(idx))
                        return errf(-EBADMSG, "more than %zu PCR7 events", ELEMENTSOF(idx));
                idx[n7++] = i;
        }
        for (int c = 0; c < _UKI_CLASS_MAX; c++) {
                bool same = n7 == n_ev[c] && !refused[c];

                for (size_t k = 0; same && k < n7; k++)
                        same = !memcmp(l->events[idx[k]].sha256, ev[c][k].digest, 32);
                if (same) {
                        ret->match = c;
                        ret->base = c;
                        ret->event = n7;
                        return 0;
                }
        }
        /* Told against the class whose authority event the log has, if any. */
        for (size_t k = 0; k < n7; k++)
                for (int c = 0; c < _UKI_CLASS_MAX; c++)
                        if (!memcmp(l->events[idx[k]].sha256, ev[c][n_ev[c] - 1].digest, 32))
                                ret->base = c;
        {
                const struct pcr7_event *x = ev[ret->base];
                size_t nx = n_ev[ret->base];

                for (size_t k = 0; k < n7 || k < nx; k++) {
                        const struct evlog_event *e = k < n7 ? &l->events[idx[k]] : NULL;
                        char nb[72];
                        const char *name = e ? evlog_pcr7_name(e, nb, sizeof(nb)) : NULL;

                        if (!e) {
                                ret->event = l->n;
                                snprintf(ret->event_name, sizeof(ret->event_name), "%s", x[k].name);
                                snprintf(ret->why, sizeof(ret->why),
                                         "missing event %s: the log ends after %zu PCR7 events",
                                         x[k].name, n7);
                                return 0;
                        }
                        snprintf(ret->event_name, sizeof(ret->event_name), "%s", name);
                        ret->event = idx[k];
                        if (k >= nx) {
                                snprintf(ret->why, sizeof(ret->why), "extra event %s after %s%s",
                                         name, x[nx - 1].name,
                                         is_shim_name(name) ? ": booted through shim" : "");
                                return 0;
                        }
                        if (!strcmp(name, x[k].name) && !memcmp(e->sha256, x[k].digest, 32))
                                continue;
                        explain(e, name, &x[k], v, (enum uki_class)ret->base, ret->why,
                                sizeof(ret->why));
                        if (!strcmp(name, "authority") && refused[ret->base])
                                snprintf(ret->why + strlen(ret->why),
                                         sizeof(ret->why) - strlen(ret->why),
                                         " (the firmware refuses %s after the updates)",
                                         uki_class_keydir((enum uki_class)ret->base));
                        return 0;
                }
        }
        /* Same events as a class the updates refuse. */
        snprintf(ret->event_name, sizeof(ret->event_name), "authority");
        snprintf(ret->why, sizeof(ret->why), "authority: booted with %s, which the firmware "
                                             "refuses after the updates (%s)",
                 uki_class_keydir((enum uki_class)ret->base), refused[ret->base]);
        return 0;
}

int varstore_explain(uint8_t *buf, size_t len, const struct keyset_efi_vars *v, char *why,
                     size_t size)
{
        struct varstore vs = { 0 };
        struct sbvar_value have[_SBVAR_MAX] = { 0 };
        int r;

        r = varstore_parse(buf, len, &vs);
        if (r >= 0)
                r = varstore_sbvars(&vs, have);
        varstore_done(&vs);
        if (r < 0)
                return r;
        r = 0;
        for (enum sbvar i = 0; i < _SBVAR_MAX && r == 0; i++) {
                const char *name = sbvar_name(i);
                size_t want_len;
                const uint8_t *want = expected_data(v, name, &want_len);
                size_t have_len = have[i].exists ? have[i].len : 0;

                if (have_len == want_len && (!want_len || !memcmp(have[i].data, want, want_len)))
                        continue;
                explain_variable(name, have[i].data, have_len, want, want_len, why, size);
                r = 1;
        }
        sbvar_values_done(have);
        return r;
}
