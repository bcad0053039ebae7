/* cmd-tpm.c: the on-target TPM commands (provision, preinit, setup,
 * extend-pcr7, tpm status): option parsing and output only; the work is in
 * runtime.c / provision.c. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "target/runtime.h"
#include "target/tpm2.h"

#define COMMON_HELP                                                                                \
        "  --pcr7data DIR      signed policy data (default /pcr7data, else the 'pbf'\n"           \
        "                      partition mounted on /factory/pbf)\n"                              \
        "  -h, --help          show this help\n"                                                   \
        "\nThe TPM is $TRUST_TPM2_TCTI (default device:/dev/tpmrm0), e.g.\n"                      \
        "swtpm:host=127.0.0.1,port=2321.\n"
#define TPM_HELP "\nThe TPM is $TRUST_TPM2_TCTI (default device:/dev/tpmrm0).\n"

enum {
        OPT_PCR7DATA = 0x100,
        OPT_MANIFEST_CA,
        OPT_SECURE_DIR,
        OPT_KEYRING,
        OPT_DISK,
        OPT_WIPE,
        OPT_JSON,
        OPT_OUTPUT,
        OPT_POLICY_VERSION,
        OPT_ADMIN_PASSWORD_FILE,
};

static const struct option common_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "pcr7data", required_argument, NULL, OPT_PCR7DATA },
        { "manifest-ca", required_argument, NULL, OPT_MANIFEST_CA },
        { "secure-dir", required_argument, NULL, OPT_SECURE_DIR },
        { "keyring", required_argument, NULL, OPT_KEYRING },
        { "disk", required_argument, NULL, OPT_DISK },
        { "wipe", no_argument, NULL, OPT_WIPE },
        { "json", no_argument, NULL, OPT_JSON },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "policy-version", required_argument, NULL, OPT_POLICY_VERSION },
        { "admin-password-file", required_argument, NULL, OPT_ADMIN_PASSWORD_FILE },
        {}
};

/* Parses the options every command shares; `allowed` lists the long options
 * the command takes (by their enum value). Returns -1 to go on, else an exit
 * code (0 after --help). */
static int parse(const char *cmd, int argc, char **argv, const int *allowed, size_t n_allowed,
                 const char *help, struct runtime_opts *o, bool *json)
{
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", common_options, NULL)) != -1) {
                bool ok = c == 'h';

                for (size_t i = 0; i < n_allowed; i++)
                        ok = ok || allowed[i] == c;
                if (c == '?' || !ok)
                        return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
                switch (c) {
                case 'h':
                        fputs(help, stdout);
                        return 0;
                case OPT_PCR7DATA:
                        o->pcr7data = optarg;
                        break;
                case OPT_MANIFEST_CA:
                        o->manifest_ca = optarg;
                        break;
                case OPT_SECURE_DIR:
                        if (optarg[0] != '/')
                                return usage_error(cmd, "--secure-dir needs an absolute path");
                        o->secure_dir = optarg;
                        break;
                case OPT_KEYRING:
                        if (keyring_target_from_string(optarg, &o->keyring) < 0)
                                return usage_error(cmd, "%s", err_msg(-EINVAL));
                        o->keyring_given = true;
                        break;
                case OPT_POLICY_VERSION:
                        if (strlen(optarg) != 4 || strspn(optarg, "0123456789") != 4)
                                return usage_error(cmd, "--policy-version needs 4 decimal digits, "
                                                        "not '%s'",
                                                   optarg);
                        o->policy_version = optarg;
                        break;
                case OPT_OUTPUT:
                        if (!optarg[0])
                                return usage_error(cmd, "--output needs a file name or '-'");
                        o->output = optarg;
                        break;
                case OPT_DISK:
                        o->disk = optarg;
                        break;
                case OPT_ADMIN_PASSWORD_FILE:
                        o->admin_password_file = optarg;
                        break;
                case OPT_WIPE:
                        o->wipe = true;
                        break;
                case OPT_JSON:
                        *json = true;
                        break;
                }
        }
        return -1;
}

