/* test-vm.c: the pure parts of trust vm: the console scanner and tail (the
 * guest's bytes), the attestation bundle on the console, vm.conf and the VM
 * list, pid checks, bounded helper runs. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "machine/qemu.h"
#include "base/util.h"
#include "machine/vm.h"
#include "machine/vm-attest.h"

static enum console_result scan_chunks(const char *text, size_t chunk, bool *found)
{
        struct console_scan *sc = xmalloc0(sizeof(*sc));
        enum console_result r = CONSOLE_TIMEOUT;
        size_t n = strlen(text);

        *found = false;
        for (size_t o = 0; o < n && !*found; o += chunk) {
                size_t k = n - o < chunk ? n - o : chunk;
                *found = console_scan_feed(sc, text + o, k, "provisioned successfully",
                                           "XXX FAIL XXX", &r);
        }
        if (!*found)
                *found = console_scan_finish(sc, "provisioned successfully", "XXX FAIL XXX", &r);
        free(sc);
        return r;
}

static void test_console_scan(void)
{
        static const size_t chunks[] = { 1, 3, 7, 4096 };
        bool found;

        for (size_t i = 0; i < ELEMENTSOF(chunks); i++) {
                ASSERT_EQ(scan_chunks("boot\r\nprovisioned successfully\r\n", chunks[i], &found),
                          CONSOLE_SUCCESS);
                ASSERT_TRUE(found);
                ASSERT_EQ(scan_chunks("a\nXXX FAIL XXX no disk\n", chunks[i], &found),
                          CONSOLE_FAILURE);
                ASSERT_EQ(scan_chunks("BdsDxe: failed to load Boot0001: Access Denied\n", chunks[i],
                                      &found),
                          CONSOLE_DENIED);
                /* no newline before power-off: found by finish */
                ASSERT_EQ(scan_chunks("x\nprovisioned successfully", chunks[i], &found),
                          CONSOLE_SUCCESS);
                scan_chunks("provisioned\nsuccessfully\n", chunks[i], &found);
                ASSERT_TRUE(!found);
        }
        /* NUL bytes do not end a line early */
        {
                struct console_scan sc = {};
                enum console_result r;
                const char text[] = "pro\0x\nprovisioned successfully\n";
                ASSERT_TRUE(console_scan_feed(&sc, text, sizeof(text) - 1, "provisioned successfully",
                                              "XXX FAIL XXX", &r));
                ASSERT_EQ(r, CONSOLE_SUCCESS);
        }
        /* a marker far into a line longer than the scanner's buffer, at every
         * offset around the buffer's end */
        for (size_t pad = 4000; pad < 4200; pad++) {
                char *t = xmalloc0(pad + 64);
                memset(t, 'z', pad);
                strcpy(t + pad, "provisioned successfully");
                ASSERT_EQ(scan_chunks(t, 512, &found), CONSOLE_SUCCESS);
                ASSERT_TRUE(found);
                free(t);
        }
}

static void test_console_tail(void)
{
        const char log[] = "\x1b[2J\x1b[01;01Hone\ntwo\r\n\x1b[=3hthree\x07\nfour\n";
        char *t;

        t = console_tail_of(log, sizeof(log) - 1, 2);
        ASSERT_STREQ(t, "three\nfour\n");
        free(t);
        t = console_tail_of(log, sizeof(log) - 1, 100);
        ASSERT_STREQ(t, "one\ntwo\nthree\nfour\n");
        free(t);
        t = console_tail_of("", 0, 3);
        ASSERT_STREQ(t, "");
        free(t);
        t = console_sanitize("a\x1b[", 3); /* truncated escape */
        ASSERT_STREQ(t, "a");
        free(t);
}

static char tmpdir[] = "/tmp/trust-test-vm-XXXXXX";

static void put(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        if (f) {
                fputs(text, f);
                fclose(f);
        }
}

