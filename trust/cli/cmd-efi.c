/* cmd-efi.c: the EFI image commands: `sign efi`, `verify efi`, `uki build`.
 * Argument parsing and output only; the work is in authenticode.c and uki.c.
 * The variable store commands are in cmd-efivars.c. */
#include <fcntl.h>
#include <getopt.h>
#include <openssl/err.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "base/crypto.h"
#include "base/json.h"
#include "base/util.h"
#include "cli/commands.h"
#include "keys/keyset-key.h"
#include "formats/authenticode.h"
#include "formats/pcr7.h"
#include "formats/uki.h"
#include "keys/keyset-path.h"

#define IMAGE_MAX ((size_t)1 << 31) /* PE images and UKI inputs: 2 GiB */
#define DEFAULT_STUB "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

/* A whole input file, mapped read-only when it is a regular file (no copy:
 * a 50 MB image is hashed and written out straight from the page cache). */
struct blob {
        uint8_t *data;
        size_t len;
        bool mapped;
};

static void blob_done(struct blob *b)
{
        if (b->mapped)
                (void)munmap(b->data, b->len);
        else
                free(b->data);
        *b = (struct blob){};
}

static int map_blob(const char *path, struct blob *b)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        void *p;

        *b = (struct blob){};
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errf(-errno, "%s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return errf(-errno, "%s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode) || st.st_size == 0)
                return read_file(path, IMAGE_MAX, &b->data, &b->len);
        if ((uint64_t)st.st_size > IMAGE_MAX)
                return errf(-EFBIG, "%s: larger than %zu bytes", path, IMAGE_MAX);
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
                return errf(-errno, "%s: %s", path, strerror(errno));
        b->data = p;
        b->len = (size_t)st.st_size;
        b->mapped = true;
        return 0;
}

/* `trust VERB WORD ...` (sign efi, verify efi, uki build): VERB's help for
 * --help or -h anywhere, else WORD must follow. -1 to go on, with argv
 * starting at WORD and getopt reset; else the exit code. */
static int verb_word(const char *verb, const char *word, void (*help)(FILE *f), int *argc,
                     char ***argv)
{
        if (has_help_arg(*argc, *argv)) {
                help(stdout);
                return 0;
        }
        if (*argc < 2 || strcmp((*argv)[1], word) != 0)
                return usage_error(verb, "expected '%s'", word);
        (*argc)--;
        (*argv)++;
        getopt_reset(false);
        return -1;
}

/* --keyset NAME --class C: the keyset's uki-<class>/{privkey,cert}.pem */
static int keyset_uki_files(const char *keyset, const char *class, char **key, char **cert)
{
        _cleanup_free_ char *dir = NULL;
        enum uki_class c;
        int r;

        if (uki_class_from_string(class, &c) < 0)
                return errf(-EINVAL, "unknown class '%s' (production, tpm or limited)", class);
        r = keyset_path(keyset, &dir);
        if (r < 0)
                return r;
        *key = keyset_file(dir, uki_class_keydir(c), "privkey.pem");
        *cert = keyset_file(dir, uki_class_keydir(c), "cert.pem");
        return 0;
}

static void sign_help(FILE *f)
{
        fprintf(f, "Usage: trust sign efi --key KEY --cert CERT --output OUT IN\n"
                   "       trust sign efi --keyset NAME --class production|tpm|limited --output OUT IN\n\n"
                   "Authenticode-signs the PE image IN (SHA-256, PKCS#7) and writes OUT.\n"
                   "A signature IN already carries is replaced.\n\n"
                   "  --key KEY       PEM private key\n"
                   "  --cert CERT     PEM certificate of KEY (embedded in the signature)\n"
                   "  --keyset NAME   sign with the keyset's uki-<class> key and cert\n"
                   "  --class CLASS   production, tpm or limited (with --keyset)\n"
                   "  --output OUT    the signed image (written atomically)\n");
}

