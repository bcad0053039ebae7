/* vm.h: provisioned VMs (`trust vm`). A VM is a directory under
 * $XDG_STATE_HOME/machine/trust/vms/NAME/ holding its enrolled OVMF vars, a
 * persistent swtpm state, the OS disk, its serial log and, while it runs,
 * the QMP/console sockets and pid files: its settings (vm.conf), list,
 * start, stop and delete. Creating one is vm-launch.h. Layout and
 * guest-visible disks: vm/README.md. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "machine/console.h"
#include "machine/qemu.h"

struct vm_info {
        char *name;
        char *dir;
        char *keyset, *project, *serial, *images, *created, *accel;
        struct vm_proc proc; /* running processes (0 = not running) */
};

void vm_info_done(struct vm_info *i);
static inline void vm_info_donep(struct vm_info *i)
{
        vm_info_done(i);
}

/* $XDG_STATE_HOME/machine/trust/vms */
int vms_root(char **ret);
/* State directory of an existing VM; -ENOENT "vm 'x' does not exist". */
int vm_dir(const char *name, char **ret);
/* Reads vm.conf: every key `vm_conf_write` writes must be there (-EBADMSG
 * naming the file and the key otherwise). */
int vm_info_load(const char *name, struct vm_info *ret);
/* Writes dir/vm.conf from i (atomically). */
int vm_conf_write(const char *dir, const struct vm_info *i);
/* Names of the VMs, sorted. */
int vm_list(char ***ret, size_t *ret_n);
void vm_names_freep(char ***p);

/* Boots the installed OS (detached; the VM runs until stopped). nonce (hex
 * digits, or NULL) goes to the guest's firmware configuration (vm attest). */
int vm_start(const char *name, const char *nonce, unsigned *ret_pid);
/* Clean stop: ACPI power button, grace_s for the guest, then QMP quit, then
 * kill by pid. VM_STOP_CLEAN (also when the VM was not running) or
 * VM_STOP_FORCED (the guest did not power off within grace_s). */
int vm_stop(const char *name, unsigned grace_s, bool *ret_was_running);
/* Stops the VM if needed and removes its directory. */
int vm_delete(const char *name);
