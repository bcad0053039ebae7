/* cmd-eventlog.c: `trust eventlog`: a machine's firmware event log replayed
 * and its PCR7 events explained, checked against the real PCR7 and against
 * a keyset's prediction. The work is in formats/eventlog.c and
 * keys/eventlog-match.c. */
#include <getopt.h>
#include <stdio.h>

#include "base/crypto.h"
#include "base/json.h"
#include "base/util.h"
#include "cli/commands.h"
#include "formats/esl.h"
#include "formats/eventlog.h"
#include "keys/efi-update.h"
#include "keys/eventlog-match.h"
#include "keys/keyset-pcr7.h"
#include "target/tpm2.h"

#define DEFAULT_LOG "/sys/kernel/security/tpm0/binary_bios_measurements"
#define EXIT_BAD_LOG 2

static void eventlog_help(void)
{
        printf("Usage: trust eventlog [FILE] [--keyset KEYSET [--dbx FILE] [--update FILE.auth]...]\n"
               "                     [--pcr7 HEX] [--json]\n\n"
               "Parses a TCG crypto-agile firmware event log (default\n"
               DEFAULT_LOG "), replays every PCR\n"
               "of its sha256 bank and lists the PCR7 events in order: SecureBoot, PK, KEK,\n"
               "db, dbx with their entries (owner GUID, certificate subject or hash), the\n"
               "separator, the authority (the db entry that verified the boot) and anything\n"
               "else measured there. Events are numbered as tpm2_eventlog numbers them\n"
               "(the Spec ID event is 0).\n\n"
               "  --pcr7 HEX      check that the log replays to this PCR7; without it and\n"
               "                  without FILE, PCR7 is read from the TPM ($TRUST_TPM2_TCTI)\n"
               "  --keyset K      compare with K's prediction for each class (computepcr7):\n"
               "                  the class that booted, or the first event that differs\n"
               "                  and why\n"
               "  --dbx FILE      the keyset's prediction with this dbx (as computepcr7)\n"
               "  --update F.auth the keyset's prediction after these signed updates\n"
               "  --json          {\"pcr7\":HEX,\"pcrs\":{\"N\":HEX,...},\"events\":[{\"index\",\"pcr\",\n"
               "                  \"type\",\"name\",\"digest\",\"data_matches_digest\",\"entries\"|\"value\"}],\n"
               "                  \"forged_events\",\"checked_pcr7\",\n"
               "                  \"replay_matches\",\"keyset\",\"match\":\"production\"|\"tpm\"|\"limited\"|null,\n"
               "                  \"difference\":{\"event\",\"name\",\"why\"}|null}\n\n"
               "Exit status: 0 the log replays to the PCR7 checked and (with --keyset) is a\n"
               "class's boot; 1 a mismatch, event data that do not hash to their digest\n"
               "(variables, authority, separator: a log changed after the boot), or a failure; 2 a malformed log (one line\n"
               "naming the offset and the cause), or bad usage.\n");
}

static void print_hex(const uint8_t *b, size_t n)
{
        _cleanup_free_ char *h = hex_encode(b, n);

        fputs(h, stdout);
}

/* The variable's value under an event: its entries, or its bytes. */
static void print_event_value(const struct evlog_event *e, const char *name, bool json)
{
        struct evlog_var v;
        bool lists;

        if ((e->type != EV_EFI_VARIABLE_DRIVER_CONFIG && e->type != EV_EFI_VARIABLE_AUTHORITY) ||
            evlog_var_parse(e->data, e->len, &v) < 0)
                return;
        if (!strcmp(name, "authority") && v.len > 16) {
                /* one EFI_SIGNATURE_DATA: owner | certificate */
                struct esl_print_ctx c = { .json = json, .indent = "      " };
                efi_guid owner;

                memcpy(owner.b, v.data, 16);
                if (json)
                        printf(",\"entries\":[");
                (void)esl_print_entry(&EFI_CERT_X509_GUID, &owner, v.data + 16, v.len - 16, &c);
                if (json)
                        printf("]");
                return;
        }
        lists = v.len > 0 && strcmp(name, "SecureBoot") != 0 &&
                esl_walk(v.data, v.len, NULL, NULL) >= 0;
        if (lists) {
                struct esl_print_ctx c = { .json = json, .indent = "      " };

                if (json)
                        printf(",\"entries\":[");
                (void)esl_walk(v.data, v.len, esl_print_entry, &c);
                if (json)
                        printf("]");
        } else if (json) {
                printf(",\"value\":\"");
                print_hex(v.data, v.len);
                printf("\"");
        } else if (v.len <= 32) {
                printf("      value ");
                print_hex(v.data, v.len);
                printf("%s\n", v.len ? "" : "(empty)");
        } else
                printf("      value: %zu bytes\n", v.len);
}