int cmd_sign(int argc, char **argv)
{
        static const struct option opts[] = {
                { "key", required_argument, NULL, 'k' },   { "cert", required_argument, NULL, 'c' },
                { "keyset", required_argument, NULL, 'K' }, { "class", required_argument, NULL, 'C' },
                { "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_free_ char *key_path = NULL, *cert_path = NULL;
        _cleanup_(blob_done) struct blob in = {};
        _cleanup_(signed_pe_done) struct signed_pe out = {};
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        const char *keyset = NULL, *class = NULL, *output = NULL, *input;
        struct iovec iov[4];
        int c, r;

        r = verb_word("sign", "efi", sign_help, &argc, &argv);
        if (r >= 0)
                return r;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'k':
                        free(key_path);
                        key_path = xstrdup(optarg);
                        break;
                case 'c':
                        free(cert_path);
                        cert_path = xstrdup(optarg);
                        break;
                case 'K':
                        keyset = optarg;
                        break;
                case 'C':
                        class = optarg;
                        break;
                case 'o':
                        output = optarg;
                        break;
                default:
                        return usage_error("sign", "bad option");
                }
        }
        if (optind != argc - 1)
                return usage_error("sign", "expected one input image");
        input = argv[optind];
        if (!output)
                return usage_error("sign", "--output is required");
        if (keyset) {
                if (key_path || cert_path)
                        return usage_error("sign", "--keyset excludes --key and --cert");
                if (!class)
                        return usage_error("sign", "--keyset needs --class");
                r = keyset_uki_files(keyset, class, &key_path, &cert_path);
                if (r == -EINVAL)
                        return usage_error("sign", "%s", err_msg(r));
                if (r < 0)
                        return fail(r, "sign efi");
        } else if (class)
                return usage_error("sign", "--class needs --keyset");
        else if (!key_path || !cert_path)
                return usage_error("sign", "need --key and --cert, or --keyset and --class");

        r = keyset ? keyset_privkey_load(key_path, &key) : pem_load_privkey(key_path, &key);
        if (r < 0)
                return fail(r, "sign efi");
        r = pem_load_cert(cert_path, &cert);
        if (r < 0)
                return fail(r, "sign efi");
        if (X509_check_private_key(cert, key) != 1) {
                ERR_clear_error();
                log_error("%s: does not match the key %s", cert_path, key_path);
                return 1;
        }
        r = map_blob(input, &in);
        if (r < 0)
                return fail(r, "sign efi");
        r = authenticode_sign(in.data, in.len, key, cert, &out);
        if (r < 0)
                return fail(r, "%s", input);
        iov[0] = (struct iovec){ out.headers, out.headers_len };
        iov[1] = (struct iovec){ (void *)out.body, out.body_len };
        iov[2] = (struct iovec){ NULL, out.pad };
        iov[3] = (struct iovec){ out.table, out.table_len };
        r = write_file_atomic_iov(output, iov, ELEMENTSOF(iov), 0644);
        if (r < 0)
                return fail(r, "sign efi");
        return 0;
}

static void verify_help(FILE *f)
{
        fprintf(f, "Usage: trust verify efi --cert CERT [--json] IN\n\n"
                   "Exits 0 only if the PE image IN carries an Authenticode signature by CERT\n"
                   "(or by a certificate CERT issued) over its current contents, checked the\n"
                   "way UEFI firmware checks it (CERT is the trust anchor; validity dates and\n"
                   "key purposes are not checked). Prints 'IN: signature by SUBJECT verifies'.\n\n"
                   "  --json    {\"image\":IN,\"cert\":CERT,\"subject\":CERT's subject,\"verified\":true}\n");
}

