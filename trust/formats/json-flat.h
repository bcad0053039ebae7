/* json-flat.h: the one shape of JSON trust reads (RFC 8259): a flat object
 * whose members are strings (and, where the caller allows, non-negative
 * integers), as in pcr7data info.json and attestation bundles. Strict: one
 * object, no duplicate wanted member, valid escapes and UTF-8, no \u0000,
 * nothing after the object. The bytes are untrusted: every bound is checked
 * (fuzzed through tests/fuzz/fuzz-info-json.c and fuzz-attest-bundle.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A member the caller wants: value is set (malloc'd) when present; integer
 * says it was written as a JSON integer (its digits are the value). */
struct json_field {
        const char *name;
        char *value;
        bool integer;
};

enum {
        JSON_FLAT_INTEGERS = 1 << 0, /* members may also be integers 0..2^53 */
};

/* Fills the fields named in `fields`; members with other names are checked
 * and dropped. -EBADMSG (errf: the cause, naming the member) on anything
 * malformed or on more than max_members members. On failure no field is
 * left allocated. */
int json_flat_parse(const uint8_t *buf, size_t len, struct json_field *fields, size_t n_fields,
                    unsigned max_members, unsigned flags);
void json_fields_free(struct json_field *fields, size_t n_fields);
