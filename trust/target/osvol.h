/* osvol.h: opening the OS volume in the OS initrd (images/README.md): the
 * LUKS2 volume labelled trust-os, checked by luks_open_os() and opened with
 * the passphrase `trust setup` left in the keyring, which is then dropped. */
#pragma once

#include <stdbool.h>

#include "target/keyring.h"

#define OSVOL_LABEL "trust-os"
#define OSVOL_NAME "trust-os"

struct osvol_opts {
        const char *label;  /* looked for when device is NULL */
        const char *device; /* that device instead of a label search */
        const char *name;   /* device-mapper name; NULL: check only */
        unsigned wait_s;    /* for the labelled volume to appear */
        enum keyring_target keyring;
        bool drop_key;      /* drop machine:luks afterwards, opened or not */
        /* the label search: NAME in sys_class_block is dev_dir/NAME */
        const char *sys_class_block, *dev_dir;
};

/* Reads machine:luks from the keyring, finds the volume (exactly one LUKS2
 * volume with the label, waiting up to wait_s seconds for one), opens it (or
 * only checks it), drops the key when asked, on every path, and wipes its
 * copy. *ret_device (may be NULL) is the volume found, also on failure when
 * one was. Nothing stays open on failure. Errors: those of luks_open_os(),
 * -ENOKEY no key, -ENODEV no volume, -ENOTUNIQ more than one. */
int osvol_open(const struct osvol_opts *o, char **ret_device);