int cmd_verify(int argc, char **argv)
{
        static const struct option opts[] = { { "cert", required_argument, NULL, 'c' },
                                              { "json", no_argument, NULL, 'j' },
                                              { "help", no_argument, NULL, 'h' },
                                              {} };
        _cleanup_(blob_done) struct blob in = {};
        _cleanup_(X509_freep) X509 *cert = NULL;
        const char *cert_path = NULL, *input;
        char subject[256];
        bool json = false;
        int c, r;

        r = verb_word("verify", "efi", verify_help, &argc, &argv);
        if (r >= 0)
                return r;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        cert_path = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                default:
                        return usage_error("verify", "bad option");
                }
        }
        if (optind != argc - 1)
                return usage_error("verify", "expected one input image");
        input = argv[optind];
        if (!cert_path)
                return usage_error("verify", "--cert is required");

        r = pem_load_cert(cert_path, &cert);
        if (r < 0)
                return fail(r, "verify efi");
        r = map_blob(input, &in);
        if (r < 0)
                return fail(r, "verify efi");
        r = authenticode_verify(in.data, in.len, cert);
        if (r < 0)
                return fail(r, "%s", input);
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
        if (json) {
                putchar('{');
                json_write_member(stdout, false, "image", input, 0);
                json_write_member(stdout, true, "cert", cert_path, 0);
                json_write_member(stdout, true, "subject", subject, 0);
                printf(",\"verified\":true}\n");
        } else
                printf("%s: signature by %s verifies\n", input, subject);
        return 0;
}

static void uki_help(FILE *f)
{
        fprintf(f, "Usage: trust uki build [--stub STUB] --kernel VMLINUZ --initrd INITRD...\n"
                   "                      --cmdline TEXT|@FILE [--os-release FILE] --output OUT\n\n"
                   "Builds an unsigned unified kernel image: the systemd-stub STUB (default\n"
                   DEFAULT_STUB ")\n"
                   "with sections .osrel .cmdline .uname .linux .initrd added after its own,\n"
                   "4 KiB aligned. Several --initrd are concatenated (each padded to 4 bytes).\n"
                   ".uname is the kernel release read from the bzImage header, when present.\n"
                   "--os-release defaults to /etc/os-release. Sign OUT with 'trust sign efi'.\n");
}

static int read_cmdline(const char *arg, uint8_t **ret, size_t *ret_len)
{
        uint8_t *buf;
        size_t len;
        int r;

        if (arg[0] != '@') {
                *ret = (uint8_t *)xstrdup(arg);
                *ret_len = strlen(arg);
                return 0;
        }
        r = read_file(arg + 1, 64 * 1024, &buf, &len);
        if (r < 0)
                return r;
        len = text_chomp(buf, len);
        *ret = buf;
        *ret_len = len;
        return 0;
}

struct uki_args {
        const char *stub, *kernel, *cmdline, *osrel, *output;
        const char **initrds;
        size_t n_initrds;
};

static void uki_args_done(struct uki_args *a)
{
        free(a->initrds);
}

/* Parses `uki build`'s options; -1 to go on, else the exit code. */
static int uki_parse(int argc, char **argv, struct uki_args *a)
{
        static const struct option opts[] = {
                { "stub", required_argument, NULL, 's' },    { "kernel", required_argument, NULL, 'k' },
                { "initrd", required_argument, NULL, 'i' },  { "cmdline", required_argument, NULL, 'c' },
                { "os-release", required_argument, NULL, 'r' }, { "output", required_argument, NULL, 'o' },
                {}
        };
        int c;

        a->initrds = xmalloc0(sizeof(char *) * (size_t)argc);
        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 's':
                        a->stub = optarg;
                        break;
                case 'k':
                        a->kernel = optarg;
                        break;
                case 'i':
                        a->initrds[a->n_initrds++] = optarg;
                        break;
                case 'c':
                        a->cmdline = optarg;
                        break;
                case 'r':
                        a->osrel = optarg;
                        break;
                case 'o':
                        a->output = optarg;
                        break;
                default:
                        return usage_error("uki", "bad option");
                }
        }
        if (optind != argc)
                return usage_error("uki", "unexpected argument '%s'", argv[optind]);
        if (!a->kernel || !a->output || !a->cmdline || a->n_initrds == 0)
                return usage_error("uki", "build needs --kernel, --initrd, --cmdline and --output");
        if (!a->osrel && path_exists("/etc/os-release"))
                a->osrel = "/etc/os-release";
        else if (!a->osrel)
                a->osrel = "/usr/lib/os-release";
        return -1;
}

