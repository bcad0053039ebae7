/* vm-prepare.h: a VM's provisioning and installation done on the host (the
 * default launch; --in-guest boots the provisioning and installer images
 * instead, as a factory does on hardware).
 *
 * A VM's TPM is a file of the host's (the swtpm state in its directory):
 * whoever launches the VM can read it either way, so preparing it here
 * gives nobody a secret they could not already read, and it spares the two
 * firmware boots that dominate a launch under emulation. The result is the
 * same machine: the TPM provisioned by the same store code
 * (runtime_provision_for) bound to the production PCR7 the images were built
 * for, and the disk with the layout of provision --disk plus the installer:
 * pbf (ext4, pcr7data), sbf (LUKS2, the TPM's sbf passphrase), esp (the
 * payload's, holding the production UKI) and os (LUKS2 labelled trust-os,
 * keyring token machine:luks, keyed by the TPM's OS passphrase, holding the
 * payload's root). The passphrases and the volume key live only in this
 * process's locked memory, wiped when done. */
#pragma once

struct secret;

struct vm_prepare_args {
        const char *dir;       /* the state directory being made: tpm/, os.img */
        const char *pcr7data;  /* the keyset's pcr7data tree */
        const char *images;    /* os/pcr7-production.txt: the PCR7 to bind to */
        const char *payload;   /* the os image's payload disk: trust-esp, trust-root */
        const char *sudi_cert; /* the VM's SUDI identity, PEM */
        const char *sudi_key;
};

/* Provisions the VM's TPM (its swtpm run for this process alone). */
int vm_prepare_tpm(const struct vm_prepare_args *a, struct secret *ret_sbf,
                   struct secret *ret_os);
/* Lays out and fills the VM's disk (VM_OS_DISK, which exists and is empty)
 * with the passphrases vm_prepare_tpm put in the TPM. */
int vm_prepare_disk(const struct vm_prepare_args *a, const struct secret *sbf,
                    const struct secret *os);
