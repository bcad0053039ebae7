/* cmd-vm.c: `trust vm launch|start|stop|console|list|info|attest|delete`:
 * argument parsing and output only; the work is in vm.c, qemu.c, console.c,
 * vm-attest.c and, for the verdict, keys/attest-verify.c. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "base/json.h"
#include "cli/commands.h"
#include "base/util.h"
#include "formats/attest.h"
#include "keys/attest-verify.h"
#include "keys/efi-update.h"
#include "keys/eventlog-match.h"
#include "machine/vm.h"
#include "machine/vm-attest.h"
#include "machine/vm-launch.h"
#include "machine/vmdir.h"

static const char vm_usage[] =
        "Usage: trust vm COMMAND ...\n\n"
        "Provisioned VMs: OVMF with the keyset's keys enrolled, a persistent swtpm,\n"
        "a SUDI identity, and the provision -> install -> boot sequence.\n\n"
        "  launch NAME --project KEYSET:PROJECT [--serial ID] [--images DIR]\n"
        "         [--in-guest] [--keep-on-failure] [--timeout SEC]\n"
        "                         create the VM, provision its TPM and install the OS,\n"
        "                         from the host (the VM's TPM is a host file anyway);\n"
        "                         --in-guest: by booting the provisioning and installer\n"
        "                         images, as on hardware (two more firmware boots)\n"
        "  start NAME [--console] boot the installed OS (detached, or on the console)\n"
        "  stop NAME [--timeout SEC]\n"
        "                         power button, then quit after SEC (default 60)\n"
        "  console NAME           attach to the serial console (Ctrl-] detaches)\n"
        "  list [--json]          the VMs and whether they run; --json:\n"
        "                         [{\"name\",\"state\",\"keyset\",\"project\",\"serial\"}]\n"
        "  info NAME [--json]     one VM's settings, paths and processes; --json: list's\n"
        "                         keys, \"dir\",\"images\",\"created\",\"accel\",\"qemu_pid\",\n"
        "                         \"swtpm_pid\",\"console_log\" (pids 0: not running)\n"
        "  attest NAME [--timeout SEC]\n"
        "                         boot the VM with a fresh nonce, collect the bundle its\n"
        "                         OS prints ('trust attest quote'), verify it against the\n"
        "                         VM's keyset ('trust attest verify'), stop the VM; on a\n"
        "                         failure also compare its firmware variables with the\n"
        "                         keyset's (SEC: how long to wait, default 600)\n"
        "  delete NAME            stop the VM and remove everything it has\n\n"
        "State: $XDG_STATE_HOME/machine/trust/vms/NAME/. Images: --images DIR, default\n"
        "build/images/KEYSET (images/README.md: vars.fd, os/payload.img,\n"
        "os/pcr7-production.txt; --in-guest: provision/ and install/uki-production.efi).\n"
        "$TRUST_VM_ACCEL=kvm|tcg overrides the KVM probe.\n";

/* "trust: vm 'x': cause", without naming the VM twice when the cause does. */
static int vm_fail(int r, const char *name)
{
        const char *msg = err_msg(r);
        _cleanup_free_ char *tag = xasprintf("vm '%s'", name);

        if (!strncmp(msg, tag, strlen(tag))) {
                log_error("%s", msg);
                return 1;
        }
        return fail(r, "vm '%s'", name);
}

/* vm_getopt's answer for an argument that is not an option (in optarg). */
#define OPT_NAME 1
/* vm_getopt's answer for a refused option (the usage line is printed). */
#define OPT_REFUSED (-2)

/* An option of the vm commands is one whole argument spelled in full: the
 * abbreviations, "--opt=value", "-hh" and "--" getopt_long would take are
 * refused, as they always were. */
static bool whole_option(const struct option *opts, const char *arg)
{
        if (!strcmp(arg, "-h"))
                return true;
        if (strncmp(arg, "--", 2) != 0)
                return false;
        for (const struct option *o = opts; o->name; o++)
                if (!strcmp(arg + 2, o->name))
                        return true;
        return false;
}

/* getopt_long over the arguments in order ("-": a NAME comes back as
 * OPT_NAME where it stands, so "--help" after a bad argument does not win).
 * Start with getopt_reset(true). '?' is an option without its argument. */