/* The files of a UKI: stub, kernel and initrds mapped, os-release and the
 * command line read. */
struct uki_files {
        struct blob *blobs; /* stub, kernel, then the initrds */
        size_t n_blobs;
        uint8_t *osrel, *cmdline;
        size_t osrel_len, cmdline_len;
        struct uki_input *inputs; /* names and bytes of the blobs */
};

static void uki_files_done(struct uki_files *f)
{
        for (size_t i = 0; i < f->n_blobs; i++)
                blob_done(&f->blobs[i]);
        free(f->blobs);
        free(f->osrel);
        free(f->cmdline);
        free(f->inputs);
}

static int uki_load(const struct uki_args *a, struct uki_files *f, struct uki_inputs *in)
{
        size_t n = 2 + a->n_initrds;
        int r;

        f->blobs = xmalloc0(n * sizeof(*f->blobs));
        f->inputs = xmalloc0(n * sizeof(*f->inputs));
        for (; f->n_blobs < n; f->n_blobs++) {
                size_t i = f->n_blobs;
                const char *path = i == 0 ? a->stub : i == 1 ? a->kernel : a->initrds[i - 2];

                r = map_blob(path, &f->blobs[i]);
                if (r < 0)
                        return r;
                f->inputs[i] = (struct uki_input){ path, f->blobs[i].data, f->blobs[i].len };
        }
        r = read_file(a->osrel, 64 * 1024, &f->osrel, &f->osrel_len);
        if (r < 0)
                return r;
        r = read_cmdline(a->cmdline, &f->cmdline, &f->cmdline_len);
        if (r < 0)
                return r;
        *in = (struct uki_inputs){
                .stub = f->inputs[0],
                .kernel = f->inputs[1],
                .initrds = f->inputs + 2,
                .n_initrds = a->n_initrds,
                .osrel = { a->osrel, f->osrel, f->osrel_len },
                .cmdline = { a->cmdline, f->cmdline, f->cmdline_len },
        };
        return 0;
}

static int uki_build_cmd(int argc, char **argv)
{
        _cleanup_(uki_args_done) struct uki_args a = { .stub = DEFAULT_STUB };
        _cleanup_(uki_files_done) struct uki_files f = {};
        _cleanup_(uki_image_done) struct uki_image out = {};
        struct iovec iov[1 + 2 * UKI_MAX_PARTS];
        struct uki_inputs in;
        size_t n_iov = 0;
        int r;

        r = uki_parse(argc, argv, &a);
        if (r >= 0)
                return r;
        r = uki_load(&a, &f, &in);
        if (r >= 0)
                r = uki_assemble(&in, &out);
        if (r < 0)
                return fail(r, "uki build");
        iov[n_iov++] = (struct iovec){ out.head, out.head_len };
        for (size_t i = 0; i < out.n_parts; i++) {
                iov[n_iov++] = (struct iovec){ (void *)out.parts[i].data, out.parts[i].len };
                iov[n_iov++] = (struct iovec){ NULL, out.parts[i].pad };
        }
        r = write_file_atomic_iov(a.output, iov, n_iov, 0644);
        if (r < 0)
                return fail(r, "uki build");
        return 0;
}

int cmd_uki(int argc, char **argv)
{
        int r = verb_word("uki", "build", uki_help, &argc, &argv);

        return r >= 0 ? r : uki_build_cmd(argc, argv);
}
