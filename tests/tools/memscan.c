/* memscan.c: test tool (never installed). Runs a command under ptrace and
 * stops it in its last syscall (exit_group: PTRACE_EVENT_EXIT, when its memory
 * is still mapped), reports how the process is hardened and copies every
 * readable mapping, through /proc/PID/mem, into a dump to search afterwards
 * (the secrets to look for may only be known once the command has run).
 *
 *   memscan [--uid N] [--deny dumpable|core] [--stop-at fsync|write]
 *           [--dump FILE] --report FILE -- CMD [ARGS...]
 *   memscan --search DUMP NEEDLES
 *
 * The report has "stopped in exit, status N", "uid N proc-owner N" (the files
 * in /proc/PID are owned by root when the process is not dumpable), "core-limit SOFT HARD",
 * "stack N bytes", "dumped N regions ..." and "exit N"; memscan exits with
 * CMD's status. CMD starts with RLIMIT_CORE unlimited; --uid runs it as that
 * user (and group); --deny makes prctl(PR_SET_DUMPABLE) or setting
 * RLIMIT_CORE fail with EPERM (seccomp); --stop-at dumps at the first entry
 * of that syscall instead, while the command is at work (a control).
 * NEEDLES has one "LABEL HEX" per line (secrets never go through argv);
 * --search prints "found LABEL ADDR MAPPING" per match. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_NEEDLES 4096
#define MAX_REGION (1ULL << 30) /* sanitizer shadow: reserved, never a copy of data */

struct needle {
        char *label;
        uint8_t *data;
        size_t len;
};

static struct needle needles[MAX_NEEDLES];
static size_t n_needles;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
        va_list ap;

        fputs("memscan: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(125);
}

static int hexval(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static void load_needles(const char *path)
{
        FILE *f = fopen(path, "re");
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;

        if (!f)
                die("%s: %s", path, strerror(errno));
        while ((n = getline(&line, &cap, f)) >= 0) {
                char *sp = strchr(line, ' ');
                struct needle *nd;
                size_t hl;

                if (n > 0 && line[n - 1] == '\n')
                        line[--n] = 0;
                if (!n)
                        continue;
                if (!sp || n_needles == MAX_NEEDLES)
                        die("%s: expected 'LABEL HEX' lines (at most %d)", path, MAX_NEEDLES);
                *sp = 0;
                hl = strlen(sp + 1);
                if (!hl || hl % 2)
                        die("%s: needle '%s': odd or empty hex", path, line);
                nd = &needles[n_needles++];
                nd->label = strdup(line);
                nd->len = hl / 2;
                nd->data = malloc(nd->len);
                if (!nd->label || !nd->data)
                        die("out of memory");
                for (size_t i = 0; i < nd->len; i++) {
                        int hi = hexval(sp[1 + 2 * i]), lo = hexval(sp[2 + 2 * i]);

                        if (hi < 0 || lo < 0)
                                die("%s: needle '%s': not hex", path, line);
                        nd->data[i] = (uint8_t)(hi << 4 | lo);
                }
        }
        free(line);
        fclose(f);
}

#if defined(__x86_64__)
#define AUDIT_ARCH_SELF AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_SELF AUDIT_ARCH_AARCH64
#endif

/* seccomp: EPERM for prctl(PR_SET_DUMPABLE, ...) ("dumpable"), or for
 * prlimit64(pid, RLIMIT_CORE, ...) and setrlimit(RLIMIT_CORE, ...) ("core");
 * everything else is allowed. */
static void deny(const char *what)
{
#ifdef AUDIT_ARCH_SELF
        bool dumpable = !strcmp(what, "dumpable");
        unsigned nr_a = dumpable ? SYS_prctl : SYS_prlimit64, arg_a = dumpable ? 0 : 1;
        unsigned nr_b = dumpable ? SYS_prctl : SYS_setrlimit, arg_b = 0;
        unsigned value = dumpable ? PR_SET_DUMPABLE : RLIMIT_CORE;
        struct sock_filter prog[] = {
                /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_SELF, 0, 8),
                /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr_a, 0, 2),
                /* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                 offsetof(struct seccomp_data, args) + 8 * arg_a),
                /* 5 */ BPF_JUMP(BPF_JMP | BPF_JA, 3, 0, 0),
                /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr_b, 0, 3),
                /* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                 offsetof(struct seccomp_data, args) + 8 * arg_b),
                /* 8 */ BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0),
                /* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 1, 0),
                /* 10 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                /* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        };
        struct sock_fprog fprog = { .len = sizeof(prog) / sizeof(prog[0]), .filter = prog };

        if (!dumpable && strcmp(what, "core"))
                die("--deny: expected 'dumpable' or 'core', not '%s'", what);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0)
                die("seccomp: %s", strerror(errno));
#else
        die("--deny %s: no seccomp filter for this architecture", what);
#endif
}

/* The dump: for each readable mapping a header, then its bytes. */
struct dump_header {
        uint64_t start;
        uint64_t len;
        char name[240];
};

