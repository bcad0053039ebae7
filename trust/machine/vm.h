/* vm.h: provisioned VMs (`trust vm`). A VM is a directory under
 * $XDG_STATE_HOME/machine/trust/vms/NAME/ holding its enrolled OVMF vars, a
 * persistent swtpm state, the OS disk, its serial log and, while it runs,
 * the QMP/console sockets and pid files. `launch` builds that directory in a
 * temporary sibling, runs the provision and install phases in it, and
 * renames it into place only when both succeeded. Layout and guest-visible
 * disks: vm/README.md. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "machine/console.h"
#include "machine/qemu.h"

/* Console markers of the phases (images/README.md). */
#define VM_PROVISIONED "provisioned successfully"
#define VM_INSTALLED "installed successfully"
#define VM_FAILED "XXX FAIL XXX"

/* Files of the images directory (build/images/<keyset>/, images/README.md). */
#define VM_IMG_PROVISION "provision/uki-production.efi"
#define VM_IMG_INSTALL "install/uki-production.efi"
#define VM_IMG_PAYLOAD "os/payload.img"
#define VM_IMG_VARS "vars.fd"

struct vm_info {
        char *name;
        char *dir;
        char *keyset, *project, *serial, *images, *created, *accel;
        struct vm_proc proc; /* running processes (0 = not running) */
};

void vm_info_done(struct vm_info *i);

/* $XDG_STATE_HOME/machine/trust/vms */
int vms_root(char **ret);
/* State directory of an existing VM; -ENOENT "vm 'x' does not exist". */
int vm_dir(const char *name, char **ret);
int vm_info_load(const char *name, struct vm_info *ret);
/* Names of the VMs, sorted. */
int vm_list(char ***ret, size_t *ret_n);
void vm_names_freep(char ***p);

struct vm_launch_args {
        const char *name;
        const char *keyset;
        const char *project;
        const char *serial; /* NULL: a fresh UUID */
        const char *images; /* NULL: build/images/<keyset> */
        bool keep_on_failure;
        unsigned phase_timeout_s; /* 0: 1200 */
        /* One call per finished step, e.g. ("provision", 23.4, NULL). */
        void (*progress)(const char *phase, double seconds, const char *detail);
};

/* On failure *ret_phase names the failed phase and *ret_tail holds the
 * console's last lines (both may be NULL; free them). */
int vm_launch(const struct vm_launch_args *a, char **ret_phase, char **ret_tail);

/* Boots the installed OS (detached; the VM runs until stopped). */
int vm_start(const char *name, unsigned *ret_pid);
/* Clean stop: ACPI power button, grace_s for the guest, then QMP quit, then
 * kill by pid. 0 also when the VM was not running. */
int vm_stop(const char *name, unsigned grace_s, bool *ret_was_running);
/* Stops the VM if needed and removes its directory. */
int vm_delete(const char *name);

/* Signals (SIGINT/SIGTERM) seen during a launch set this. */
extern volatile int vm_interrupted;
