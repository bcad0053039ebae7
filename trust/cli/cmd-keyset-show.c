/* cmd-keyset-show.c: `trust keyset show`: a keyset's directories, or the
 * files of one of them, as text or JSON. Everything is read before anything
 * is printed, so a command that fails prints nothing on stdout. */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/dirlist.h"
#include "base/json.h"
#include "base/utf8.h"
#include "base/util.h"
#include "cli/commands.h"
#include "keys/keyset.h"
#include "keys/keyset-key.h"
#include "keys/keyset-path.h"

static const char keyset_show_help[] =
        "Usage: trust keyset show NAME [KEY [ITEM]] [--path|--value|--json]\n\n"
        "Show a keyset. KEY is a key directory (manifest-ca, sudi-ca, uefi-pk, uefi-kek,\n"
        "uefi-db, uki-production, uki-tpm, uki-limited, tpmpol-admin, tpmpol-luks,\n"
        "pcr7data) or manifest:PROJECT; ITEM a file in it (cert.pem, guid, ...).\n"
        "A private key is shown only when asked for as ITEM.\n\n"
        "  --path    print paths only\n"
        "  --value   print the ITEM's contents only\n"
        "  --json    {\"keyset\",\"path\",\"dirs\":[{\"name\",\"path\",\"present\",\"subdirs\",\"files\"\n"
        "            (key directories also \"key\":\"file\"|\"pkcs11\"|\"none\",\"key_uri\")}]};\n"
        "            with KEY {\"keyset\",\"key\",\"path\",\"items\":[{\"name\",\"path\",\"withheld\",\n"
        "            \"value\",\"value_hex\"}]} (value: UTF-8 text, else value_hex)\n"
        "  --help    show this help\n";

/* The spec's directory order (keysets.md "Keyset layout"). */
static const char *const keyset_dirs[] = {
        "manifest",     "manifest-ca", "pcr7data", "sudi-ca",        "tpmpol-admin",
        "tpmpol-luks",  "uefi-db",     "uefi-kek", "uefi-pk",        "uki-limited",
        "uki-production", "uki-tpm",
};

static bool is_key_dir(const char *dir)
{
        for (unsigned i = 0; i < keyset_n_keydirs; i++)
                if (!strcmp(dir, keyset_keydirs[i]))
                        return true;
        return false;
}

static bool valid_keydir(const char *key)
{
        if (!strcmp(key, "pcr7data"))
                return true;
        for (unsigned i = 0; i < keyset_n_keydirs; i++)
                if (!strcmp(key, keyset_keydirs[i]))
                        return true;
        return false;
}

/* One directory of the overview, listed before anything is printed. */
struct listing {
        char *path;
        bool present;
        char **subs, **files;
        char *key_uri; /* the key is in a token (privkey.uri) */
        bool key_file; /* the key is privkey.pem */
};

static void listings_done(struct listing *l, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(l[i].path);
                strv_free(l[i].subs);
                strv_free(l[i].files);
                free(l[i].key_uri);
        }
}

/* Where a key directory's private key lives, as the overview says it. */
static const char *key_where(const struct listing *l)
{
        return l->key_uri ? "pkcs11" : l->key_file ? "file" : "none";
}

static void print_overview(const char *name, const char *ks, const struct listing *l)
{
        printf("keyset %s (%s)\n", name, ks);
        for (size_t i = 0; i < ELEMENTSOF(keyset_dirs); i++) {
                if (!l[i].present) {
                        printf("%s/ (missing)\n", keyset_dirs[i]);
                        continue;
                }
                printf("%s/\n", keyset_dirs[i]);
                for (char **p = l[i].subs; *p; p++)
                        printf("  %s/\n", *p);
                for (char **p = l[i].files; *p; p++)
                        printf("  %s\n", *p);
                if (l[i].key_uri)
                        printf("  (private key in a token: %s)\n", l[i].key_uri);
        }
}

