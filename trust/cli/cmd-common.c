/* cmd-common.c: helpers shared by the cmd-*.c families. Kept out of main.c so
 * the unit tests, which link every module but main.c, link the commands too. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/util.h"
#include "cli/commands.h"

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
