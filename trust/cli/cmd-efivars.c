/* cmd-efivars.c: the Secure Boot variable commands: `efivars enroll`,
 * `list`, `sign-update` and `apply`. Argument parsing and output only; the
 * work is in efivars.c, esl.c, auth2.c, efi-update.c and efivarfs.c. */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "base/crypto.h"
#include "base/json.h"
#include "base/util.h"
#include "cli/commands.h"
#include "formats/auth2.h"
#include "formats/efivars.h"
#include "formats/esl.h"
#include "keys/efi-update.h"
#include "keys/keyset-path.h"
#include "keys/keyset-pcr7.h"
#include "target/efivarfs.h"

#define DEFAULT_VARS_TEMPLATE "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define VARS_MAX ((size_t)64 << 20) /* OVMF vars files are 128 KiB to 4 MiB */

static void efivars_help(FILE *f)
{
        fprintf(f, "Usage: trust efivars enroll --keyset NAME [--template OVMF_VARS] [--dbx ESL] --output VARS\n"
                   "       trust efivars list VARS [--json]\n"
                   "       trust efivars sign-update --keyset NAME --var PK|KEK|db|dbx [--append]\n"
                   "                                 [--owner GUID] [--timestamp TIME] --output FILE.auth INPUT...\n"
                   "       trust efivars apply FILE.auth... (--vars VARS | --efivarfs [DIR])\n\n"
                   "enroll writes a copy of the OVMF vars template (default\n"
                   DEFAULT_VARS_TEMPLATE ") with the keyset's Secure Boot\n"
                   "keys: PK = uefi-pk, KEK = uefi-kek, db = uefi-db and the three uki-* certs,\n"
                   "each owned by its key's guid; dbx from the signature list file ESL if given,\n"
                   "else a dbx the template holds is deleted (what computepcr7 predicts).\n"
                   "Older records of these variables are marked deleted. Firmware then boots\n"
                   "with Secure Boot enabled.\n"
                   "list prints each variable: name, vendor GUID, attributes, size, and the\n"
                   "entries of PK, KEK, db and dbx (certificate subjects, hashes).\n"
                   "sign-update writes a signed update (EFI_VARIABLE_AUTHENTICATION_2) of one\n"
                   "variable, signed by the keyset's uefi-kek (db, dbx) or uefi-pk (KEK, PK).\n"
                   "Each INPUT is a PEM certificate, a file of EFI signature lists, or\n"
                   "sha256:HEX (an image hash, for dbx); with --append the entries are added\n"
                   "to the variable, else they replace it (no INPUT: deletes it).\n"
                   "apply applies updates in order the way firmware does: the signature must\n"
                   "chain to a PK (db, dbx: PK or KEK) certificate in the store, a replacing\n"
                   "update must be newer than the stored one, appended entries already there\n"
                   "are dropped. Either to an OVMF vars file (all or nothing), or through\n"
                   "efivarfs (default " EFIVARFS_DEFAULT "), where the firmware decides:\n"
                   "each update is checked first and nothing is written when one fails.\n\n"
                   "  --var V          the variable the update is for\n"
                   "  --append         add to the variable (APPEND_WRITE; timestamp zero)\n"
                   "  --owner GUID     owner of the new entries (default: the signer's guid)\n"
                   "  --timestamp TIME YYYY-MM-DDTHH:MM:SSZ (default: now; replacing updates\n"
                   "                   must be newer than the variable's)\n"
                   "  --output FILE    the .auth payload (written atomically)\n"
                   "  --vars VARS      OVMF vars file to update in place (atomically)\n"
                   "  --efivarfs [DIR] the running firmware's variables\n"
                   "  --json    [{\"name\",\"guid\",\"attributes\",\"size\",\"entries\"}]; entries (PK, KEK,\n"
                   "            db, dbx only): [{\"type\":\"x509\",\"owner\",\"subject\"}, {\"type\":\"sha256\",\n"
                   "            \"owner\",\"hash\"} or {\"type\":\"other\",\"owner\",\"signature_type\",\"size\"}]\n");
}

static bool is_sigdb(const struct efivar *v)
{
        if (!memcmp(v->vendor.b, EFI_GLOBAL_VARIABLE_GUID.b, 16))
                return !strcmp(v->name, "PK") || !strcmp(v->name, "KEK");
        if (!memcmp(v->vendor.b, EFI_IMAGE_SECURITY_DB_GUID.b, 16))
                return !strcmp(v->name, "db") || !strcmp(v->name, "dbx");
        return false;
}

