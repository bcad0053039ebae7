/* cmd-tpm.c: the on-target commands (provision, preinit, setup,
 * extend-pcr7, tpm status/admin-password/check-locked): option parsing, exit
 * codes and output only; the workflows are in target/runtime.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "cli/commands.h"
#include "target/held-key.h"
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
        OPT_HANDLE,
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
        { "handle", required_argument, NULL, OPT_HANDLE },
        {}
};

/* Parses the options every command shares; `allowed` lists the long options
 * the command takes (by their enum value). Returns -1 to go on, else an exit
 * code (0 after --help). */
static int parse(const char *cmd, int argc, char **argv, const int *allowed, size_t n_allowed,
                 const char *help, struct runtime_opts *o, bool *json)
{
        char *end;
        int c;

        getopt_reset(false);
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
                        if (!policy_version_valid(optarg))
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
                case OPT_HANDLE:
                        errno = 0;
                        o->handle = (uint32_t)strtoul(optarg, &end, 16);
                        if (errno || *end || strncmp(optarg, "0x", 2) ||
                            strlen(optarg) != 10 || !tpm2_persistent_handle_valid(o->handle))
                                return usage_error(cmd, "--handle needs a persistent handle "
                                                        "0x81000000-0x817fffff, not '%s'",
                                                   optarg);
                        break;
                case OPT_JSON:
                        *json = true;
                        break;
                }
        }
        return -1;
}

/* The exit status of a locking workflow: 0 done and locked, 1 failed (PCR7
 * locked, or the TPM never opened), EXIT_PCR7_UNLOCKED when the lock itself
 * failed and the caller must power off. */
static int exit_locked(int r, bool lock_failed, const char *cmd)
{
        if (r >= 0)
                return 0;
        fail(r, "%s", cmd);
        return lock_failed ? EXIT_PCR7_UNLOCKED : 1;
}

