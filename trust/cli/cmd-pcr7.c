/* cmd-pcr7.c: computepcr7, tpm-policy-gen, pcr7data lookup and
 * "keyset pcr7data": argument parsing and output around pcr7.c, policy.c and
 * pcr7data.c. */
#include <getopt.h>
#include <stdio.h>

#include "cli/commands.h"
#include "base/crypto.h"
#include "base/json.h"
#include "formats/pcr7.h"
#include "formats/pcr7data.h"
#include "formats/policy.h"
#include "base/util.h"
#include "keys/efi-update.h"
#include "keys/keyset-path.h"
#include "keys/keyset-pcr7.h"
#include "keys/pcr7data-write.h"

/* Output order of the three classes (the older tool's). */
static const enum uki_class print_order[] = { UKI_PRODUCTION, UKI_LIMITED, UKI_TPM };

static int version_arg(const char *cmd, const char *v)
{
        if (!policy_version_valid(v))
                return usage_error(cmd, "--policy-version must be %d decimal digits, not '%s'",
                                   POLICY_VERSION_LEN, v);
        return 0;
}

/* A PCR7 value from a file of exactly 32 raw bytes. */
static int read_pcr_file(const char *path, uint8_t out[32])
{
        return read_file_exact(path, out, 32, "PCR7 value");
}

/* ---- computepcr7 -------------------------------------------------------- */

static void computepcr7_help(void)
{
        printf("Usage: trust computepcr7 KEYSET [--dbx FILE] [--update FILE.auth]... [--json]\n"
               "                         [--events [--class CLASS]]\n\n"
               "Predicts the PCR7 (sha256 bank) that UEFI firmware with the keyset's PK, KEK\n"
               "and db enrolled (and dbx from FILE, an EFI_SIGNATURE_LIST, when given) measures\n"
               "when it starts a UKI signed by uki-production, uki-limited or uki-tpm.\n"
               "Prints one line per class, lower-case hex:\n"
               "  uki-production: HEX\n  uki-limited: HEX\n  uki-tpm: HEX\n"
               "A class the firmware no longer boots after the updates prints\n"
               "  uki-limited: refused (dbx holds its certificate)\n\n"
               "  --update FILE.auth  after the firmware applied these signed updates\n"
               "                  (efivars sign-update), in order, with its rules (efivars apply)\n"
               "  --json          the same as a JSON object with those keys (null: refused)\n"
               "  --events        print instead the PCR7 events of one class in measurement\n"
               "                  order, one line 'NAME HEXDIGEST' each, nothing else:\n"
               "                    SecureBoot PK KEK db dbx separator authority\n"
               "                  Extending 32 zero bytes with each digest in turn\n"
               "                  (pcr = sha256(pcr || digest)) gives that class's PCR7.\n"
               "                  With --json: {\"class\":..,\"pcr7\":..,\"events\":[{\"name\":..,\"digest\":..}]}\n"
               "  --class CLASS   production (default), tpm or limited (for --events)\n");
}

static void print_hex(const uint8_t *b, size_t n)
{
        _cleanup_free_ char *h = hex_encode(b, n);

        fputs(h, stdout);
}

