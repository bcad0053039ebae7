/* cmd-common.c: helpers shared by the cmd-*.c families. Kept out of main.c so
 * the unit tests, which link every module but main.c, link the commands too. */
#include <stdarg.h>
#include <stdio.h>

#include "base/error.h"
#include "cli/commands.h"

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
