/* console.h: a VM's serial console (QEMU appends it to VM_CONSOLE_LOG and
 * serves it on VM_CONSOLE_SOCK in the state directory): the phase markers in
 * the guest's output, its last lines, and attaching a terminal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "machine/qemu.h"

enum console_result {
        CONSOLE_SUCCESS,
        CONSOLE_FAILURE, /* the guest printed the failure marker */
        CONSOLE_DENIED,  /* the firmware refused the image */
        CONSOLE_EXITED,  /* QEMU ended without success */
        CONSOLE_TIMEOUT,
        CONSOLE_INTERRUPTED,
};

/* Line scanner over console bytes (the guest's output: untrusted). */
#define CONSOLE_OVERLAP 64 /* markers are shorter than this */
struct console_scan {
        char line[4096];
        size_t len;
};
/* true (and *ret) once a line holds success, failure or "Access Denied". */
bool console_scan_feed(struct console_scan *sc, const char *buf, size_t n, const char *success,
                       const char *failure, enum console_result *ret);
/* The same for the unterminated last line. */
bool console_scan_finish(struct console_scan *sc, const char *success, const char *failure,
                         enum console_result *ret);
/* Printable text of buf (ANSI escape sequences dropped); free() it. */
char *console_sanitize(const char *buf, size_t len);
/* The last `lines` lines of buf, sanitised; free() it. */
char *console_tail_of(const char *buf, size_t len, unsigned lines);

/* Follows console.log from byte `from` until a line contains `success` or
 * `failure`, the firmware says Access Denied, QEMU exits, `timeout_s`
 * passes, or *stop becomes true (signal). */
int vm_wait_console(const char *dir, const struct vm_proc *p, off_t from, const char *success,
                    const char *failure, unsigned timeout_s, volatile int *stop,
                    enum console_result *ret);

/* Where the console log ends now (0 when there is none yet): the start of
 * the next boot's output. */
off_t vm_console_size(const char *dir);
/* Appends "=== trust vm: text ===" to the console log between phases, so
 * the log reads as a story (best effort). */
void vm_console_mark(const char *dir, const char *text);

/* Last `lines` lines of the console log (sanitised to printable text). */
char *vm_console_tail(const char *dir, unsigned lines);

/* Relays the VM's serial console to stdin/stdout until QEMU closes it or the
 * user types Ctrl-]. */
int vm_console_attach(const char *dir);
