/* qmp.h: a minimal client of QEMU's machine protocol on a VM's qmp.sock,
 * enough to run one command (system_powerdown, quit) and know that QEMU
 * returned. Used by vm_shutdown() in qemu.c. */
#pragma once

/* Connects to VM_QMP_SOCK in the state directory `dir`, negotiates
 * capabilities and sends one command; 0 when QEMU returned. A quit that
 * closes the socket before its reply counts as returned. */
int qmp_execute(const char *dir, const char *command);