int cmd_computepcr7(int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },     { "dbx", required_argument, NULL, 'd' },
                { "json", no_argument, NULL, 'j' },     { "events", no_argument, NULL, 'e' },
                { "class", required_argument, NULL, 'c' }, { "update", required_argument, NULL, 'u' },
                {},
        };
        _cleanup_free_ const char **updates = NULL;
        const char *refused[_UKI_CLASS_MAX] = {};
        size_t n_updates = 0;
        struct keyset_efi_vars vars = { 0 };
        struct pcr7_event ev[_UKI_CLASS_MAX][PCR7_MAX_EVENTS];
        uint8_t pcr[_UKI_CLASS_MAX][32];
        size_t n_ev[_UKI_CLASS_MAX];
        const char *dbx = NULL;
        bool json = false, events = false;
        enum uki_class cls = UKI_PRODUCTION;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h': computepcr7_help(); return 0;
                case 'd': dbx = optarg; break;
                case 'j': json = true; break;
                case 'e': events = true; break;
                case 'u':
                        argv_push(&updates, &n_updates, optarg);
                        break;
                case 'c':
                        if (uki_class_from_string(optarg, &cls) < 0)
                                return usage_error("computepcr7",
                                                   "--class must be production, tpm or limited");
                        break;
                default: return usage_error("computepcr7", "unknown option");
                }
        }
        if (optind + 1 != argc)
                return usage_error("computepcr7", "expected one KEYSET");

        r = keyset_efi_vars_after(argv[optind], dbx, updates, n_updates, &vars, refused, NULL);
        if (r < 0)
                return op_failed(r);
        if (events && refused[cls]) {
                keyset_efi_vars_free(&vars);
                return fail(errf(-EPERM, "%s: refused by the firmware after the updates (%s)",
                                 uki_class_keydir(cls), refused[cls]),
                            "computepcr7");
        }
        for (int k = 0; k < _UKI_CLASS_MAX; k++) {
                r = pcr7_events(&vars, (enum uki_class)k, ev[k], &n_ev[k], pcr[k]);
                if (r < 0) {
                        keyset_efi_vars_free(&vars);
                        return fail(r, "keyset '%s': PCR7", argv[optind]);
                }
        }
        keyset_efi_vars_free(&vars);

        if (events && json) {
                printf("{\"class\":\"%s\",\"pcr7\":\"", uki_class_name(cls));
                print_hex(pcr[cls], 32);
                printf("\",\"events\":[");
                for (size_t i = 0; i < n_ev[cls]; i++) {
                        printf("%s{\"name\":\"%s\",\"digest\":\"", i ? "," : "", ev[cls][i].name);
                        print_hex(ev[cls][i].digest, 32);
                        printf("\"}");
                }
                printf("]}\n");
        } else if (events) {
                for (size_t i = 0; i < n_ev[cls]; i++) {
                        printf("%s ", ev[cls][i].name);
                        print_hex(ev[cls][i].digest, 32);
                        putchar('\n');
                }
        } else if (json) {
                putchar('{');
                for (size_t i = 0; i < ELEMENTSOF(print_order); i++) {
                        printf("%s\"%s\":", i ? "," : "", uki_class_keydir(print_order[i]));
                        if (refused[print_order[i]]) {
                                printf("null");
                                continue;
                        }
                        putchar('"');
                        print_hex(pcr[print_order[i]], 32);
                        putchar('"');
                }
                printf("}\n");
        } else {
                for (size_t i = 0; i < ELEMENTSOF(print_order); i++) {
                        printf("%s: ", uki_class_keydir(print_order[i]));
                        if (refused[print_order[i]])
                                printf("refused (%s)", refused[print_order[i]]);
                        else
                                print_hex(pcr[print_order[i]], 32);
                        putchar('\n');
                }
        }
        return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- tpm-policy-gen ----------------------------------------------------- */

static void policy_gen_help(void)
{
        printf("Usage: trust tpm-policy-gen --pcr7-production FILE --pcr7-tpm FILE\n"
               "                            [--policy-version NNNN] [--luks-policy-file F]\n"
               "                            [--passwd-policy-file F]\n"
               "       trust tpm-policy-gen --authorize PUBKEY.pem\n\n"
               "Computes the TPM2 policy digests (32 raw bytes each) offline:\n"
               "  luks policy   PolicyPCR(sha256:7 = production PCR7) then\n"
               "                PolicyNV(0x01500020 == NNNN), written to --luks-policy-file\n"
               "                (default luks_policy.out)\n"
               "  passwd policy PolicyPCR(sha256:7 = tpm PCR7), written to\n"
               "                --passwd-policy-file (default passwd_policy.out)\n"
               "PCR7 files hold the raw 32-byte value; NNNN defaults to 0001.\n\n"
               "--authorize prints the TPM name of an RSA-2048 public key as LoadExternal\n"
               "makes it and the PolicyAuthorize digest (the NV indices' authPolicy):\n"
               "  name: HEX\n  policy: HEX\n");
}