static void opts_init(struct runtime_opts *o)
{
        *o = (struct runtime_opts){
                .handle = TPM2_HELD_KEY_HANDLE,
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
                "pcr7data entry of the current PCR7. Once the TPM is open, PCR7 is extended\n"
                "at the end whatever happens (and read back), so nothing later in this boot\n"
                "reads what was written.\n\n"
                "  --disk DEV|any      also write a GPT on DEV (or the first blank fixed disk of\n"
                "                      1 GiB or more) with 'pbf' (ext4, a copy of pcr7data) and\n"
                "                      'sbf' (LUKS2 keyed by NV index 0x01500030)\n"
                "  --wipe              allow --disk to overwrite an existing partition table\n"
                "  --policy-version NNNN  the EA policy version for NV index 0x01500020\n"
                "                      (default 0001): the version the keyset's pcr7data is\n"
                "                      signed for (keyset pcr7data --policy-version); setup\n"
                "                      and preinit use whatever version the TPM holds\n\n"
                "Exit status: 0 provisioned and PCR7 locked, 1 failed (PCR7 locked, unless\n"
                "the TPM could not be opened), 2 usage,\n"
                "3 the PCR7 lock failed (extend or read-back): the caller MUST power off.\n\n"
                COMMON_HELP;
        struct runtime_opts o;
        bool json = false, lock_failed = false;
        int r;

        opts_init(&o);
        r = parse("provision", argc, argv, allowed, ELEMENTSOF(allowed), help, &o, &json);
        if (r >= 0)
                return r;
        if (o.wipe && !o.disk)
                return usage_error("provision", "--wipe needs --disk");
        if (argc - optind != 2)
                return usage_error("provision", "expected CERT and KEY");
        r = runtime_provision(&o, argv[optind], argv[optind + 1], &lock_failed);
        return exit_locked(r, lock_failed, "provision");
}

int cmd_preinit(int argc, char **argv)
{
        static const int allowed[] = { OPT_PCR7DATA, OPT_KEYRING };
        static const char help[] =
                "Usage: trust preinit [--pcr7data DIR] [--keyring user|session]\n\n"
                "First step of an OS install (production-signed installer): writes a new\n"
                "40-character OS passphrase to NV index 0x01500040 through the signed luks\n"
                "policy, extends PCR7, then adds the passphrase to the keyring as the 'user'\n"
                "key machine:luks (root's user keyring unless --keyring session). It never\n"
                "reads the old passphrase nor the provisioned key. Once the TPM is open,\n"
                "PCR7 is extended whatever happens (and read back).\n\n"
                "Exit status: 0 done and locked, 1 failed (nothing in the keyring; PCR7 locked,\n"
                "unless the TPM could not be opened; the old passphrase is replaced only when\n"
                "the keyring refused the new one, which the message says), 2 usage,\n"
                "3 the PCR7 lock failed (extend or read-back): the caller MUST power off.\n\n"
                COMMON_HELP;
        struct runtime_opts o;
        bool json = false, lock_failed = false;
        int r;

        opts_init(&o);
        r = parse("preinit", argc, argv, allowed, ELEMENTSOF(allowed), help, &o, &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return usage_error("preinit", "unexpected argument '%s'", argv[optind]);
        r = runtime_preinit(&o, &lock_failed);
        return exit_locked(r, lock_failed, "preinit");
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
                "keyring as the 'user' key machine:luks. Once the TPM is open, PCR7 is\n"
                "extended whatever happens (and read back), before anything is released.\n\n"
                "  --manifest-ca FILE  the manifest CA to copy (default /manifestCA.pem)\n"
                "  --secure-dir DIR    where the tmpfs goes (default /priv/factory/secure)\n"
                "  --keyring user|session  root's user keyring (default) or the session's\n\n"
                "Exit status: 0 released and locked, 1 failed (nothing released; PCR7 locked,\n"
                "unless the TPM could not be opened and nothing was read), 2 usage,\n"
                "3 the PCR7 lock failed (extend or read-back): nothing was released but the\n"
                "secrets may stay readable in this boot, so the caller MUST power off.\n\n"
                COMMON_HELP;
        struct runtime_opts o;
        bool json = false, lock_failed = false;
        int r;

        opts_init(&o);
        r = parse("setup", argc, argv, allowed, ELEMENTSOF(allowed), help, &o, &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return usage_error("setup", "unexpected argument '%s'", argv[optind]);
        r = runtime_setup(&o, &lock_failed);
        return exit_locked(r, lock_failed, "setup");
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
        r = runtime_extend_pcr7(&o, NULL);
        if (r < 0)
                return fail(r, "extend-pcr7");
        return 0;
}

/* Secret slots the owner can read (NV layout 3): re-provisioning fixes it. */
static unsigned owner_reads(const struct truststore_report *rep)
{
        unsigned n = 0;

        for (size_t i = 0; i < rep->n_entries; i++)
                n += rep->entries[i].defined && rep->entries[i].owner_reads;
        return n;
}

static void print_status(const struct runtime_status *st)
{
        _cleanup_free_ char *pcr = hex_encode(st->pcr7, 32);
        const struct truststore_report *rep = &st->store;
        unsigned owner = owner_reads(rep);

        printf("pcr7: %s\nlayout version: %s\npolicy version: %s\n", pcr,
               rep->layout_version ? rep->layout_version : "(none)",
               rep->policy_version ? rep->policy_version : "(none)");
        for (size_t i = 0; i < rep->n_entries; i++) {
                const struct truststore_entry *e = &rep->entries[i];

                if (!e->defined)
                        printf("0x%08x %-15s not defined\n", e->id, e->role);
                else
                        printf("0x%08x %-15s %5u bytes  %s%s\n", e->id, e->role, e->size,
                               e->attributes, e->policy ? "  (policy)" : "");
        }
        if (owner)
                printf("owner: the TPM owner (admin password) can read %u secret indices (NV "
                       "layout 3); re-provisioning moves them to layout 4, where only their "
                       "signed policy reads them\n",
                       owner);
}

/* A JSON string value or null (the versions are digits, the rest fixed names). */
static void print_json_version(const char *name, const char *v)
{
        if (v)
                printf(",\"%s\":\"%s\"", name, v);
        else
                printf(",\"%s\":null", name);
}

static void print_status_json(const struct runtime_status *st)
{
        _cleanup_free_ char *pcr = hex_encode(st->pcr7, 32);
        const struct truststore_report *rep = &st->store;

        printf("{\"pcr7\":\"%s\"", pcr);
        print_json_version("layout_version", rep->layout_version);
        print_json_version("policy_version", rep->policy_version);
        printf(",\"indices\":[");
        for (size_t i = 0; i < rep->n_entries; i++) {
                const struct truststore_entry *e = &rep->entries[i];

                printf("%s{\"index\":\"0x%08x\",\"role\":\"%s\",\"defined\":%s", i ? "," : "",
                       e->id, e->role, e->defined ? "true" : "false");
                if (e->defined)
                        printf(",\"size\":%u,\"attributes\":\"%s\",\"policy\":%s", e->size,
                               e->attributes, e->policy ? "true" : "false");
                printf("}");
        }
        printf("],\"owner_reads_secrets\":%s}\n", owner_reads(rep) ? "true" : "false");
}

static int tpm_status(int argc, char **argv)
{
        static const int allowed[] = { OPT_JSON };
        static const char help[] =
                "Usage: trust tpm status [--json]\n\n"
                "Shows PCR7, the NV layout and policy versions, and which of trust's NV indices\n"
                "exist with their sizes and attributes. Reads no secret.\n\n"
                "  --json    {\"pcr7\",\"layout_version\",\"policy_version\",\"indices\":[{\"index\",\n"
                "            \"role\",\"defined\",\"size\",\"attributes\",\"policy\"}],\n"
                "            \"owner_reads_secrets\"}\n" TPM_HELP;
        struct runtime_status st;
        struct runtime_opts o;
        bool json = false;
        int r;

        opts_init(&o);
        r = parse("tpm status", argc, argv, allowed, ELEMENTSOF(allowed), help, &o, &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return usage_error("tpm status", "unexpected argument '%s'", argv[optind]);
        r = runtime_status(&o, &st);
        if (r < 0)
                return fail(r, "tpm status");
        if (json)
                print_status_json(&st);
        else
                print_status(&st);
        runtime_status_done(&st);
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
                "machine:tpm-admin (root's user keyring unless --keyring session). Once the\n"
                "TPM is open, PCR7 is extended whatever happens (and read back).\n\n"
                "  --output FILE|-     write it to FILE instead (created 0600, never over an\n"
                "                      existing file), '-' to standard output when that is\n"
                "                      not a terminal\n\n"
                "Exit status: 0 handed out and locked, 1 failed (nothing handed out;\n"
                "PCR7 locked, unless the TPM could not be opened), 2 usage,\n"
                "3 the PCR7 lock failed (extend or read-back): the caller MUST power off.\n\n"
                COMMON_HELP;
        struct runtime_opts o;
        bool json = false, lock_failed = false;
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
        r = runtime_admin_password(&o, &lock_failed);
        return exit_locked(r, lock_failed, "tpm admin-password");
}

static void print_check(const struct runtime_check *res)
{
        for (size_t i = 0; i < RUNTIME_GUARDED; i++) {
                const struct runtime_check_slot *c = &res->slots[i];

                printf("0x%08x %-14s %-8s %s\n", c->id, c->role,
                       c->readable ? "READABLE" : c->defined ? "refused" : "absent", c->why);
        }
        if (res->n_readable)
                printf("READABLE: %u of trust's indices can be read in this boot\n",
                       res->n_readable);
        else
                printf("locked: the TPM refused every read\n");
}

static void print_check_json(const struct runtime_check *res)
{
        printf("{\"locked\":%s,\"readable_count\":%u,\"indices\":[",
               res->n_readable ? "false" : "true", res->n_readable);
        for (size_t i = 0; i < RUNTIME_GUARDED; i++) {
                const struct runtime_check_slot *c = &res->slots[i];

                printf("%s{\"index\":\"0x%08x\"", i ? "," : "", c->id);
                json_write_member(stdout, true, "role", c->role, 0);
                printf(",\"defined\":%s,\"readable\":%s", c->defined ? "true" : "false",
                       c->readable ? "true" : "false");
                json_write_member(stdout, true, "answers", c->why, 0);
                putchar('}');
        }
        printf("]}\n");
}

static int tpm_check_locked(int argc, char **argv)
{
        static const int allowed[] = { OPT_PCR7DATA, OPT_ADMIN_PASSWORD_FILE, OPT_JSON };
        static const char help[] =
                "Usage: trust tpm check-locked [--pcr7data DIR] [--admin-password-file F]\n"
                "                              [--json]\n\n"
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
                "                      dropped); a password the TPM refuses fails the check\n"
                "  --json              {\"locked\",\"readable_count\",\"indices\":[{\"index\",\"role\",\n"
                "                      \"defined\",\"readable\",\"answers\"}]}, same exit status\n\n"
                "Exit status: 0 the TPM refused every read (locked), 1 the check failed,\n"
                "2 usage, 3 some index is READABLE in this boot.\n\n" COMMON_HELP;
        struct runtime_opts o;
        struct runtime_check res;
        bool json = false;
        int r;

        opts_init(&o);
        r = parse("tpm check-locked", argc, argv, allowed, ELEMENTSOF(allowed), help, &o, &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return usage_error("tpm check-locked", "unexpected argument '%s'", argv[optind]);
        r = runtime_check_locked(&o, &res);
        if (r < 0)
                return fail(r, "tpm check-locked");
        if (json)
                print_check_json(&res);
        else
                print_check(&res);
        return res.n_readable ? EXIT_PCR7_UNLOCKED : 0;
}

static int tpm_load_key(int argc, char **argv)
{
        static const int allowed[] = { OPT_SECURE_DIR, OPT_HANDLE };
        static const char help[] =
                "Usage: trust tpm load-key [--secure-dir DIR] [--handle 0x81000100]\n\n"
                "After 'trust setup', in the production initrd or early OS: moves the machine's\n"
                "SUDI key from DIR/server.key into the TPM, where it can be used but never\n"
                "read. The key is wrapped in this process for a storage key of the owner\n"
                "hierarchy (TPM2_Import; only the TPM can unwrap it), loaded, and made\n"
                "persistent at the handle through the owner policy that 'trust provision'\n"
                "set for exactly this key (no owner password). Then the TPM signs a challenge\n"
                "that DIR/server.crt must verify, the key's auth value is written to\n"
                "DIR/" HELD_KEY_AUTH_FILE " (0600), and server.key is overwritten and removed\n"
                "(DIR stays: it holds the auth value now).\n\n"
                "Run again, it changes nothing when the handle holds this key; another object\n"
                "at the handle is refused. A re-provision removes the key.\n\n"
                "The OS uses the key through the tpm2-openssl provider, e.g.\n"
                "  openssl s_server -provider tpm2 -provider default \\\n"
                "    -key handle:0x81000100?pass -passin file:DIR/" HELD_KEY_AUTH_FILE " \\\n"
                "    -cert DIR/server.crt ...\n\n"
                "  --secure-dir DIR    where setup put server.crt and server.key\n"
                "                      (default " DEFAULT_SECURE_DIR ")\n"
                "  --handle HANDLE     the persistent handle (0x81000000-0x817fffff,\n"
                "                      default 0x81000100)\n"
                "  -h, --help          show this help\n\n"
                "Exit status: 0 the TPM holds the key and server.key is gone (or was gone\n"
                "already), 1 failed (nothing removed), 2 usage.\n" TPM_HELP;
        struct load_key_result res;
        struct runtime_opts o;
        bool json = false;
        int r;

        opts_init(&o);
        r = parse("tpm load-key", argc, argv, allowed, ELEMENTSOF(allowed), help, &o, &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return usage_error("tpm load-key", "unexpected argument '%s'", argv[optind]);
        r = load_key(o.secure_dir, o.handle, &res);
        if (r < 0)
                return fail(r, "tpm load-key");
        if (res.imported)
                printf("0x%08x: the TPM holds the key of %s/server.crt now\n", o.handle,
                       o.secure_dir);
        else
                printf("0x%08x: the TPM held the key of %s/server.crt already: no change\n",
                       o.handle, o.secure_dir);
        if (res.wiped)
                printf("%s/server.key: wiped and removed\n", o.secure_dir);
        return 0;
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
                { "load-key", tpm_load_key },
        };
        static const char help[] =
                "Usage: trust tpm status [--json]\n"
                "       trust tpm admin-password [--pcr7data DIR]\n"
                "                                [--keyring user|session | --output FILE|-]\n"
                "       trust tpm check-locked [--pcr7data DIR] [--admin-password-file F]\n"
                "                              [--json]\n"
                "       trust tpm load-key [--secure-dir DIR] [--handle 0x81000100]\n\n"
                "  status          PCR7, NV layout and policy versions, trust's NV indices\n"
                "                  (reads no secret)\n"
                "  admin-password  in a tpm-admin-signed OS: the TPM owner password, then\n"
                "                  PCR7 is extended\n"
                "  check-locked    try to read every guarded index; exit 0 when the TPM\n"
                "                  refuses them all\n"
                "  load-key        after setup: the SUDI key moves into the TPM (persistent,\n"
                "                  never readable) and server.key is wiped\n\n"
                "'trust tpm SUBCOMMAND --help' describes one.\n" TPM_HELP;

        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
                fputs(help, stdout);
                return 0;
        }
        for (size_t i = 0; argc >= 2 && i < ELEMENTSOF(subs); i++)
                if (!strcmp(argv[1], subs[i].name))
                        return subs[i].run(argc - 1, argv + 1);
        if (argc < 2)
                return usage_error("tpm", "expected 'status', 'admin-password', 'check-locked' or "
                                          "'load-key'");
        return usage_error("tpm", "unknown subcommand '%s' (expected 'status', 'admin-password', "
                                  "'check-locked' or 'load-key')",
                           argv[1]);
}
