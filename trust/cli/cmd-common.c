/* cmd-common.c: helpers shared by the cmd-*.c families. Kept out of main.c so
 * the unit tests, which link every module but main.c, link the commands too. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "base/error.h"
#include "base/json.h"
#include "base/util.h"
#include "cli/commands.h"
#include "formats/esl.h"

bool is_help_arg(const char *arg)
{
        return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

bool is_help_word(const char *arg)
{
        return is_help_arg(arg) || !strcmp(arg, "help");
}

bool has_help_arg(int argc, char **argv)
{
        for (int i = 1; i < argc; i++)
                if (is_help_arg(argv[i]))
                        return true;
        return false;
}

void getopt_reset(bool quiet)
{
        optind = 0;
        opterr = !quiet;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "trust %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see 'trust %s --help')\n", cmd);
        return EXIT_USAGE;
}

void log_error(const char *fmt, ...)
{
        va_list ap;

        fputs("trust: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int fail(int r, const char *fmt, ...)
{
        va_list ap;

        fputs("trust: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, ": %s\n", err_msg(r));
        return 1;
}

int check_name(const char *what, const char *name)
{
        int r = name_validate(what, name);

        if (r < 0) {
                log_error("%s", err_msg(r));
                return EXIT_USAGE;
        }
        return 0;
}

int bad_option(const char *cmd, char **argv)
{
        return usage_error(cmd, "bad option '%s' or missing argument", argv[optind - 1]);
}

int op_failed(int r)
{
        log_error("%s", err_msg(r));
        return 1;
}

int esl_print_entry(const efi_guid *type, const efi_guid *owner, const uint8_t *data, size_t len,
                    void *userdata)
{
        struct esl_print_ctx *c = userdata;
        char owner_s[37], type_s[37], subject[512] = "";
        _cleanup_free_ char *hex = NULL;
        const char *kind = "other";

        guid_format(owner, owner_s);
        guid_format(type, type_s);
        if (!memcmp(type->b, EFI_CERT_X509_GUID.b, 16)) {
                const unsigned char *p = data;
                X509 *x = d2i_X509(NULL, &p, (long)len);

                kind = "x509";
                if (x) {
                        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
                        X509_free(x);
                } else {
                        ERR_clear_error();
                        snprintf(subject, sizeof(subject), "(unparsable certificate)");
                }
        } else if (!memcmp(type->b, EFI_CERT_SHA256_GUID.b, 16) && len == 32) {
                kind = "sha256";
                hex = hex_encode(data, len);
        }
        if (c->json) {
                printf("%s{\"type\":\"%s\",\"owner\":\"%s\"", c->n++ ? "," : "", kind, owner_s);
                if (!strcmp(kind, "x509"))
                        json_write_member(stdout, true, "subject", subject, 0);
                else if (hex)
                        printf(",\"hash\":\"%s\"", hex);
                else
                        printf(",\"signature_type\":\"%s\",\"size\":%zu", type_s, len);
                printf("}");
        } else if (!strcmp(kind, "x509"))
                printf("%sx509   owner %s  %s\n", c->indent, owner_s, subject);
        else if (hex)
                printf("%ssha256 owner %s  %s\n", c->indent, owner_s, hex);
        else
                printf("%stype %s owner %s  %zu bytes\n", c->indent, type_s, owner_s, len);
        return 0;
}

void argv_push(const char ***v, size_t *n, const char *arg)
{
        const char **nv = realloc(*v, (*n + 1) * sizeof(**v));

        if (!nv)
                abort();
        nv[(*n)++] = arg;
        *v = nv;
}