static int read_tpm_pcr7(uint8_t out[32])
{
        _cleanup_(tpm2_closep) struct tpm2 *t = NULL;

        return tpm2_open_pcr7(&t, out);
}

int cmd_eventlog(int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },        { "keyset", required_argument, NULL, 'k' },
                { "pcr7", required_argument, NULL, 'p' },  { "json", no_argument, NULL, 'j' },
                { "dbx", required_argument, NULL, 'd' },   { "update", required_argument, NULL, 'u' },
                {},
        };
        _cleanup_free_ const char **updates = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        const char *path = DEFAULT_LOG, *keyset = NULL, *pcr7_arg = NULL, *dbx = NULL;
        const char *refused[_UKI_CLASS_MAX] = {};
        struct keyset_efi_vars vars = { 0 };
        struct evlog_match m = { .match = -1 };
        struct eventlog log;
        uint8_t pcrs[EVLOG_PCRS][32], want[32];
        bool used[EVLOG_PCRS], json = false, check = false, first = true, ok = true;
        size_t len, n_updates = 0, forged = 0;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h': eventlog_help(); return 0;
                case 'k': keyset = optarg; break;
                case 'p': pcr7_arg = optarg; break;
                case 'j': json = true; break;
                case 'd': dbx = optarg; break;
                case 'u':
                        argv_push(&updates, &n_updates, optarg);
                        break;
                default: return usage_error("eventlog", "unknown option");
                }
        }
        if (argc - optind > 1)
                return usage_error("eventlog", "expected at most one FILE");
        if ((dbx || n_updates) && !keyset)
                return usage_error("eventlog", "--dbx and --update need --keyset");
        if (pcr7_arg && (strlen(pcr7_arg) != 64 || hex_decode(pcr7_arg, want, 32) < 0))
                return usage_error("eventlog", "--pcr7 '%s': expected 64 hex digits", pcr7_arg);
        if (optind < argc)
                path = argv[optind];

        /* Everything that can fail before a line is printed. */
        r = read_file(path, EVLOG_MAX, &buf, &len);
        if (r == -EFBIG)
                r = errf(-EFBIG, "%s: larger than any event log", path);
        if (r < 0) {
                fail(r, "eventlog");
                return EXIT_BAD_LOG;
        }
        r = eventlog_parse(buf, len, &log);
        if (r < 0) {
                fail(r, "eventlog: %s", path);
                return EXIT_BAD_LOG;
        }
        check = pcr7_arg != NULL;
        if (!pcr7_arg && optind == argc) {
                r = read_tpm_pcr7(want);
                if (r < 0) {
                        eventlog_done(&log);
                        return fail(r, "eventlog: reading PCR7 from the TPM");
                }
                check = true;
        }
        if (keyset) {
                r = keyset_efi_vars_after(keyset, dbx, updates, n_updates, &vars, refused, NULL);
                if (r >= 0) {
                        r = eventlog_match(&log, &vars, refused, &m);
                        keyset_efi_vars_free(&vars);
                }
                if (r < 0) {
                        eventlog_done(&log);
                        return op_failed(r);
                }
                ok = m.match >= 0;
        }
        eventlog_replay(&log, pcrs, used);
        if (check && memcmp(pcrs[7], want, 32) != 0)
                ok = false;

        if (json) {
                printf("{\"pcr7\":\"");
                print_hex(pcrs[7], 32);
                printf("\",\"pcrs\":{");
                for (int i = 0; i < EVLOG_PCRS; i++) {
                        if (!used[i])
                                continue;
                        printf("%s\"%d\":\"", first ? "" : ",", i);
                        print_hex(pcrs[i], 32);
                        printf("\"");
                        first = false;
                }
                printf("},\"events\":[");
                first = true;
        } else
                printf("%s: %zu events, sha256 bank replayed\n", path, log.n);
        for (size_t i = 0; i < log.n; i++) {
                const struct evlog_event *e = &log.events[i];
                const char *type = evlog_type_name(e->type);
                char nb[72], tb[24];
                const char *name;

                if (e->pcr != 7 || e->type == EV_NO_ACTION)
                        continue;
                name = evlog_pcr7_name(e, nb, sizeof(nb));
                if (!evlog_data_matches_digest(e) && !forged++)
                        ok = false;
                if (!type) {
                        snprintf(tb, sizeof(tb), "0x%08x", e->type);
                        type = tb;
                }
                if (json) {
                        printf("%s{\"index\":%zu,\"pcr\":7,\"type\":\"%s\"", first ? "" : ",", i + 1,
                               type);
                        json_write_member(stdout, true, "name", name, 0);
                        printf(",\"digest\":\"");
                        print_hex(e->sha256, 32);
                        printf("\",\"data_matches_digest\":%s",
                               evlog_data_matches_digest(e) ? "true" : "false");
                        print_event_value(e, name, true);
                        printf("}");
                        first = false;
                } else {
                        printf("  #%-3zu %-30s %-10s ", i + 1, type, name);
                        print_hex(e->sha256, 32);
                        putchar('\n');
                        if (!evlog_data_matches_digest(e))
                                printf("      FORGED: the data below do not hash to the digest\n");
                        print_event_value(e, name, false);
                }
        }
        if (json) {
                printf("],\"forged_events\":%zu,\"checked_pcr7\":", forged);
                if (check) {
                        printf("\"");
                        print_hex(want, 32);
                        printf("\",\"replay_matches\":%s", memcmp(pcrs[7], want, 32) ? "false" : "true");
                } else
                        printf("null,\"replay_matches\":null");
                printf(",\"keyset\":");
                if (keyset)
                        json_write_string(stdout, keyset, 0);
                else
                        printf("null");
                printf(",\"match\":");
                if (m.match >= 0)
                        printf("\"%s\"", uki_class_name((enum uki_class)m.match));
                else
                        printf("null");
                printf(",\"difference\":");
                if (keyset && m.match < 0) {
                        printf("{\"event\":%zu", m.event + 1);
                        json_write_member(stdout, true, "name", m.event_name, 0);
                        json_write_member(stdout, true, "why", m.why, 0);
                        printf("}");
                } else
                        printf("null");
                printf("}\n");
        } else {
                for (int i = 0; i < EVLOG_PCRS; i++) {
                        if (!used[i])
                                continue;
                        printf("pcr%-2d  ", i);
                        print_hex(pcrs[i], 32);
                        putchar('\n');
                }
                if (forged)
                        printf("%zu PCR7 event%s with data that do not hash to the digest: "
                               "the log was changed after the boot\n",
                               forged, forged == 1 ? "" : "s");
                if (check)
                        printf("PCR7 %s: the log %s\n", pcr7_arg ? "given" : "of the TPM",
                               memcmp(pcrs[7], want, 32) ? "does NOT replay to it" : "replays to it");
                if (keyset && m.match >= 0)
                        printf("keyset '%s': a %s boot\n", keyset,
                               uki_class_name((enum uki_class)m.match));
                else if (keyset)
                        printf("keyset '%s': no class matches; first difference, event #%zu (%s): %s\n",
                               keyset, m.event + 1, m.event_name, m.why);
        }
        eventlog_done(&log);
        if (fflush(stdout) != 0)
                return 1;
        return ok ? 0 : 1;
}
