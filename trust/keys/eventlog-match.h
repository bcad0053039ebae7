/* eventlog-match.h: a machine's PCR7 events against a keyset's prediction:
 * which class booted, or the first event that differs and why, in words an
 * operator can act on (`trust eventlog --keyset`); and a machine's variable
 * store against the keyset's variables (`trust vm attest`). */
#pragma once

#include <stddef.h>

#include "formats/eventlog.h"
#include "formats/pcr7.h"

/* The log's PCR7 event as trust names it: "SecureBoot", "PK", "KEK", "db",
 * "dbx", "separator", "authority" (the db entry that verified the boot), or
 * for anything else the variable's name (shim's "SbatLevel", "MokList"...)
 * or the event type. */
const char *evlog_pcr7_name(const struct evlog_event *e, char *buf, size_t size);

/* One line describing a signature database entry: "x509 CN=...",
 * "sha256:HEX" or "type GUID (N bytes)". */
void esl_entry_describe(const efi_guid *type, const uint8_t *data, size_t len, char *buf,
                        size_t size);

struct evlog_match {
        int match;          /* enum uki_class of a class whose events the log has, or -1 */
        int base;           /* the class the difference is told against */
        size_t event;       /* index (in the log) of the first differing event, or the count */
        char event_name[72]; /* evlog_pcr7_name of it, or the missing event's */
        char why[1024];     /* the difference, a sentence */
};

/* v: the keyset's variables (keyset_efi_vars_load, maybe updated); refused
 * classes (keyset_efi_vars_update) are never matched. */
int eventlog_match(const struct eventlog *l, const struct keyset_efi_vars *v,
                   const char *const refused[_UKI_CLASS_MAX], struct evlog_match *ret);

/* A machine's Secure Boot variables, from its OVMF variable store file
 * (buf, parsed in place), against the keyset's v: 1 with `why` naming the
 * first of PK, KEK, db, dbx that differs and the entries it holds or lacks,
 * 0 when all four are the keyset's; < 0 on a malformed store. */
int varstore_explain(uint8_t *buf, size_t len, const struct keyset_efi_vars *v, char *why,
                     size_t size);