static void dump_region(FILE *out, int mem, uint64_t start, uint64_t end, const char *name,
                        uint64_t *bytes)
{
        struct dump_header h = { .start = start };
        size_t len = (size_t)(end - start);
        uint8_t *buf = malloc(len);

        if (!buf)
                die("out of memory for a %zu-byte region", len);
        /* A page that cannot be read ends the readable part of the region. */
        while (h.len < len) {
                ssize_t n = pread(mem, buf + h.len, len - h.len, (off_t)(start + h.len));

                if (n <= 0)
                        break;
                h.len += (uint64_t)n;
        }
        snprintf(h.name, sizeof(h.name), "%s", name[0] ? name : "[anon]");
        if (fwrite(&h, sizeof(h), 1, out) != 1 || fwrite(buf, 1, h.len, out) != h.len)
                die("writing the dump: %s", strerror(errno));
        *bytes += h.len;
        free(buf);
}

static void dump(FILE *rep, pid_t pid, const char *dump_path)
{
        char path[64], line[4096];
        uint64_t bytes = 0, skipped = 0;
        unsigned regions = 0;
        FILE *maps, *out;
        int mem;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
        maps = fopen(path, "re");
        snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
        mem = open(path, O_RDONLY | O_CLOEXEC);
        if (!maps || mem < 0)
                die("/proc/%d: %s", (int)pid, strerror(errno));
        out = fopen(dump_path, "wxe");
        if (!out)
                die("%s: %s", dump_path, strerror(errno));
        while (fgets(line, sizeof(line), maps)) {
                uint64_t start, end;
                char perms[5], name[4096] = "";
                int off = 0;

                line[strcspn(line, "\n")] = 0;
                if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %*s %*s %*s %n", &start, &end,
                           perms, &off) < 3)
                        continue;
                if (off > 0)
                        snprintf(name, sizeof(name), "%s", line + off);
                if (perms[0] != 'r' || end - start > MAX_REGION) {
                        skipped += end - start;
                        continue;
                }
                regions++;
                if (!strcmp(name, "[stack]"))
                        fprintf(rep, "stack %" PRIu64 " bytes\n", end - start);
                dump_region(out, mem, start, end, name, &bytes);
        }
        if (fclose(out) != 0)
                die("%s: %s", dump_path, strerror(errno));
        fprintf(rep, "dumped %u regions %" PRIu64 " bytes (%" PRIu64 " unreadable or "
                     "reserved bytes skipped)\n",
                regions, bytes, skipped);
        close(mem);
        fclose(maps);
}

/* memscan --search DUMP NEEDLES: "found LABEL ADDR MAPPING" per match. */
static int search(const char *dump_path, const char *needles_path)
{
        FILE *in = fopen(dump_path, "re");
        struct dump_header h;
        uint64_t bytes = 0;
        unsigned regions = 0;

        if (!in)
                die("%s: %s", dump_path, strerror(errno));
        load_needles(needles_path);
        while (fread(&h, sizeof(h), 1, in) == 1) {
                uint8_t *buf = malloc(h.len ? h.len : 1);

                if (!buf || fread(buf, 1, h.len, in) != h.len)
                        die("%s: truncated", dump_path);
                h.name[sizeof(h.name) - 1] = 0;
                for (size_t i = 0; i < n_needles; i++) {
                        const uint8_t *p = buf, *hit;
                        size_t left = h.len;

                        while ((hit = memmem(p, left, needles[i].data, needles[i].len))) {
                                printf("found %s 0x%" PRIx64 " %s\n", needles[i].label,
                                       h.start + (uint64_t)(hit - buf), h.name);
                                left -= (size_t)(hit - p) + 1;
                                p = hit + 1;
                        }
                }
                bytes += h.len;
                regions++;
                free(buf);
        }
        fclose(in);
        printf("searched %u regions %" PRIu64 " bytes for %zu needles\n", regions, bytes,
               n_needles);
        return 0;
}

static void report_hardening(FILE *rep, pid_t pid)
{
        char path[64], line[256];
        struct stat st;
        unsigned uid = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "Uid: %u", &uid) == 1)
                        break;
        if (f)
                fclose(f);
        /* Not /proc/PID itself: directories keep the task's owner. */
        snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
        if (stat(path, &st) < 0)
                die("%s: %s", path, strerror(errno));
        fprintf(rep, "uid %u proc-owner %u\n", uid, (unsigned)st.st_uid);

        snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f)) {
                char soft[32], hard[32];

                if (sscanf(line, "Max core file size %31s %31s", soft, hard) == 2)
                        fprintf(rep, "core-limit %s %s\n", soft, hard);
        }
        if (f)
                fclose(f);
}

/* The child: core dumps allowed (so a command that does not harden itself
 * shows it), the user of --uid, tracing, the seccomp filter of --deny. */