static int vm_getopt(const char *cmd, const char *refusal, int argc, char **argv,
                     const struct option *opts)
{
        int i = optind > 0 ? optind : 1;

        if (i < argc && argv[i][0] == '-' && !whole_option(opts, argv[i])) {
                usage_error(cmd, "%s '%s'", refusal, argv[i]);
                return OPT_REFUSED;
        }
        return getopt_long(argc, argv, "-h", opts, NULL);
}

static int parse_seconds(const char *cmd, const char *s, unsigned *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || !*s || *end || v > 86400 || s[0] == '-')
                return usage_error(cmd, "--timeout '%s': expected seconds (0..86400)", s);
        *ret = (unsigned)v;
        return 0;
}

static void on_signal(int sig)
{
        (void)sig;
        vm_interrupted = 1;
}

static void progress(const char *phase, double seconds, const char *detail)
{
        printf("%-10s ok  %6.1fs  %s\n", phase, seconds, detail ? detail : "");
        fflush(stdout);
}

static int do_launch(int argc, char **argv)
{
        static const struct option opts[] = {
                { "project", required_argument, NULL, 'p' },
                { "serial", required_argument, NULL, 's' },
                { "images", required_argument, NULL, 'i' },
                { "keep-on-failure", no_argument, NULL, 'k' },
                { "in-guest", no_argument, NULL, 'g' },
                { "timeout", required_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct vm_launch_args a = { .progress = progress };
        _cleanup_free_ char *ks = NULL, *phase = NULL, *tail = NULL;
        struct sigaction sa = { .sa_handler = on_signal };
        const char *project = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        project = optarg;
                        break;
                case 's':
                        a.serial = optarg;
                        break;
                case 'i':
                        a.images = optarg;
                        break;
                case 'k':
                        a.keep_on_failure = true;
                        break;
                case 'g':
                        a.in_guest = true;
                        break;
                case 't':
                        if (parse_seconds("vm launch", optarg, &a.phase_timeout_s))
                                return EXIT_USAGE;
                        break;
                case 'h':
                        fputs(vm_usage, stdout);
                        return 0;
                default:
                        return usage_error("vm launch", "bad option");
                }
        }
        if (optind + 1 != argc)
                return usage_error("vm launch", "expected one NAME");
        if (!project)
                return usage_error("vm launch", "--project KEYSET:PROJECT is required");
        {
                const char *colon = strchr(project, ':');
                if (!colon || colon == project || !colon[1] || strchr(colon + 1, ':'))
                        return usage_error("vm launch", "--project '%s': expected KEYSET:PROJECT",
                                           project);
                ks = strndup(project, (size_t)(colon - project));
                if (!ks)
                        abort();
                a.keyset = ks;
                a.project = colon + 1;
        }
        a.name = argv[optind];

        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        r = name_validate("vm", a.name);
        if (r < 0)
                return fail(r, "vm launch");
        printf("launching vm '%s' (%s:%s)\n", a.name, a.keyset, a.project);
        fflush(stdout);
        r = vm_launch(&a, &phase, &tail);
        if (r < 0) {
                if (!phase)
                        return vm_fail(r, a.name);
                log_error("vm '%s': %s failed: %s", a.name, phase, err_msg(r));
                if (tail && tail[0]) {
                        fprintf(stderr, "--- console (last lines) ---\n%s", tail);
                        if (tail[strlen(tail) - 1] != '\n')
                                fputc('\n', stderr);
                        fprintf(stderr, "---\n");
                }
                if (a.keep_on_failure)
                        fprintf(stderr, "kept for inspection: 'trust vm info %s'\n", a.name);
                return 1;
        }
        printf("vm '%s' is ready: 'trust vm start %s'\n", a.name, a.name);
        return 0;
}

/* The arguments of a vm command that takes one NAME: "NAME [FLAG]" (FLAG:
 * "--console", "--json" or NULL, which sets *flag_set) and, when timeout is
 * not NULL, "[--timeout SEC]" (*timeout keeps its default unless given).
 * Returns the NAME; -1: the help was printed. */