static void opts_init(struct runtime_opts *o)
{
        *o = (struct runtime_opts){
                .manifest_ca = DEFAULT_MANIFEST_CA,
                .secure_dir = DEFAULT_SECURE_DIR,
                .keyring = KEYRING_USER,
        };
}

int cmd_provision(int argc, char **argv)
{
        static const int allowed[] = { OPT_PCR7DATA, OPT_DISK, OPT_WIPE, OPT_POLICY_VERSION };
        static const char help[] =
                "Usage: trust provision [--disk DEV|any [--wipe]] [--pcr7data DIR]\n"
                "                       [--policy-version NNNN] CERT KEY\n\n"
                "Takes the TPM (clear, dictionary-attack limits, a fresh random admin password\n"
                "for owner, endorsement and lockout that is kept only in NV index 0x01500001\n"
                "under the tpm-admin policy) and stores CERT, KEY and two new LUKS passphrases\n"
                "in NV indices guarded by the signed luks policy (NV layout version 4). Run it\n"
                "from a production-signed provisioning image: the policy keys come from the\n"
                "pcr7data entry of the current PCR7.\n\n"
                "  --disk DEV|any      also write a GPT on DEV (or the first blank fixed disk of\n"
                "                      1 GiB or more) with 'pbf' (ext4, a copy of pcr7data) and\n"
                "                      'sbf' (LUKS2 keyed by NV index 0x01500030)\n"
                "  --wipe              allow --disk to overwrite an existing partition table\n"
                "  --policy-version NNNN  the EA policy version for NV index 0x01500020\n"
                "                      (default 0001): the version the keyset's pcr7data is\n"
                "                      signed for (keyset pcr7data --policy-version); setup\n"
                "                      and preinit use whatever version the TPM holds\n" COMMON_HELP;
        struct runtime_opts o;
        bool json = false;
        int r;

        opts_init(&o);
        r = parse("provision", argc, argv, allowed, ELEMENTSOF(allowed), help, &o, &json);
        if (r >= 0)
                return r;
        if (o.wipe && !o.disk)
                return usage_error("provision", "--wipe needs --disk");
        if (argc - optind != 2)
                return usage_error("provision", "expected CERT and KEY");
        r = runtime_provision(&o, argv[optind], argv[optind + 1]);
        if (r < 0)
                return fail(r, "provision");
        return 0;
}