static int policy_gen_authorize(const char *pem)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;
        uint8_t name[34], d[32];
        int r;

        r = pem_load_pubkey(pem, &pub);
        if (r < 0)
                return fail(r, "tpm-policy-gen");
        r = policy_key_name(pub, name);
        if (r >= 0)
                r = policy_authorize_digest(pub, d);
        if (r < 0)
                return fail(r, "tpm-policy-gen: %s", pem);
        printf("name: ");
        print_hex(name, sizeof(name));
        printf("\npolicy: ");
        print_hex(d, sizeof(d));
        putchar('\n');
        return 0;
}

int cmd_tpm_policy_gen(int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "pcr7-production", required_argument, NULL, 'p' },
                { "pcr7-tpm", required_argument, NULL, 't' },
                { "policy-version", required_argument, NULL, 'v' },
                { "luks-policy-file", required_argument, NULL, 'l' },
                { "passwd-policy-file", required_argument, NULL, 'w' },
                { "authorize", required_argument, NULL, 'a' },
                {},
        };
        const char *prod = NULL, *tpm = NULL, *version = POLICY_VERSION,
                   *luks_out = "luks_policy.out", *passwd_out = "passwd_policy.out",
                   *authorize = NULL;
        uint8_t pprod[32], ptpm[32], luks[32], passwd[32];
        bool existed;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h': policy_gen_help(); return 0;
                case 'p': prod = optarg; break;
                case 't': tpm = optarg; break;
                case 'v':
                        if (version_arg("tpm-policy-gen", optarg))
                                return EXIT_USAGE;
                        version = optarg;
                        break;
                case 'l': luks_out = optarg; break;
                case 'w': passwd_out = optarg; break;
                case 'a': authorize = optarg; break;
                default: return usage_error("tpm-policy-gen", "unknown option");
                }
        }
        if (optind != argc)
                return usage_error("tpm-policy-gen", "unexpected argument '%s'", argv[optind]);
        if (authorize) {
                if (prod || tpm)
                        return usage_error("tpm-policy-gen",
                                           "--authorize does not combine with --pcr7-*");
                return policy_gen_authorize(authorize);
        }
        if (!prod || !tpm)
                return usage_error("tpm-policy-gen", "--pcr7-production and --pcr7-tpm are required");
        if (!strcmp(luks_out, passwd_out))
                return usage_error("tpm-policy-gen", "the two output files must differ");

        if ((r = read_pcr_file(prod, pprod)) < 0 || (r = read_pcr_file(tpm, ptpm)) < 0)
                return fail(r, "tpm-policy-gen");
        if ((r = policy_luks_digest(pprod, version, luks)) < 0 ||
            (r = policy_passwd_digest(ptpm, passwd)) < 0)
                return fail(r, "tpm-policy-gen");

        existed = path_exists(luks_out);
        r = write_file_atomic(luks_out, luks, 32, 0644);
        if (r < 0)
                return fail(r, "tpm-policy-gen");
        r = write_file_atomic(passwd_out, passwd, 32, 0644);
        if (r < 0) {
                if (!existed)
                        (void)unlink(luks_out); /* leave no half result behind */
                return fail(r, "tpm-policy-gen");
        }
        return 0;
}

/* ---- pcr7data lookup ---------------------------------------------------- */