static int one_name(const char *cmd, int argc, char **argv, const char *flag, bool *flag_set,
                    unsigned *timeout, const char **ret)
{
        struct option opts[4] = { { "help", no_argument, NULL, 'h' } };
        size_t n = 1;
        int c;

        if (flag)
                opts[n++] = (struct option){ flag + 2, no_argument, NULL, 'f' };
        if (timeout)
                opts[n++] = (struct option){ "timeout", required_argument, NULL, 't' };
        *ret = NULL;
        getopt_reset(true);
        while ((c = vm_getopt(cmd, "unknown option", argc, argv, opts)) != -1) {
                switch (c) {
                case 'h':
                        fputs(vm_usage, stdout);
                        return -1;
                case 'f':
                        *flag_set = true;
                        break;
                case 't':
                        if (parse_seconds(cmd, optarg, timeout))
                                return EXIT_USAGE;
                        break;
                case '?':
                        return usage_error(cmd, "--timeout needs SEC");
                case OPT_NAME:
                        if (*ret)
                                return usage_error(cmd, "expected one NAME");
                        *ret = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        }
        if (!*ret)
                return usage_error(cmd, "expected a NAME");
        return 0;
}

static int do_start(int argc, char **argv)
{
        const char *name;
        bool console = false;
        unsigned pid = 0;
        int r;

        r = one_name("vm start", argc, argv, "--console", &console, NULL, &name);
        if (r)
                return r < 0 ? 0 : r;
        r = vm_start(name, NULL, &pid);
        if (r < 0)
                return vm_fail(r, name);
        if (!console) {
                printf("vm '%s' started (qemu pid %u)\n", name, pid);
                return 0;
        }
        {
                _cleanup_free_ char *dir = NULL;
                if (vm_dir(name, &dir) < 0 || vm_console_attach(dir) < 0)
                        return fail(-EIO, "vm '%s': console", name);
        }
        return 0;
}

static int do_stop(int argc, char **argv)
{
        const char *name;
        unsigned grace = 60;
        bool was = false;
        int r;

        r = one_name("vm stop", argc, argv, NULL, NULL, &grace, &name);
        if (r)
                return r < 0 ? 0 : r;
        r = vm_stop(name, grace, &was);
        if (r < 0)
                return vm_fail(r, name);
        if (!was)
                printf("vm '%s' was not running\n", name);
        else if (r == VM_STOP_FORCED && grace == 0)
                printf("vm '%s' stopped (forced: --timeout 0)\n", name);
        else if (r == VM_STOP_FORCED)
                printf("vm '%s' stopped (forced: the guest did not power off within %u s)\n",
                       name, grace);
        else
                printf("vm '%s' stopped\n", name);
        return 0;
}

static int do_console(int argc, char **argv)
{
        _cleanup_free_ char *dir = NULL;
        struct vm_info i = {};
        const char *name;
        int r;

        r = one_name("vm console", argc, argv, NULL, NULL, NULL, &name);
        if (r)
                return r < 0 ? 0 : r;
        r = vm_info_load(name, &i);
        if (r < 0)
                return vm_fail(r, name);
        if (!i.proc.qemu) {
                vm_info_done(&i);
                log_error("vm '%s': not running (start it with 'trust vm start %s')", name, name);
                return 1;
        }
        dir = xstrdup(i.dir);
        vm_info_done(&i);
        if (isatty(STDIN_FILENO))
                fprintf(stderr, "[console of vm '%s'; Ctrl-] detaches]\n", name);
        r = vm_console_attach(dir);
        if (r < 0)
                return fail(r, "vm '%s': console", name);
        return 0;
}

/* A JSON string; a missing value is "" (vm.conf fields are validated). */
static void json_str(const char *s)
{
        json_write_string(stdout, s ? s : "", 0);
}

static const char *state_of(const struct vm_info *i)
{
        return i->proc.qemu ? "running" : "stopped";
}

static void info_json(const struct vm_info *i, bool full)
{
        printf("{\"name\":");
        json_str(i->name);
        printf(",\"state\":\"%s\",\"keyset\":", state_of(i));
        json_str(i->keyset);
        printf(",\"project\":");
        json_str(i->project);
        printf(",\"serial\":");
        json_str(i->serial);
        if (full) {
                printf(",\"dir\":");
                json_str(i->dir);
                printf(",\"images\":");
                json_str(i->images);
                printf(",\"created\":");
                json_str(i->created);
                printf(",\"accel\":");
                json_str(i->accel);
                printf(",\"qemu_pid\":%d,\"swtpm_pid\":%d", (int)i->proc.qemu, (int)i->proc.swtpm);
                printf(",\"console_log\":");
                {
                        _cleanup_free_ char *p = path_join(i->dir, VM_CONSOLE_LOG);
                        json_str(p);
                }
        }
        putchar('}');
}

static int do_list(int argc, char **argv)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(vm_names_freep) char **names = NULL;
        struct vm_info *infos;
        bool json = false;
        size_t n, k;
        int c, r;

        getopt_reset(true);
        while ((c = vm_getopt("vm list", "unexpected argument", argc, argv, opts)) != -1) {
                switch (c) {
                case 'h':
                        fputs(vm_usage, stdout);
                        return 0;
                case 'j':
                        json = true;
                        break;
                case OPT_NAME:
                        return usage_error("vm list", "unexpected argument '%s'", optarg);
                default:
                        return EXIT_USAGE;
                }
        }
        r = vm_list(&names, &n);
        if (r < 0)
                return fail(r, "vm list");
        /* All read before anything is printed: one broken VM fails the list. */
        infos = xmalloc0(n * sizeof(*infos));
        for (k = 0; k < n; k++)
                if ((r = vm_info_load(names[k], &infos[k])) < 0)
                        break;
        if (r >= 0 && json) {
                putchar('[');
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                putchar(',');
                        info_json(&infos[i], false);
                }
                printf("]\n");
        } else if (r >= 0 && n) {
                printf("%-20s %-8s %-24s %s\n", "NAME", "STATE", "KEYSET:PROJECT", "SERIAL");
                for (size_t i = 0; i < n; i++) {
                        const struct vm_info *v = &infos[i];
                        _cleanup_free_ char *kp = xasprintf("%s:%s", v->keyset, v->project);

                        printf("%-20s %-8s %-24s %s\n", v->name, state_of(v), kp, v->serial);
                }
        }
        for (size_t i = 0; i < n; i++)
                vm_info_done(&infos[i]);
        free(infos);
        return r < 0 ? vm_fail(r, names[k]) : 0;
}