static void print_overview_json(const char *name, const char *ks, const struct listing *l)
{
        putchar('{');
        json_write_member(stdout, false, "keyset", name, 0);
        json_write_member(stdout, true, "path", ks, 0);
        printf(",\"dirs\":[");
        for (size_t i = 0; i < ELEMENTSOF(keyset_dirs); i++) {
                fputs(i ? ",{" : "{", stdout);
                json_write_member(stdout, false, "name", keyset_dirs[i], 0);
                json_write_member(stdout, true, "path", l[i].path, 0);
                printf(",\"present\":%s,\"subdirs\":", l[i].present ? "true" : "false");
                json_write_strv(stdout, l[i].subs, 0);
                printf(",\"files\":");
                json_write_strv(stdout, l[i].files, 0);
                if (is_key_dir(keyset_dirs[i])) {
                        json_write_member(stdout, true, "key", key_where(&l[i]), 0);
                        printf(",\"key_uri\":");
                        if (l[i].key_uri)
                                json_write_string(stdout, l[i].key_uri, 0);
                        else
                                fputs("null", stdout);
                }
                putchar('}');
        }
        printf("]}\n");
}

static int show_keyset_overview(const char *name, const char *ks, bool paths, bool json)
{
        struct listing l[ELEMENTSOF(keyset_dirs)] = {};
        int r = 0;

        if (paths) {
                printf("%s\n", ks);
                for (size_t i = 0; i < ELEMENTSOF(keyset_dirs); i++)
                        printf("%s/%s\n", ks, keyset_dirs[i]);
                return 0;
        }
        /* A missing directory lists as empty. */
        for (size_t i = 0; i < ELEMENTSOF(l) && r >= 0; i++) {
                l[i].path = path_join(ks, keyset_dirs[i]);
                l[i].present = path_exists(l[i].path);
                r = subdir_names(l[i].path, &l[i].subs, NULL);
                if (r >= 0)
                        r = file_names(l[i].path, &l[i].files, NULL);
                if (r >= 0 && is_key_dir(keyset_dirs[i])) {
                        _cleanup_free_ char *pem = path_join(l[i].path, KEYSET_PRIVKEY_PEM);

                        l[i].key_uri = keyset_privkey_uri(l[i].path);
                        l[i].key_file = path_exists(pem);
                }
        }
        if (r >= 0) {
                if (json)
                        print_overview_json(name, ks, l);
                else
                        print_overview(name, ks, l);
        }
        listings_done(l, ELEMENTSOF(l));
        return r < 0 ? op_failed(errf_prefix(r, "keyset '%s'", name)) : 0;
}

/* A file of a key directory, read whole before anything is printed; not read
 * for --path, nor when it is a private key not asked for by name (withheld). */
struct item {
        char *name, *path;
        uint8_t *data; /* NUL-terminated */
        size_t len;
        bool withheld;
};

static void items_free(struct item *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].name);
                free(v[i].path);
                erase_and_freep(&v[i].data);
        }
        free(v);
}

/* The files of keydir named in names, their contents read unless !contents;
 * by_name: the one ITEM asked for. */
static int load_items(const char *keydir, char **names, bool contents, bool by_name,
                      struct item **ret, size_t *ret_n)
{
        size_t n = strv_length(names);
        struct item *v = xmalloc0(n * sizeof(*v));
        int r;

