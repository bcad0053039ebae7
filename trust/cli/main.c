/* main.c: the `trust` command dispatcher. A table of verbs and a loop, as in
 * wireguard-tools' wg.c; every command parses its own options. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/crypto.h"
#include "base/secure.h"
#include "cli/commands.h"
#include "cli/version.h"

/* HARDEN: the command handles private keys or the TPM's secrets, so before
 * it runs the process is made non-dumpable, with no core dumps and freed
 * memory overwritten, and the stack it leaves is wiped (base/secure.h). */
#define HARDEN true

static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *help;
        bool harden;
} commands[] = {
        { "initkeyset", cmd_initkeyset, "create a keyset (same as 'keyset add')", HARDEN },
        { "keyset", cmd_keyset, "add, list, show keysets; add pcr7data", HARDEN },
        { "project", cmd_project, "add and list projects of a keyset", HARDEN },
        { "sudi", cmd_sudi, "issue and list per-machine SUDI certificates", HARDEN },
        { "new-uuid", cmd_new_uuid, "make a product uuid, keypair and manifest cert", HARDEN },
        { "computepcr7", cmd_computepcr7, "predict the PCR7 values of a keyset" },
        { "tpm-policy-gen", cmd_tpm_policy_gen, "compute the luks and passwd policy digests" },
        { "pcr7data", cmd_pcr7data, "look up a PCR7 value in a pcr7data tree" },
        { "sign", cmd_sign, "sign an EFI image (Authenticode)", HARDEN },
        { "verify", cmd_verify, "verify an EFI image's signature" },
        { "uki", cmd_uki, "build a unified kernel image" },
        { "efivars", cmd_efivars, "enroll into, list and update OVMF vars or efivarfs",
          HARDEN /* sign-update holds a KEK or PK private key */ },
        { "eventlog", cmd_eventlog, "replay and explain a firmware event log" },
        { "provision", cmd_provision, "take the TPM and store the machine's secrets", HARDEN },
        { "preinit", cmd_preinit, "new OS passphrase into TPM and keyring (installer)", HARDEN },
        { "setup", cmd_setup, "release the secrets in the signed initrd, lock PCR7", HARDEN },
        { "extend-pcr7", cmd_extend_pcr7, "extend PCR7 so the secrets stay locked", HARDEN },
        { "tpm", cmd_tpm, "TPM status, admin password, lock check, TPM-held key", HARDEN },
        { "attest", cmd_attest, "prove which OS a machine booted (quote, verify)", HARDEN },
        { "volume", cmd_volume, "open the OS volume (checked LUKS2, keyring passphrase)",
          HARDEN },
        { "image", cmd_image, "build a keyset's mkosi images" },
        { "vm", cmd_vm, "launch and manage provisioned VMs", HARDEN },
};

static void show_usage(FILE *f)
{
        fprintf(f, "Usage: trust COMMAND [ARGS...]\n\n"
                   "Secure unattended boot: keysets, signed PCR7 policies, EFI signing,\n"
                   "TPM provisioning and secret release.\n\nCommands:\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].help);
        fprintf(f, "\n'trust COMMAND --help' describes a command.\n");
}

static int run(const char *name, int (*fn)(int argc, char **argv), bool harden, int argc,
               char **argv)
{
        int r;

        if (!harden) {
                crypto_init();
                return fn(argc, argv);
        }
        /* Fail closed: no secret is touched in a process that could dump it. */
        r = process_harden();
        if (r < 0)
                return fail(r, "%s", name);
        crypto_init();
        r = fn(argc, argv);
        stack_wipe();
        return r;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                show_usage(stderr);
                return EXIT_USAGE;
        }
        if (is_help_word(argv[1])) {
                show_usage(stdout);
                return 0;
        }
        if (!strcmp(argv[1], "--version")) {
                printf("trust %s\n", TRUST_VERSION);
                return 0;
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (!strcmp(argv[1], commands[i].name))
                        return run(commands[i].name, commands[i].fn, commands[i].harden, argc - 1,
                                   argv + 1);
        fprintf(stderr, "trust: '%s' is not a command (see 'trust --help')\n", argv[1]);
        return EXIT_USAGE;
}