static void pcr7data_help(void)
{
        printf("Usage: trust pcr7data lookup DIR --pcr7 HEX|FILE [--policy-version NNNN] [--json]\n\n"
               "Resolves a PCR7 value in a pcr7data tree (DIR holds policy-N/) the way\n"
               "'trust setup' does at boot: highest policy-N, the entry named by the\n"
               "pair-swapped hex of the value, its info.json, and for production/tpm entries\n"
               "the signed policy checked against pubkeys/ (luks policy with version NNNN,\n"
               "default 0001). Prints:\n"
               "  dir: PATH\n  key: KEY\n  key_type: production|tpm|limited\n"
               "  pubkey: PATH|-\n  signed_policy: PATH|-\n"
               "('password' in older data reads as tpm). Exit 1 when the value has no valid\n"
               "entry.\n\n"
               "  --json    {\"dir\",\"key\",\"key_type\",\"pubkey\",\"signed_policy\",\"policy_n\"}\n"
               "            (null for '-'; policy_n: the N of policy-N/)\n");
}

int cmd_pcr7data(int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "pcr7", required_argument, NULL, 'p' },
                { "policy-version", required_argument, NULL, 'v' },
                { "json", no_argument, NULL, 'j' },
                {},
        };
        struct pcr7data_match m = { 0 };
        const char *pcr_arg = NULL, *version = POLICY_VERSION;
        uint8_t pcr7[32];
        bool json = false;
        int c, r;

        if (argc >= 2 && is_help_arg(argv[1])) {
                pcr7data_help();
                return 0;
        }
        if (argc < 2 || strcmp(argv[1], "lookup") != 0)
                return usage_error("pcr7data", "expected 'lookup'");
        argc--;
        argv++;
        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h': pcr7data_help(); return 0;
                case 'p': pcr_arg = optarg; break;
                case 'v':
                        if (version_arg("pcr7data", optarg))
                                return EXIT_USAGE;
                        version = optarg;
                        break;
                case 'j': json = true; break;
                default: return usage_error("pcr7data", "unknown option");
                }
        }
        if (optind + 1 != argc)
                return usage_error("pcr7data", "expected one DIR");
        if (!pcr_arg)
                return usage_error("pcr7data", "--pcr7 is required");
        /* 64 hex digits, else a file with the raw value. */
        if (hex_decode(pcr_arg, pcr7, 32) < 0) {
                r = read_pcr_file(pcr_arg, pcr7);
                if (r < 0) {
                        if (!path_exists(pcr_arg))
                                return usage_error("pcr7data",
                                                   "--pcr7 is neither 64 hex digits nor a file");
                        return fail(r, "pcr7data lookup");
                }
        }
        r = pcr7data_lookup_version(argv[optind], pcr7, version, &m);
        if (r < 0)
                return fail(r, "pcr7data lookup");
        if (json) {
                putchar('{');
                json_write_member(stdout, false, "dir", m.dir, 0);
                json_write_member(stdout, true, "key", m.key, 0);
                json_write_member(stdout, true, "key_type", m.key_type, 0);
                json_write_member(stdout, true, "pubkey", m.pubkey, 0);
                json_write_member(stdout, true, "signed_policy", m.signed_policy, 0);
                printf(",\"policy_n\":%d}\n", m.policy_n);
        } else {
                printf("dir: %s\nkey: %s\nkey_type: %s\npubkey: %s\nsigned_policy: %s\n", m.dir,
                       m.key, m.key_type, m.pubkey ? m.pubkey : "-",
                       m.signed_policy ? m.signed_policy : "-");
        }
        pcr7data_match_free(&m);
        return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- keyset pcr7data ---------------------------------------------------- */

static void keyset_pcr7data_help(void)
{
        printf("Usage: trust keyset pcr7data KEYSET --pcr7-tpm F --pcr7-prod F --pcr7-limited F\n"
               "                    [--passwdPolicy F] [--luksPolicy F]\n"
               "                    [--policy-version NNNN] [--comment TEXT]\n\n"
               "Adds one set of measured PCR7 values (raw 32-byte files, e.g. read on real\n"
               "hardware booted with UKIs signed by uki-tpm, uki-production, uki-limited) to\n"
               "the keyset's pcr7data/policy-2: the luks policy of the production value is\n"
               "signed with tpmpol-luks, the passwd policy of the tpm value with\n"
               "tpmpol-admin. --passwdPolicy/--luksPolicy name digests made earlier (e.g. by\n"
               "tpm-policy-gen); they must equal the policies computed from the values, so a\n"
               "wrong digest is never signed. The tree is replaced atomically; entries already\n"
               "present for the same keyset are kept, except a production entry signed for\n"
               "another --policy-version (default 0001), which is re-signed: after the owner\n"
               "bumped NV index 0x01500020 on the machines, this revokes the old signatures.\n");
}

