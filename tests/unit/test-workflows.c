/* test-workflows.c: the on-target workflows (target/runtime.h) over the
 * in-memory truststore (store-mem.h), no TPM needed. Every operation of every
 * workflow is made to fail in turn (operation 1, 2, ... until the workflow
 * completes), and each time: PCR7 is locked whenever the store was opened, or
 * the lock is reported failed (exit 3) only when the lock itself failed;
 * nothing is released (keyring, tmpfs, output file, standard output) unless
 * the workflow succeeded; the store is closed. Setup's tmpfs needs a private
 * mount namespace (root, or an unprivileged user namespace). */
#include <fcntl.h>
#include <keyutils.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "store-mem.h"
#include "target/runtime.h"
#include "target/workflow.h"

#define ENTRY                                                                                      \
        "tests/data/reference-signdata/policy-2/03/"                                               \
        "716ae157656044e7779029a39afb58a48c919bcace468d707abc736c7e1a41"
#define PCR7DATA "tests/data/reference-signdata"
#define ID_CERT "keysets/snakeoil/manifest-ca/cert.pem"
#define ID_KEY "keysets/snakeoil/manifest-ca/privkey.pem"

/* A dev-keyset machine of the reference pcr7data: its three boot classes. */
static uint8_t pcr_prod[32], pcr_tpm[32], pcr_limited[32];
static char tmp[] = "/tmp/trust-unit-workflows-XXXXXX";
static char *sec, *out_file, *stdout_file;
static bool have_mounts;

enum wf {
        WF_SETUP,
        WF_PREINIT,
        WF_ADMIN_KEYRING,
        WF_ADMIN_FILE,
        WF_ADMIN_STDOUT,
        WF_PROVISION,
        WF_EXTEND,
        _WF_MAX,
};
static const char *const wf_name[_WF_MAX] = {
        "setup", "preinit", "admin-password (keyring)", "admin-password (--output FILE)",
        "admin-password (--output -)", "provision", "extend-pcr7",
};

static int read32(const char *path, uint8_t out[32])
{
        _cleanup_free_ uint8_t *b = NULL;
        size_t n = 0;
        int r = read_file(path, 64, &b, &n);

        if (r < 0 || n != 32)
                return r < 0 ? r : -EBADMSG;
        memcpy(out, b, 32);
        return 0;
}

static void set_file(enum truststore_slot slot, const char *path)
{
        _cleanup_free_ uint8_t *b = NULL;
        size_t n = 0;

        if (read_file(path, 65536, &b, &n) < 0)
                abort();
        mem_set_secret(&mem.slots[slot], b, n);
}

/* A new boot of a provisioned machine, measured as pcr7. */
static void boot(const uint8_t pcr7[32], bool provisioned)
{
        mem_reset(pcr7);
        if (!provisioned)
                return;
        mem.provisioned = true;
        snprintf(mem.policy_version, sizeof(mem.policy_version), "%s", POLICY_VERSION);
        mem_set_secret(&mem.slots[SLOT_ADMIN_PASSWORD], "admin-admin-admin-admin-admin-ad", 32);
        set_file(SLOT_CERT, ID_CERT);
        set_file(SLOT_KEY, ID_KEY);
        mem_set_secret(&mem.slots[SLOT_SBF_PASSPHRASE], "sbf-passphrase", 14);
        mem_set_secret(&mem.slots[SLOT_OS_PASSPHRASE], "os-passphrase", 13);
}

static int32_t key_find(const char *description)
{
        return (int32_t)keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", description, 0);
}

/* Anything mounted on path (the tmpfs or the bind mount under it)? */
static bool mounted(const char *path)
{
        _cleanup_free_ uint8_t *info = NULL;
        _cleanup_free_ char *field = xasprintf(" %s ", path);

        if (read_file("/proc/self/mountinfo", 4 << 20, &info, NULL) < 0)
                abort();
        return strstr((char *)info, field) != NULL;
}