        for (size_t i = 0; i < n; i++) {
                v[i].name = xstrdup(names[i]);
                v[i].path = path_join(keydir, names[i]);
                v[i].withheld = contents && !by_name && !strcmp(names[i], "privkey.pem");
                if (!contents || v[i].withheld)
                        continue;
                r = read_file(v[i].path, 1024 * 1024, &v[i].data, &v[i].len);
                if (r < 0) {
                        items_free(v, n);
                        return r;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static void print_items(const char *name, const char *key, const struct item *v, size_t n,
                        bool paths, bool value)
{
        for (size_t i = 0; i < n; i++) {
                if (paths) {
                        printf("%s\n", v[i].path);
                        continue;
                }
                if (v[i].withheld) {
                        printf("%s\n(private key: 'trust keyset show %s %s %s')\n", v[i].path, name,
                               key, v[i].name);
                        continue;
                }
                if (!value)
                        printf("%s\n", v[i].path);
                fwrite(v[i].data, 1, v[i].len, stdout);
                if (!value && v[i].len > 0 && v[i].data[v[i].len - 1] != '\n')
                        putchar('\n');
        }
}

/* "value" is the contents when they are UTF-8 text (no NUL), else
 * "value_hex" is; the other one is null, and both are for a withheld key
 * (the hex is wiped: binary items may be keys too). */
static void print_item_json(const struct item *it)
{
        bool text = it->data && !memchr(it->data, 0, it->len) &&
                    utf8_valid((const char *)it->data, it->len);
        _cleanup_(erase_and_freep) char *hex =
                it->data && !text ? hex_encode(it->data, it->len) : NULL;

        putchar('{');
        json_write_member(stdout, false, "name", it->name, 0);
        json_write_member(stdout, true, "path", it->path, 0);
        printf(",\"withheld\":%s", it->withheld ? "true" : "false");
        json_write_member(stdout, true, "value", text ? (const char *)it->data : NULL,
                          JSON_SHORT_NL_TAB);
        json_write_member(stdout, true, "value_hex", hex, 0);
        putchar('}');
}

static void print_items_json(const char *name, const char *key, const char *keydir,
                             const struct item *v, size_t n)
{
        putchar('{');
        json_write_member(stdout, false, "keyset", name, 0);
        json_write_member(stdout, true, "key", key, 0);
        json_write_member(stdout, true, "path", keydir, 0);
        printf(",\"items\":[");
        for (size_t i = 0; i < n; i++) {
                if (i)
                        putchar(',');
                print_item_json(&v[i]);
        }
        printf("]}\n");
}

int cmd_keyset_show(int argc, char **argv)
{
        static const struct option opts[] = {
                { "path", no_argument, NULL, 'p' },
                { "value", no_argument, NULL, 'v' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_free_ char *ks = NULL, *keydir = NULL;
        _cleanup_(strv_freep) char **files = NULL;
        struct item *items = NULL;
        size_t n_items;
        bool paths = false, value = false, json = false;
        const char *name, *key, *item;
        struct stat st;
        int c, r;

        getopt_reset(true);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'p':
                        paths = true;
                        break;
                case 'v':
                        value = true;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        fputs(keyset_show_help, stdout);
                        return 0;
                default:
                        return bad_option("keyset show", argv);
                }
        }
        if (paths + value + json > 1)
                return usage_error("keyset show", "--path, --value and --json exclude each other");
        if (argc - optind < 1 || argc - optind > 3)
                return usage_error("keyset show", "expected NAME [KEY [ITEM]]");
        name = argv[optind];
        key = argc - optind >= 2 ? argv[optind + 1] : NULL;
        item = argc - optind >= 3 ? argv[optind + 2] : NULL;
        if ((r = check_name("keyset", name)))
                return r;
        if (value && !item)
                return usage_error("keyset show", "--value needs an ITEM");
        if (key) {
                if (!strncmp(key, "manifest:", 9)) {
                        if ((r = check_name("project", key + 9)))
                                return r;
                } else if (!strcmp(key, "manifest"))
                        return usage_error("keyset show",
                                           "KEY 'manifest' needs a project: manifest:PROJECT");
                else if (!valid_keydir(key))
                        return usage_error("keyset show", "unknown KEY '%s'", key);
        }
        if (item && (r = check_name("item", item)))
                return r;

        r = keyset_path(name, &ks);
        if (r < 0)
                return op_failed(r);
        if (!key)
                return show_keyset_overview(name, ks, paths, json);

        if (!strncmp(key, "manifest:", 9)) {
                keydir = xasprintf("%s/manifest/%s", ks, key + 9);
                if (stat(keydir, &st) < 0 || !S_ISDIR(st.st_mode))
                        return op_failed(errf(-ENOENT, "keyset '%s': project '%s' does not exist",
                                              name, key + 9));
        } else {
                keydir = path_join(ks, key);
                if (stat(keydir, &st) < 0 || !S_ISDIR(st.st_mode))
                        return op_failed(errf(-ENOENT, "keyset '%s': key '%s' does not exist (%s)",
                                              name, key, keydir));
        }

        if (item) {
                _cleanup_free_ char *p = path_join(keydir, item);
                struct strv one = {};

                if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
                        return op_failed(errf(-ENOENT, "keyset '%s': %s has no item '%s'", name,
                                              key, item));
                strv_addl(&one, item, NULL);
                files = strv_steal(&one, NULL);
        } else if ((r = file_names(keydir, &files, NULL)) < 0)
                return op_failed(errf_prefix(r, "keyset '%s'", name));
        r = load_items(keydir, files, !paths, item != NULL, &items, &n_items);
        if (r < 0)
                return op_failed(errf_prefix(r, "keyset '%s'", name));
        if (json)
                print_items_json(name, key, keydir, items, n_items);
        else
                print_items(name, key, items, n_items, paths, value);
        items_free(items, n_items);
        return 0;
}