static void test_conf_and_list(void)
{
        _cleanup_free_ char *root = NULL, *a = NULL, *b = NULL, *tmp = NULL, *empty = NULL;
        char **names = NULL;
        size_t n = 0;
        struct vm_info i = {};

        setenv("XDG_STATE_HOME", tmpdir, 1);
        ASSERT_OK(vms_root(&root));
        ASSERT_OK(mkdir_p(root, 0700));
        a = path_join(root, "b-vm");
        b = path_join(root, "a-vm");
        tmp = path_join(root, ".tmp-c-1-xyz");
        empty = path_join(root, "no-conf");
        ASSERT_OK(mkdir_p(a, 0700));
        ASSERT_OK(mkdir_p(b, 0700));
        ASSERT_OK(mkdir_p(tmp, 0700));
        ASSERT_OK(mkdir_p(empty, 0700));
        {
                _cleanup_free_ char *c1 = path_join(a, "vm.conf");
                _cleanup_free_ char *c2 = path_join(b, "vm.conf");
                _cleanup_free_ char *c3 = path_join(tmp, "vm.conf");
                put(c1, "name=ignored\nkeyset=ks\nproject=p\nserial=s1\nfuture=1\nimages=/i\n"
                        "created=2024-01-01T00:00:00Z\naccel=tcg\n");
                put(c2, "keyset=ks\nproject=p\n");
                put(c3, "keyset=ks\nproject=p\n");
        }
        ASSERT_OK(vm_list(&names, &n));
        ASSERT_EQ(n, 2);
        ASSERT_STREQ(names[0], "a-vm");
        ASSERT_STREQ(names[1], "b-vm");
        vm_names_freep(&names);

        ASSERT_OK(vm_info_load("b-vm", &i));
        ASSERT_STREQ(i.name, "b-vm");
        ASSERT_STREQ(i.keyset, "ks");
        ASSERT_STREQ(i.serial, "s1");
        ASSERT_STREQ(i.accel, "tcg");
        ASSERT_EQ(i.proc.qemu, 0);
        vm_info_done(&i);

        ASSERT_EQ(vm_info_load("no-conf", &i), -ENOENT);
        ASSERT_EQ(vm_info_load("../x", &i), -EINVAL);
        {
                static const char full[] = "keyset=ks\nproject=p\nserial=s1\nimages=/i\n"
                                           "created=2024-01-01T00:00:00Z\naccel=\n";
                _cleanup_free_ char *c = path_join(a, "vm.conf");
                /* each key missing in turn: refused, naming the key */
                for (const char *k = full; *k; k = strchr(k, '\n') + 1) {
                        _cleanup_free_ char *key = strndup(k, strcspn(k, "="));
                        _cleanup_free_ char *text = xasprintf("%.*s%s", (int)(k - full), full,
                                                              strchr(k, '\n') + 1);
                        put(c, text);
                        ASSERT_EQ(vm_info_load("b-vm", &i), -EBADMSG);
                        ASSERT_TRUE(strstr(err_msg(-EBADMSG), key) != NULL);
                        ASSERT_TRUE(strstr(err_msg(-EBADMSG), "vm.conf") != NULL);
                        vm_info_done(&i);
                }
                put(c, "keyset=ks\nproject=p\nserial=\nimages=/i\ncreated=\naccel=\n");
                ASSERT_EQ(vm_info_load("b-vm", &i), -EINVAL); /* an empty serial */
                ASSERT_TRUE(strstr(err_msg(-EINVAL), "vm.conf: serial name is empty") != NULL);
                vm_info_done(&i);
                put(c, "keyset=a:b\nproject=p\nserial=s\nimages=/i\ncreated=\naccel=\n");
                ASSERT_EQ(vm_info_load("b-vm", &i), -EINVAL);
                vm_info_done(&i);
                put(c, full);
                /* a pid file of a process outside the VM's dir does not count */
                _cleanup_free_ char *pf = path_join(a, VM_QEMU_PID);
                _cleanup_free_ char *me = xasprintf("%d\n", (int)getpid());
                put(pf, me);
                ASSERT_OK(vm_info_load("b-vm", &i));
                ASSERT_EQ(i.proc.qemu, 0);
                vm_info_done(&i);
                put(pf, "12x\n");
                ASSERT_EQ(vm_info_load("b-vm", &i), -EBADMSG);
                vm_info_done(&i);
        }
}

