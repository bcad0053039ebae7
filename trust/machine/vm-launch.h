/* vm-launch.h: `trust vm launch`: creates a VM (vm.h) in a temporary
 * sibling of its state directory, runs the provision and install phases in
 * it, and renames it into place only when both succeeded. The phases run on
 * the host (vm-prepare.h), or with in_guest by booting the provisioning and
 * installer images, as on hardware. */
#pragma once

#include <stdbool.h>

/* Console markers of the phases (images/README.md). */
#define VM_PROVISIONED "provisioned successfully"
#define VM_INSTALLED "installed successfully"
#define VM_FAILED "XXX FAIL XXX"

/* Files of the images directory (build/images/<keyset>/, images/README.md). */
#define VM_IMG_PROVISION "provision/uki-production.efi"
#define VM_IMG_INSTALL "install/uki-production.efi"
#define VM_IMG_PAYLOAD "os/payload.img"
#define VM_IMG_VARS "vars.fd"

struct vm_launch_args {
        const char *name;
        const char *keyset;
        const char *project;
        const char *serial; /* NULL: a fresh UUID */
        const char *images; /* NULL: build/images/<keyset> */
        bool keep_on_failure;
        bool in_guest; /* boot the provisioning and installer images */
        unsigned phase_timeout_s; /* 0: 1200 */
        /* One call per finished step, e.g. ("provision", 23.4, NULL). */
        void (*progress)(const char *phase, double seconds, const char *detail);
};

/* On failure *ret_phase names the failed phase and *ret_tail holds the
 * console's last lines (both may be NULL; free them). Whatever fails, the
 * files that carried the SUDI private key (the provisioning image's disk, or
 * the host-side launch's key file) are overwritten and removed, also when
 * --keep-on-failure keeps the rest. */
int vm_launch(const struct vm_launch_args *a, char **ret_phase, char **ret_tail);

/* Signals (SIGINT/SIGTERM) seen during a launch set this. */
extern volatile int vm_interrupted;
