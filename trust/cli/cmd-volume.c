/* cmd-volume.c: `trust volume open|check`, the OS volume in the OS initrd:
 * option parsing and output only; the work is in osvol.c and luks.c. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "cli/commands.h"
#include "target/luks.h"
#include "target/osvol.h"

static const char volume_help[] =
        "Usage: trust volume open [--label LABEL | --device DEV] [--name NAME]\n"
        "                         [--wait SECONDS] [--keyring user|session]\n"
        "       trust volume check [--label LABEL | --device DEV] [--wait SECONDS]\n"
        "                          [--keyring user|session]\n\n"
        "In the OS initrd, after 'trust setup': finds the one LUKS2 volume labelled\n"
        "LABEL among the block devices and opens it as /dev/mapper/NAME with the\n"
        "passphrase in the 'user' key machine:luks of root's user keyring, then drops\n"
        "that key from the keyring, whether the volume opened or not. Before any\n"
        "passphrase is tried the volume is refused unless it is LUKS2 and its data\n"
        "segment and every keyslot use " LUKS_OS_CIPHER " with a 512-bit key: no\n"
        "cipher_null (a null keyslot opens with any passphrase), no other cipher, no\n"
        "LUKS1, no unfinished reencryption. A volume made by anyone who does not know\n"
        "the passphrase does not open. The passphrase is never printed.\n\n"
        "'check' applies the same rules and tries the passphrase without\n"
        "device-mapper: it opens nothing and leaves the key in the keyring.\n\n"
        "  --label LABEL       the LUKS2 label to look for (default " OSVOL_LABEL "); two\n"
        "                      volumes with that label are refused\n"
        "  --device DEV        that device instead of a label search\n"
        "  --name NAME         the device-mapper name (default " OSVOL_NAME ")\n"
        "  --wait SECONDS      how long to wait for the labelled volume to appear\n"
        "                      (default 10, at most 600)\n"
        "  --keyring user|session  where machine:luks is: root's user keyring (default)\n"
        "                      or the session's\n"
        "  -h, --help          show this help\n\n"
        "Exit status: 0 opened (check: it would open), 1 refused or failed (one line on\n"
        "stderr names the volume and the cause; nothing is left open), 2 usage.\n";

static int parse_wait(const char *cmd, const char *s, unsigned *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || !*s || *end || s[0] == '-' || v > 600)
                return usage_error(cmd, "--wait '%s': expected seconds (0..600)", s);
        *ret = (unsigned)v;
        return 0;
}

static int volume_run(const char *cmd, bool open, int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "label", required_argument, NULL, 'l' },
                { "device", required_argument, NULL, 'd' },
                { "name", required_argument, NULL, 'n' },
                { "wait", required_argument, NULL, 'w' },
                { "keyring", required_argument, NULL, 'k' },
                {}
        };
        struct osvol_opts o = {
                .label = OSVOL_LABEL,
                .name = open ? OSVOL_NAME : NULL,
                .wait_s = 10,
                .keyring = KEYRING_USER,
                .drop_key = open,
                .sys_class_block = "/sys/class/block",
                .dev_dir = "/dev",
        };
        _cleanup_free_ char *dev = NULL;
        bool label_given = false;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        fputs(volume_help, stdout);
                        return 0;
                case 'l':
                        if (!optarg[0])
                                return usage_error(cmd, "--label needs a label");
                        o.label = optarg;
                        label_given = true;
                        break;
                case 'd':
                        if (!optarg[0])
                                return usage_error(cmd, "--device needs a device");
                        o.device = optarg;
                        break;
                case 'n':
                        if (!open)
                                return usage_error(cmd, "--name: 'check' opens nothing");
                        if (name_validate("device-mapper", optarg) < 0)
                                return usage_error(cmd, "%s", err_msg(-EINVAL));
                        o.name = optarg;
                        break;
                case 'w':
                        if (parse_wait(cmd, optarg, &o.wait_s))
                                return EXIT_USAGE;
                        break;
                case 'k':
                        if (keyring_target_from_string(optarg, &o.keyring) < 0)
                                return usage_error(cmd, "%s", err_msg(-EINVAL));
                        break;
                default:
                        return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (argc != optind)
                return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        if (label_given && o.device)
                return usage_error(cmd, "--label and --device exclude each other");

        r = osvol_open(&o, &dev);
        if (r < 0)
                return fail(r, "%s", cmd);
        if (open)
                printf("%s: opened as /dev/mapper/%s, %s dropped from the keyring\n", dev, o.name,
                       KEYRING_LUKS_DESCRIPTION);
        else
                printf("%s: LUKS2, %s, the passphrase opens it\n", dev, LUKS_OS_CIPHER);
        return 0;
}

int cmd_volume(int argc, char **argv)
{
        if (argc < 2)
                return usage_error("volume", "expected 'open' or 'check'");
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
                fputs(volume_help, stdout);
                return 0;
        }
        if (!strcmp(argv[1], "open"))
                return volume_run("volume open", true, argc - 1, argv + 1);
        if (!strcmp(argv[1], "check"))
                return volume_run("volume check", false, argc - 1, argv + 1);
        return usage_error("volume", "unknown subcommand '%s' (expected 'open' or 'check')",
                           argv[1]);
}
