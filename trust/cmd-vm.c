/* cmd-vm.c: placeholder until this family lands; every entry fails loudly. */
#include <stdio.h>
#include "commands.h"

int cmd_vm(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        fprintf(stderr, "trust: vm: not implemented yet\n");
        return 1;
}

