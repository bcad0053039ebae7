/* qemu.h: the processes behind a `trust vm`: one swtpm and one QEMU per VM,
 * spawned with fork/exec inside the VM's state directory (all paths given to
 * them are relative, so unix socket paths stay short and commas in a home
 * directory cannot break QEMU's option syntax), their clean stop (over QMP,
 * qmp.h) and the KVM probe. The serial console is console.h. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "machine/vmdir.h"

#define OVMF_CODE_SECBOOT "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
#define OVMF_VARS_TEMPLATE "/usr/share/OVMF/OVMF_VARS_4M.fd"

struct qemu_disk {
        const char *file;   /* relative to the state directory */
        const char *serial; /* virtio-blk serial: the guest finds its disks by it */
        int bootindex;      /* < 0: none */
        bool readonly;
};

struct vm_run {
        const char *dir;   /* state directory: cwd of both processes */
        const char *accel; /* "kvm" or "tcg" */
        const struct qemu_disk *disks;
        size_t n_disks;
        unsigned mem_mib;
        /* Launch phases: children die with trust (PR_SET_PDEATHSIG), so a
         * killed `trust vm launch` leaves nothing behind. `vm start` keeps them. */
        bool die_with_parent;
        /* `vm attest`: the verifier's nonce (hex digits only) for the guest,
         * as the firmware configuration file opt/trust/nonce; NULL: none. */
        const char *nonce;
};

struct vm_proc {
        pid_t swtpm;
        pid_t qemu;
        bool children; /* forked by this process: reap them with waitpid */
};

/* "kvm" when /dev/kvm can run OVMF's SMM firmware, else "tcg". $TRUST_VM_ACCEL
 * (kvm|tcg) overrides. scratch_dir: where the probe may put its files. */
int vm_accel_probe(const char *scratch_dir, const char **ret);

/* Starts swtpm (state in VM_SWTPM_DIR) then QEMU; writes both pid files. On
 * failure nothing is left running. */
int vm_spawn(const struct vm_run *run, struct vm_proc *ret);

/* swtpm alone, for this process to provision the VM's TPM from the host
 * (the host-side launch): its state in VM_SWTPM_DIR, started up, serving on
 * unix sockets in dir; its pid file written. *ret_tcti: the TCTI string
 * that reaches it (free it). Stop it with vm_swtpm_end, which leaves its
 * state for QEMU's swtpm. */
int vm_swtpm_serve(const char *dir, pid_t *ret, char **ret_tcti);
void vm_swtpm_end(const char *dir, pid_t *pid);
/* Reads the pid files; a pid counts only while its process is alive, not a
 * zombie, and runs inside `dir` (guards against pid reuse). 0 when absent. */
int vm_proc_load(const char *dir, struct vm_proc *ret);
bool vm_proc_alive(const char *dir, pid_t pid, bool child);

/* Waits until both processes are gone, at most timeout_s. 0 or -ETIMEDOUT. */
int vm_wait_exit(const char *dir, struct vm_proc *p, unsigned timeout_s);

/* Clean stop: QMP system_powerdown and grace_s for the guest, then QMP quit,
 * then SIGTERM and SIGKILL by pid; swtpm follows QEMU (--terminate) or is
 * killed. Removes the pid files. Always leaves nothing running. Returns
 * VM_STOP_CLEAN when QEMU was gone by the end of the grace time (or was not
 * running), VM_STOP_FORCED when it had to be made to quit. */
enum { VM_STOP_CLEAN = 0, VM_STOP_FORCED = 1 };
int vm_shutdown(const char *dir, struct vm_proc *p, unsigned grace_s);

/* Runs a helper tool (mkfs.vfat, mcopy...) bounded by timeout_s; on failure
 * the message names the tool and carries its first output line. */
int run_tool(char *const argv[], unsigned timeout_s);

