/* process.c: spawning and waiting for programs (see process.h). One fork +
 * exec path with an exec-error pipe, so a program that cannot start is an
 * error of the call, not an exit status to guess from. */
#include "base/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "base/util.h"

extern char **environ;

#define OUTPUT_KEEP 4096 /* bytes of a tool's output kept for the message */

/* What went wrong in the child before exec, reported over the error pipe. */
enum spawn_step { STEP_SESSION, STEP_CWD, STEP_STDIO, STEP_EXEC };
struct spawn_error {
        int step;
        int err;
};

/* The child's side: only async-signal-safe calls until exec. */
static _Noreturn void spawn_child(char *const argv[], const struct process_spec *s, int err_fd,
                                  pid_t parent)
{
        struct spawn_error e = { STEP_SESSION, 0 };
        sigset_t none;
        int fds[3];

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
        if ((s->flags & PROCESS_NEW_SESSION) && setsid() < 0)
                goto fail;
        if (s->flags & PROCESS_DIE_WITH_PARENT) {
                if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
                        goto fail;
                if (getppid() != parent) { /* it died before the line above */
                        errno = ESRCH;
                        goto fail;
                }
        }
        e.step = STEP_CWD;
        if (s->cwd && chdir(s->cwd) < 0)
                goto fail;
        /* Every source above 2 first, so that no dup2() overwrites a
         * descriptor another one still needs (e.g. stdout and stderr swapped). */
        e.step = STEP_STDIO;
        for (int i = 0; i < 3; i++) {
                int fd = s->fd[i];

                if (fd < 0 && (fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
                        goto fail;
                fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (fds[i] < 0)
                        goto fail;
        }
        for (int i = 0; i < 3; i++)
                if (dup2(fds[i], i) < 0)
                        goto fail;
        e.step = STEP_EXEC;
        execvpe(argv[0], argv, s->env ? s->env : environ);
fail:
        e.err = errno;
        (void)!write(err_fd, &e, sizeof(e));
        _exit(127);
}

int process_spawn(char *const argv[], const struct process_spec *s, pid_t *ret_pid)
{
        struct spawn_error e;
        pid_t parent = getpid(), pid;
        int p[2];
        ssize_t n;

        if (!argv || !argv[0])
                return errf(-EINVAL, "no program to run");
        if (pipe2(p, O_CLOEXEC) < 0)
                return errf(-errno, "pipe: %s", strerror(errno));
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]);
                close(p[1]);
                return errf(r, "%s: fork: %s", argv[0], strerror(-r));
        }
        if (pid == 0) {
                close(p[0]);
                spawn_child(argv, s, p[1], parent);
        }
        close(p[1]);
        do
                n = read(p[0], &e, sizeof(e));
        while (n < 0 && errno == EINTR);
        close(p[0]);
        if (n != (ssize_t)sizeof(e)) { /* the pipe closed on exec */
                *ret_pid = pid;
                return 0;
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (e.err <= 0)
                e.err = EIO;
        if (e.step == STEP_CWD)
                return errf(-e.err, "%s: cannot change to %s: %s", argv[0], s->cwd,
                            strerror(e.err));
        return errf(-e.err, "%s: cannot run: %s%s", argv[0],
                    e.step == STEP_STDIO ? "standard descriptors: " : "", strerror(e.err));
}

int process_wait(pid_t pid, unsigned timeout_ms, int *ret_status)
{
        double end = now_s() + timeout_ms / 1000.0;
        unsigned nap = 1;

        for (;;) {
                int status;
                pid_t r = waitpid(pid, &status, timeout_ms ? WNOHANG : 0);

                if (r == pid) {
                        if (ret_status)
                                *ret_status = status;
                        return 0;
                }
                if (r < 0 && errno != EINTR)
                        return errf(-errno, "process %d: %s", (int)pid, strerror(errno));
                if (r == 0 && now_s() >= end)
                        return -ETIMEDOUT;
                if (r == 0) {
                        sleep_ms(nap);
                        nap = nap < 50 ? nap * 2 : 50;
                }
        }
}

void process_stop(pid_t pid, unsigned grace_ms)
{
        if (pid <= 0)
                return;
        (void)kill(pid, SIGTERM);
        if (process_wait(pid, grace_ms ? grace_ms : 1, NULL) >= 0)
                return;
        (void)kill(pid, SIGKILL);
        (void)process_wait(pid, 0, NULL);
}

/* What process_run keeps of the output: the head, or a rolling tail. */
struct output {
        char buf[OUTPUT_KEEP];
        size_t len;
        bool tail;
};

static void output_add(struct output *o, const char *p, size_t n)
{
        size_t room = sizeof(o->buf) - 1 - o->len;

        if (o->tail && n > room) {
                size_t drop = n - room < o->len ? n - room : o->len;

                memmove(o->buf, o->buf + drop, o->len - drop);
                o->len -= drop;
                room += drop;
                if (n > room) { /* one read larger than the buffer: its end */
                        p += n - room;
                        n = room;
                }
        }
        if (n > room)
                n = room;
        memcpy(o->buf + o->len, p, n);
        o->len += n;
        o->buf[o->len] = 0;
}

