/* cmd-tpm.c: placeholder until this family lands; every entry fails loudly. */
#include <stdio.h>
#include "commands.h"

int cmd_provision(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: provision: not implemented yet\n");
        return 1;
}

int cmd_preinit(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: preinit: not implemented yet\n");
        return 1;
}

int cmd_setup(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: setup: not implemented yet\n");
        return 1;
}

int cmd_extend_pcr7(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: extend_pcr7: not implemented yet\n");
        return 1;
}

int cmd_tpm(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: tpm: not implemented yet\n");
        return 1;
}