static int efivars_list(int argc, char **argv)
{
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, {} };
        _cleanup_free_ uint8_t *buf = NULL;
        struct varstore vs;
        const char *path;
        bool json = false;
        size_t len, shown = 0;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                if (c != 'j')
                        return usage_error("efivars", "bad option");
                json = true;
        }
        if (optind != argc - 1)
                return usage_error("efivars", "list expects one vars file");
        path = argv[optind];
        r = read_file(path, VARS_MAX, &buf, &len);
        if (r == -EFBIG)
                r = errf(-EFBIG, "%s: larger than any OVMF vars file", path);
        if (r < 0)
                return fail(r, "efivars list");
        r = varstore_parse(buf, len, &vs);
        if (r < 0)
                return fail(r, "%s", path);
        /* Check every signature list first so that output is all or nothing. */
        for (size_t i = 0; i < vs.n_vars; i++) {
                const struct efivar *v = &vs.vars[i];

                if (v->valid && is_sigdb(v)) {
                        r = esl_walk(buf + v->data_offset, v->data_len, NULL, NULL);
                        if (r < 0) {
                                fail(r, "%s: %s", path, v->name); /* v is freed next */
                                varstore_done(&vs);
                                return 1;
                        }
                }
        }
        if (json)
                printf("[");
        for (size_t i = 0; i < vs.n_vars; i++) {
                const struct efivar *v = &vs.vars[i];
                struct esl_print_ctx ctx = { .json = json, .indent = "  " };
                char guid[37];

                if (!v->valid)
                        continue;
                guid_format(&v->vendor, guid);
                if (json) {
                        printf("%s{", shown ? "," : "");
                        json_write_member(stdout, false, "name", v->name, 0);
                        printf(",\"guid\":\"%s\",\"attributes\":%u,\"size\":%zu", guid,
                               v->attributes, v->data_len);
                        if (is_sigdb(v)) {
                                printf(",\"entries\":[");
                                (void)esl_walk(buf + v->data_offset, v->data_len, esl_print_entry, &ctx);
                                printf("]");
                        }
                        printf("}");
                } else {
                        printf("%-16s %s attributes 0x%02x size %zu\n", v->name, guid,
                               v->attributes, v->data_len);
                        if (is_sigdb(v))
                                (void)esl_walk(buf + v->data_offset, v->data_len, esl_print_entry, &ctx);
                }
                shown++;
        }
        if (json)
                printf("]\n");
        varstore_done(&vs);
        return 0;
}

static inline void keyset_efi_vars_freep(struct keyset_efi_vars *v)
{
        keyset_efi_vars_free(v);
}

static int efivars_enroll(int argc, char **argv)
{
        static const struct option opts[] = {
                { "keyset", required_argument, NULL, 'K' }, { "template", required_argument, NULL, 't' },
                { "dbx", required_argument, NULL, 'x' },    { "output", required_argument, NULL, 'o' },
                {}
        };
        _cleanup_(keyset_efi_vars_freep) struct keyset_efi_vars v = {};
        const char *keyset = NULL, *template = DEFAULT_VARS_TEMPLATE, *dbx = NULL, *output = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        struct varstore vs;
        size_t len;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'K':
                        keyset = optarg;
                        break;
                case 't':
                        template = optarg;
                        break;
                case 'x':
                        dbx = optarg;
                        break;
                case 'o':
                        output = optarg;
                        break;
                default:
                        return usage_error("efivars", "bad option");
                }
        }
        if (optind != argc)
                return usage_error("efivars", "unexpected argument '%s'", argv[optind]);
        if (!keyset || !output)
                return usage_error("efivars", "enroll needs --keyset and --output");

        r = keyset_path(keyset, &dir);
        if (r < 0)
                return fail(r, "efivars enroll");
        r = keyset_efi_vars_load(dir, dbx, &v);
        if (r < 0)
                return fail(r, "keyset '%s'", keyset);
        r = read_file(template, VARS_MAX, &buf, &len);
        if (r == -EFBIG)
                r = errf(-EFBIG, "%s: larger than any OVMF vars file", template);
        if (r < 0)
                return fail(r, "efivars enroll");
        r = varstore_parse(buf, len, &vs);
        if (r < 0)
                return fail(r, "%s", template);

        /* The order of the spec's checked boot (pcr7.md); the firmware
         * measures them in its own fixed order regardless. */
        r = varstore_set(&vs, &EFI_GLOBAL_VARIABLE_GUID, "PK", EFI_SECURE_BOOT_VAR_ATTRS, NULL, v.pk,
                         v.pk_len);
        if (r >= 0)
                r = varstore_set(&vs, &EFI_GLOBAL_VARIABLE_GUID, "KEK", EFI_SECURE_BOOT_VAR_ATTRS,
                                 NULL, v.kek, v.kek_len);
        if (r >= 0)
                r = varstore_set(&vs, &EFI_IMAGE_SECURITY_DB_GUID, "db", EFI_SECURE_BOOT_VAR_ATTRS,
                                 NULL, v.db, v.db_len);
        if (r >= 0 && v.dbx)
                r = varstore_set(&vs, &EFI_IMAGE_SECURITY_DB_GUID, "dbx", EFI_SECURE_BOOT_VAR_ATTRS,
                                 NULL, v.dbx, v.dbx_len);
        /* Without --dbx, computepcr7 predicts an empty dbx: a dbx from the
         * template would make the firmware measure something else. */
        if (r >= 0 && !v.dbx)
                (void)varstore_delete(&vs, &EFI_IMAGE_SECURITY_DB_GUID, "dbx");
        varstore_done(&vs);
        if (r < 0)
                return fail(r, "%s", template);
        r = write_file_atomic(output, buf, len, 0644);
        if (r < 0)
                return fail(r, "efivars enroll");
        return 0;
}

