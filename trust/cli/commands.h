/* commands.h: the entry point of every command family. Each cmd-<verb>.c
 * parses its own options (getopt_long), prints its own --help and returns an
 * exit code: 0 ok, 1 operation failed, 2 usage error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/guid.h"

#define EXIT_USAGE 2

/* cmd-keyset.c (keysets, projects, SUDI, manifest uuids) */
int cmd_initkeyset(int argc, char **argv);
int cmd_keyset(int argc, char **argv);
int cmd_project(int argc, char **argv);
int cmd_sudi(int argc, char **argv);
int cmd_new_uuid(int argc, char **argv);
int cmd_keyset_show(int argc, char **argv); /* cmd-keyset-show.c: "trust keyset show ..." */

/* cmd-pcr7.c (PCR7 prediction, policies, pcr7data) */
int cmd_computepcr7(int argc, char **argv);
int cmd_tpm_policy_gen(int argc, char **argv);
int cmd_pcr7data(int argc, char **argv);
int cmd_keyset_pcr7data(int argc, char **argv); /* "trust keyset pcr7data ..." */
int cmd_keyset_rollout(int argc, char **argv); /* "trust keyset rollout ..." */
int cmd_eventlog(int argc, char **argv);        /* cmd-eventlog.c */

/* cmd-efi.c (Authenticode, UKI, OVMF variables) */
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_uki(int argc, char **argv);
int cmd_efivars(int argc, char **argv);

/* cmd-tpm.c (on-target TPM runtime) */
int cmd_provision(int argc, char **argv);
int cmd_preinit(int argc, char **argv);
int cmd_setup(int argc, char **argv);
int cmd_extend_pcr7(int argc, char **argv);
int cmd_tpm(int argc, char **argv);

/* cmd-attest.c (quote on the machine, verify anywhere); the line both
 * attest verify and vm attest print for a verdict that holds:
 * "<who>: verified: serial S, product P, boot class C (PCR7 locked by setup)". */
struct attest_verdict;
int cmd_attest(int argc, char **argv);
void attest_print_verified(const char *who, const struct attest_verdict *v);

/* cmd-volume.c (the OS volume in the OS initrd) */
int cmd_volume(int argc, char **argv);

/* cmd-vm.c */
int cmd_vm(int argc, char **argv);

/* cmd-image.c (the mkosi images of a keyset) */
int cmd_image(int argc, char **argv);

/* Help: "--help" or "-h" asks for help wherever a command looks for it
 * (is_help_arg); has_help_arg() looks at every argument after argv[0]. Where
 * a subcommand goes, trust itself, keyset, project and sudi also take the
 * word "help" (is_help_word), as they always have. */
bool is_help_arg(const char *arg);
bool is_help_word(const char *arg);
bool has_help_arg(int argc, char **argv);

/* Starts a fresh getopt_long() scan (optind 0: glibc re-initialises, so an
 * earlier scan in the same process, or a "+" optstring, carries nothing
 * over). quiet: getopt prints nothing and the command names the bad option
 * itself; otherwise getopt's own message comes first. */
void getopt_reset(bool quiet);

/* A usage error line "trust CMD: ... (see 'trust CMD --help')"; returns 2. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reporting: one line "trust: <what>: <cause>" on stderr. fail() prints
 * "<what>: <the message recorded for r>" and returns 1. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fail(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The keyset family's (cmd-keyset*.c): check_name() checks a name before any
 * work, a bad one is a usage error (prints it, returns 2, else 0);
 * bad_option() is the one usage line of a getopt_reset(true) parser;
 * op_failed() prints the library's message, which names the object, and
 * returns 1. */
int check_name(const char *what, const char *name);
int bad_option(const char *cmd, char **argv);
int op_failed(int r);

/* esl_walk callback printing one signature database entry: text lines
 * "<indent>x509   owner GUID  SUBJECT" (sha256: the hash), or with json
 * objects {"type":"x509"|"sha256"|"other","owner",...} separated by commas. */
struct esl_print_ctx {
        bool json;
        unsigned n;
        const char *indent;
};
int esl_print_entry(const efi_guid *type, const efi_guid *owner, const uint8_t *data, size_t len,
                    void *userdata);

/* Appends arg to a growing array of option values (--update F...). */
void argv_push(const char ***v, size_t *n, const char *arg);