static int check_given_policy(const char *path, const uint8_t want[32])
{
        uint8_t have[32];
        int r = read_pcr_file(path, have);

        if (r == -EBADMSG)
                return errf(r, "%s: not a 32-byte policy digest", path);
        if (r < 0)
                return r;
        if (memcmp(have, want, 32) != 0)
                return errf(-EBADMSG, "%s: does not match the policy computed from the PCR7 values",
                            path);
        return 0;
}

int cmd_keyset_pcr7data(int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "pcr7-tpm", required_argument, NULL, 't' },
                { "pcr7-prod", required_argument, NULL, 'p' },
                { "pcr7-limited", required_argument, NULL, 'l' },
                { "passwdPolicy", required_argument, NULL, 'w' },
                { "luksPolicy", required_argument, NULL, 'k' },
                { "policy-version", required_argument, NULL, 'v' },
                { "comment", required_argument, NULL, 'c' },
                {},
        };
        const char *ftpm = NULL, *fprod = NULL, *flim = NULL, *fpasswd = NULL, *fluks = NULL,
                   *version = POLICY_VERSION, *comment = "added by trust keyset pcr7data";
        _cleanup_free_ char *dir = NULL;
        struct pcr7data_set set = { 0 };
        uint8_t d[32];
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h': keyset_pcr7data_help(); return 0;
                case 't': ftpm = optarg; break;
                case 'p': fprod = optarg; break;
                case 'l': flim = optarg; break;
                case 'w': fpasswd = optarg; break;
                case 'k': fluks = optarg; break;
                case 'v':
                        if (version_arg("keyset pcr7data", optarg))
                                return EXIT_USAGE;
                        version = optarg;
                        break;
                case 'c': comment = optarg; break;
                default: return usage_error("keyset pcr7data", "unknown option");
                }
        }
        if (optind + 1 != argc)
                return usage_error("keyset pcr7data", "expected one KEYSET");
        if (!ftpm || !fprod || !flim)
                return usage_error("keyset pcr7data",
                                   "--pcr7-tpm, --pcr7-prod and --pcr7-limited are required");
        if (strlen(comment) > 256)
                return usage_error("keyset pcr7data", "--comment is longer than 256 bytes");

        r = keyset_path(argv[optind], &dir);
        if (r < 0)
                return fail(r, "keyset pcr7data");
        if ((r = read_pcr_file(ftpm, set.tpm)) < 0 || (r = read_pcr_file(fprod, set.production)) < 0 ||
            (r = read_pcr_file(flim, set.limited)) < 0)
                return fail(r, "keyset pcr7data");
        if (fluks) {
                r = policy_luks_digest(set.production, version, d);
                if (r >= 0)
                        r = check_given_policy(fluks, d);
                if (r < 0)
                        return fail(r, "keyset pcr7data");
        }
        if (fpasswd) {
                r = policy_passwd_digest(set.tpm, d);
                if (r >= 0)
                        r = check_given_policy(fpasswd, d);
                if (r < 0)
                        return fail(r, "keyset pcr7data");
        }
        r = pcr7data_add(dir, argv[optind], &set, version, comment, NULL);
        if (r < 0)
                return fail(r, "keyset '%s': pcr7data", argv[optind]);
        printf("keyset '%s': %d of 3 pcr7data entries added or re-signed%s\n", argv[optind], r,
               r < 3 ? " (the others were already present)" : "");
        return 0;
}

/* ---- keyset rollout ----------------------------------------------------- */