static int parse_efi_time(const char *s, uint8_t out[EFI_TIME_SIZE])
{
        struct tm tm = {};
        const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
        time_t t;

        if (!end || *end)
                return -EINVAL;
        t = timegm(&tm);
        if (t == (time_t)-1)
                return -EINVAL;
        return efi_time_from_unix((int64_t)t, out);
}

static int efivars_sign_update(int argc, char **argv)
{
        static const struct option opts[] = {
                { "keyset", required_argument, NULL, 'K' }, { "var", required_argument, NULL, 'v' },
                { "append", no_argument, NULL, 'a' },       { "owner", required_argument, NULL, 'O' },
                { "timestamp", required_argument, NULL, 't' },
                { "output", required_argument, NULL, 'o' }, {}
        };
        _cleanup_free_ uint8_t *data = NULL, *out = NULL;
        _cleanup_free_ char *dir = NULL;
        const char *keyset = NULL, *output = NULL, *time_arg = NULL;
        uint8_t ts[EFI_TIME_SIZE] = {};
        efi_guid owner;
        bool append = false, have_owner = false, have_var = false;
        enum sbvar var = SBVAR_DB;
        size_t len, out_len;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'K': keyset = optarg; break;
                case 'v':
                        if (sbvar_from_string(optarg, &var) < 0)
                                return usage_error("efivars", "--var must be PK, KEK, db or dbx, not '%s'", optarg);
                        have_var = true;
                        break;
                case 'a': append = true; break;
                case 'O':
                        if (guid_parse(optarg, &owner) < 0)
                                return usage_error("efivars", "--owner '%s': not a GUID", optarg);
                        have_owner = true;
                        break;
                case 't': time_arg = optarg; break;
                case 'o': output = optarg; break;
                default: return usage_error("efivars", "bad option");
                }
        }
        if (!keyset || !have_var || !output)
                return usage_error("efivars", "sign-update needs --keyset, --var and --output");
        if (append && optind == argc)
                return usage_error("efivars", "--append needs at least one INPUT");
        if (time_arg && parse_efi_time(time_arg, ts) < 0)
                return usage_error("efivars", "--timestamp '%s': expected YYYY-MM-DDTHH:MM:SSZ", time_arg);
        if (!time_arg && !append) {
                r = efi_time_from_unix((int64_t)time(NULL), ts);
                if (r < 0)
                        return fail(r, "efivars sign-update");
        }
        r = keyset_path(keyset, &dir);
        if (r < 0)
                return fail(r, "efivars sign-update");
        if (!have_owner) {
                r = efi_update_default_owner(dir, var, &owner);
                if (r < 0)
                        return fail(r, "keyset '%s'", keyset);
        }
        r = efi_update_data((const char *const *)argv + optind, (size_t)(argc - optind), &owner,
                            &data, &len);
        if (r < 0)
                return fail(r, "efivars sign-update");
        r = keyset_sign_update(dir, var, append, ts, data, len, &out, &out_len);
        if (r < 0)
                return fail(r, "keyset '%s'", keyset);
        r = write_file_atomic(output, out, out_len, 0644);
        if (r < 0)
                return fail(r, "efivars sign-update");
        return 0;
}

/* One payload file, read and identified. */
struct update {
        const char *path;
        uint8_t *buf;
        size_t len;
        struct auth2 a;
        struct auth2_target t;
        char signer[256];
};

static void updates_free(struct update *u, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(u[i].buf);
        free(u);
}

static int apply_all(struct update *u, size_t n, struct sbvar_value vars[_SBVAR_MAX])
{
        for (size_t i = 0; i < n; i++) {
                int r = read_file(u[i].path, AUTH2_MAX, &u[i].buf, &u[i].len);

                if (r == -EFBIG)
                        return errf(-EFBIG, "%s: larger than any variable store", u[i].path);
                if (r < 0)
                        return r; /* names the file */
                r = auth2_parse(u[i].buf, u[i].len, &u[i].a);
                if (r >= 0)
                        r = auth2_identify(&u[i].a, &u[i].t, u[i].signer, sizeof(u[i].signer));
                if (r >= 0)
                        r = auth2_apply(&u[i].a, &u[i].t, vars);
                if (r < 0)
                        return errf_prefix(r, "%s", u[i].path);
        }
        return 0;
}

