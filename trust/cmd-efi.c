/* cmd-efi.c: placeholder until this family lands; every entry fails loudly. */
#include <stdio.h>
#include "commands.h"

int cmd_sign(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: sign: not implemented yet\n");
        return 1;
}

int cmd_verify(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: verify: not implemented yet\n");
        return 1;
}

int cmd_uki(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: uki: not implemented yet\n");
        return 1;
}

int cmd_efivars(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: efivars: not implemented yet\n");
        return 1;
}

