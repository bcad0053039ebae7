/* cmd-keyset.c: the keyset administration commands: initkeyset, keyset
 * (add/list/show; pcr7data lives in cmd-pcr7.c), project, sudi, new-uuid.
 * Argument parsing and output only; the work is in keyset.c, project.c,
 * sudi.c and x509.c. */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/json.h"
#include "base/utf8.h"
#include "cli/commands.h"
#include "keys/keyset.h"
#include "keys/project.h"
#include "keys/sudi.h"
#include "base/util.h"
#include "keys/x509.h"
#include "keys/keyset-path.h"
#include "base/dirlist.h"

#define MAX_ORGS 16

/* Name checks before any work: a bad name is a usage error (exit 2). */
static int check_name(const char *what, const char *name)
{
        int r = name_validate(what, name);

        if (r < 0) {
                log_error("%s", err_msg(r));
                return EXIT_USAGE;
        }
        return 0;
}

/* getopt's own messages are off (getopt_reset(true)) so a bad option gives one line. */
static int bad_option(const char *cmd, char **argv)
{
        return usage_error(cmd, "bad option '%s' or missing argument", argv[optind - 1]);
}

/* Prints the library's message, which already names the object. */
static int op_failed(int r)
{
        log_error("%s", err_msg(r));
        return 1;
}

/* ---- keyset add / initkeyset ---- */

static const char keyset_add_help[] =
        "Usage: trust keyset add [--org ORG]... NAME\n"
        "       trust initkeyset --keysetname NAME [--org ORG]...\n\n"
        "Create keyset NAME in $XDG_DATA_HOME/machine/trust/keys/: RSA-2048 keys and\n"
        "certs for manifest-ca, sudi-ca, uefi-pk, uefi-kek, uefi-db, uki-production,\n"
        "uki-tpm, uki-limited, tpmpol-admin, tpmpol-luks, project 'default' and\n"
        "pcr7data/. The keyset appears whole or not at all.\n"
        "NAME 'snakeoil' installs the bundled public test keyset instead.\n\n"
        "  --org ORG   subject O of the certificates (repeatable)\n"
        "  --generate  generate fresh keys even for 'snakeoil' (how keysets/snakeoil\n"
        "              was made)\n"
        "  --help      show this help\n";

static int keyset_add(const char *cmd, const char *name, const char *const *orgs, size_t n_orgs,
                      bool generate)
{
        _cleanup_free_ char *src = NULL;
        int r;

        if ((r = check_name("keyset", name)))
                return r;
        for (size_t i = 0; i < n_orgs; i++) {
                r = x509_check_attr("organization", orgs[i]);
                if (r < 0) {
                        log_error("%s: %s", cmd, err_msg(r));
                        return EXIT_USAGE;
                }
        }
        keysets_clean_stale();

        if (!strcmp(name, "snakeoil") && !generate) {
                if (n_orgs > 0)
                        return usage_error(cmd, "--org cannot be used for the bundled snakeoil keyset");
                r = snakeoil_dir(&src);
                if (r < 0)
                        return op_failed(errf_prefix(r, "keyset 'snakeoil'"));
                r = keyset_install_copy(name, src);
        } else
                r = keyset_create(name, orgs, n_orgs);
        if (r < 0)
                return op_failed(r);
        return 0;
}

/* One parser for both spellings: `initkeyset --keysetname NAME` (name_option:
 * options end at the first argument) and `keyset add NAME`. */
