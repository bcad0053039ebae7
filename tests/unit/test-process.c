/* test-process.c: the one way to run a program: spawn with cwd, stdio,
 * environment, session and parent-death signal; wait with a time limit;
 * stop; and run a tool to its end with the right line of its output in the
 * message, its input fed, and a timeout that kills it. /bin/sh, cat and
 * sleep are the programs. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "base/process.h"
#include "base/util.h"
#include "harness.h"

static char *dir;

/* A fresh file in dir for the child to write, opened for us to pass on. */
static int out_file(const char *name)
{
        _cleanup_free_ char *p = path_join(dir, name);

        return open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

static char *slurp(const char *name)
{
        _cleanup_free_ char *p = path_join(dir, name);
        uint8_t *buf = NULL;

        if (read_file(p, 1 << 20, &buf, NULL) < 0)
                return xstrdup("(unreadable)");
        return (char *)buf;
}

static int spawn_wait(char *const argv[], const struct process_spec *s, int *status)
{
        pid_t pid;
        int r = process_spawn(argv, s, &pid);

        return r < 0 ? r : process_wait(pid, 10000, status);
}

static void test_spawn_stdio_cwd_env(void)
{
        _cleanup_close_ int out = out_file("out"), err = out_file("err"), in = -1;
        _cleanup_free_ char *real = realpath(dir, NULL), *o = NULL, *e = NULL, *want = NULL;
        char *const env[] = { "GREETING=hello there", NULL };
        char *const argv[] = { "sh", "-c", "pwd; echo \"$GREETING\"; cat; echo oops >&2", NULL };
        struct process_spec s = { .cwd = dir, .env = env };
        int status = -1;

        {
                _cleanup_free_ char *p = path_join(dir, "in");
                ASSERT_OK(write_file_excl(p, "from stdin\n", 11, 0600));
                in = open(p, O_RDONLY | O_CLOEXEC);
        }
        ASSERT_TRUE(out >= 0 && err >= 0 && in >= 0);
        s.fd[0] = in;
        s.fd[1] = out;
        s.fd[2] = err;
        ASSERT_OK(spawn_wait(argv, &s, &status));
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        o = slurp("out");
        e = slurp("err");
        want = xasprintf("%s\nhello there\nfrom stdin\n", real);
        ASSERT_STREQ(o, want);
        ASSERT_STREQ(e, "oops\n");
}

/* stdout and stderr swapped: no dup2() may clobber a source still needed. */
static void test_spawn_swapped_fds(void)
{
        _cleanup_close_ int a = -1, b = -1;
        _cleanup_free_ char *ta = NULL, *tb = NULL;
        char *const argv[] = { "sh", "-c", "echo to-out; echo to-err >&2", NULL };
        int saved1 = dup(1), saved2 = dup(2), status = -1, r;

        a = out_file("a");
        b = out_file("b");
        ASSERT_TRUE(a >= 0 && b >= 0 && saved1 >= 0 && saved2 >= 0);
        fflush(stdout);
        fflush(stderr);
        /* ours: 1 -> a, 2 -> b; the child's: 1 = our 2, 2 = our 1 */
        dup2(a, 1);
        dup2(b, 2);
        r = spawn_wait(argv, &(struct process_spec){ .fd = { PROCESS_DEVNULL, 2, 1 } }, &status);
        dup2(saved1, 1);
        dup2(saved2, 2);
        close(saved1);
        close(saved2);
        ASSERT_OK(r);
        ta = slurp("a");
        tb = slurp("b");
        ASSERT_STREQ(ta, "to-err\n");
        ASSERT_STREQ(tb, "to-out\n");
}

static void test_spawn_refused(void)
{
        _cleanup_free_ char *missing_dir = path_join(dir, "no-such-dir");
        _cleanup_free_ char *script = path_join(dir, "not-executable");
        char *const missing[] = { "trust-test-no-such-program", NULL };
        char *const plain[] = { script, NULL };
        char *const sh[] = { "sh", "-c", "true", NULL };
        struct process_spec s = { .fd = { PROCESS_DEVNULL, PROCESS_DEVNULL, PROCESS_DEVNULL } };
        pid_t pid = 0;

        ASSERT_EQ(process_spawn(missing, &s, &pid), -ENOENT);
        ASSERT_STREQ(err_msg(-ENOENT),
                     "trust-test-no-such-program: cannot run: No such file or directory");
        ASSERT_OK(write_file_excl(script, "#!/bin/sh\n", 10, 0600));
        ASSERT_EQ(process_spawn(plain, &s, &pid), -EACCES);
        s.cwd = missing_dir;
        ASSERT_EQ(process_spawn(sh, &s, &pid), -ENOENT);
        ASSERT_TRUE(strstr(err_msg(-ENOENT), "sh: cannot change to ") != NULL);
        ASSERT_EQ(pid, 0);
        ASSERT_TRUE(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD); /* all reaped */
}

/* Our ignored or blocked signals are not the child's; NEW_SESSION makes it
 * a session leader. */
static void test_spawn_signals_session(void)
{
        char *const argv[] = { "sleep", "10", NULL };
        struct process_spec s = { .fd = { PROCESS_DEVNULL, PROCESS_DEVNULL, PROCESS_DEVNULL },
                                  .flags = PROCESS_NEW_SESSION };
        sigset_t term, old;
        int status = 0;
        pid_t pid;

        signal(SIGTERM, SIG_IGN);
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigprocmask(SIG_BLOCK, &term, &old);
        ASSERT_OK(process_spawn(argv, &s, &pid));
        sigprocmask(SIG_SETMASK, &old, NULL);
        signal(SIGTERM, SIG_DFL);
        ASSERT_EQ(getsid(pid), pid);
        ASSERT_OK(kill(pid, SIGTERM));
        ASSERT_OK(process_wait(pid, 5000, &status));
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

static bool gone_or_zombie(pid_t pid)
{
        char path[64], buf[256];
        _cleanup_close_ int fd = -1;
        const char *paren;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return true;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return true;
        buf[n] = 0;
        paren = strrchr(buf, ')');
        return paren && (paren[2] == 'Z' || paren[2] == 'X');
}

/* DIE_WITH_PARENT: a child whose spawner dies gets SIGTERM. */
static void test_spawn_die_with_parent(void)
{
        int p[2];
        pid_t middle, grandchild = 0;

        ASSERT_OK(pipe2(p, O_CLOEXEC));
        middle = fork();
        ASSERT_TRUE(middle >= 0);
        if (middle == 0) {
                char *const argv[] = { "sleep", "30", NULL };
                struct process_spec s = {
                        .fd = { PROCESS_DEVNULL, PROCESS_DEVNULL, PROCESS_DEVNULL },
                        .flags = PROCESS_DIE_WITH_PARENT,
                };
                pid_t pid = 0;

                (void)process_spawn(argv, &s, &pid);
                (void)!write(p[1], &pid, sizeof(pid));
                _exit(0);
        }
        close(p[1]);
        ASSERT_EQ(read(p[0], &grandchild, sizeof(grandchild)), sizeof(grandchild));
        close(p[0]);
        ASSERT_TRUE(grandchild > 0);
        ASSERT_OK(process_wait(middle, 5000, NULL));
        for (int i = 0; i < 100 && !gone_or_zombie(grandchild); i++)
                sleep_ms(20);
        ASSERT_TRUE(gone_or_zombie(grandchild));
}

static void test_wait_and_stop(void)
{
        char *const sleeper[] = { "sleep", "10", NULL };
        char *const stubborn[] = { "sh", "-c", "trap '' TERM; sleep 10", NULL };
        struct process_spec s = { .fd = { PROCESS_DEVNULL, PROCESS_DEVNULL, PROCESS_DEVNULL } };
        double t0;
        pid_t pid;

        ASSERT_OK(process_spawn(sleeper, &s, &pid));
        t0 = now_s();
        ASSERT_EQ(process_wait(pid, 150, NULL), -ETIMEDOUT);
        ASSERT_TRUE(now_s() - t0 >= 0.14 && now_s() - t0 < 2);
        ASSERT_OK(kill(pid, 0)); /* a timeout leaves it running */
        process_stop(pid, 2000);
        ASSERT_TRUE(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD); /* reaped */

        /* SIGTERM ignored: SIGKILL after the grace time */
        ASSERT_OK(process_spawn(stubborn, &s, &pid));
        sleep_ms(200); /* let sh set its trap */
        t0 = now_s();
        process_stop(pid, 300);
        ASSERT_TRUE(now_s() - t0 >= 0.29 && now_s() - t0 < 3);
        ASSERT_TRUE(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD);
}

static void test_run_results(void)
{
        char *const ok[] = { "true", NULL };
        char *const bad[] = { "sh", "-c", "echo; echo first; echo second >&2; exit 3", NULL };
        char *const killed[] = { "sh", "-c", "echo dying; kill -9 $$", NULL };
        char *const missing[] = { "trust-test-no-such-program", NULL };

        ASSERT_OK(process_run(ok, NULL));
        ASSERT_EQ(process_run(bad, NULL), -EIO);
        ASSERT_STREQ(err_msg(-EIO), "sh failed (exit 3): first");
        ASSERT_EQ(process_run(bad, &(struct process_run){ .last_line = true }), -EIO);
        ASSERT_STREQ(err_msg(-EIO), "sh failed (exit 3): second");
        ASSERT_EQ(process_run(bad, &(struct process_run){ .stdout_null = true }), -EIO);
        ASSERT_STREQ(err_msg(-EIO), "sh failed (exit 3): second");
        ASSERT_EQ(process_run(killed, NULL), -EIO);
        ASSERT_STREQ(err_msg(-EIO), "sh failed (signal 9): dying");
        ASSERT_EQ(process_run(missing, NULL), -ENOENT);
        ASSERT_STREQ(err_msg(-ENOENT),
                     "trust-test-no-such-program: cannot run: No such file or directory");
}

/* More output than is kept: the first line and the last survive. */
static void test_run_long_output(void)
{
        char *const argv[] = { "sh", "-c", "echo head; seq 1 30000; echo tail; exit 1", NULL };

        ASSERT_EQ(process_run(argv, NULL), -EIO);
        ASSERT_STREQ(err_msg(-EIO), "sh failed (exit 1): head");
        ASSERT_EQ(process_run(argv, &(struct process_run){ .last_line = true }), -EIO);
        ASSERT_STREQ(err_msg(-EIO), "sh failed (exit 1): tail");
}

static void test_run_input(void)
{
        char *const check[] = { "sh", "-c",
                                "read a; read b; [ \"$a $b\" = 'label: gpt' ] || "
                                "{ echo \"got '$a $b'\" >&2; exit 1; }",
                                NULL };
        char *const count[] = { "sh", "-c", "[ $(wc -c) = 1048576 ]", NULL };
        char *const deaf[] = { "true", NULL };
        _cleanup_free_ char *big = xmalloc0((1 << 20) + 1);

        ASSERT_OK(process_run(check, &(struct process_run){ .input = "label:\ngpt\n" }));
        ASSERT_EQ(process_run(check, &(struct process_run){ .input = "x\ny\n" }), -EIO);
        ASSERT_STREQ(err_msg(-EIO), "sh failed (exit 1): got 'x y'");
        memset(big, 'z', 1 << 20);
        ASSERT_OK(process_run(count, &(struct process_run){ .input = big }));
        /* A child that reads nothing: EPIPE, not a SIGPIPE that kills us. */
        ASSERT_OK(process_run(deaf, &(struct process_run){ .input = big }));
}

static void test_run_timeout(void)
{
        char *const slow[] = { "sleep", "10", NULL };
        char *const quiet_slow[] = { "sh", "-c", "exec >/dev/null 2>&1; sleep 10", NULL };
        /* exits at once, leaving a grandchild that holds the output pipe */
        char *const leaves[] = { "sh", "-c", "sleep 5 & exit 0", NULL };
        double t0 = now_s();

        ASSERT_EQ(process_run(slow, &(struct process_run){ .timeout_ms = 300 }), -ETIMEDOUT);
        ASSERT_STREQ(err_msg(-ETIMEDOUT), "sleep: no result within 300 ms");
        ASSERT_TRUE(now_s() - t0 < 3);
        t0 = now_s();
        ASSERT_EQ(process_run(quiet_slow, &(struct process_run){ .timeout_ms = 1000 }),
                  -ETIMEDOUT);
        ASSERT_STREQ(err_msg(-ETIMEDOUT), "sh: no result within 1 s");
        ASSERT_TRUE(now_s() - t0 >= 0.99 && now_s() - t0 < 4);
        t0 = now_s();
        ASSERT_OK(process_run(leaves, &(struct process_run){ .timeout_ms = 4000 }));
        ASSERT_TRUE(now_s() - t0 < 2);
        ASSERT_TRUE(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
}

static void test_run_cwd_env(void)
{
        char *const env[] = { "MARK=1", NULL };
        char *const argv[] = { "sh", "-c", "[ \"$MARK\" = 1 ] && [ -e here ] || "
                                           "{ echo \"MARK=$MARK in $(pwd)\"; exit 1; }",
                               NULL };
        _cleanup_free_ char *here = path_join(dir, "here");

        ASSERT_OK(write_file_excl(here, "", 0, 0600));
        ASSERT_OK(process_run(argv, &(struct process_run){ .cwd = dir, .env = env }));
        ASSERT_EQ(process_run(argv, &(struct process_run){ .env = env }), -EIO);
        ASSERT_TRUE(strstr(err_msg(-EIO), "sh failed (exit 1): MARK=1 in ") != NULL);
}

int main(void)
{
        char tmpl[] = "/tmp/trust-test-process-XXXXXX";

        dir = xstrdup(mkdtemp(tmpl));
        RUN(test_spawn_stdio_cwd_env);
        RUN(test_spawn_swapped_fds);
        RUN(test_spawn_refused);
        RUN(test_spawn_signals_session);
        RUN(test_spawn_die_with_parent);
        RUN(test_wait_and_stop);
        RUN(test_run_results);
        RUN(test_run_long_output);
        RUN(test_run_input);
        RUN(test_run_timeout);
        RUN(test_run_cwd_env);
        (void)rm_rf(dir);
        free(dir);
        return test_exit();
}
