/* vmdir.h: the files of a VM state directory and the unix sockets in it
 * (QMP, serial console, swtpm). */
#pragma once

/* File names inside a VM state directory (vm/README.md). */
#define VM_CONF "vm.conf"
#define VM_OS_DISK "os.img"
#define VM_DATA_DISK "trust-data.img" /* the SUDI key: wiped once provisioned, or on failure */
#define VM_BOOT_DISK "boot.img"
#define VM_PAYLOAD_LINK "payload.img" /* symlink to the images' os/payload.img */
#define VM_SUDI_CERT "sudi-cert.pem"
#define VM_CONSOLE_LOG "console.log"
#define VM_CONSOLE_SOCK "console.sock"
#define VM_QMP_SOCK "qmp.sock"
#define VM_SWTPM_SOCK "swtpm.sock"
#define VM_SWTPM_DIR "tpm"
#define VM_QEMU_PID "qemu.pid"
#define VM_SWTPM_PID "swtpm.pid"
#define VM_QEMU_LOG "qemu.log"
#define VM_SWTPM_LOG "swtpm.log"
#define VM_VARS "OVMF_VARS.fd"
/* The firmware configuration file `vm attest` puts its nonce in; the guest
 * reads /sys/firmware/qemu_fw_cfg/by_name/opt/trust/nonce/raw. */
#define VM_FW_CFG_NONCE "opt/trust/nonce"

/* connect() to the unix socket `name` in the state directory (through
 * /proc/self/fd, so a deep directory cannot overflow sun_path), waiting at
 * most 5 s for a busy listener; the socket returned is blocking. */
int vm_socket_connect(const char *dir, const char *name, int *ret);
