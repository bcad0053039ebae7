/* process.h: running other programs, never through a shell: spawn one with
 * its working directory, standard descriptors, environment and session
 * chosen; wait for it within a time limit; stop it; or run a tool to its end
 * with the telling line of its output in the failure's message. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#define PROCESS_DEVNULL (-1) /* a standard descriptor on /dev/null */

enum {
        PROCESS_NEW_SESSION = 1 << 0,     /* setsid(): a terminal's Ctrl-C reaches us, not it */
        PROCESS_DIE_WITH_PARENT = 1 << 1, /* it gets SIGTERM when we die (PR_SET_PDEATHSIG) */
};

struct process_spec {
        const char *cwd; /* NULL: ours */
        /* Its stdin, stdout and stderr: a descriptor of ours (dup'ed, so the
         * caller still closes it), PROCESS_DEVNULL, or i itself for our own. */
        int fd[3];
        char *const *env; /* NULL: our environment */
        unsigned flags;   /* PROCESS_* */
};

/* Starts argv (argv[0] looked up in $PATH) as s says, with default signal
 * dispositions and an empty signal mask. Returns once the program runs: a
 * failure to start it is the return value with "<argv0>: cannot run: <cause>"
 * (or "cannot change to <cwd>: ...") recorded, never a child's exit status. */
int process_spawn(char *const argv[], const struct process_spec *s, pid_t *ret_pid);

/* Reaps the child pid, waiting at most timeout_ms (0: no limit); its wait
 * status goes to *ret_status (may be NULL). -ETIMEDOUT leaves it running. */
int process_wait(pid_t pid, unsigned timeout_ms, int *ret_status);

/* SIGTERM, then SIGKILL after grace_ms if it has not exited; always reaps. */
void process_stop(pid_t pid, unsigned grace_ms);

struct process_run {
        const char *cwd;     /* NULL: ours */
        char *const *env;    /* NULL: our environment */
        const char *input;   /* written to its stdin; NULL: stdin on /dev/null */
        bool stdout_null;    /* stdout on /dev/null; else read with stderr */
        bool last_line;      /* quote the last line of its output, not the first */
        unsigned timeout_ms; /* 0: no limit; then it is killed */
};

/* Runs argv to its end (o NULL: every default). 0 when it exits 0; else one
 * of, each naming argv[0]:
 *   -EIO        "<argv0> failed (exit N): <line of output>" (or "signal N")
 *   -ETIMEDOUT  "<argv0>: no result within N s" (killed and reaped)
 *   -errno      "<argv0>: cannot run: <cause>" (not found, not executable...) */
int process_run(char *const argv[], const struct process_run *o);