static pid_t spawn(char **argv, long uid, const char *deny_what)
{
        const struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
        pid_t pid = fork();

        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid > 0)
                return pid;
        (void)setrlimit(RLIMIT_CORE, &unlimited);
        if (uid >= 0 &&
            (setgroups(0, NULL) < 0 || setgid((gid_t)uid) < 0 || setuid((uid_t)uid) < 0))
                die("dropping to uid %ld: %s", uid, strerror(errno));
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
                die("PTRACE_TRACEME: %s", strerror(errno));
        if (deny_what)
                deny(deny_what);
        execvp(argv[0], argv);
        die("%s: %s", argv[0], strerror(errno));
}

static const struct {
        const char *name;
        long nr;
} stop_names[] = {
        { "fsync", SYS_fsync },
        { "write", SYS_write },
};

/* The syscall a stop is the entry of, or -1. */
static long syscall_entry(pid_t pid)
{
        struct __ptrace_syscall_info info = {};

        if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) < 0)
                die("PTRACE_GET_SYSCALL_INFO: %s", strerror(errno));
        return info.op == PTRACE_SYSCALL_INFO_ENTRY ? (long)info.entry.nr : -1;
}

int main(int argc, char **argv)
{
        const char *dump_path = NULL, *report_path = NULL, *deny_what = NULL, *stop_at = NULL;
        long uid = -1, stop_nr = -1;
        bool started = false, dumped = false;
        FILE *rep;
        pid_t pid;
        int i, status;

        if (argc == 4 && !strcmp(argv[1], "--search"))
                return search(argv[2], argv[3]);
        for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
                if (i + 1 >= argc)
                        die("%s needs a value", argv[i]);
                if (!strcmp(argv[i], "--dump"))
                        dump_path = argv[++i];
                else if (!strcmp(argv[i], "--report"))
                        report_path = argv[++i];
                else if (!strcmp(argv[i], "--deny"))
                        deny_what = argv[++i];
                else if (!strcmp(argv[i], "--stop-at"))
                        stop_at = argv[++i];
                else if (!strcmp(argv[i], "--uid"))
                        uid = strtol(argv[++i], NULL, 10);
                else
                        die("unknown option '%s'", argv[i]);
        }
        if (i + 1 >= argc || !report_path)
                die("usage: memscan [--uid N] [--deny dumpable|core] [--stop-at fsync|write] "
                    "[--dump FILE] --report FILE -- CMD [ARGS...]\n"
                    "       memscan --search DUMP NEEDLES");
        for (size_t k = 0; stop_at && k < sizeof(stop_names) / sizeof(stop_names[0]); k++)
                if (!strcmp(stop_at, stop_names[k].name))
                        stop_nr = stop_names[k].nr;
        if (stop_at && stop_nr < 0)
                die("--stop-at: expected fsync or write, not '%s'", stop_at);
        rep = fopen(report_path, "we");
        if (!rep)
                die("%s: %s", report_path, strerror(errno));

        pid = spawn(argv + i + 1, uid, deny_what);
        for (;;) {
                int sig = 0, how = dumped || stop_nr < 0 ? PTRACE_CONT : PTRACE_SYSCALL;

                if (waitpid(pid, &status, 0) < 0)
                        die("waitpid: %s", strerror(errno));
                if (WIFEXITED(status) || WIFSIGNALED(status))
                        break;
                if (!started) { /* the SIGTRAP after execve */
                        started = true;
                        if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
                                   (void *)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL |
                                            PTRACE_O_TRACESYSGOOD)) < 0)
                                die("PTRACE_SETOPTIONS: %s", strerror(errno));
                } else if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
                        if (!dumped && syscall_entry(pid) == stop_nr) {
                                fprintf(rep, "stopped in %s\n", stop_at);
                                if (dump_path)
                                        dump(rep, pid, dump_path);
                                dumped = true;
                                how = PTRACE_CONT;
                        }
                } else if (status >> 8 == (SIGTRAP | PTRACE_EVENT_EXIT << 8)) {
                        unsigned long code = 0;

                        (void)ptrace(PTRACE_GETEVENTMSG, pid, NULL, &code);
                        fprintf(rep, "stopped in exit, status 0x%lx\n", code);
                        report_hardening(rep, pid);
                        if (dump_path && !dumped && !stop_at)
                                dump(rep, pid, dump_path);
                        fflush(rep);
                } else
                        sig = WSTOPSIG(status);
                if (ptrace(how, pid, NULL, (void *)(long)sig) < 0)
                        die("ptrace: %s", strerror(errno));
        }
        if (stop_at && !dumped)
                fprintf(rep, "never stopped in %s\n", stop_at);
        if (WIFSIGNALED(status)) {
                fprintf(rep, "killed by signal %d\n", WTERMSIG(status));
                fclose(rep);
                return 128 + WTERMSIG(status);
        }
        fprintf(rep, "exit %d\n", WEXITSTATUS(status));
        fclose(rep);
        return WEXITSTATUS(status);
}
