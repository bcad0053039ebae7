/* error.c: the recorded message of the last failure (see error.h). */
#include "base/error.h"

#include <stdio.h>
#include <string.h>

#define ERR_MAX 1024

static char err_buf[ERR_MAX];
static int err_code;
static unsigned err_frozen;

static int record(int r, const char *cause, const char *fmt, va_list ap)
{
        char text[ERR_MAX], joined[2 * ERR_MAX + 2];

        if (err_frozen)
                return r;
        /* Everything is formatted into a local buffer first, so an argument
         * that points into err_buf is read whole before err_buf is written. */
        vsnprintf(text, sizeof(text), fmt, ap);
        if (cause)
                snprintf(joined, sizeof(joined), "%s: %s", text, cause);
        else
                memcpy(joined, text, sizeof(text));
        /* A message longer than ERR_MAX is cut, never overflows. */
        memcpy(err_buf, joined, sizeof(err_buf) - 1);
        err_buf[sizeof(err_buf) - 1] = 0;
        err_code = r;
        return r;
}

int errf(int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        r = record(r, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int errf_prefix(int r, const char *fmt, ...)
{
        char cause[ERR_MAX];
        va_list ap;

        snprintf(cause, sizeof(cause), "%s", err_msg(r));
        va_start(ap, fmt);
        r = record(r, cause, fmt, ap);
        va_end(ap);
        return r;
}

void err_clear(void)
{
        if (err_frozen)
                return;
        err_buf[0] = 0;
        err_code = 0;
}

void err_freeze(void)
{
        err_frozen++;
}

void err_thaw(void)
{
        if (err_frozen)
                err_frozen--;
}

const char *err_msg(int r)
{
        if (err_code == r && err_buf[0])
                return err_buf;
        return strerror(r < 0 ? -r : r);
}

void err_copy(int r, char *buf, size_t size)
{
        if (size)
                snprintf(buf, size, "%s", err_msg(r));
}