static void test_proc_alive(void)
{
        char cwd[4096];
        pid_t pid;

        ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
        ASSERT_TRUE(vm_proc_alive(cwd, getpid(), false));
        ASSERT_TRUE(!vm_proc_alive(tmpdir, getpid(), false));
        ASSERT_TRUE(!vm_proc_alive(cwd, 1, false));
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0)
                _exit(0);
        /* an exited child is not alive, and is reaped */
        for (int k = 0; k < 100 && vm_proc_alive(cwd, pid, true); k++)
                usleep(10000);
        ASSERT_TRUE(!vm_proc_alive(cwd, pid, true));
        ASSERT_EQ(waitpid(pid, NULL, WNOHANG), -1);
}

static void test_run_tool(void)
{
        char *ok[] = { "true", NULL };
        char *bad[] = { "sh", "-c", "echo first line; echo second; exit 3", NULL };
        char *slow[] = { "sleep", "10", NULL };
        char *missing[] = { "/nonexistent/tool", NULL };
        double t;

        ASSERT_OK(run_tool(ok, 5));
        ASSERT_EQ(run_tool(bad, 5), -EIO);
        ASSERT_TRUE(strstr(err_msg(-EIO), "sh failed (exit 3): first line") != NULL);
        t = now_s();
        ASSERT_EQ(run_tool(slow, 1), -ETIMEDOUT);
        ASSERT_TRUE(now_s() - t < 5);
        ASSERT_EQ(run_tool(missing, 5), -ENOENT);
        ASSERT_TRUE(strstr(err_msg(-ENOENT), "/nonexistent/tool: cannot run") != NULL);
}

/* The last whole BEGIN..END block counts, whatever journald or the kernel
 * puts in front of its lines; FAILED carries the guest's words. */
static void test_console_attest(void)
{
        static const char good[] =
                "TRUST ATTEST BEGIN\r\nTRUST ATTEST: AAAA\r\nTRUST ATTEST END\r\n" /* older */
                "[ 1.0] x: TRUST ATTEST BEGIN\r\n"
                "[ 1.1] trust-status[9]: TRUST ATTEST: eyJ2Ijox\r\n"
                "[    1.2] kernel noise\r\n"
                "[ 1.3] trust-status[9]: TRUST ATTEST: fQ==\r\n"
                "TRUST ATTEST END\r\n";
        static const char failed[] = "TRUST ATTEST BEGIN\nTRUST ATTEST FAILED: no \x1b[1mkey\x1b[0m\n"
                                     "TRUST ATTEST END\n";
        static const char *const bad[] = {
                "TRUST ATTEST BEGIN\nTRUST ATTEST: eyJ2Ijox\n",          /* no END */
                "TRUST ATTEST: eyJ2Ijox\nTRUST ATTEST END\n",            /* no BEGIN */
                "TRUST ATTEST BEGIN\nTRUST ATTEST: eyJ2I!ox\nTRUST ATTEST END\n", /* not base64 */
                "",
        };
        uint8_t *b = NULL;
        size_t n;

        ASSERT_OK(console_attest_extract(good, strlen(good), &b, &n));
        ASSERT_EQ(n, 7);
        ASSERT_MEMEQ(b, "{\"v\":1}", 7);
        free(b);
        b = NULL;
        ASSERT_EQ(console_attest_extract(failed, strlen(failed), &b, &n), -EREMOTEIO);
        ASSERT_STREQ(err_msg(-EREMOTEIO), "the guest could not quote: no key");
        ASSERT_TRUE(b == NULL);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ASSERT_EQ(console_attest_extract(bad[i], strlen(bad[i]), &b, &n), -EBADMSG);
                ASSERT_TRUE(b == NULL);
        }
}

int main(void)
{
        if (!mkdtemp(tmpdir))
                return 1;
        RUN(test_console_scan);
        RUN(test_console_tail);
        RUN(test_console_attest);
        RUN(test_conf_and_list);
        RUN(test_proc_alive);
        RUN(test_run_tool);
        (void)rm_rf(tmpdir);
        return test_exit();
}
