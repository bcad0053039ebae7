/* cmd-keyset.c: placeholder until this family lands; every entry fails loudly. */
#include <stdio.h>
#include "commands.h"

int cmd_initkeyset(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: initkeyset: not implemented yet\n");
        return 1;
}

int cmd_keyset(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: keyset: not implemented yet\n");
        return 1;
}

int cmd_project(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: project: not implemented yet\n");
        return 1;
}

int cmd_sudi(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: sudi: not implemented yet\n");
        return 1;
}

int cmd_new_uuid(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: new_uuid: not implemented yet\n");
        return 1;
}

