/* runtime.h: the on-target workflows of spec tpm.md ("Workflows on the
 * target"): provision, preinit, setup, admin-password, extend-pcr7 and the
 * status and check-locked reports, written over the truststore interface
 * (truststore.h) with the fail-closed rules of workflow.h. Each returns >= 0
 * or -errno with errf() text and prints nothing; cmd-tpm.c prints and exits.
 *
 * provision, preinit, setup, admin-password and extend-pcr7 open the store
 * first; from then on every way out leaves PCR7 locked (extended and read
 * back as expected) or sets *lock_failed (the caller must power off).
 * Nothing leaves the process (keyring, tmpfs, output file, standard output)
 * before the lock held, and a failure after it takes back what was
 * released. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"
#include "formats/pcr7data.h"
#include "target/keyring.h"
#include "target/truststore.h"

#define DEFAULT_PCR7DATA "/pcr7data"
#define DEFAULT_MANIFEST_CA "/manifestCA.pem"
#define DEFAULT_SECURE_DIR "/priv/factory/secure"
#define PBF_MOUNTPOINT "/factory/pbf"
#define PBF_TYPE_GUID "01A3E19F-9FEA-ED47-92C2-E75639FF5601"
#define SBF_TYPE_GUID "01A3E19F-9FEA-ED47-92C2-E75639FF5602"
/* provision --disk: where pbf and sbf lie (bytes) */
#define PBF_START (4ull << 20)
#define PBF_SIZE (64ull << 20)
#define SBF_START (PBF_START + PBF_SIZE)
#define SBF_SIZE (256ull << 20)

struct runtime_opts {
        const char *pcr7data;    /* NULL: /pcr7data, else the pbf partition */
        const char *manifest_ca; /* setup only */
        const char *secure_dir;  /* setup only */
        enum keyring_target keyring;
        bool keyring_given;      /* --keyring was on the command line */
        const char *output;      /* tpm admin-password --output */
        const char *disk;        /* provision: NULL, a device or "any" */
        const char *policy_version; /* provision: NULL is POLICY_VERSION */
        const char *admin_password_file; /* check-locked: NULL is the keyring's, if any */
        bool wipe;
        uint32_t handle;         /* tpm load-key --handle */
        const struct truststore_ops *store; /* NULL: the TPM2 (truststore_tpm2) */
        const char *tcti;        /* the TPM2's TCTI; NULL: $TRUST_TPM2_TCTI */
};

/* Returns the pcr7data root to use (allocated), mounting the pbf partition
 * read-only on /factory/pbf when needed. */
int pcr7data_root(const struct runtime_opts *o, char **ret);

/* "/dev/sda" 1 -> "/dev/sda1", "/dev/loop0" 1 -> "/dev/loop0p1" */
char *partition_path(const char *dev, unsigned n);

/* Passphrases: len characters of [A-Za-z0-9] from getrandom(). */
int passphrase_new(size_t len, struct secret *ret);

/* setup: reads cert, key and OS passphrase through the signed luks policy,
 * locks, then puts cert, key and the manifest CA in the private tmpfs and the
 * passphrase in the keyring. */
int runtime_setup(const struct runtime_opts *o, bool *lock_failed);
/* preinit: writes a new OS passphrase through the luks policy, locks, then
 * puts it in the keyring. */
int runtime_preinit(const struct runtime_opts *o, bool *lock_failed);
/* admin-password (in a tpm-admin-signed OS): reads the admin password
 * through the signed passwd policy, locks, checks it is the store owner's,
 * then puts it in the keyring as machine:tpm-admin, or writes it to
 * o->output (a new file, 0600; "-" standard output). */
int runtime_admin_password(const struct runtime_opts *o, bool *lock_failed);
/* extend-pcr7: only the lock. */
int runtime_extend_pcr7(const struct runtime_opts *o, bool *lock_failed);
/* provision: takes the store, writes CERT, KEY and fresh passwords bound to
 * the policy keys of this (production) boot's pcr7data entry, locks, then
 * optionally lays out o->disk. */
int runtime_provision(const struct runtime_opts *o, const char *cert, const char *key,
                      bool *lock_failed);
/* The partitions provision --disk lays out, each made on target (a partition
 * or an image file of its size): pbf, ext4 labelled pbf holding a copy of the
 * pcr7data tree; sbf, LUKS2 keyed by pass (the TPM's 0x01500030), checked
 * back, *ret_data_offset (if not NULL) where its data segment starts. */
int pbf_format(const char *target, const char *pcr7data);
int sbf_format(const char *target, const struct secret *pass, uint64_t *ret_data_offset);

/* provision for a machine that is not running: the store at o->tcti (a
 * VM's swtpm, reached from the host that keeps its state anyway) is taken as
 * runtime_provision takes it, with the production entry of o->pcr7data for
 * pcr7, the PCR7 that machine's production boot will measure, instead of this
 * boot's. Nothing is locked (no boot is measured) and no disk is touched: the
 * sbf and OS passphrases come back (secret_free them) for the caller to key
 * the machine's volumes with. */
int runtime_provision_for(const struct runtime_opts *o, const uint8_t pcr7[32], const char *cert,
                          const char *key, struct secret *ret_sbf, struct secret *ret_os);

/* tpm status: PCR7 and what the store holds (no secret). */
struct runtime_status {
        uint8_t pcr7[32];
        struct truststore_report store;
};
int runtime_status(const struct runtime_opts *o, struct runtime_status *ret);
void runtime_status_done(struct runtime_status *s);

/* tpm check-locked: each guarded slot tried with every signed policy of
 * pcr7data for its class (and with none); the store's own answers. */
#define RUNTIME_GUARDED 5
struct runtime_check_slot {
        uint32_t id;
        const char *role;
        bool defined;
        bool readable;
        char why[512];
};
struct runtime_check {
        struct runtime_check_slot slots[RUNTIME_GUARDED];
        unsigned n_readable; /* > 0: something is readable in this boot */
};
int runtime_check_locked(const struct runtime_opts *o, struct runtime_check *ret);

/* provision --disk any: the first (by name) disk in sys_block (/sys/block) of
 * 1 GiB or more that is fixed (removable 0), not a loop/ram/optical/zram/dm/
 * md/nbd/floppy device, not in use (an O_EXCL open of dev_dir/NAME succeeds)
 * and blank (no partition known to the kernel, no MBR signature, no GPT
 * header), or with wipe any such disk; *ret is dev_dir/NAME. */
int disk_pick_any(const char *sys_block, const char *dev_dir, bool wipe, char **ret);
