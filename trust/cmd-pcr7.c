/* cmd-pcr7.c: placeholder until this family lands; every entry fails loudly. */
#include <stdio.h>
#include "commands.h"

int cmd_computepcr7(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: computepcr7: not implemented yet\n");
        return 1;
}

int cmd_tpm_policy_gen(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: tpm_policy_gen: not implemented yet\n");
        return 1;
}

int cmd_pcr7data(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: pcr7data: not implemented yet\n");
        return 1;
}

int cmd_keyset_pcr7data(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: keyset pcr7data: not implemented yet\n");
        return 1;
}