static off_t file_size(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Takes back what a successful run released, for the next run. */
static void unrelease(void)
{
        int32_t k;

        while (mounted(sec))
                (void)umount2(sec, MNT_DETACH);
        while ((k = key_find(KEYRING_LUKS_DESCRIPTION)) > 0)
                (void)keyctl_invalidate(k);
        while ((k = key_find(KEYRING_ADMIN_DESCRIPTION)) > 0)
                (void)keyctl_invalidate(k);
        (void)unlink(out_file);
}

/* Runs workflow wf with standard output going to stdout_file. */
static int run(enum wf wf, bool *lock_failed)
{
        struct runtime_opts o = {
                .pcr7data = PCR7DATA,
                .manifest_ca = ID_CERT,
                .secure_dir = sec,
                .keyring = KEYRING_SESSION,
                .store = &truststore_mem,
        };
        int saved = dup(STDOUT_FILENO), fd, r = -EINVAL;

        fd = open(stdout_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (saved < 0 || fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
                abort();
        close(fd);
        *lock_failed = false;
        switch (wf) {
        case WF_SETUP:
                r = runtime_setup(&o, lock_failed);
                break;
        case WF_PREINIT:
                r = runtime_preinit(&o, lock_failed);
                break;
        case WF_ADMIN_KEYRING:
        case WF_ADMIN_FILE:
        case WF_ADMIN_STDOUT:
                o.output = wf == WF_ADMIN_FILE ? out_file : wf == WF_ADMIN_STDOUT ? "-" : NULL;
                r = runtime_admin_password(&o, lock_failed);
                break;
        case WF_PROVISION:
                r = runtime_provision(&o, ID_CERT, ID_KEY, lock_failed);
                break;
        case WF_EXTEND:
                r = runtime_extend_pcr7(&o, lock_failed);
                break;
        case _WF_MAX:
                break;
        }
        fflush(stdout);
        if (dup2(saved, STDOUT_FILENO) < 0)
                abort();
        close(saved);
        return r;
}

static bool nothing_released(void)
{
        return key_find(KEYRING_LUKS_DESCRIPTION) < 0 && key_find(KEYRING_ADMIN_DESCRIPTION) < 0 &&
               !mounted(sec) && !path_exists(out_file) && file_size(stdout_file) == 0;
}

/* What a successful run of wf must have released, exactly. */
static bool released(enum wf wf)
{
        _cleanup_free_ char *crt = path_join(sec, "server.crt");
        bool quiet = file_size(stdout_file) == 0;

        switch (wf) {
        case WF_SETUP:
                return quiet && mounted(sec) && path_exists(crt) &&
                       key_find(KEYRING_LUKS_DESCRIPTION) > 0;
        case WF_PREINIT:
                return quiet && key_find(KEYRING_LUKS_DESCRIPTION) > 0 && !mounted(sec);
        case WF_ADMIN_KEYRING:
                return quiet && key_find(KEYRING_ADMIN_DESCRIPTION) > 0;
        case WF_ADMIN_FILE:
                return quiet && file_size(out_file) == 32;
        case WF_ADMIN_STDOUT:
                return file_size(stdout_file) == 32 && !path_exists(out_file);
        default:
                return nothing_released();
        }
}

static void locked_value(const uint8_t before[32], uint8_t out[32])
{
        uint8_t chain[64];

        memcpy(chain, before, 32);
        memcpy(chain + 32, pcr7_lock_digest, 32);
        if (sha256(chain, sizeof(chain), out) < 0)
                abort();
}

/* The guarantees after one run of a locking workflow that started in a boot
 * measured as `boot`. */
static void check_run(enum wf wf, const uint8_t boot_pcr7[32], int r, bool lock_failed)
{
        bool injected = mem.failed != NULL;
        bool opened = !(injected && !strcmp(mem.failed, "open"));
        bool lock_broke = injected &&
                          (!strcmp(mem.failed, "extend") ||
                           (!strcmp(mem.failed, "measured") && mem.failed_after_extend));
        uint8_t locked[32];

        locked_value(boot_pcr7, locked);
        ASSERT_EQ(mem.open, 0);                  /* closed on every path */
        ASSERT_EQ(r < 0, injected);              /* a failure is never swallowed */
        ASSERT_EQ(lock_failed, lock_broke);      /* exit 3 only when the lock failed */
        if (injected) {
                ASSERT_TRUE(strstr(err_msg(r), "injected") != NULL);
                ASSERT_TRUE(strchr(err_msg(r), '\n') == NULL);
                ASSERT_TRUE(nothing_released());
        } else
                ASSERT_TRUE(released(wf));
        if (lock_broke)
                ASSERT_TRUE(strstr(err_msg(r), "power off") != NULL);
        if (!opened)
                ASSERT_MEMEQ(mem.pcr7, boot_pcr7, 32); /* never reached the store */
        else if (!lock_broke) {
                ASSERT_MEMEQ(mem.pcr7, locked, 32); /* locked, exactly once */
                ASSERT_EQ(mem.extends, 1);
        }
}

static const uint8_t *boot_for(enum wf wf)
{
        return wf == WF_ADMIN_KEYRING || wf == WF_ADMIN_FILE || wf == WF_ADMIN_STDOUT ? pcr_tpm
                                                                                      : pcr_prod;
}

/* Fails operation 1, 2, ... of wf until a run completes untouched. */
static void fault_loop(enum wf wf)
{
        const uint8_t *pcr7 = boot_for(wf);
        unsigned n;

        for (n = 1; n < 200; n++) {
                bool lock_failed;
                int r, before = harness_failed;

                boot(pcr7, wf != WF_PROVISION);
                mem.fail_at = n;
                r = run(wf, &lock_failed);
                check_run(wf, pcr7, r, lock_failed);
                if (harness_failed != before) {
                        fprintf(stderr, "  %s, operation %u (%s) failed: r=%d lock_failed=%d: %s\n",
                                wf_name[wf], n, mem.failed ? mem.failed : "none", r, lock_failed,
                                r < 0 ? err_msg(r) : "ok");
                        unrelease();
                        return;
                }
                unrelease();
                if (!mem.failed)
                        break;
        }
        ASSERT_TRUE(n > 3 && n < 200);
        fprintf(stderr, "  %s: %u operations, each made to fail in turn\n", wf_name[wf], n - 1);
}

static void test_faults(void)
{
        for (enum wf wf = 0; wf < _WF_MAX; wf++) {
                if (wf == WF_SETUP && !have_mounts) {
                        fprintf(stderr, "  setup skipped: no private mount namespace\n");
                        continue;
                }
                fault_loop(wf);
        }
}

/* The lock reads back wrong (PCR7 is not SHA256(old || digest)): a failed
 * lock, whatever came before it, and nothing released. */
static void test_bad_readback(void)
{
        for (enum wf wf = 0; wf < _WF_MAX; wf++) {
                bool lock_failed;
                int r;

                if (wf == WF_SETUP && !have_mounts)
                        continue;
                boot(boot_for(wf), wf != WF_PROVISION);
                mem.bad_readback = true;
                r = run(wf, &lock_failed);
                ASSERT_TRUE(r < 0);
                ASSERT_TRUE(lock_failed);
                ASSERT_TRUE(strstr(err_msg(r), "after the extend, not") != NULL);
                ASSERT_TRUE(strstr(err_msg(r), "power off") != NULL);
                ASSERT_TRUE(nothing_released());
                ASSERT_EQ(mem.open, 0);
                unrelease();
        }
}

/* Refusals after the store was opened lock it too: the wrong boot class, a
 * missing manifest CA or pcr7data, an existing output file. */
static void test_refusals_lock(void)
{
        static const struct {
                enum wf wf;
                const uint8_t *pcr7;
                const char *why;
        } cases[] = {
                { WF_SETUP, pcr_tpm, "is the 'tpm' value of keyset 'dev'" },
                { WF_SETUP, pcr_limited, "is the 'limited' value of keyset 'dev'" },
                { WF_PREINIT, pcr_tpm, "only a production-signed OS gets the secrets" },
                { WF_ADMIN_KEYRING, pcr_prod, "only a tpm-signed OS reads the admin password" },
                { WF_PROVISION, pcr_tpm, "provision from a production-signed image" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint8_t locked[32];
                bool lock_failed;
                int r;

                if (cases[i].wf == WF_SETUP && !have_mounts)
                        continue;
                boot(cases[i].pcr7, cases[i].wf != WF_PROVISION);
                r = run(cases[i].wf, &lock_failed);
                locked_value(cases[i].pcr7, locked);
                ASSERT_TRUE(r < 0 && !lock_failed);
                ASSERT_TRUE(strstr(err_msg(r), cases[i].why) != NULL);
                ASSERT_MEMEQ(mem.pcr7, locked, 32);
                ASSERT_TRUE(nothing_released());
                unrelease();
        }
}

static void test_existing_output(void)
{
        uint8_t locked[32];
        bool lock_failed;
        int r;

        boot(pcr_tpm, true);
        ASSERT_OK(write_file_excl(out_file, "keep", 4, 0600));
        r = run(WF_ADMIN_FILE, &lock_failed);
        ASSERT_TRUE(r == -EEXIST && !lock_failed);
        ASSERT_TRUE(strstr(err_msg(r), "already exists") != NULL);
        locked_value(pcr_tpm, locked);
        ASSERT_MEMEQ(mem.pcr7, locked, 32);
        ASSERT_EQ(file_size(out_file), 4);
        ASSERT_EQ(file_size(stdout_file), 0);
        unrelease();
}

/* What the workflows put where: setup releases exactly the store's secrets,
 * preinit's keyring key is the passphrase now in the store, provision fills
 * every slot. */
static void test_contents(void)
{
        _cleanup_free_ char *crt = path_join(sec, "server.crt");
        _cleanup_free_ uint8_t *got = NULL;
        char buf[64] = "";
        bool lock_failed;

        boot(pcr_prod, false);
        ASSERT_OK(run(WF_PROVISION, &lock_failed));
        ASSERT_TRUE(mem.provisioned && mem.slots[SLOT_ADMIN_PASSWORD].len == 32 &&
                    mem.slots[SLOT_OS_PASSPHRASE].len == 40 &&
                    mem.slots[SLOT_SBF_PASSPHRASE].len == 40);
        ASSERT_STREQ(mem.policy_version, POLICY_VERSION);

        boot(pcr_prod, true);
        ASSERT_OK(run(WF_PREINIT, &lock_failed));
        ASSERT_EQ(keyctl_read(key_find(KEYRING_LUKS_DESCRIPTION), buf, sizeof(buf)), 40);
        ASSERT_MEMEQ(buf, mem.slots[SLOT_OS_PASSPHRASE].data, 40);
        unrelease();

        if (have_mounts) {
                size_t n = 0;

                boot(pcr_prod, true);
                ASSERT_OK(run(WF_SETUP, &lock_failed));
                ASSERT_OK(read_file(crt, 65536, &got, &n));
                ASSERT_TRUE(n == mem.slots[SLOT_CERT].len &&
                            !memcmp(got, mem.slots[SLOT_CERT].data, n));
                ASSERT_EQ(keyctl_read(key_find(KEYRING_LUKS_DESCRIPTION), buf, sizeof(buf)), 13);
                ASSERT_MEMEQ(buf, "os-passphrase", 13);
                unrelease();
        }
}

/* status and check-locked only look: they never extend, never print (the
 * command layer does), and tell every failure of the store. */
static void test_reports(void)
{
        struct runtime_opts o = { .pcr7data = PCR7DATA, .store = &truststore_mem };
        struct runtime_status st;
        struct runtime_check ck;
        unsigned n;

        boot(pcr_prod, true);
        ASSERT_OK(runtime_check_locked(&o, &ck));
        ASSERT_EQ(ck.n_readable, 4);
        ASSERT_TRUE(!ck.slots[0].readable && ck.slots[4].readable);
        ASSERT_STREQ(ck.slots[4].role, "os-passphrase");
        boot(pcr_tpm, true);
        ASSERT_OK(runtime_check_locked(&o, &ck));
        ASSERT_TRUE(ck.n_readable == 1 && ck.slots[0].readable);
        boot(pcr_limited, true);
        ASSERT_OK(runtime_check_locked(&o, &ck));
        ASSERT_EQ(ck.n_readable, 0);
        ASSERT_EQ(mem.extends, 0);

        for (n = 1; n < 200; n++) {
                int r;

                boot(pcr_prod, true);
                mem.fail_at = n;
                r = runtime_status(&o, &st);
                ASSERT_EQ(r < 0, mem.failed != NULL);
                if (r >= 0) {
                        ASSERT_MEMEQ(st.pcr7, pcr_prod, 32);
                        ASSERT_STREQ(st.store.policy_version, POLICY_VERSION);
                        runtime_status_done(&st);
                }
                ASSERT_TRUE(mem.extends == 0 && mem.open == 0);
                if (!mem.failed)
                        break;
        }
        for (n = 1; n < 200; n++) {
                int r;

                boot(pcr_prod, true);
                mem.fail_at = n;
                r = runtime_check_locked(&o, &ck);
                /* a store that cannot be asked fails it; an entry whose
                 * version cannot be read is only skipped */
                if (mem.failed && strcmp(mem.failed, "policy_version"))
                        ASSERT_TRUE(r < 0);
                ASSERT_TRUE(mem.extends == 0 && mem.open == 0);
                if (!mem.failed)
                        break;
        }
        ASSERT_TRUE(n < 200);
}

static bool proc_write(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC), r;

        if (fd < 0)
                return false;
        r = write_all(fd, text, strlen(text));
        close(fd);
        return r >= 0;
}

/* A private mount namespace for setup's tmpfs (root, else a user namespace
 * where the caller is root). */
static bool private_mounts(void)
{
        _cleanup_free_ char *uid_map = xasprintf("0 %u 1", (unsigned)getuid());
        _cleanup_free_ char *gid_map = xasprintf("0 %u 1", (unsigned)getgid());

        if (unshare(CLONE_NEWNS) < 0 &&
            (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0 ||
             !proc_write("/proc/self/uid_map", uid_map) ||
             !proc_write("/proc/self/setgroups", "deny") ||
             !proc_write("/proc/self/gid_map", gid_map)))
                return false;
        return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

int main(void)
{
        if (read32(ENTRY "/pcr_prod.bin", pcr_prod) < 0 ||
            read32(ENTRY "/pcr_tpm.bin", pcr_tpm) < 0 ||
            read32(ENTRY "/pcr_limited.bin", pcr_limited) < 0) {
                fprintf(stderr, "SKIP: run from the source tree (%s)\n", ENTRY);
                return 77;
        }
        if (!mkdtemp(tmp) || keyctl_join_session_keyring(NULL) < 0) {
                fprintf(stderr, "SKIP: no temporary directory or session keyring\n");
                return 77;
        }
        sec = path_join(tmp, "secure");
        out_file = path_join(tmp, "admin-password");
        stdout_file = path_join(tmp, "stdout");
        have_mounts = private_mounts();

        RUN(test_faults);
        RUN(test_bad_readback);
        RUN(test_refusals_lock);
        RUN(test_existing_output);
        RUN(test_contents);
        RUN(test_reports);

        unrelease();
        (void)rm_rf(tmp);
        free(sec);
        free(out_file);
        free(stdout_file);
        boot(pcr_prod, false);
        return test_exit();
}
