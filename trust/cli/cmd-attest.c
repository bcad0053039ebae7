/* cmd-attest.c: `trust attest quote|verify`: option parsing and output only;
 * the quote is made in target/attest.c, judged in keys/attest-verify.c, and
 * the bundle between them is formats/attest.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/util.h"
#include "cli/commands.h"
#include "formats/attest.h"
#include "keys/attest-verify.h"
#include "target/attest.h"
#include "target/runtime.h" /* DEFAULT_SECURE_DIR */

static const char attest_help[] =
        "Usage: trust attest quote --nonce HEX [--secure-dir DIR] [--eventlog FILE]\n"
        "                          [--output FILE]\n"
        "       trust attest verify --keyset KEYSET --nonce HEX BUNDLE [--json]\n\n"
        "A machine proves which OS it booted, rooted in its SUDI identity.\n\n"
        "'quote' (on the machine, after 'trust setup'): creates an attestation key in\n"
        "the TPM (a restricted ECC P-256 signing key of the null hierarchy, gone at\n"
        "the next reboot), has the SUDI key sign its public area with the nonce,\n"
        "quotes PCRs 0-7 of the sha256 bank with the nonce, and writes the bundle:\n"
        "JSON with the SUDI certificate, the key's public area, the binding signature,\n"
        "the quote and its signature, the PCR values and the firmware event log when\n"
        "the machine has one (trust-attest(1) gives the format).\n"
        "  --nonce HEX         the verifier's challenge, " "16 to 64 hex digits\n"
        "  --secure-dir DIR    where setup put server.crt and server.key\n"
        "                      (default " DEFAULT_SECURE_DIR ")\n"
        "  --eventlog FILE     the firmware event log (default\n"
        "                      " DEFAULT_EVENTLOG ";\n"
        "                      none when the file does not exist)\n"
        "  --output FILE       write the bundle there (atomically) instead of stdout\n\n"
        "'verify' (on any host, with the keyset's public parts): checks, in order,\n"
        "sudi-cert (chains to the keyset's sudi CA), quote (a TPM quote of PCRs 0-7),\n"
        "nonce (the one given), ak (restricted, sign-only, made in the TPM), binding\n"
        "(the SUDI key signed the key with the nonce), quote-signature, pcr-digest\n"
        "(the listed values are the quoted ones), pcr7 (a production value of the\n"
        "keyset's pcr7data after setup's lock extend) and eventlog (when the bundle\n"
        "has one: it replays to the quoted PCRs). It prints the machine's serial,\n"
        "product UUID and boot class, or the check that failed and why.\n"
        "  --keyset KEYSET     the keyset the machine belongs to\n"
        "  --nonce HEX         the nonce the bundle must answer\n"
        "  --json              one JSON object: {\"verified\":true|false,\n"
        "                      \"failed\":CHECK|null,\"why\":TEXT|null,\"serial\",\"product\",\n"
        "                      \"class\":\"production\"|\"tpm\"|\"limited\"|null,\"locked\",\n"
        "                      \"checks\":{CHECK:\"ok\"|\"failed\"|\"skipped\"|\"not-run\"}}\n"
        "  -h, --help          show this help\n\n"
        "Exit status: quote: 0 written, 1 failed (one line names the file or the TPM\n"
        "step; nothing is written), 2 usage. verify: 0 every check holds, 1 one\n"
        "failed (or the keyset could not be read), 2 a malformed bundle or usage.\n";

static int parse_nonce(const char *cmd, const char *s, uint8_t out[ATTEST_NONCE_MAX],
                       size_t *ret_len)
{
        size_t n = strlen(s);

        if (n % 2 || n / 2 < ATTEST_NONCE_MIN || n / 2 > ATTEST_NONCE_MAX ||
            hex_decode(s, out, n / 2) < 0)
                return usage_error(cmd, "--nonce: expected %d to %d hex digits (an even count)",
                                   2 * ATTEST_NONCE_MIN, 2 * ATTEST_NONCE_MAX);
        *ret_len = n / 2;
        return 0;
}

static int attest_quote_cmd(int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "nonce", required_argument, NULL, 'n' },
                { "secure-dir", required_argument, NULL, 's' },
                { "eventlog", required_argument, NULL, 'e' },
                { "output", required_argument, NULL, 'o' },
                {}
        };
        struct attest_opts o = { .secure_dir = DEFAULT_SECURE_DIR, .eventlog = DEFAULT_EVENTLOG };
        _cleanup_free_ char *json = NULL;
        uint8_t nonce[ATTEST_NONCE_MAX];
        const char *output = NULL;
        size_t nonce_len = 0;
        int c, r;

        getopt_reset(true);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'h': fputs(attest_help, stdout); return 0;
                case 'n':
                        r = parse_nonce("attest quote", optarg, nonce, &nonce_len);
                        if (r)
                                return r;
                        break;
                case 's': o.secure_dir = optarg; break;
                case 'e': o.eventlog = optarg; break;
                case 'o': output = optarg; break;
                default: return bad_option("attest quote", argv);
                }
        }
        if (optind != argc)
                return usage_error("attest quote", "unexpected argument '%s'", argv[optind]);
        if (!nonce_len)
                return usage_error("attest quote", "--nonce is required");
        r = attest_quote(&o, nonce, nonce_len, &json);
        if (r < 0)
                return fail(r, "attest quote");
        if (output) {
                r = write_file_atomic(output, json, strlen(json), 0644);
                if (r < 0)
                        return fail(r, "attest quote: %s", output);
                return 0;
        }
        fputs(json, stdout);
        return fflush(stdout) == 0 ? 0 : fail(-errno, "attest quote: standard output");
}

