/* cmd-keyset.c: the keyset administration commands: initkeyset, keyset
 * (add/list/path; show lives in cmd-keyset-show.c, pcr7data in cmd-pcr7.c),
 * project, sudi, new-uuid.
 * Argument parsing and output only; the work is in keyset.c, project.c,
 * sudi.c and x509.c. */
#include <getopt.h>
#include <stdio.h>

#include "base/json.h"
#include "cli/commands.h"
#include "keys/keyset.h"
#include "keys/project.h"
#include "keys/sudi.h"
#include "base/util.h"
#include "formats/pkcs11-uri.h"
#include "keys/keyset-key.h"
#include "keys/x509.h"
#include "keys/keyset-path.h"
#include "base/dirlist.h"

#define MAX_ORGS 16

/* ---- keyset add / initkeyset ---- */

static const char keyset_add_help[] =
        "Usage: trust keyset add [--org ORG]... [--pkcs11 URI] NAME\n"
        "       trust initkeyset --keysetname NAME [--org ORG]...\n\n"
        "Create keyset NAME in $XDG_DATA_HOME/machine/trust/keys/: RSA-2048 keys and\n"
        "certs for manifest-ca, sudi-ca, uefi-pk, uefi-kek, uefi-db, uki-production,\n"
        "uki-tpm, uki-limited, tpmpol-admin, tpmpol-luks, project 'default' and\n"
        "pcr7data/. The keyset appears whole or not at all.\n"
        "NAME 'snakeoil' installs the bundled public test keyset instead.\n\n"
        "  --org ORG   subject O of the certificates (repeatable)\n"
        "  --pkcs11 URI  make the keys of manifest-ca ... tpmpol-luks in the PKCS#11\n"
        "              token URI names (RFC 7512; module-path, else p11-kit's proxy),\n"
        "              labelled with their item names: each item holds privkey.uri\n"
        "              instead of privkey.pem. The PIN comes from $TRUST_PKCS11_PIN or\n"
        "              the URI's pin-source file\n"
        "  --generate  generate fresh keys even for 'snakeoil' (how keysets/snakeoil\n"
        "              was made)\n"
        "  --help      show this help\n";

static int keyset_add(const char *cmd, const char *name, const char *const *orgs, size_t n_orgs,
                      bool generate, const char *pkcs11)
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
        if (pkcs11) {
                struct pkcs11_uri u;

                r = pkcs11_uri_parse(pkcs11, &u);
                if (r < 0)
                        return usage_error(cmd, "--pkcs11: %s", err_msg(r));
                pkcs11_uri_done(&u);
        }
        keysets_clean_stale();

        if (!strcmp(name, "snakeoil") && !generate) {
                if (pkcs11)
                        return usage_error(cmd, "--pkcs11 cannot be used for the bundled "
                                                "snakeoil keyset");
                if (n_orgs > 0)
                        return usage_error(cmd, "--org cannot be used for the bundled snakeoil keyset");
                r = snakeoil_dir(&src);
                if (r < 0)
                        return op_failed(errf_prefix(r, "keyset 'snakeoil'"));
                r = keyset_install_copy(name, src);
        } else
                r = keyset_create(name, orgs, n_orgs, pkcs11);
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
                { "pkcs11", required_argument, NULL, 'p' },
                {},
        };
        /* `keyset add` has no --keysetname: its table starts after it. */
        const struct option *table = name_option ? opts : opts + 1;
        const char *optstring = name_option ? "+h" : "h";
        const char *orgs[MAX_ORGS], *name = NULL, *pkcs11 = NULL;
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
                case 'p':
                        if (name_option)
                                return bad_option(cmd, argv);
                        pkcs11 = optarg;
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
        return keyset_add(cmd, name, orgs, n_orgs, generate, pkcs11);
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

static int keyset_import_key_cmd(int argc, char **argv)
{
        static const char help[] =
                "Usage: trust keyset import-key KEYSET ITEM URI\n\n"
                "Moves the private key of ITEM (manifest-ca, sudi-ca, uefi-pk, uefi-kek,\n"
                "uefi-db, uki-production, uki-tpm, uki-limited, tpmpol-admin, tpmpol-luks)\n"
                "into the PKCS#11 token URI names (RFC 7512; module-path, else p11-kit's\n"
                "proxy), labelled ITEM; checks that the token's key signs what the item's\n"
                "certificate verifies; writes ITEM/privkey.uri, then overwrites and removes\n"
                "ITEM/privkey.pem. Every command that signs with ITEM then uses the token.\n"
                "The PIN comes from $TRUST_PKCS11_PIN or the URI's pin-source file (a PIN\n"
                "in the URI is refused).\n\n"
                "  --help      show this help\n";
        struct pkcs11_uri u;
        int r;

        if (argc >= 2 && is_help_word(argv[1])) {
                fputs(help, stdout);
                return 0;
        }
        if (argc != 4)
                return usage_error("keyset import-key", "expected KEYSET ITEM URI");
        r = pkcs11_uri_parse(argv[3], &u);
        if (r < 0)
                return usage_error("keyset import-key", "%s", err_msg(r));
        pkcs11_uri_done(&u);
        r = keyset_import_key(argv[1], argv[2], argv[3]);
        if (r < 0)
                return op_failed(r);
        printf("%s: the key of %s is in the token now\n", argv[1], argv[2]);
        return 0;
}

int cmd_keyset(int argc, char **argv)
{
        if (argc < 2) {
                usage_error("keyset", "expected a subcommand: add, list, show, pcr7data, rollout, "
                                      "path, import-key");
                return EXIT_USAGE;
        }
        if (is_help_word(argv[1])) {
                printf("Usage: trust keyset add [--org ORG]... [--pkcs11 URI] NAME\n"
                       "       trust keyset list [--json]\n"
                       "       trust keyset show NAME [KEY [ITEM]] [--path|--value|--json]\n"
                       "       trust keyset pcr7data NAME ...\n"
                       "       trust keyset rollout NAME FILE.auth... [--dbx FILE] [--policy-version NNNN]\n"
                       "       trust keyset path NAME [PROJECT]\n"
                       "       trust keyset import-key KEYSET ITEM URI\n\n"
                       "Manage keysets in $XDG_DATA_HOME/machine/trust/keys/.\n"
                       "'trust keyset SUBCOMMAND --help' describes a subcommand.\n");
                return 0;
        }
        if (!strcmp(argv[1], "add"))
                return keyset_add_args("keyset add", false, argc - 1, argv + 1);
        if (!strcmp(argv[1], "list"))
                return keyset_list_cmd(argc - 1, argv + 1);
        if (!strcmp(argv[1], "show"))
                return cmd_keyset_show(argc - 1, argv + 1);
        if (!strcmp(argv[1], "pcr7data"))
                return cmd_keyset_pcr7data(argc - 1, argv + 1);
        if (!strcmp(argv[1], "rollout"))
                return cmd_keyset_rollout(argc - 1, argv + 1);
        if (!strcmp(argv[1], "path"))
                return keyset_path_cmd(argc - 1, argv + 1);
        if (!strcmp(argv[1], "import-key"))
                return keyset_import_key_cmd(argc - 1, argv + 1);
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