static void keyset_rollout_help(void)
{
        printf("Usage: trust keyset rollout KEYSET FILE.auth... [--dbx FILE]\n"
               "                   [--policy-version NNNN]\n\n"
               "Before a firmware key update reaches the machines: predicts the PCR7 of\n"
               "each class once the firmware applied the signed updates FILE.auth (in\n"
               "order, by the rules of 'trust efivars apply'; --dbx as for computepcr7: the\n"
               "dbx the machines hold now) and adds pcr7data entries for those values next\n"
               "to the current ones, signed as 'keyset pcr7data' signs them. A machine then\n"
               "unlocks before and after it applies the update. Prints the new values, one\n"
               "line per class as computepcr7 does (a class the update leaves refused gets\n"
               "no entry). Afterwards, 'keyset pcr7data --policy-version' with the next\n"
               "version and the new values revokes the pre-update signatures.\n");
}

int cmd_keyset_rollout(int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "dbx", required_argument, NULL, 'd' },
                { "policy-version", required_argument, NULL, 'v' },
                {},
        };
        static const unsigned absent_bit[_UKI_CLASS_MAX] = {
                [UKI_PRODUCTION] = PCR7DATA_NO_PRODUCTION,
                [UKI_TPM] = PCR7DATA_NO_TPM,
                [UKI_LIMITED] = PCR7DATA_NO_LIMITED,
        };
        _cleanup_free_ char *dir = NULL, *comment = NULL;
        struct keyset_efi_vars vars = { 0 };
        struct pcr7data_set set = { 0 };
        uint8_t *dst[_UKI_CLASS_MAX] = {
                [UKI_PRODUCTION] = set.production,
                [UKI_TPM] = set.tpm,
                [UKI_LIMITED] = set.limited,
        };
        struct pcr7_event ev[PCR7_MAX_EVENTS];
        const char *refused[_UKI_CLASS_MAX] = {}, *dbx = NULL, *version = POLICY_VERSION;
        const char *keyset;
        size_t n_ev;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h': keyset_rollout_help(); return 0;
                case 'd': dbx = optarg; break;
                case 'v':
                        if (version_arg("keyset rollout", optarg))
                                return EXIT_USAGE;
                        version = optarg;
                        break;
                default: return usage_error("keyset rollout", "unknown option");
                }
        }
        if (argc - optind < 2)
                return usage_error("keyset rollout", "expected KEYSET and at least one FILE.auth");
        keyset = argv[optind];

        r = keyset_efi_vars_after(keyset, dbx, (const char *const *)argv + optind + 1,
                                  (size_t)(argc - optind - 1), &vars, refused, &dir);
        if (r < 0)
                return op_failed(r);
        for (int k = 0; k < _UKI_CLASS_MAX && r >= 0; k++) {
                if (refused[k])
                        set.absent |= absent_bit[k];
                else
                        r = pcr7_events(&vars, (enum uki_class)k, ev, &n_ev, dst[k]);
        }
        keyset_efi_vars_free(&vars);
        if (r < 0)
                return fail(r, "keyset rollout");

        comment = xstrdup("rollout of");
        for (int i = optind + 1; i < argc; i++) {
                const char *base = strrchr(argv[i], '/');
                char *n = xasprintf("%s %s", comment, base ? base + 1 : argv[i]);

                free(comment);
                comment = n;
        }
        if (strlen(comment) > 256)
                comment[256] = 0;
        r = pcr7data_add(dir, keyset, &set, version, comment, NULL);
        if (r < 0)
                return fail(r, "keyset '%s': pcr7data", keyset);
        for (size_t i = 0; i < ELEMENTSOF(print_order); i++) {
                printf("%s: ", uki_class_keydir(print_order[i]));
                if (refused[print_order[i]])
                        printf("refused (%s)", refused[print_order[i]]);
                else
                        print_hex(dst[print_order[i]], 32);
                putchar('\n');
        }
        printf("keyset '%s': %d pcr7data entries added or re-signed\n", keyset, r);
        return fflush(stdout) == 0 ? 0 : 1;
}