static int do_info(int argc, char **argv)
{
        struct vm_info i = {};
        const char *name;
        bool json = false;
        int r;

        r = one_name("vm info", argc, argv, "--json", &json, NULL, &name);
        if (r)
                return r < 0 ? 0 : r;
        r = vm_info_load(name, &i);
        if (r < 0) {
                vm_info_done(&i);
                return vm_fail(r, name);
        }
        if (json) {
                info_json(&i, true);
                putchar('\n');
        } else {
                printf("name:     %s\nstate:    %s\nkeyset:   %s\nproject:  %s\nserial:   %s\n"
                       "created:  %s\naccel:    %s\nimages:   %s\ndir:      %s\n",
                       i.name, state_of(&i), i.keyset, i.project, i.serial, i.created, i.accel,
                       i.images, i.dir);
                if (i.proc.qemu)
                        printf("qemu pid: %d\n", (int)i.proc.qemu);
                if (i.proc.swtpm)
                        printf("swtpm pid: %d\n", (int)i.proc.swtpm);
        }
        vm_info_done(&i);
        return 0;
}

static void print_tail(const char *tail)
{
        if (!tail || !tail[0])
                return;
        fprintf(stderr, "--- console (last lines) ---\n%s", tail);
        if (tail[strlen(tail) - 1] != '\n')
                fputc('\n', stderr);
        fprintf(stderr, "---\n");
}

/* After a failed attestation: how the VM's Secure Boot variables differ from
 * its keyset's (they may well not: a tpm-signed OS, say). */