static void print_applied(const struct update *u, size_t n, const struct sbvar_value vars[_SBVAR_MAX])
{
        for (size_t i = 0; i < n; i++)
                printf("%s: %s%s, signed by %s: applied\n", u[i].path, sbvar_name(u[i].t.var),
                       u[i].t.append ? " (append)" : "", u[i].signer);
        for (int v = 0; v < _SBVAR_MAX; v++)
                if (vars[v].exists)
                        printf("  %s: %zu bytes\n", sbvar_name((enum sbvar)v), vars[v].len);
                else
                        printf("  %s: absent\n", sbvar_name((enum sbvar)v));
}

static bool is_dir(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int efivars_apply(int argc, char **argv)
{
        static const struct option opts[] = {
                { "vars", required_argument, NULL, 'V' }, { "efivarfs", optional_argument, NULL, 'E' }, {}
        };
        struct sbvar_value vars[_SBVAR_MAX] = {};
        struct update *u = NULL;
        const char *vars_path = NULL, *efivarfs = NULL;
        size_t n;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'V': vars_path = optarg; break;
                case 'E':
                        /* --efivarfs DIR: an optional argument getopt only sees
                         * as --efivarfs=DIR; a directory next is ours (payloads
                         * are files). */
                        efivarfs = optarg;
                        if (!efivarfs && optind < argc && is_dir(argv[optind]))
                                efivarfs = argv[optind++];
                        if (!efivarfs)
                                efivarfs = EFIVARFS_DEFAULT;
                        break;
                default: return usage_error("efivars", "bad option");
                }
        }
        if (!vars_path == !efivarfs)
                return usage_error("efivars", "apply needs one of --vars and --efivarfs");
        if (optind == argc)
                return usage_error("efivars", "apply needs at least one FILE.auth");
        n = (size_t)(argc - optind);
        u = xmalloc0(n * sizeof(*u));
        for (size_t i = 0; i < n; i++)
                u[i].path = argv[optind + (int)i];

        if (vars_path) {
                _cleanup_free_ uint8_t *buf = NULL;
                struct varstore vs;
                size_t len;

                r = read_file(vars_path, VARS_MAX, &buf, &len);
                if (r == -EFBIG)
                        r = errf(-EFBIG, "%s: larger than any OVMF vars file", vars_path);
                if (r >= 0) {
                        r = varstore_parse(buf, len, &vs);
                        if (r < 0)
                                r = errf_prefix(r, "%s", vars_path);
                }
                if (r >= 0) {
                        (void)varstore_sbvars(&vs, vars);
                        r = apply_all(u, n, vars);
                        for (int v = 0; v < _SBVAR_MAX && r >= 0; v++) {
                                r = varstore_put_sbvar(&vs, (enum sbvar)v, &vars[v]);
                                if (r < 0)
                                        r = errf_prefix(r, "%s", vars_path);
                        }
                        varstore_done(&vs);
                }
                if (r >= 0)
                        r = write_file_atomic(vars_path, buf, len, 0644);
        } else {
                r = efivarfs_sbvars(efivarfs, vars);
                if (r >= 0)
                        r = apply_all(u, n, vars);
                for (size_t i = 0; i < n && r >= 0; i++) {
                        r = efivarfs_write_update(efivarfs, &u[i].t, u[i].buf, u[i].len);
                        if (r < 0 && i > 0)
                                r = errf_prefix(r, "%zu of %zu updates applied, then", i, n);
                }
                if (r >= 0) { /* what the firmware now holds */
                        sbvar_values_done(vars);
                        r = efivarfs_sbvars(efivarfs, vars);
                }
        }
        if (r >= 0)
                print_applied(u, n, vars);
        sbvar_values_done(vars);
        updates_free(u, n);
        if (r < 0)
                return fail(r, "efivars apply");
        return fflush(stdout) == 0 ? 0 : 1;
}

int cmd_efivars(int argc, char **argv)
{
        if (has_help_arg(argc, argv)) {
                efivars_help(stdout);
                return 0;
        }
        if (argc >= 2 && !strcmp(argv[1], "list"))
                return efivars_list(argc - 1, argv + 1);
        if (argc >= 2 && !strcmp(argv[1], "enroll"))
                return efivars_enroll(argc - 1, argv + 1);
        if (argc >= 2 && !strcmp(argv[1], "sign-update"))
                return efivars_sign_update(argc - 1, argv + 1);
        if (argc >= 2 && !strcmp(argv[1], "apply"))
                return efivars_apply(argc - 1, argv + 1);
        return usage_error("efivars", "expected 'enroll', 'list', 'sign-update' or 'apply'");
}