/* The first (or last) non-blank line of the output, in place. */
static const char *output_line(struct output *o)
{
        char *s = o->buf, *end;

        o->buf[o->len] = 0;
        if (o->tail) {
                end = s + o->len;
                while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
                        *--end = 0;
                while (end > s && end[-1] != '\n')
                        end--;
                s = end;
        } else {
                s += strspn(s, "\r\n ");
                s[strcspn(s, "\r\n")] = 0;
        }
        return s;
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* Feeds input to the child and reads its output until both pipes are done
 * (each descriptor is closed and set to -1 when it is), the child has exited,
 * or the deadline (0: none) passes: -ETIMEDOUT. */
static int run_io(pid_t pid, int *in_fd, int *out_fd, const char *input, struct output *o,
                  double deadline)
{
        size_t left = input ? strlen(input) : 0;

        while (*in_fd >= 0 || *out_fd >= 0) {
                struct pollfd pfd[2] = { { .fd = *out_fd, .events = POLLIN },
                                         { .fd = *in_fd, .events = POLLOUT } };
                /* Wake now and then to notice a child that has exited while
                 * something it started keeps the output pipe open. */
                int wait_ms = 100;
                siginfo_t si = {};

                if (deadline > 0) {
                        double rest = (deadline - now_s()) * 1000;
                        if (rest <= 0)
                                return -ETIMEDOUT;
                        if (rest < wait_ms)
                                wait_ms = (int)rest + 1;
                }
                if (poll(pfd, 2, wait_ms) < 0 && errno != EINTR)
                        return -errno;
                if (pfd[1].revents) {
                        ssize_t n = left ? write(*in_fd, input, left) : 0;

                        if (n > 0) {
                                input += n;
                                left -= (size_t)n;
                        }
                        /* All written, or the child stopped reading (EPIPE). */
                        if (left == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                                close_fd(in_fd);
                }
                if (pfd[0].revents) {
                        char chunk[4096];
                        ssize_t n = read(*out_fd, chunk, sizeof(chunk));

                        if (n > 0)
                                output_add(o, chunk, (size_t)n);
                        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
                                close_fd(out_fd);
                        continue;
                }
                if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
                        break;
        }
        return 0;
}

/* SIGPIPE blocked while writing to a child that may not read: the write
 * fails with EPIPE instead, and the signal it raised is taken back. */
static int run_io_nosigpipe(pid_t pid, int *in_fd, int *out_fd, const char *input, struct output *o,
                            double deadline)
{
        sigset_t pipe_set, old, pending;
        bool was_pending;
        int r;

        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        sigpending(&pending);
        was_pending = sigismember(&pending, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        r = run_io(pid, in_fd, out_fd, input, o, deadline);
        close_fd(in_fd);
        sigpending(&pending);
        if (!was_pending && sigismember(&pending, SIGPIPE)) {
                struct timespec zero = {};
                (void)sigtimedwait(&pipe_set, NULL, &zero);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return r;
}

static unsigned ms_until(double deadline)
{
        double rest = (deadline - now_s()) * 1000;

        return rest < 1 ? 1 : (unsigned)rest;
}

/* Records why a run that ended with status failed. */
static int run_failed(const char *prog, int status, struct output *o)
{
        const char *line = output_line(o);
        bool exited = WIFEXITED(status);

        return errf(-EIO, "%s failed (%s %d)%s%s", prog, exited ? "exit" : "signal",
                    exited ? WEXITSTATUS(status) : WTERMSIG(status), *line ? ": " : "", line);
}

int process_run(char *const argv[], const struct process_run *o)
{
        static const struct process_run defaults = {};
        struct process_spec s = { .fd = { PROCESS_DEVNULL, PROCESS_DEVNULL, PROCESS_DEVNULL } };
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status = 0, r;
        struct output output = {};
        double deadline = 0;
        pid_t pid;

        if (!o)
                o = &defaults;
        if (!argv || !argv[0])
                return errf(-EINVAL, "no program to run");
        output.tail = o->last_line;
        if (pipe2(out, O_CLOEXEC) < 0 || (o->input && pipe2(in, O_CLOEXEC) < 0)) {
                r = errf(-errno, "%s: pipe: %s", argv[0], strerror(errno));
                goto done;
        }
        s.cwd = o->cwd;
        s.env = o->env;
        s.fd[0] = o->input ? in[0] : PROCESS_DEVNULL;
        s.fd[1] = o->stdout_null ? PROCESS_DEVNULL : out[1];
        s.fd[2] = out[1];
        if (o->timeout_ms)
                deadline = now_s() + o->timeout_ms / 1000.0;
        r = process_spawn(argv, &s, &pid);
        close_fd(&in[0]);
        close_fd(&out[1]); /* the child's copies are the only writers now */
        if (r < 0)
                goto done;
        if ((in[1] >= 0 && fcntl(in[1], F_SETFL, O_NONBLOCK) < 0) ||
            fcntl(out[0], F_SETFL, O_NONBLOCK) < 0)
                r = -errno;
        if (r >= 0)
                r = run_io_nosigpipe(pid, &in[1], &out[0], o->input, &output, deadline);
        if (r >= 0) {
                r = process_wait(pid, deadline > 0 ? ms_until(deadline) : 0, &status);
                if (r >= 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
                        r = run_failed(argv[0], status, &output);
                if (r != -ETIMEDOUT)
                        goto done; /* reaped, or not ours to stop (recorded) */
        }
        process_stop(pid, 0); /* still running: timed out, or our side of a pipe failed */
        if (r == -ETIMEDOUT)
                r = errf(r, "%s: no result within %u %s", argv[0],
                         o->timeout_ms % 1000 ? o->timeout_ms : o->timeout_ms / 1000,
                         o->timeout_ms % 1000 ? "ms" : "s");
        else
                r = errf(r, "%s: %s", argv[0], strerror(-r));
done:
        for (int i = 0; i < 2; i++) {
                close_fd(&in[i]);
                close_fd(&out[i]);
        }
        return r;
}