static void explain_vars(const struct vm_info *i)
{
        _cleanup_free_ char *path = path_join(i->dir, VM_VARS);
        _cleanup_free_ uint8_t *buf = NULL;
        const char *refused[_UKI_CLASS_MAX] = { 0 };
        struct keyset_efi_vars v = { 0 };
        char why[1024];
        size_t len;
        int r;

        r = read_file(path, 16 << 20, &buf, &len);
        if (r >= 0)
                r = keyset_efi_vars_after(i->keyset, NULL, NULL, 0, &v, refused, NULL);
        if (r >= 0)
                r = varstore_explain(buf, len, &v, why, sizeof(why));
        keyset_efi_vars_free(&v);
        if (r < 0)
                fail(r, "vm '%s': comparing its firmware variables with keyset '%s'", i->name,
                     i->keyset);
        else if (r == 0)
                log_error("vm '%s': its firmware variables are keyset '%s''s (PK, KEK, db, dbx)",
                          i->name, i->keyset);
        else
                log_error("vm '%s': its firmware variables differ from keyset '%s''s: %s",
                          i->name, i->keyset, why);
}

static int do_attest(int argc, char **argv)
{
        _cleanup_(vm_info_donep) struct vm_info i = {};
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ char *tail = NULL, *hex = NULL;
        struct sigaction sa = { .sa_handler = on_signal };
        struct attest_bundle b = { 0 };
        struct attest_verdict v;
        uint8_t nonce[16];
        const char *name;
        unsigned timeout = 600;
        size_t len = 0;
        int r;

        r = one_name("vm attest", argc, argv, NULL, NULL, &timeout, &name);
        if (r)
                return r < 0 ? 0 : r;
        r = vm_info_load(name, &i);
        if (r < 0)
                return vm_fail(r, name);
        if (i.proc.qemu) {
                log_error("vm '%s': running: attest boots it (stop it with 'trust vm stop %s')",
                          name, name);
                return 1;
        }
        r = random_bytes(nonce, sizeof(nonce));
        if (r < 0)
                return fail(r, "vm attest: nonce");
        hex = hex_encode(nonce, sizeof(nonce));
        printf("vm '%s': booting with nonce %s\n", name, hex);
        fflush(stdout);
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        r = vm_attest_collect(name, hex, timeout, &vm_interrupted, &buf, &len, &tail);
        if (r < 0) {
                log_error("vm '%s': not attested: %s", name, err_msg(r));
                print_tail(tail);
                explain_vars(&i);
                return 1;
        }
        r = attest_bundle_parse(buf, len, &b);
        if (r < 0) {
                log_error("vm '%s': not attested: its bundle is malformed: %s", name, err_msg(r));
                return 1;
        }
        r = attest_verify(i.keyset, nonce, sizeof(nonce), &b, &v);
        attest_bundle_done(&b);
        if (r < 0)
                return fail(r, "vm '%s'", name);
        if (v.failed >= 0) {
                log_error("vm '%s': not attested: %s: %s", name,
                          attest_check_name((enum attest_check)v.failed), v.why);
                explain_vars(&i);
                return 1;
        }
        {
                _cleanup_free_ char *who = xasprintf("vm '%s'", name);

                attest_print_verified(who, &v);
        }
        return 0;
}

static int do_delete(int argc, char **argv)
{
        const char *name;
        int r;

        r = one_name("vm delete", argc, argv, NULL, NULL, NULL, &name);
        if (r)
                return r < 0 ? 0 : r;
        r = vm_delete(name);
        if (r < 0)
                return vm_fail(r, name);
        printf("vm '%s' deleted\n", name);
        return 0;
}

int cmd_vm(int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*fn)(int, char **);
        } sub[] = {
                { "launch", do_launch }, { "start", do_start }, { "stop", do_stop },
                { "console", do_console }, { "list", do_list }, { "info", do_info },
                { "attest", do_attest }, { "delete", do_delete },
        };

        if (argc < 2)
                return usage_error("vm", "expected a command");
        if (is_help_arg(argv[1])) {
                fputs(vm_usage, stdout);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(sub); i++)
                if (!strcmp(argv[1], sub[i].name))
                        return sub[i].fn(argc - 1, argv + 1);
        return usage_error("vm", "'%s' is not a vm command", argv[1]);
}
