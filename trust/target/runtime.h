/* runtime.h: the on-target workflows of spec tpm.md ("Workflows on the
 * target"): provision, preinit, setup, extend-pcr7 and the status report.
 * Each returns >= 0 or -errno with errf() text; cmd-tpm.c prints and exits. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "target/keyring.h"
#include "base/util.h"
#include "formats/pcr7data.h"

#define DEFAULT_PCR7DATA "/pcr7data"
#define DEFAULT_MANIFEST_CA "/manifestCA.pem"
#define DEFAULT_SECURE_DIR "/priv/factory/secure"
#define PBF_MOUNTPOINT "/factory/pbf"
#define PBF_TYPE_GUID "01A3E19F-9FEA-ED47-92C2-E75639FF5601"
#define SBF_TYPE_GUID "01A3E19F-9FEA-ED47-92C2-E75639FF5602"

/* The digest setup/preinit/extend-pcr7 extend PCR7 with: SHA-256("atomix\n"),
 * the value deployed initrds already use. */
extern const uint8_t pcr7_lock_digest[32];

struct runtime_opts {
        const char *pcr7data;    /* NULL: /pcr7data, else the pbf partition */
        const char *manifest_ca; /* setup only */
        const char *secure_dir;  /* setup only */
        enum keyring_target keyring;
        bool keyring_given;      /* --keyring was on the command line */
        const char *output;      /* tpm admin-password --output */
        const char *disk;        /* provision: NULL, a device or "any" */
        const char *policy_version; /* provision: NULL is POLICY_VERSION ("0001") */
        const char *admin_password_file; /* check-locked: NULL is the keyring's, if any */
        bool wipe;
};

/* Returns the pcr7data root to use (allocated), mounting the pbf partition
 * read-only on /factory/pbf when needed. */
int pcr7data_root(const struct runtime_opts *o, char **ret);

/* "/dev/sda" 1 -> "/dev/sda1", "/dev/loop0" 1 -> "/dev/loop0p1" */
char *partition_path(const char *dev, unsigned n);

/* Passphrases: len characters of [A-Za-z0-9] from getrandom(). */
int passphrase_new(size_t len, struct secret *ret);

/* setup: on failure before PCR7 is extended nothing is released; when the
 * extend itself fails *pcr7_unlocked is set (the caller must power off). */
int runtime_setup(const struct runtime_opts *o, bool *pcr7_unlocked);
int runtime_preinit(const struct runtime_opts *o, bool *pcr7_unlocked);
int runtime_extend_pcr7(void);
/* admin-password (in a tpm-admin-signed OS): reads NV 0x01500001 through the
 * signed passwd policy, extends PCR7, checks the password is the TPM owner's,
 * then puts it in the keyring as machine:tpm-admin, or writes it to `output`
 * (a new file, 0600; "-" standard output). *pcr7_unlocked as for setup. */
int runtime_admin_password(const struct runtime_opts *o, const char *output, bool *pcr7_unlocked);
/* check-locked: tries to read each policy-guarded index with every signed
 * policy of pcr7data (and with none), and, with the admin password at hand
 * (admin_password_file, else the keyring's machine:tpm-admin), the secret
 * ones owner-authorized; prints one line per index and a summary; *readable
 * when the TPM released any of them. */
int runtime_check_locked(const struct runtime_opts *o, bool *readable);
int runtime_status(bool json);
int runtime_provision(const struct runtime_opts *o, const char *cert, const char *key);
/* provision --disk any: the first (by name) disk in sys_block (/sys/block) of
 * 1 GiB or more that is fixed (removable 0), not a loop/ram/optical/zram/dm/
 * md/nbd/floppy device, not in use (an O_EXCL open of dev_dir/NAME succeeds)
 * and blank (no partition known to the kernel, no MBR signature, no GPT
 * header), or with wipe any such disk; *ret is dev_dir/NAME. */
int disk_pick_any(const char *sys_block, const char *dev_dir, bool wipe, char **ret);