int cmd_preinit(int argc, char **argv)
{
        static const int allowed[] = { OPT_PCR7DATA, OPT_KEYRING };
        static const char help[] =
                "Usage: trust preinit [--pcr7data DIR] [--keyring user|session]\n\n"
                "First step of an OS install (production-signed installer): writes a new\n"
                "40-character OS passphrase to NV index 0x01500040 through the signed luks\n"
                "policy, adds it to the keyring as the 'user' key machine:luks (root's user\n"
                "keyring unless --keyring session), then extends PCR7. It never reads the old\n"
                "passphrase nor the provisioned key.\n\n"
                "Exit status: 0 done, 1 failed (nothing changed), 2 usage,\n"
                "3 the final PCR7 extend failed: the caller must power off.\n\n" COMMON_HELP;
        struct runtime_opts o;
        bool json = false, unlocked = false;
        int r;

        opts_init(&o);
        r = parse("preinit", argc, argv, allowed, ELEMENTSOF(allowed), help, &o, &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return usage_error("preinit", "unexpected argument '%s'", argv[optind]);
        r = runtime_preinit(&o, &unlocked);
        if (r < 0) {
                fail(r, "preinit");
                return unlocked ? EXIT_PCR7_UNLOCKED : 1;
        }
        return 0;
}

int cmd_setup(int argc, char **argv)
{
        static const int allowed[] = { OPT_PCR7DATA, OPT_MANIFEST_CA, OPT_SECURE_DIR,
                                       OPT_KEYRING };
        static const char help[] =
                "Usage: trust setup [--pcr7data DIR] [--manifest-ca FILE] [--secure-dir DIR]\n"
                "                   [--keyring user|session]\n\n"
                "In the production-signed initrd: reads the provisioned certificate and key and\n"
                "the OS passphrase from the TPM through the signed luks policy, extends PCR7 so\n"
                "nothing later in this boot can read them again, then puts server.crt,\n"
                "server.key and a copy of the manifest CA in a private tmpfs (files 0600, dir\n"
                "0700, not propagated to other mount namespaces) and the passphrase in the\n"
                "keyring as the 'user' key machine:luks.\n\n"
                "  --manifest-ca FILE  the manifest CA to copy (default /manifestCA.pem)\n"
                "  --secure-dir DIR    where the tmpfs goes (default /priv/factory/secure)\n"
                "  --keyring user|session  root's user keyring (default) or the session's\n\n"
                "Exit status: 0 released and locked, 1 failed (nothing released), 2 usage,\n"
                "3 the PCR7 extend failed: nothing was released but the secrets stay readable\n"
                "in this boot, so the caller MUST power off.\n\n" COMMON_HELP;
        struct runtime_opts o;
        bool json = false, unlocked = false;
        int r;

        opts_init(&o);
        r = parse("setup", argc, argv, allowed, ELEMENTSOF(allowed), help, &o, &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return usage_error("setup", "unexpected argument '%s'", argv[optind]);
        r = runtime_setup(&o, &unlocked);
        if (r < 0) {
                fail(r, "setup");
                return unlocked ? EXIT_PCR7_UNLOCKED : 1;
        }
        return 0;
}

int cmd_extend_pcr7(int argc, char **argv)
{
        static const char help[] =
                "Usage: trust extend-pcr7\n\n"
                "Extends PCR7 with the fixed lock digest (SHA-256 of \"atomix\\n\") so the TPM's\n"
                "secrets cannot be read again until the next boot.\n\n"
                "Exit status: 0 extended, 1 failed (the caller must power off), 2 usage.\n"
                "\nThe TPM is $TRUST_TPM2_TCTI (default device:/dev/tpmrm0).\n";
        struct runtime_opts o;
        bool json = false;
        int r;

        opts_init(&o);
        r = parse("extend-pcr7", argc, argv, NULL, 0, help, &o, &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return usage_error("extend-pcr7", "unexpected argument '%s'", argv[optind]);
        r = runtime_extend_pcr7();
        if (r < 0)
                return fail(r, "extend-pcr7");
        return 0;
}

static int tpm_status(int argc, char **argv)
{
        static const int allowed[] = { OPT_JSON };
        static const char help[] =
                "Usage: trust tpm status [--json]\n\n"
                "Shows PCR7, the NV layout and policy versions, and which of trust's NV indices\n"
                "exist with their sizes and attributes. Reads no secret.\n" TPM_HELP;
        struct runtime_opts o;
        bool json = false;
        int r;

        opts_init(&o);
        r = parse("tpm status", argc, argv, allowed, ELEMENTSOF(allowed), help, &o, &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return usage_error("tpm status", "unexpected argument '%s'", argv[optind]);
        r = runtime_status(json);
        if (r < 0)
                return fail(r, "tpm status");
        return 0;
}

static int tpm_admin_password(int argc, char **argv)
{
        static const int allowed[] = { OPT_PCR7DATA, OPT_KEYRING, OPT_OUTPUT };
        static const char help[] =
                "Usage: trust tpm admin-password [--pcr7data DIR]\n"
                "                                [--keyring user|session | --output FILE|-]\n\n"
                "In a tpm-admin-signed (maintenance) OS: reads the TPM admin password from NV\n"
                "index 0x01500001 through the signed passwd policy, extends PCR7 so nothing\n"
                "later in this boot can read it again, checks that the TPM takes it as the\n"
                "owner password, and puts it in the keyring as the 'user' key\n"
                "machine:tpm-admin (root's user keyring unless --keyring session).\n\n"
                "  --output FILE|-     write it to FILE instead (created 0600, never over an\n"
                "                      existing file), '-' to standard output when that is\n"
                "                      not a terminal\n\n"
                "Exit status: 0 read and locked, 1 failed (nothing handed out), 2 usage,\n"
                "3 the PCR7 extend failed: the caller MUST power off.\n\n" COMMON_HELP;
        struct runtime_opts o;
        bool json = false, unlocked = false;
        int r;

        opts_init(&o);
        r = parse("tpm admin-password", argc, argv, allowed, ELEMENTSOF(allowed), help, &o,
                  &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return usage_error("tpm admin-password", "unexpected argument '%s'",
                                   argv[optind]);
        if (o.output && o.keyring_given)
                return usage_error("tpm admin-password",
                                   "--output and --keyring exclude each other");
        if (o.output && !strcmp(o.output, "-") && isatty(STDOUT_FILENO))
                return usage_error("tpm admin-password",
                                   "standard output is a terminal: the password is not shown");
        r = runtime_admin_password(&o, o.output, &unlocked);
        if (r < 0) {
                fail(r, "tpm admin-password");
                return unlocked ? EXIT_PCR7_UNLOCKED : 1;
        }
        return 0;
}

static int tpm_check_locked(int argc, char **argv)
{
        static const int allowed[] = { OPT_PCR7DATA, OPT_ADMIN_PASSWORD_FILE };
        static const char help[] =
                "Usage: trust tpm check-locked [--pcr7data DIR] [--admin-password-file F]\n\n"
                "Tries to read each of trust's policy-guarded NV indices (admin password,\n"
                "certificate, private key, both LUKS passphrases) the way anything in this boot\n"
                "could: with every signed policy in pcr7data (production entries for the luks\n"
                "indices, tpm entries for the admin password; with no policy when none\n"
                "applies), each followed by a one-byte NV_Read whatever the policy steps\n"
                "answered. Prints one line per index: index, role, 'refused', 'READABLE' or\n"
                "'absent' (not defined), and the TPM's answers. Nothing read is shown or kept.\n"
                "With the admin password at hand (F, else the 'user' key machine:tpm-admin in\n"
                "root's user or the session keyring) the secret indices (all but the\n"
                "certificate) are also tried owner-authorized: NV layout 3 lets the owner\n"
                "read them, layout 4 does not.\n\n"
                "  --admin-password-file F  the TPM owner password (one trailing newline is\n"
                "                      dropped); a password the TPM refuses fails the check\n\n"
                "Exit status: 0 the TPM refused every read (locked), 1 the check failed,\n"
                "2 usage, 3 some index is READABLE in this boot.\n\n" COMMON_HELP;
        struct runtime_opts o;
        bool json = false, readable = false;
        int r;

        opts_init(&o);
        r = parse("tpm check-locked", argc, argv, allowed, ELEMENTSOF(allowed), help, &o, &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return usage_error("tpm check-locked", "unexpected argument '%s'", argv[optind]);
        r = runtime_check_locked(&o, &readable);
        if (r < 0)
                return fail(r, "tpm check-locked");
        return readable ? EXIT_PCR7_UNLOCKED : 0;
}

int cmd_tpm(int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*run)(int argc, char **argv);
        } subs[] = {
                { "status", tpm_status },
                { "admin-password", tpm_admin_password },
                { "check-locked", tpm_check_locked },
        };
        static const char help[] =
                "Usage: trust tpm status [--json]\n"
                "       trust tpm admin-password [--pcr7data DIR]\n"
                "                                [--keyring user|session | --output FILE|-]\n"
                "       trust tpm check-locked [--pcr7data DIR] [--admin-password-file F]\n\n"
                "  status          PCR7, NV layout and policy versions, trust's NV indices\n"
                "                  (reads no secret)\n"
                "  admin-password  in a tpm-admin-signed OS: the TPM owner password, then\n"
                "                  PCR7 is extended\n"
                "  check-locked    try to read every guarded index; exit 0 when the TPM\n"
                "                  refuses them all\n\n"
                "'trust tpm SUBCOMMAND --help' describes one.\n" TPM_HELP;

        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
                fputs(help, stdout);
                return 0;
        }
        for (size_t i = 0; argc >= 2 && i < ELEMENTSOF(subs); i++)
                if (!strcmp(argv[1], subs[i].name))
                        return subs[i].run(argc - 1, argv + 1);
        if (argc < 2)
                return usage_error("tpm", "expected 'status', 'admin-password' or 'check-locked'");
        return usage_error("tpm", "unknown subcommand '%s' (expected 'status', 'admin-password' "
                                  "or 'check-locked')",
                           argv[1]);
}