static int keyset_add_args(const char *cmd, bool name_option, int argc, char **argv)
{
        static const struct option opts[] = {
                { "keysetname", required_argument, NULL, 'k' },
                { "org", required_argument, NULL, 'o' },
                { "generate", no_argument, NULL, 'g' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        /* `keyset add` has no --keysetname: its table starts after it. */
        const struct option *table = name_option ? opts : opts + 1;
        const char *optstring = name_option ? "+h" : "h";
        const char *orgs[MAX_ORGS], *name = NULL;
        bool generate = false;
        size_t n_orgs = 0;
        int c;

        getopt_reset(true);
        while ((c = getopt_long(argc, argv, optstring, table, NULL)) >= 0) {
                switch (c) {
                case 'k':
                        name = optarg;
                        break;
                case 'o':
                        if (n_orgs == MAX_ORGS)
                                return usage_error(cmd, "at most %d --org", MAX_ORGS);
                        orgs[n_orgs++] = optarg;
                        break;
                case 'g':
                        generate = true;
                        break;
                case 'h':
                        fputs(keyset_add_help, stdout);
                        return 0;
                default:
                        return bad_option(cmd, argv);
                }
        }
        if (name_option) {
                if (optind < argc)
                        return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
                if (!name)
                        return usage_error(cmd, "--keysetname is required");
        } else {
                if (argc - optind != 1)
                        return usage_error(cmd, "expected one keyset NAME");
                name = argv[optind];
        }
        return keyset_add(cmd, name, orgs, n_orgs, generate);
}

int cmd_initkeyset(int argc, char **argv)
{
        return keyset_add_args("initkeyset", true, argc, argv);
}

/* ---- keyset list, project list, sudi list ---- */

/* One name a line, or with --json an array of {"name":...} objects (objects,
 * so that a field can be added without breaking a reader). */
static void print_names(char **v, bool json)
{
        if (!json) {
                for (char **p = v; *p; p++)
                        printf("%s\n", *p);
                return;
        }
        putchar('[');
        for (char **p = v; *p; p++) {
                fputs(p == v ? "{" : ",{", stdout);
                json_write_member(stdout, false, "name", *p, 0);
                putchar('}');
        }
        printf("]\n");
}

/* The arguments of a list command: --json, --help and n_args names, which
 * start at argv[optind] afterwards. -1 to go on, else the exit code. */
static int list_args(const char *cmd, const char *help, const char *expected, int n_args,
                     int argc, char **argv, bool *json)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        getopt_reset(true);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        *json = true;
                        break;
                case 'h':
                        fputs(help, stdout);
                        return 0;
                default:
                        return bad_option(cmd, argv);
                }
        }
        if (argc - optind != n_args)
                return usage_error(cmd, "%s", expected);
        return -1;
}

static const char keyset_list_help[] =
        "Usage: trust keyset list [--json]\n\n"
        "List the keysets in $XDG_DATA_HOME/machine/trust/keys/, one a line.\n\n"
        "  --json    a JSON array instead: [{\"name\":KEYSET},...]\n";

static int keyset_list_cmd(int argc, char **argv)
{
        _cleanup_free_ char *root = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        bool json = false;
        size_t n;
        int r;

        if (argc == 2 && is_help_word(argv[1])) {
                fputs(keyset_list_help, stdout);
                return 0;
        }
        r = list_args("keyset list", keyset_list_help, "takes no arguments", 0, argc, argv, &json);
        if (r >= 0)
                return r;
        keysets_clean_stale(); /* leftovers of killed runs would only confuse */
        r = keysets_root(&root);
        if (r < 0)
                return op_failed(r);
        r = subdir_names(root, &names, &n);
        if (r < 0)
                return op_failed(r);
        print_names(names, json);
        return 0;
}

/* ---- keyset show ---- */

static const char keyset_show_help[] =
        "Usage: trust keyset show NAME [KEY [ITEM]] [--path|--value|--json]\n\n"
        "Show a keyset. KEY is a key directory (manifest-ca, sudi-ca, uefi-pk, uefi-kek,\n"
        "uefi-db, uki-production, uki-tpm, uki-limited, tpmpol-admin, tpmpol-luks,\n"
        "pcr7data) or manifest:PROJECT; ITEM a file in it (cert.pem, guid, ...).\n"
        "A private key is shown only when asked for as ITEM.\n\n"
        "  --path    print paths only\n"
        "  --value   print the ITEM's contents only\n"
        "  --json    {\"keyset\",\"path\",\"dirs\":[{\"name\",\"path\",\"present\",\"subdirs\",\"files\"}]};\n"
        "            with KEY {\"keyset\",\"key\",\"path\",\"items\":[{\"name\",\"path\",\"withheld\",\n"
        "            \"value\",\"value_hex\"}]} (value: UTF-8 text, else value_hex)\n"
        "  --help    show this help\n";

/* The spec's directory order (keysets.md "Keyset layout"). */
static const char *const keyset_dirs[] = {
        "manifest",     "manifest-ca", "pcr7data", "sudi-ca",        "tpmpol-admin",
        "tpmpol-luks",  "uefi-db",     "uefi-kek", "uefi-pk",        "uki-limited",
        "uki-production", "uki-tpm",
};

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
};

static void listings_done(struct listing *l, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(l[i].path);
                strv_free(l[i].subs);
                strv_free(l[i].files);
        }
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

