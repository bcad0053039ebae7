/* cmd-common.c: helpers shared by the cmd-*.c families. Kept out of main.c so
 * the unit tests, which link every module but main.c, link the commands too. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
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