void attest_print_verified(const char *who, const struct attest_verdict *v)
{
        printf("%s: verified: serial %s, product %s, boot class %s (PCR7 locked by setup)\n", who,
               v->serial, v->product[0] ? v->product : "?", v->boot_class);
}

static const char *result_name(enum attest_result r)
{
        switch (r) {
        case ATTEST_OK: return "ok";
        case ATTEST_FAILED: return "failed";
        case ATTEST_SKIPPED: return "skipped";
        default: return "not-run";
        }
}

static void print_verdict_json(const struct attest_verdict *v)
{
        const char *failed = v->failed >= 0 ? attest_check_name((enum attest_check)v->failed)
                                            : NULL;

        printf("{\"verified\":%s", v->failed < 0 ? "true" : "false");
        json_write_member(stdout, true, "failed", failed, 0);
        json_write_member(stdout, true, "why", v->failed >= 0 ? v->why : NULL, 0);
        json_write_member(stdout, true, "serial", v->serial, 0);
        json_write_member(stdout, true, "product", v->product, 0);
        json_write_member(stdout, true, "class", v->boot_class[0] ? v->boot_class : NULL, 0);
        printf(",\"locked\":%s,\"checks\":{", v->locked ? "true" : "false");
        for (int c = 0; c < _ATTEST_CHECK_MAX; c++)
                json_write_member(stdout, c > 0, attest_check_name((enum attest_check)c),
                                  result_name(v->result[c]), 0);
        printf("}}\n");
}

static int attest_verify_cmd(int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "keyset", required_argument, NULL, 'k' },
                { "nonce", required_argument, NULL, 'n' },
                { "json", no_argument, NULL, 'j' },
                {}
        };
        _cleanup_free_ uint8_t *buf = NULL;
        struct attest_bundle b = { 0 };
        struct attest_verdict v;
        uint8_t nonce[ATTEST_NONCE_MAX];
        const char *keyset = NULL, *path;
        size_t nonce_len = 0, len;
        bool json = false;
        int c, r;

        getopt_reset(true);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'h': fputs(attest_help, stdout); return 0;
                case 'k': keyset = optarg; break;
                case 'n':
                        r = parse_nonce("attest verify", optarg, nonce, &nonce_len);
                        if (r)
                                return r;
                        break;
                case 'j': json = true; break;
                default: return bad_option("attest verify", argv);
                }
        }
        if (!keyset || !nonce_len)
                return usage_error("attest verify", "--keyset and --nonce are required");
        if (optind + 1 != argc)
                return usage_error("attest verify", "expected one BUNDLE file");
        r = check_name("keyset", keyset);
        if (r)
                return r;
        path = argv[optind];
        r = read_file(path, ATTEST_BUNDLE_MAX, &buf, &len);
        if (r < 0) {
                fail(r, "attest verify: %s", path);
                return r == -EFBIG ? EXIT_USAGE : 1;
        }
        r = attest_bundle_parse(buf, len, &b);
        if (r < 0) {
                fail(r, "attest verify: %s: not an attestation bundle", path);
                return EXIT_USAGE;
        }
        r = attest_verify(keyset, nonce, nonce_len, &b, &v);
        attest_bundle_done(&b);
        if (r < 0)
                return fail(r, "attest verify");
        if (json)
                print_verdict_json(&v);
        else if (v.failed < 0)
                attest_print_verified(path, &v);
        if (v.failed >= 0) {
                log_error("attest verify: %s: %s: %s", path,
                          attest_check_name((enum attest_check)v.failed), v.why);
                return 1;
        }
        return 0;
}

int cmd_attest(int argc, char **argv)
{
        if (argc < 2 || is_help_arg(argv[1]) || is_help_word(argv[1])) {
                fputs(attest_help, argc < 2 ? stderr : stdout);
                return argc < 2 ? EXIT_USAGE : 0;
        }
        if (!strcmp(argv[1], "quote"))
                return attest_quote_cmd(argc - 1, argv + 1);
        if (!strcmp(argv[1], "verify"))
                return attest_verify_cmd(argc - 1, argv + 1);
        return usage_error("attest", "unknown subcommand '%s'", argv[1]);
}
