/* cmd-image.c: `trust image build`, the mkosi images of a keyset. The image
 * configurations and their builder (images/build.sh: mkosi 14 in a private
 * mount namespace, one progress line and one log per image, up-to-date
 * checks) are shipped beside the binary: a checkout's images/, or
 * PREFIX/share/trust/images when installed. This command checks the
 * arguments, finds them and hands over (exec) with the settings in the
 * environment build.sh reads. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/commands.h"

static const char image_help[] =
        "Usage: trust image build --keyset KEYSET [--project PROJECT] [--output DIR]\n"
        "                         [--force] [IMAGE...]\n\n"
        "Builds the images of KEYSET (default: os install provision) with mkosi 14 from\n"
        "the image configurations shipped with trust (a checkout's images/; installed:\n"
        "PREFIX/share/trust/images): one progress line per image, its log in\n"
        "DIR/logs/IMAGE.log. An image newer than everything it is made from\n"
        "(configuration, hooks, this binary, the keyset) and built for PROJECT is\n"
        "kept. The keyset is the user's, else a bundled one (snakeoil). Needs root\n"
        "(debootstrap, systemd-nspawn) and a Debian mirror or a warm package cache.\n"
        "The layout of DIR is in images/README.md (installed: images.md in the docs).\n\n"
        "  --keyset KEYSET     the keyset whose keys sign the images (required)\n"
        "  --project PROJECT   the project they provision machines for (default:\n"
        "                      default)\n"
        "  --output DIR        where the images go (default: $BUILD/images/KEYSET)\n"
        "  --force             rebuild the images that are up to date\n"
        "  -h, --help          show this help\n\n"
        "Environment: BUILD (default ./build): mkosi's package cache and work trees;\n"
        "TRUST_MKOSI_CACHE, TRUST_MKOSI_MIRROR, TRUST_MKOSI_SEED=no and\n"
        "TRUST_MKOSI_KEEP=yes as images/README.md describes.\n\n"
        "Exit status: 0 built or up to date, 1 a build failed (one line names the\n"
        "image and its log), 2 usage.\n";

#define DEFAULT_IMAGES "os", "install", "provision"

/* the configurations: a directory holding build.sh; *ret_exe: this program */
static int images_dir(char **ret, char **ret_exe)
{
        static const char *const rel[] = {
                "../images",             /* build/trust in the source tree */
                "../../images",          /* build/asan/trust */
                "../share/trust/images", /* $(PREFIX)/bin/trust */
        };
        int r;

        r = exe_relative_dir(rel, ELEMENTSOF(rel), "build.sh", ret, ret_exe);
        if (r == -ENOENT)
                return errf(r, "no image configurations next to %s (images/build.sh)",
                            *ret_exe);
        return r;
}

/* PATH made absolute against the current directory */
static char *absolute(const char *path)
{
        char cwd[PATH_MAX];

        if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
                return xstrdup(path);
        return path_join(cwd, path);
}

static int image_build(int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "keyset", required_argument, NULL, 'k' },
                { "project", required_argument, NULL, 'p' },
                { "output", required_argument, NULL, 'o' },
                { "force", no_argument, NULL, 'f' },
                {}
        };
        const char *keyset = NULL, *project = "default", *output = NULL, *build;
        _cleanup_free_ char *dir = NULL, *exe = NULL, *script = NULL, *out_abs = NULL,
                            *build_abs = NULL;
        _cleanup_free_ const char **args = NULL;
        size_t n_args = 0;
        bool force = false;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        fputs(image_help, stdout);
                        return 0;
                case 'k':
                        if (name_validate("keyset", optarg) < 0)
                                return usage_error("image build", "%s", err_msg(-EINVAL));
                        keyset = optarg;
                        break;
                case 'p':
                        if (name_validate("project", optarg) < 0)
                                return usage_error("image build", "%s", err_msg(-EINVAL));
                        project = optarg;
                        break;
                case 'o':
                        if (!optarg[0])
                                return usage_error("image build", "--output needs a directory");
                        output = optarg;
                        break;
                case 'f':
                        force = true;
                        break;
                default:
                        return usage_error("image build", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (!keyset)
                return usage_error("image build", "--keyset KEYSET is required");

        r = images_dir(&dir, &exe);
        if (r < 0)
                return fail(r, "image build");
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *sub = path_join(dir, argv[i]);
                _cleanup_free_ char *conf = path_join(sub, "mkosi.conf");

                if (name_validate("image", argv[i]) < 0 || !path_exists(conf))
                        return usage_error("image build", "no image '%s' (%s has os, install, provision)",
                                           argv[i], dir);
        }
        script = path_join(dir, "build.sh");
        build = getenv("BUILD");
        build_abs = absolute(build && build[0] ? build : "build");
        if (setenv("TRUST", exe, 1) < 0 || setenv("BUILD", build_abs, 1) < 0)
                return fail(-errno, "image build: setenv");
        if (output) {
                out_abs = absolute(output);
                if (setenv("TRUST_IMAGES_OUT", out_abs, 1) < 0)
                        return fail(-errno, "image build: setenv");
        } else
                unsetenv("TRUST_IMAGES_OUT");
        if (force && setenv("TRUST_IMAGES_FORCE", "yes", 1) < 0)
                return fail(-errno, "image build: setenv");

        argv_push(&args, &n_args, "sh");
        argv_push(&args, &n_args, script);
        argv_push(&args, &n_args, keyset);
        argv_push(&args, &n_args, project);
        if (optind == argc) {
                static const char *const def[] = { DEFAULT_IMAGES };
                for (size_t i = 0; i < ELEMENTSOF(def); i++)
                        argv_push(&args, &n_args, def[i]);
        } else
                for (int i = optind; i < argc; i++)
                        argv_push(&args, &n_args, argv[i]);
        argv_push(&args, &n_args, NULL);
        fflush(stdout);
        execv("/bin/sh", (char *const *)args);
        return fail(-errno, "image build: /bin/sh %s", script);
}

int cmd_image(int argc, char **argv)
{
        if (argc < 2)
                return usage_error("image", "expected 'build'");
        if (is_help_arg(argv[1]) || is_help_word(argv[1])) {
                fputs(image_help, stdout);
                return 0;
        }
        if (!strcmp(argv[1], "build"))
                return image_build(argc - 1, argv + 1);
        return usage_error("image", "unknown subcommand '%s' (expected 'build')", argv[1]);
}
