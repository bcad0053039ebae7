/* pkcs11.c: see pkcs11.h. One libp11 context per module path for the life of
 * the process (a key handed to OpenSSL needs its module and session), freed
 * at exit. */
#include "keys/pkcs11.h"

#include <libp11.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/crypto.h"
#include "base/secure.h"
#include "base/util.h"

struct module {
        char *path;
        PKCS11_CTX *ctx;
        PKCS11_SLOT *slots;
        unsigned n_slots;
        struct module *next;
};

static struct module *modules;

static void modules_free(void)
{
        while (modules) {
                struct module *m = modules;

                modules = m->next;
                PKCS11_release_all_slots(m->ctx, m->slots, m->n_slots);
                PKCS11_CTX_unload(m->ctx);
                PKCS11_CTX_free(m->ctx);
                free(m->path);
                free(m);
        }
}

static int module_get(const char *path, struct module **ret)
{
        struct module *m;

        for (m = modules; m; m = m->next)
                if (!strcmp(m->path, path)) {
                        *ret = m;
                        return 0;
                }
        m = xmalloc0(sizeof(*m));
        m->ctx = PKCS11_CTX_new();
        if (!m->ctx) {
                free(m);
                return -ENOMEM;
        }
        if (PKCS11_CTX_load(m->ctx, path) < 0) {
                ERR_clear_error();
                PKCS11_CTX_free(m->ctx);
                free(m);
                return errf(-ENOENT, "PKCS#11 module %s: cannot be loaded", path);
        }
        if (PKCS11_enumerate_slots(m->ctx, &m->slots, &m->n_slots) < 0) {
                ERR_clear_error();
                PKCS11_CTX_unload(m->ctx);
                PKCS11_CTX_free(m->ctx);
                free(m);
                return errf(-EIO, "PKCS#11 module %s: cannot list its slots", path);
        }
        m->path = xstrdup(path);
        if (!modules)
                atexit(modules_free);
        m->next = modules;
        modules = m;
        *ret = m;
        return 0;
}

/* "token 'X'" for messages */
static const char *token_name(const struct pkcs11_uri *u)
{
        return u->token ? u->token : u->serial ? u->serial : "(any)";
}

static bool token_matches(const PKCS11_TOKEN *t, const struct pkcs11_uri *u)
{
        return t && t->initialized && (!u->token || (t->label && !strcmp(t->label, u->token))) &&
               (!u->serial || (t->serialnr && !strcmp(t->serialnr, u->serial))) &&
               (!u->manufacturer ||
                (t->manufacturer && !strcmp(t->manufacturer, u->manufacturer))) &&
               (!u->model || (t->model && !strcmp(t->model, u->model)));
}

/* The PIN: $TRUST_PKCS11_PIN, else pin-source's first line. */
static int pin_get(const struct pkcs11_uri *u, struct secret *ret)
{
        _cleanup_free_ uint8_t *buf = NULL;
        const char *env = getenv(PKCS11_PIN_ENV), *path;
        size_t len = 0, n;
        int r;

        if (env) {
                n = strlen(env);
                r = secret_alloc(ret, n);
                if (r >= 0)
                        memcpy(ret->data, env, n);
                return r;
        }
        if (!u->pin_source)
                return errf(-ENOKEY, "token '%s': no PIN (set $%s, or pin-source in the URI)",
                            token_name(u), PKCS11_PIN_ENV);
        path = u->pin_source;
        if (!strncmp(path, "file:", 5))
                path += 5;
        r = read_file(path, 256, &buf, &len);
        if (r < 0)
                return errf_prefix(r, "token '%s': pin-source", token_name(u));
        n = strcspn((char *)buf, "\r\n");
        r = secret_alloc(ret, n);
        if (r >= 0)
                memcpy(ret->data, buf, n);
        explicit_bzero(buf, len);
        return r;
}

/* The token's slot, logged in as the user. */
static int token_open(const struct pkcs11_uri *u, struct module **ret_m, PKCS11_SLOT **ret)
{
        const char *path = u->module_path ? u->module_path : PKCS11_PROXY_MODULE;
        struct secret pin = {};
        PKCS11_SLOT *slot = NULL;
        struct module *m = NULL;
        int r, logged_in = 0;

        r = module_get(path, &m);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < m->n_slots && !slot; i++)
                if (token_matches(m->slots[i].token, u))
                        slot = &m->slots[i];
        if (!slot)
                return errf(-ENODEV, "token '%s': not found in PKCS#11 module %s", token_name(u),
                            path);
        if (PKCS11_is_logged_in(slot, 0, &logged_in) == 0 && logged_in) {
                *ret_m = m;
                *ret = slot;
                return 0;
        }
        r = pin_get(u, &pin);
        if (r < 0)
                return r;
        if (PKCS11_open_session(slot, 1) < 0 || PKCS11_login(slot, 0, (char *)pin.data) < 0) {
                ERR_clear_error();
                secret_free(&pin);
                return errf(-EACCES, "token '%s': login refused (wrong PIN?)", token_name(u));
        }
        secret_free(&pin);
        *ret_m = m;
        *ret = slot;
        return 0;
}

/* The private key labelled `label` (and with `id`, when given); NULL when
 * the token has none. */
