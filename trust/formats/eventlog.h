/* eventlog.h: TCG PC Client crypto-agile event logs (TCG PC Client Platform
 * Firmware Profile 1.05, §10; spec lifecycle.md): what firmware measured,
 * as Linux shows it in /sys/kernel/security/tpm0/binary_bios_measurements.
 * The log comes from the machine being judged: every bound is checked. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/guid.h"

#define EVLOG_PCRS 24
#define EVLOG_MAX ((size_t)16 << 20)
#define EVLOG_MAX_EVENTS 65536

#define EV_NO_ACTION 0x00000003u
#define EV_SEPARATOR 0x00000004u
#define EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define EV_EFI_VARIABLE_AUTHORITY 0x800000e0u

struct evlog_event {
        size_t offset; /* of the record in the log */
        uint32_t pcr, type;
        bool has_sha256;
        uint8_t sha256[32];
        const uint8_t *data; /* into the caller's buffer */
        size_t len;
};

struct eventlog {
        struct evlog_event *events;
        size_t n;
        uint8_t locality; /* StartupLocality: PCR0's initial last byte */
};

/* -EBADMSG with "offset N: cause" on anything malformed; -EOPNOTSUPP when
 * the log has no SHA-256 bank. */
int eventlog_parse(const uint8_t *buf, size_t len, struct eventlog *ret);
void eventlog_done(struct eventlog *l);

/* The sha256 bank as the log extends it (EV_NO_ACTION is not extended);
 * used[i] says whether PCR i saw an event. */
void eventlog_replay(const struct eventlog *l, uint8_t pcrs[EVLOG_PCRS][32],
                     bool used[EVLOG_PCRS]);

/* "EV_SEPARATOR", ...; NULL for a type we have no name for. */
const char *evlog_type_name(uint32_t type);

/* UEFI_VARIABLE_DATA (variable events): name as ASCII (other characters
 * as '?'), the value; -EBADMSG when malformed. */
struct evlog_var {
        efi_guid vendor;
        char name[65];
        const uint8_t *data;
        size_t len;
};
int evlog_var_parse(const uint8_t *data, size_t len, struct evlog_var *ret);

/* Whether firmware hashes the event data itself for this type (variable
 * configuration, authority, separator), so its digest can be checked. */
bool evlog_digest_is_of_data(uint32_t type);
/* For such an event, whether its sha256 digest is the hash of the data the
 * log shows (true for every other event): a log whose data were changed after
 * the boot is not believed. */
bool evlog_data_matches_digest(const struct evlog_event *e);
