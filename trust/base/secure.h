/* secure.h: what a process that handles secrets does about its own memory:
 * no core dumps, no ptrace or /proc/PID/mem for other users, freed memory
 * overwritten (process_harden), secret buffers on locked pages of their own
 * that are wiped on release, and a wipe of the stack a command leaves behind. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* For commands that handle secrets, before they touch one: makes the process
 * non-dumpable (prctl PR_SET_DUMPABLE 0: no core dump, and only root may
 * ptrace it or read /proc/PID/mem) and sets RLIMIT_CORE to 0 (soft and hard,
 * so children cannot raise it either), each read back; then OpenSSL's
 * allocations go through functions that wipe every block freed or moved, and
 * glibc overwrites freed blocks (M_PERTURB; not the small ones it caches per
 * thread). -errno with a message when the process is not hardened: the
 * caller must not go on. Must run before anything uses OpenSSL (-EBUSY). */
int process_harden(void);

/* Overwrites the stack below the caller's frame (STACK_WIPE_BYTES): what the
 * returned frames of a command, libraries included, left there; then zeroes
 * the CPU's vector registers, which keep what memcpy last moved. */
#define STACK_WIPE_BYTES (256 * 1024)
void stack_wipe(void);

/* A secret of len bytes, NUL-terminated at data[len]. The pages are the
 * secret's own (mlock and munlock act on whole pages, so a shared page would
 * be unlocked by its neighbour's release), locked in RAM when RLIMIT_MEMLOCK
 * allows (failing that, they may be swapped: not an error), left out of core
 * dumps and zero in a fork()ed child; the byte after the NUL is on an
 * inaccessible page, so an overrun faults. Release only with secret_free(),
 * which wipes the bytes before the pages are unmapped. */
struct secret {
        uint8_t *data;
        size_t len;
        void *map; /* the pages, for secret_free() */
        size_t map_len;
};
int secret_alloc(struct secret *s, size_t len);
void secret_free(struct secret *s);
/* How many secret_alloc() calls could not lock their pages (for tests). */
unsigned secret_unlocked_count(void);
