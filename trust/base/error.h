/* error.h: how library code hands the words of a failure to the command that
 * prints them. Functions return >= 0 on success and -errno on failure; where
 * a cause deserves words they record them with errf(), which returns its
 * first argument, so a call site reads `return errf(-EBADMSG, "...")`.
 *
 * Library code can add to a recorded message (errf_prefix) but never read it
 * back: only the command layer (cli/commands.h) prints it, so no message can
 * be formatted from itself. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#define _printf_(a, b) __attribute__((format(printf, a, b)))

/* Records "<fmt...>" as the message of r. */
int errf(int r, const char *fmt, ...) _printf_(2, 3);
/* Puts "<fmt...>: " in front of the message recorded for r (or strerror(r)
 * when none is): errf_prefix(r, "keyset '%s'", name) gives "keyset 'k': <cause>". */
int errf_prefix(int r, const char *fmt, ...) _printf_(2, 3);
void err_clear(void);

/* Cleanup after a failure (removing a temp dir, closing a device) may fail
 * in its turn; between err_freeze() and err_thaw() nothing replaces the
 * message of the failure being cleaned up. Calls nest. */
void err_freeze(void);
void err_thaw(void);

/* Copies the message of r (strerror when none is recorded) into buf: for
 * reports that keep a refusal as data, e.g. a TPM probe's "why". */
void err_copy(int r, char *buf, size_t size);

/* The text for r: the recorded message when it belongs to r, else strerror.
 * For the command layer (and the unit tests); library code uses err_copy. */
const char *err_msg(int r);