/* The files of keydir named in names; by_name: the one ITEM asked for. */
static int load_items(const char *keydir, char **names, bool read, bool by_name,
                      struct item **ret, size_t *ret_n)
{
        size_t n = strv_length(names);
        struct item *v = xmalloc0((n ? n : 1) * sizeof(*v));
        int r;

        for (size_t i = 0; i < n; i++) {
                v[i].name = xstrdup(names[i]);
                v[i].path = path_join(keydir, names[i]);
                v[i].withheld = read && !by_name && !strcmp(names[i], "privkey.pem");
                if (!read || v[i].withheld)
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
 * "value_hex" is; the other one is null, and both are for a withheld key. */
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

static int keyset_show_cmd(int argc, char **argv)
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

/* ---- keyset path: where a keyset is, for scripts (mb-hooks/lib.sh) ---- */

static int keyset_path_cmd(int argc, char **argv)
{
        _cleanup_free_ char *ks = NULL, *project = NULL;
        int r;

        if (argc == 2 && is_help_arg(argv[1])) {
                printf("Usage: trust keyset path NAME [PROJECT]\n\n"
                       "Print the directory of keyset NAME; with PROJECT, only if the keyset\n"
                       "has that project. Names are checked as every trust command checks them.\n");
                return 0;
        }
        if (argc < 2 || argc > 3)
                return usage_error("keyset path", "expected NAME [PROJECT]");
        if ((r = check_name("keyset", argv[1])) ||
            (argc == 3 && (r = check_name("project", argv[2]))))
                return r;
        r = keyset_path(argv[1], &ks);
        if (r >= 0 && argc == 3)
                r = project_path(argv[1], argv[2], &project);
        if (r < 0)
                return op_failed(r);
        printf("%s\n", ks);
        return 0;
}

int cmd_keyset(int argc, char **argv)
{
        if (argc < 2) {
                usage_error("keyset", "expected a subcommand: add, list, show, pcr7data");
                return EXIT_USAGE;
        }
        if (is_help_word(argv[1])) {
                printf("Usage: trust keyset add [--org ORG]... NAME\n"
                       "       trust keyset list [--json]\n"
                       "       trust keyset show NAME [KEY [ITEM]] [--path|--value|--json]\n"
                       "       trust keyset pcr7data NAME ...\n"
                       "       trust keyset path NAME [PROJECT]\n\n"
                       "Manage keysets in $XDG_DATA_HOME/machine/trust/keys/.\n"
                       "'trust keyset SUBCOMMAND --help' describes a subcommand.\n");
                return 0;
        }
        if (!strcmp(argv[1], "add"))
                return keyset_add_args("keyset add", false, argc - 1, argv + 1);
        if (!strcmp(argv[1], "list"))
                return keyset_list_cmd(argc - 1, argv + 1);
        if (!strcmp(argv[1], "show"))
                return keyset_show_cmd(argc - 1, argv + 1);
        if (!strcmp(argv[1], "pcr7data"))
                return cmd_keyset_pcr7data(argc - 1, argv + 1);
        if (!strcmp(argv[1], "path"))
                return keyset_path_cmd(argc - 1, argv + 1);
        return usage_error("keyset", "unknown subcommand '%s'", argv[1]);
}

/* ---- project ---- */

static const char project_help[] =
        "Usage: trust project add KEYSET PROJECT\n"
        "       trust project list KEYSET [--json]\n\n"
        "A project is a product inside a keyset: a uuid, a keypair and a cert\n"
        "(CN 'manifest PRODUCT:<uuid>') issued by the keyset's manifest-ca, and\n"
        "a sudi/ dir for its machines' SUDI certs. 'list' prints one a line;\n"
        "with --json a JSON array: [{\"name\":PROJECT},...]\n";

int cmd_project(int argc, char **argv)
{
        _cleanup_(strv_freep) char **names = NULL;
        _cleanup_free_ char *path = NULL;
        bool json = false;
        size_t n;
        int r;

        if (argc < 2)
                return usage_error("project", "expected a subcommand: add, list");
        if (is_help_word(argv[1]) || (argc == 3 && is_help_word(argv[2]))) {
                fputs(project_help, stdout);
                return 0;
        }
        if (!strcmp(argv[1], "add")) {
                if (argc != 4)
                        return usage_error("project add", "expected KEYSET PROJECT");
                if ((r = check_name("keyset", argv[2])) || (r = check_name("project", argv[3])))
                        return r;
                keysets_clean_stale();
                r = project_create(argv[2], argv[3], &path);
                if (r < 0)
                        return op_failed(r);
                printf("%s\n", path);
                return 0;
        }
        if (!strcmp(argv[1], "list")) {
                r = list_args("project list", project_help, "expected KEYSET", 1, argc - 1,
                              argv + 1, &json);
                if (r >= 0)
                        return r;
                if ((r = check_name("keyset", argv[1 + optind])))
                        return r;
                r = project_list(argv[1 + optind], &names, &n);
                if (r < 0)
                        return op_failed(r);
                print_names(names, json);
                return 0;
        }
        return usage_error("project", "unknown subcommand '%s'", argv[1]);
}

/* ---- sudi ---- */

static const char sudi_help[] =
        "Usage: trust sudi add KEYSET PROJECT [SERIAL]\n"
        "       trust sudi list KEYSET PROJECT [--json]\n\n"
        "Issue a per-machine SUDI keypair and cert (issued by the keyset's sudi-ca)\n"
        "into <keyset>/manifest/<project>/sudi/<serial>/; SERIAL defaults to a\n"
        "fresh UUID. 'add' prints the serial. 'list' prints the serials one a line;\n"
        "with --json a JSON array: [{\"name\":SERIAL},...]\n";

int cmd_sudi(int argc, char **argv)
{
        _cleanup_(strv_freep) char **names = NULL;
        _cleanup_free_ char *serial = NULL;
        bool json = false;
        size_t n;
        int r;

        if (argc < 2)
                return usage_error("sudi", "expected a subcommand: add, list");
        if (is_help_word(argv[1]) || (argc >= 3 && is_help_word(argv[2]))) {
                fputs(sudi_help, stdout);
                return 0;
        }
        if (!strcmp(argv[1], "add")) {
                if (argc != 4 && argc != 5)
                        return usage_error("sudi add", "expected KEYSET PROJECT [SERIAL]");
                if ((r = check_name("keyset", argv[2])) || (r = check_name("project", argv[3])) ||
                    (argc == 5 && (r = check_name("serial", argv[4]))))
                        return r;
                if (argc == 5 && (r = x509_check_attr("serial", argv[4])) < 0) {
                        log_error("%s", err_msg(r));
                        return EXIT_USAGE;
                }
                keysets_clean_stale();
                r = sudi_issue(argv[2], argv[3], argc == 5 ? argv[4] : NULL, NULL, &serial);
                if (r < 0)
                        return op_failed(r);
                printf("%s\n", serial);
                return 0;
        }
        if (!strcmp(argv[1], "list")) {
                r = list_args("sudi list", sudi_help, "expected KEYSET PROJECT", 2, argc - 1,
                              argv + 1, &json);
                if (r >= 0)
                        return r;
                argv += 1 + optind; /* KEYSET PROJECT */
                if ((r = check_name("keyset", argv[0])) || (r = check_name("project", argv[1])))
                        return r;
                r = sudi_list(argv[0], argv[1], &names, &n);
                if (r < 0)
                        return op_failed(r);
                print_names(names, json);
                return 0;
        }
        return usage_error("sudi", "unknown subcommand '%s'", argv[1]);
}

/* ---- new-uuid ---- */

int cmd_new_uuid(int argc, char **argv)
{
        static const struct option opts[] = {
                { "keysetname", required_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_free_ char *dir = NULL;
        const char *name = NULL;
        char uuid[37];
        int c, r;

        getopt_reset(true);
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                switch (c) {
                case 'k':
                        name = optarg;
                        break;
                case 'h':
                        printf("Usage: trust new-uuid --keysetname NAME\n\n"
                               "Make a product uuid, an RSA-2048 keypair and a cert (CN 'manifest\n"
                               "PRODUCT:<uuid>') issued by keyset NAME's manifest-ca, in\n"
                               "$XDG_CONFIG_HOME/machine/trust/manifest/; prints that directory.\n");
                        return 0;
                default:
                        return bad_option("new-uuid", argv);
                }
        }
        if (optind < argc)
                return usage_error("new-uuid", "unexpected argument '%s'", argv[optind]);
        if (!name)
                return usage_error("new-uuid", "--keysetname is required");
        if ((r = check_name("keyset", name)))
                return r;
        r = new_uuid_create(name, &dir, uuid);
        if (r < 0)
                return op_failed(r);
        printf("%s\n", dir);
        return 0;
}
