/* json.h: writing JSON text (RFC 8259 §7): strings escaped so that any C
 * string comes back the same from a JSON parser, and the "name":value
 * members of the compact objects that commands print and pcr7data info.json
 * holds. Reading JSON is formats/pcr7data-json.c (the one format we parse). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

enum {
        /* Line feed and tab as \n and \t (how the deployed info.json files
         * spell them); without it every control character is \u00XX. */
        JSON_SHORT_NL_TAB = 1 << 0,
};

/* Writes s with its quotes: '"' and '\' backslashed, control characters
 * (below 0x20) as \u00XX (lower-case hex) or as flags say, every other byte
 * as it is (UTF-8 passes through). NULL writes null. */
void json_write_string(FILE *f, const char *s, unsigned flags);
/* The same into a fresh NUL-terminated buffer. */
char *json_quote(const char *s, unsigned flags);
/* A member of an object: "name":"value" (value NULL: null), with a leading
 * comma when comma is set. */
void json_write_member(FILE *f, bool comma, const char *name, const char *value, unsigned flags);
/* An array of strings, ["a","b"], from a NULL-terminated vector (NULL: []). */
void json_write_strv(FILE *f, char *const *v, unsigned flags);