static PKCS11_KEY *find_key(PKCS11_TOKEN *t, const char *label, const uint8_t *id, size_t id_len)
{
        PKCS11_KEY *keys = NULL;
        unsigned n = 0;

        if (PKCS11_enumerate_keys(t, &keys, &n) < 0) {
                ERR_clear_error();
                return NULL;
        }
        for (unsigned i = 0; i < n; i++) {
                PKCS11_KEY *k = &keys[i];

                if (!k->isPrivate)
                        continue;
                if (label && (!k->label || strcmp(k->label, label)))
                        continue;
                if (id && (k->id_len != id_len || memcmp(k->id, id, id_len)))
                        continue;
                return k;
        }
        return NULL;
}

static int private_key(const struct pkcs11_uri *u, PKCS11_TOKEN *t, const char *label,
                       EVP_PKEY **ret)
{
        PKCS11_KEY *k = find_key(t, label, u->id, u->id_len);
        EVP_PKEY *key;

        if (!k)
                return errf(-ENOENT, "token '%s': no private key '%s'", token_name(u),
                            label ? label : "(by id)");
        key = PKCS11_get_private_key(k);
        if (!key) {
                ERR_clear_error();
                return errf(-EIO, "token '%s': key '%s' cannot be used", token_name(u),
                            label ? label : "(by id)");
        }
        *ret = key;
        return 0;
}

int pkcs11_load_private_key(const char *uri, EVP_PKEY **ret)
{
        struct pkcs11_uri u;
        struct module *m;
        PKCS11_SLOT *slot;
        int r;

        r = pkcs11_uri_parse(uri, &u);
        if (r < 0)
                return r;
        if (!u.object && !u.id)
                r = errf(-EINVAL, "%s: names no object (object= or id=)", uri);
        else if (u.type && strcmp(u.type, "private"))
                r = errf(-EINVAL, "%s: type=%s is not a private key", uri, u.type);
        if (r >= 0)
                r = token_open(&u, &m, &slot);
        if (r >= 0)
                r = private_key(&u, slot->token, u.object, ret);
        pkcs11_uri_done(&u);
        return r;
}

static int label_free(const struct pkcs11_uri *u, PKCS11_TOKEN *t, const char *label)
{
        if (find_key(t, label, NULL, 0))
                return errf(-EEXIST, "token '%s': a private key '%s' is there already",
                            token_name(u), label);
        return 0;
}

/* A CKA_ID of the label's SHA-256, so tools that pair keys by id can. */
static void label_id(const char *label, uint8_t id[20])
{
        uint8_t d[32];

        if (sha256(label, strlen(label), d) < 0)
                memset(d, 0, sizeof(d));
        memcpy(id, d, 20);
}

/* The logged-in token for a new key labelled `label`, and its CKA_ID. */
static int new_key_slot(const struct pkcs11_uri *u, const char *label, PKCS11_SLOT **slot,
                        uint8_t id[20])
{
        struct module *m;
        int r;

        r = token_open(u, &m, slot);
        if (r >= 0)
                r = label_free(u, (*slot)->token, label);
        if (r >= 0)
                label_id(label, id);
        return r;
}

int pkcs11_generate_rsa(const struct pkcs11_uri *u, const char *label, EVP_PKEY **ret)
{
        PKCS11_SLOT *slot;
        uint8_t id[20];
        int r;

        r = new_key_slot(u, label, &slot, id);
        if (r < 0)
                return r;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        /* libp11 0.4's only key generation (PKCS11_keygen is 0.4.13's) */
        r = PKCS11_generate_key(slot->token, EVP_PKEY_RSA, 2048, (char *)label, id, sizeof(id));
#pragma GCC diagnostic pop
        if (r < 0) {
                ERR_clear_error();
                return errf(-EIO, "token '%s': cannot generate key '%s'", token_name(u), label);
        }
        return private_key(u, slot->token, label, ret);
}

int pkcs11_store_private_key(const struct pkcs11_uri *u, const char *label, EVP_PKEY *key)
{
        PKCS11_SLOT *slot;
        uint8_t id[20];
        int r;

        r = new_key_slot(u, label, &slot, id);
        if (r < 0)
                return r;
        if (PKCS11_store_private_key(slot->token, key, (char *)label, id, sizeof(id)) < 0) {
                ERR_clear_error();
                return errf(-EIO, "token '%s': cannot store key '%s'", token_name(u), label);
        }
        return 0;
}

void pkcs11_remove_key(const struct pkcs11_uri *u, const char *label)
{
        PKCS11_KEY *keys = NULL;
        struct module *m;
        PKCS11_SLOT *slot;
        unsigned n = 0;

        err_freeze();
        if (token_open(u, &m, &slot) >= 0) {
                PKCS11_KEY *k = find_key(slot->token, label, NULL, 0);

                if (k)
                        (void)PKCS11_remove_key(k);
                if (PKCS11_enumerate_public_keys(slot->token, &keys, &n) >= 0)
                        for (unsigned i = 0; i < n; i++)
                                if (keys[i].label && !strcmp(keys[i].label, label)) {
                                        (void)PKCS11_remove_key(&keys[i]);
                                        break;
                                }
        }
        ERR_clear_error();
        err_thaw();
}
