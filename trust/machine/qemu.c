/* qemu.c: spawning, watching and stopping the swtpm + QEMU pair of a VM and
 * the KVM probe (see qemu.h); QMP is in qmp.c, the serial console in console.c. QEMU and
 * swtpm facts: ../shared/spec/pcr7.md. */
#include "machine/qemu.h"
#include "machine/qmp.h"
#include "base/process.h"
#include "base/strv.h"
#include "base/util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Starts argv inside `dir` in a session of its own (a terminal's Ctrl-C
 * reaches trust, which then stops the VM in order, instead of killing QEMU
 * mid-write), stdin on /dev/null, stdout and stderr appended to `log`
 * (relative to dir). */
static int spawn(const char *dir, char *const argv[], const char *log, bool die_with_parent,
                 pid_t *ret)
{
        _cleanup_close_ int dfd = -1, fd = -1;
        struct process_spec spec = {
                .cwd = dir,
                .flags = PROCESS_NEW_SESSION | (die_with_parent ? PROCESS_DIE_WITH_PARENT : 0),
        };

        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errf(-errno, "%s: %s", dir, strerror(errno));
        fd = openat(dfd, log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return errf(-errno, "%s/%s: %s", dir, log, strerror(errno));
        spec.fd[0] = PROCESS_DEVNULL;
        spec.fd[1] = spec.fd[2] = fd;
        return process_spawn(argv, &spec, ret);
}

static int write_pid_file(const char *dir, const char *name, pid_t pid)
{
        _cleanup_free_ char *path = path_join(dir, name);
        _cleanup_free_ char *text = xasprintf("%d\n", (int)pid);

        return write_file_atomic(path, text, strlen(text), 0644);
}

static int read_pid_file(const char *dir, const char *name, pid_t *ret)
{
        _cleanup_free_ char *path = path_join(dir, name);
        _cleanup_free_ uint8_t *buf = NULL;
        char *end;
        long v;
        int r;

        *ret = 0;
        r = read_file(path, 64, &buf, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        errno = 0;
        v = strtol((char *)buf, &end, 10);
        if (errno || v < 1 || v > INT32_MAX || (*end && *end != '\n'))
                return errf(-EBADMSG, "%s: not a pid", path);
        *ret = (pid_t)v;
        return 0;
}

bool vm_proc_alive(const char *dir, pid_t pid, bool child)
{
        char proc[64], cwd[4096], stat_buf[512];
        _cleanup_free_ char *real = NULL;
        _cleanup_close_ int fd = -1;
        const char *paren;
        ssize_t n;

        if (pid <= 1)
                return false;
        if (child && waitpid(pid, NULL, WNOHANG) == pid)
                return false;
        snprintf(proc, sizeof(proc), "/proc/%d/stat", (int)pid);
        fd = open(proc, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, stat_buf, sizeof(stat_buf) - 1);
        if (n <= 0)
                return false;
        stat_buf[n] = 0;
        paren = strrchr(stat_buf, ')');
        if (!paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X')
                return false;
        /* The pid must still be ours: a process running in the VM's directory. */
        snprintf(proc, sizeof(proc), "/proc/%d/cwd", (int)pid);
        n = readlink(proc, cwd, sizeof(cwd) - 1);
        if (n <= 0)
                return false;
        cwd[n] = 0;
        real = realpath(dir, NULL);
        return real && !strcmp(real, cwd);
}

int vm_proc_load(const char *dir, struct vm_proc *ret)
{
        struct vm_proc p = {};
        int r;

        r = read_pid_file(dir, VM_QEMU_PID, &p.qemu);
        if (r < 0)
                return r;
        r = read_pid_file(dir, VM_SWTPM_PID, &p.swtpm);
        if (r < 0)
                return r;
        if (!vm_proc_alive(dir, p.qemu, false))
                p.qemu = 0;
        if (!vm_proc_alive(dir, p.swtpm, false))
                p.swtpm = 0;
        *ret = p;
        return 0;
}

static void kill_and_reap(const char *dir, pid_t *pid, bool child)
{
        if (*pid <= 0)
                return;
        if (vm_proc_alive(dir, *pid, child)) {
                (void)kill(*pid, SIGTERM);
                for (int i = 0; i < 30 && vm_proc_alive(dir, *pid, child); i++)
                        sleep_ms(100);
                if (vm_proc_alive(dir, *pid, child)) {
                        (void)kill(*pid, SIGKILL);
                        for (int i = 0; i < 30 && vm_proc_alive(dir, *pid, child); i++)
                                sleep_ms(100);
                }
        }
        if (child)
                (void)waitpid(*pid, NULL, WNOHANG);
        *pid = 0;
}

/* Waits until `name` exists in dir as a socket, while pid lives. */
static int wait_socket(const char *dir, const char *name, pid_t pid, bool child, unsigned ms)
{
        _cleanup_free_ char *path = path_join(dir, name);
        struct stat st;

        for (unsigned t = 0; t < ms; t += 50) {
                if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
                        return 0;
                if (!vm_proc_alive(dir, pid, child))
                        return -ECHILD;
                sleep_ms(50);
        }
        return -ETIMEDOUT;
}

/* Last non-empty line of a log in the state dir, for error messages. */
static char *log_last_line(const char *dir, const char *name)
{
        _cleanup_free_ char *path = path_join(dir, name);
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        char *end, *start;

        if (read_file(path, 1 << 20, &buf, &len) < 0 || len == 0)
                return xstrdup("no output");
        end = (char *)buf + len;
        while (end > (char *)buf && (end[-1] == '\n' || end[-1] == '\r'))
                *--end = 0;
        start = end;
        while (start > (char *)buf && start[-1] != '\n')
                start--;
        return xstrdup(*start ? start : "no output");
}

/* One of the VM's two daemons: where its output and pid go, and the socket
 * whose appearance means it serves. */
struct daemon {
        const char *name; /* in messages */
        const char *log;  /* its stdout and stderr */
        const char *pid_file;
        const char *sock;      /* there once it serves */
        const char *sock_what; /* in messages */
        unsigned timeout_ms;
};

static const struct daemon swtpm_daemon = {
        .name = "swtpm", .log = VM_SWTPM_LOG, .pid_file = VM_SWTPM_PID,
        .sock = VM_SWTPM_SOCK, .sock_what = "its socket", .timeout_ms = 10000,
};
static const struct daemon qemu_daemon = {
        .name = "qemu", .log = VM_QEMU_LOG, .pid_file = VM_QEMU_PID,
        .sock = VM_QMP_SOCK, .sock_what = "its QMP socket", .timeout_ms = 20000,
};

static void daemon_stop(const char *dir, const struct daemon *d, pid_t *pid)
{
        _cleanup_free_ char *path = path_join(dir, d->pid_file);

        kill_and_reap(dir, pid, true);
        (void)unlink(path);
}

/* Spawns d in dir, writes its pid file and waits for its socket. On failure
 * nothing of it is left (process, pid file) and the message carries the last
 * line of its log. */
static int daemon_start(const char *dir, const struct daemon *d, char *const argv[],
                        bool die_with_parent, pid_t *ret)
{
        pid_t pid = 0;
        int r;

        r = spawn(dir, argv, d->log, die_with_parent, &pid);
        if (r >= 0)
                r = write_pid_file(dir, d->pid_file, pid);
        if (r >= 0) {
                r = wait_socket(dir, d->sock, pid, true, d->timeout_ms);
                if (r < 0) {
                        _cleanup_free_ char *why = log_last_line(dir, d->log);
                        if (r == -ECHILD)
                                r = errf(-EIO, "%s exited at start: %s", d->name, why);
                        else
                                r = errf(r, "%s did not open %s: %s", d->name, d->sock_what, why);
                }
        }
        if (r < 0) {
                daemon_stop(dir, d, &pid);
                return r;
        }
        *ret = pid;
        return 0;
}

/* swtpm serving this process (vm_swtpm_serve): the swtpm TCTI finds the
 * control channel at the data socket's path + ".ctrl". */
#define SWTPM_HOST_SOCK "swtpm-host.sock"
#define SWTPM_HOST_CTRL SWTPM_HOST_SOCK ".ctrl"
static const struct daemon swtpm_host_daemon = {
        .name = "swtpm", .log = VM_SWTPM_LOG, .pid_file = VM_SWTPM_PID,
        .sock = SWTPM_HOST_SOCK, .sock_what = "its TPM socket", .timeout_ms = 10000,
};

int vm_swtpm_serve(const char *dir, pid_t *ret, char **ret_tcti)
{
        _cleanup_free_ char *sock = path_join(dir, SWTPM_HOST_SOCK);
        _cleanup_free_ char *ctrl = path_join(dir, SWTPM_HOST_CTRL);
        char *const argv[] = { "swtpm", "socket", "--tpm2",
                               "--tpmstate=dir=" VM_SWTPM_DIR ",mode=0600",
                               "--server=type=unixio,path=" SWTPM_HOST_SOCK ",mode=0600",
                               "--ctrl=type=unixio,path=" SWTPM_HOST_CTRL ",mode=0600",
                               "--log=file=" VM_SWTPM_LOG,
                               "--flags=not-need-init,startup-clear", NULL };
        pid_t pid = 0;
        int r;

        /* The TCTI connects by absolute path (this process's cwd is not
         * dir), in a configuration string split at commas. */
        if (sock[0] != '/' || strlen(ctrl) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
            strchr(sock, ','))
                return errf(-ENAMETOOLONG, "%s: not usable as the TPM socket of the host-side "
                                           "launch (relative, longer than %zu bytes, or with a "
                                           "comma): use --in-guest or a shorter XDG_STATE_HOME",
                            sock, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
        (void)unlink(sock);
        (void)unlink(ctrl);
        r = daemon_start(dir, &swtpm_host_daemon, argv, true, &pid);
        if (r >= 0) {
                r = wait_socket(dir, SWTPM_HOST_CTRL, pid, true, 10000);
                if (r < 0) {
                        r = errf(r, "swtpm did not open its control socket");
                        daemon_stop(dir, &swtpm_host_daemon, &pid);
                }
        }
        if (r < 0)
                return r;
        *ret = pid;
        *ret_tcti = xasprintf("swtpm:path=%s", sock);
        return 0;
}

void vm_swtpm_end(const char *dir, pid_t *pid)
{
        _cleanup_free_ char *sock = path_join(dir, SWTPM_HOST_SOCK);
        _cleanup_free_ char *ctrl = path_join(dir, SWTPM_HOST_CTRL);

        daemon_stop(dir, &swtpm_host_daemon, pid);
        (void)unlink(sock);
        (void)unlink(ctrl);
}

/* --terminate: swtpm ends when QEMU closes the control channel, so the two
 * stop together however QEMU stops. */
static void swtpm_argv(struct strv *a)
{
        strv_addl(a, "swtpm", "socket", "--tpm2", NULL);
        strv_addf(a, "--tpmstate=dir=%s,mode=0600", VM_SWTPM_DIR);
        strv_addf(a, "--ctrl=type=unixio,path=%s,mode=0600", VM_SWTPM_SOCK);
        strv_addf(a, "--log=file=%s", VM_SWTPM_LOG);
        strv_addl(a, "--terminate", NULL);
}

/* Two vCPUs where the host has two cores. Under TCG each vCPU is a host
 * thread (QEMU's default for an x86 guest on an x86 host): the firmware runs
 * on one either way, but systemd's parallel start reaches the OS's status
 * line about 3.5 s sooner (30 s -> 26.6 s, make bench's first boot on a
 * 2-core host). More vCPUs than host cores only adds contention; the count
 * is not measured into PCR7, so a machine may start with either. */
static unsigned qemu_vcpus(void)
{
        long online = sysconf(_SC_NPROCESSORS_ONLN);

        return online >= 2 ? 2 : 1;
}

static void qemu_argv(const struct vm_run *run, struct strv *a)
{
        strv_addl(a, "qemu-system-x86_64", "-accel", run->accel, "-machine", "q35,smm=on", "-m",
                  NULL);
        strv_addf(a, "%u", run->mem_mib ? run->mem_mib : 2048);
        strv_addl(a, "-smp", NULL);
        strv_addf(a, "%u", qemu_vcpus());
        strv_addl(a, "-global", "driver=cfi.pflash01,property=secure,value=on", "-global",
                  "ICH9-LPC.disable_s3=1", "-drive", NULL);
        strv_addf(a, "if=pflash,format=raw,unit=0,file=%s,readonly=on", OVMF_CODE_SECBOOT);
        strv_addl(a, "-drive", NULL);
        strv_addf(a, "if=pflash,format=raw,unit=1,file=%s", VM_VARS);
        strv_addl(a, "-chardev", NULL);
        strv_addf(a, "socket,id=chrtpm,path=%s", VM_SWTPM_SOCK);
        strv_addl(a, "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0",
                  NULL);
        for (size_t i = 0; i < run->n_disks; i++) {
                const struct qemu_disk *d = &run->disks[i];

                strv_addl(a, "-drive", NULL);
                strv_addf(a, "if=none,id=disk%zu,format=raw,file=%s%s", i, d->file,
                          d->readonly ? ",readonly=on" : "");
                strv_addl(a, "-device", NULL);
                if (d->bootindex >= 0)
                        strv_addf(a, "virtio-blk-pci,drive=disk%zu,serial=%s,bootindex=%d", i,
                                  d->serial, d->bootindex);
                else
                        strv_addf(a, "virtio-blk-pci,drive=disk%zu,serial=%s", i, d->serial);
        }
        strv_addl(a, "-display", "none", "-vga", "none", "-nodefaults", "-net", "none",
                  "-no-reboot", NULL);
        /* The serial console goes both to an attachable socket and, always,
         * to console.log (QEMU logs even while no client is connected). */
        strv_addl(a, "-chardev", NULL);
        strv_addf(a, "socket,id=ser0,path=%s,server=on,wait=off,logfile=%s,logappend=on",
                  VM_CONSOLE_SOCK, VM_CONSOLE_LOG);
        strv_addl(a, "-serial", "chardev:ser0", "-qmp", NULL);
        strv_addf(a, "unix:%s,server=on,wait=off", VM_QMP_SOCK);
        if (run->nonce) {
                strv_addl(a, "-fw_cfg", NULL);
                strv_addf(a, "name=" VM_FW_CFG_NONCE ",string=%s", run->nonce);
        }
}

int vm_spawn(const struct vm_run *run, struct vm_proc *ret)
{
        struct vm_proc p = { .children = true };
        struct strv a = {};
        _cleanup_free_ char *sock = path_join(run->dir, VM_SWTPM_SOCK);
        _cleanup_free_ char *qmp = path_join(run->dir, VM_QMP_SOCK);
        _cleanup_free_ char *con = path_join(run->dir, VM_CONSOLE_SOCK);
        _cleanup_free_ char *tpmdir = path_join(run->dir, VM_SWTPM_DIR);
        int r;

        (void)unlink(sock);
        (void)unlink(qmp);
        (void)unlink(con);
        if (mkdir(tpmdir, 0700) < 0 && errno != EEXIST)
                return errf(-errno, "%s: %s", tpmdir, strerror(errno));

        swtpm_argv(&a);
        r = daemon_start(run->dir, &swtpm_daemon, a.v, run->die_with_parent, &p.swtpm);
        strv_done(&a);
        if (r < 0)
                return r;
        qemu_argv(run, &a);
        r = daemon_start(run->dir, &qemu_daemon, a.v, run->die_with_parent, &p.qemu);
        strv_done(&a);
        if (r < 0) {
                daemon_stop(run->dir, &swtpm_daemon, &p.swtpm);
                return r;
        }
        *ret = p;
        return 0;
}

int vm_wait_exit(const char *dir, struct vm_proc *p, unsigned timeout_s)
{
        double end = now_s() + timeout_s;

        for (;;) {
                bool q = vm_proc_alive(dir, p->qemu, p->children);
                bool s = vm_proc_alive(dir, p->swtpm, p->children);

                if (!q)
                        p->qemu = 0;
                if (!s)
                        p->swtpm = 0;
                if (!q && !s)
                        return 0;
                if (now_s() > end)
                        return -ETIMEDOUT;
                sleep_ms(100);
        }
}

/* connect() to a socket in dir through /proc/self/fd/N/, which keeps the
 * path under sun_path's 108 bytes however deep the state directory is. */
int vm_shutdown(const char *dir, struct vm_proc *p, unsigned grace_s)
{
        _cleanup_free_ char *f1 = path_join(dir, VM_QEMU_PID);
        _cleanup_free_ char *f2 = path_join(dir, VM_SWTPM_PID);
        int how = VM_STOP_CLEAN;

        if (vm_proc_alive(dir, p->qemu, p->children)) {
                if (grace_s > 0 && qmp_execute(dir, "system_powerdown") >= 0) {
                        struct vm_proc only = { .qemu = p->qemu, .children = p->children };
                        (void)vm_wait_exit(dir, &only, grace_s);
                }
                if (vm_proc_alive(dir, p->qemu, p->children))
                        how = VM_STOP_FORCED;
                if (how == VM_STOP_FORCED && qmp_execute(dir, "quit") >= 0) {
                        struct vm_proc only = { .qemu = p->qemu, .children = p->children };
                        (void)vm_wait_exit(dir, &only, 5);
                }
        }
        kill_and_reap(dir, &p->qemu, p->children);
        /* swtpm follows QEMU on its own (--terminate); give it a moment. */
        if (vm_proc_alive(dir, p->swtpm, p->children)) {
                struct vm_proc only = { .swtpm = p->swtpm, .children = p->children };
                (void)vm_wait_exit(dir, &only, 3);
        }
        kill_and_reap(dir, &p->swtpm, p->children);
        (void)unlink(f1);
        (void)unlink(f2);
        return how;
}

int run_tool(char *const argv[], unsigned timeout_s)
{
        const struct process_run o = { .timeout_ms = timeout_s * 1000 };

        return process_run(argv, &o);
}

int vm_accel_probe(const char *scratch_dir, const char **ret)
{
        const char *env = getenv("TRUST_VM_ACCEL");
        _cleanup_free_ char *vars = NULL, *log = NULL;
        _cleanup_free_ uint8_t *tmpl = NULL;
        size_t tl;
        pid_t pid = 0;
        int fd, r;
        char *argv[] = { "qemu-system-x86_64", "-accel", "kvm", "-machine", "q35,smm=on",
                         "-m", "256", "-global", "driver=cfi.pflash01,property=secure,value=on",
                         "-drive",
                         "if=pflash,format=raw,unit=0,file=" OVMF_CODE_SECBOOT ",readonly=on",
                         "-drive", "if=pflash,format=raw,unit=1,file=probe-vars.fd",
                         "-display", "none", "-vga", "none", "-nodefaults", "-net", "none",
                         "-no-reboot", "-serial", "file:probe-serial.log", NULL };

        if (env && (!strcmp(env, "kvm") || !strcmp(env, "tcg"))) {
                *ret = !strcmp(env, "kvm") ? "kvm" : "tcg";
                return 0;
        }
        if (env && env[0])
                return errf(-EINVAL, "$TRUST_VM_ACCEL='%s': expected kvm or tcg", env);
        *ret = "tcg";
        fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return 0;
        close(fd);

        /* /dev/kvm opening is not enough: some hosts cannot run OVMF's SMM
         * code under KVM. Start the real firmware and wait for it to print
         * on the serial port; an early exit or silence means TCG. */
        vars = path_join(scratch_dir, "probe-vars.fd");
        log = path_join(scratch_dir, "probe-serial.log");
        r = read_file(OVMF_VARS_TEMPLATE, 16 << 20, &tmpl, &tl);
        if (r < 0)
                return r;
        (void)unlink(vars);
        r = write_file_excl(vars, tmpl, tl, 0600);
        if (r < 0)
                return r;
        r = spawn(scratch_dir, argv, "probe-qemu.log", true, &pid);
        if (r >= 0) {
                struct stat st;
                for (int i = 0; i < 100; i++) {
                        if (!vm_proc_alive(scratch_dir, pid, true))
                                break;
                        if (stat(log, &st) == 0 && st.st_size > 0) {
                                *ret = "kvm";
                                break;
                        }
                        sleep_ms(100);
                }
                kill_and_reap(scratch_dir, &pid, true);
        }
        (void)unlink(vars);
        (void)unlink(log);
        {
                _cleanup_free_ char *ql = path_join(scratch_dir, "probe-qemu.log");
                (void)unlink(ql);
        }
        return 0;
}
