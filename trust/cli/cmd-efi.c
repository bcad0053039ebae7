/* cmd-efi.c: the EFI command family: `sign efi`, `verify efi`, `uki build`
 * and `efivars enroll|list`. Argument parsing and output only; the work is
 * in authenticode.c, uki.c and efivars.c. */
#include <fcntl.h>
#include <getopt.h>
#include <openssl/err.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "formats/auth2.h"
#include "formats/authenticode.h"
#include "cli/commands.h"
#include "base/crypto.h"
#include "base/json.h"
#include "formats/efivars.h"
#include "formats/esl.h"
#include "formats/pcr7.h"
#include "formats/pe.h"
#include "formats/uki.h"
#include "base/util.h"
#include "keys/efi-update.h"
#include "keys/keyset-path.h"
#include "keys/keyset-pcr7.h"
#include "target/efivarfs.h"

#define IMAGE_MAX ((size_t)1 << 31) /* PE images and UKI inputs: 2 GiB */
#define DEFAULT_STUB "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
#define DEFAULT_VARS_TEMPLATE "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define VARS_MAX ((size_t)64 << 20) /* OVMF vars files are 128 KiB to 4 MiB */

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

        r = pem_load_privkey(key_path, &key);
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
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                len--;
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

static void efivars_help(FILE *f)
{
        fprintf(f, "Usage: trust efivars enroll --keyset NAME [--template OVMF_VARS] [--dbx ESL] --output VARS\n"
                   "       trust efivars list VARS [--json]\n"
                   "       trust efivars sign-update --keyset NAME --var PK|KEK|db|dbx [--append]\n"
                   "                                 [--owner GUID] [--timestamp TIME] --output FILE.auth INPUT...\n"
                   "       trust efivars apply FILE.auth... (--vars VARS | --efivarfs [DIR])\n\n"
                   "enroll writes a copy of the OVMF vars template (default\n"
                   DEFAULT_VARS_TEMPLATE ") with the keyset's Secure Boot\n"
                   "keys: PK = uefi-pk, KEK = uefi-kek, db = uefi-db and the three uki-* certs,\n"
                   "each owned by its key's guid; dbx from the signature list file ESL if given,\n"
                   "else a dbx the template holds is deleted (what computepcr7 predicts).\n"
                   "Older records of these variables are marked deleted. Firmware then boots\n"
                   "with Secure Boot enabled.\n"
                   "list prints each variable: name, vendor GUID, attributes, size, and the\n"
                   "entries of PK, KEK, db and dbx (certificate subjects, hashes).\n"
                   "sign-update writes a signed update (EFI_VARIABLE_AUTHENTICATION_2) of one\n"
                   "variable, signed by the keyset's uefi-kek (db, dbx) or uefi-pk (KEK, PK).\n"
                   "Each INPUT is a PEM certificate, a file of EFI signature lists, or\n"
                   "sha256:HEX (an image hash, for dbx); with --append the entries are added\n"
                   "to the variable, else they replace it (no INPUT: deletes it).\n"
                   "apply applies updates in order the way firmware does: the signature must\n"
                   "chain to a PK (db, dbx: PK or KEK) certificate in the store, a replacing\n"
                   "update must be newer than the stored one, appended entries already there\n"
                   "are dropped. Either to an OVMF vars file (all or nothing), or through\n"
                   "efivarfs (default " EFIVARFS_DEFAULT "), where the firmware decides:\n"
                   "each update is checked first and nothing is written when one fails.\n\n"
                   "  --var V          the variable the update is for\n"
                   "  --append         add to the variable (APPEND_WRITE; timestamp zero)\n"
                   "  --owner GUID     owner of the new entries (default: the signer's guid)\n"
                   "  --timestamp TIME YYYY-MM-DDTHH:MM:SSZ (default: now; replacing updates\n"
                   "                   must be newer than the variable's)\n"
                   "  --output FILE    the .auth payload (written atomically)\n"
                   "  --vars VARS      OVMF vars file to update in place (atomically)\n"
                   "  --efivarfs [DIR] the running firmware's variables\n"
                   "  --json    [{\"name\",\"guid\",\"attributes\",\"size\",\"entries\"}]; entries (PK, KEK,\n"
                   "            db, dbx only): [{\"type\":\"x509\",\"owner\",\"subject\"}, {\"type\":\"sha256\",\n"
                   "            \"owner\",\"hash\"} or {\"type\":\"other\",\"owner\",\"signature_type\",\"size\"}]\n");
}

static bool is_sigdb(const struct efivar *v)
{
        if (!memcmp(v->vendor.b, EFI_GLOBAL_VARIABLE_GUID.b, 16))
                return !strcmp(v->name, "PK") || !strcmp(v->name, "KEK");
        if (!memcmp(v->vendor.b, EFI_IMAGE_SECURITY_DB_GUID.b, 16))
                return !strcmp(v->name, "db") || !strcmp(v->name, "dbx");
        return false;
}

static int efivars_list(int argc, char **argv)
{
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, {} };
        _cleanup_free_ uint8_t *buf = NULL;
        struct varstore vs;
        const char *path;
        bool json = false;
        size_t len, shown = 0;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                if (c != 'j')
                        return usage_error("efivars", "bad option");
                json = true;
        }
        if (optind != argc - 1)
                return usage_error("efivars", "list expects one vars file");
        path = argv[optind];
        r = read_file(path, VARS_MAX, &buf, &len);
        if (r == -EFBIG)
                r = errf(-EFBIG, "%s: larger than any OVMF vars file", path);
        if (r < 0)
                return fail(r, "efivars list");
        r = varstore_parse(buf, len, &vs);
        if (r < 0)
                return fail(r, "%s", path);
        /* Check every signature list first so that output is all or nothing. */
        for (size_t i = 0; i < vs.n_vars; i++) {
                const struct efivar *v = &vs.vars[i];

                if (v->valid && is_sigdb(v)) {
                        r = esl_walk(buf + v->data_offset, v->data_len, NULL, NULL);
                        if (r < 0) {
                                fail(r, "%s: %s", path, v->name); /* v is freed next */
                                varstore_done(&vs);
                                return 1;
                        }
                }
        }
        if (json)
                printf("[");
        for (size_t i = 0; i < vs.n_vars; i++) {
                const struct efivar *v = &vs.vars[i];
                struct esl_print_ctx ctx = { .json = json, .indent = "  " };
                char guid[37];

                if (!v->valid)
                        continue;
                guid_format(&v->vendor, guid);
                if (json) {
                        printf("%s{", shown ? "," : "");
                        json_write_member(stdout, false, "name", v->name, 0);
                        printf(",\"guid\":\"%s\",\"attributes\":%u,\"size\":%zu", guid,
                               v->attributes, v->data_len);
                        if (is_sigdb(v)) {
                                printf(",\"entries\":[");
                                (void)esl_walk(buf + v->data_offset, v->data_len, esl_print_entry, &ctx);
                                printf("]");
                        }
                        printf("}");
                } else {
                        printf("%-16s %s attributes 0x%02x size %zu\n", v->name, guid,
                               v->attributes, v->data_len);
                        if (is_sigdb(v))
                                (void)esl_walk(buf + v->data_offset, v->data_len, esl_print_entry, &ctx);
                }
                shown++;
        }
        if (json)
                printf("]\n");
        varstore_done(&vs);
        return 0;
}

static inline void keyset_efi_vars_freep(struct keyset_efi_vars *v)
{
        keyset_efi_vars_free(v);
}

static int efivars_enroll(int argc, char **argv)
{
        static const struct option opts[] = {
                { "keyset", required_argument, NULL, 'K' }, { "template", required_argument, NULL, 't' },
                { "dbx", required_argument, NULL, 'x' },    { "output", required_argument, NULL, 'o' },
                {}
        };
        _cleanup_(keyset_efi_vars_freep) struct keyset_efi_vars v = {};
        const char *keyset = NULL, *template = DEFAULT_VARS_TEMPLATE, *dbx = NULL, *output = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        struct varstore vs;
        size_t len;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'K':
                        keyset = optarg;
                        break;
                case 't':
                        template = optarg;
                        break;
                case 'x':
                        dbx = optarg;
                        break;
                case 'o':
                        output = optarg;
                        break;
                default:
                        return usage_error("efivars", "bad option");
                }
        }
        if (optind != argc)
                return usage_error("efivars", "unexpected argument '%s'", argv[optind]);
        if (!keyset || !output)
                return usage_error("efivars", "enroll needs --keyset and --output");

        r = keyset_path(keyset, &dir);
        if (r < 0)
                return fail(r, "efivars enroll");
        r = keyset_efi_vars_load(dir, dbx, &v);
        if (r < 0)
                return fail(r, "keyset '%s'", keyset);
        r = read_file(template, VARS_MAX, &buf, &len);
        if (r == -EFBIG)
                r = errf(-EFBIG, "%s: larger than any OVMF vars file", template);
        if (r < 0)
                return fail(r, "efivars enroll");
        r = varstore_parse(buf, len, &vs);
        if (r < 0)
                return fail(r, "%s", template);

        /* The order of the spec's checked boot (pcr7.md); the firmware
         * measures them in its own fixed order regardless. */
        r = varstore_set(&vs, &EFI_GLOBAL_VARIABLE_GUID, "PK", EFI_SECURE_BOOT_VAR_ATTRS, NULL, v.pk,
                         v.pk_len);
        if (r >= 0)
                r = varstore_set(&vs, &EFI_GLOBAL_VARIABLE_GUID, "KEK", EFI_SECURE_BOOT_VAR_ATTRS,
                                 NULL, v.kek, v.kek_len);
        if (r >= 0)
                r = varstore_set(&vs, &EFI_IMAGE_SECURITY_DB_GUID, "db", EFI_SECURE_BOOT_VAR_ATTRS,
                                 NULL, v.db, v.db_len);
        if (r >= 0 && v.dbx)
                r = varstore_set(&vs, &EFI_IMAGE_SECURITY_DB_GUID, "dbx", EFI_SECURE_BOOT_VAR_ATTRS,
                                 NULL, v.dbx, v.dbx_len);
        /* Without --dbx, computepcr7 predicts an empty dbx: a dbx from the
         * template would make the firmware measure something else. */
        if (r >= 0 && !v.dbx)
                (void)varstore_delete(&vs, &EFI_IMAGE_SECURITY_DB_GUID, "dbx");
        varstore_done(&vs);
        if (r < 0)
                return fail(r, "%s", template);
        r = write_file_atomic(output, buf, len, 0644);
        if (r < 0)
                return fail(r, "efivars enroll");
        return 0;
}

static int parse_efi_time(const char *s, uint8_t out[EFI_TIME_SIZE])
{
        struct tm tm = {};
        const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
        time_t t;

        if (!end || *end)
                return -EINVAL;
        t = timegm(&tm);
        if (t == (time_t)-1)
                return -EINVAL;
        return efi_time_from_unix((int64_t)t, out);
}

static int efivars_sign_update(int argc, char **argv)
{
        static const struct option opts[] = {
                { "keyset", required_argument, NULL, 'K' }, { "var", required_argument, NULL, 'v' },
                { "append", no_argument, NULL, 'a' },       { "owner", required_argument, NULL, 'O' },
                { "timestamp", required_argument, NULL, 't' },
                { "output", required_argument, NULL, 'o' }, {}
        };
        _cleanup_free_ uint8_t *data = NULL, *out = NULL;
        _cleanup_free_ char *dir = NULL;
        const char *keyset = NULL, *output = NULL, *time_arg = NULL;
        uint8_t ts[EFI_TIME_SIZE] = {};
        efi_guid owner;
        bool append = false, have_owner = false, have_var = false;
        enum sbvar var = SBVAR_DB;
        size_t len, out_len;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'K': keyset = optarg; break;
                case 'v':
                        if (sbvar_from_string(optarg, &var) < 0)
                                return usage_error("efivars", "--var must be PK, KEK, db or dbx, not '%s'", optarg);
                        have_var = true;
                        break;
                case 'a': append = true; break;
                case 'O':
                        if (guid_parse(optarg, &owner) < 0)
                                return usage_error("efivars", "--owner '%s': not a GUID", optarg);
                        have_owner = true;
                        break;
                case 't': time_arg = optarg; break;
                case 'o': output = optarg; break;
                default: return usage_error("efivars", "bad option");
                }
        }
        if (!keyset || !have_var || !output)
                return usage_error("efivars", "sign-update needs --keyset, --var and --output");
        if (append && optind == argc)
                return usage_error("efivars", "--append needs at least one INPUT");
        if (time_arg && parse_efi_time(time_arg, ts) < 0)
                return usage_error("efivars", "--timestamp '%s': expected YYYY-MM-DDTHH:MM:SSZ", time_arg);
        if (!time_arg && !append) {
                r = efi_time_from_unix((int64_t)time(NULL), ts);
                if (r < 0)
                        return fail(r, "efivars sign-update");
        }
        r = keyset_path(keyset, &dir);
        if (r < 0)
                return fail(r, "efivars sign-update");
        if (!have_owner) {
                r = efi_update_default_owner(dir, var, &owner);
                if (r < 0)
                        return fail(r, "keyset '%s'", keyset);
        }
        r = efi_update_data((const char *const *)argv + optind, (size_t)(argc - optind), &owner,
                            &data, &len);
        if (r < 0)
                return fail(r, "efivars sign-update");
        r = keyset_sign_update(dir, var, append, ts, data, len, &out, &out_len);
        if (r < 0)
                return fail(r, "keyset '%s'", keyset);
        r = write_file_atomic(output, out, out_len, 0644);
        if (r < 0)
                return fail(r, "efivars sign-update");
        return 0;
}

/* One payload file, read and identified. */
struct update {
        const char *path;
        uint8_t *buf;
        size_t len;
        struct auth2 a;
        struct auth2_target t;
        char signer[256];
};

static void updates_free(struct update *u, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(u[i].buf);
        free(u);
}

static int apply_all(struct update *u, size_t n, struct sbvar_value vars[_SBVAR_MAX])
{
        for (size_t i = 0; i < n; i++) {
                int r = read_file(u[i].path, AUTH2_MAX, &u[i].buf, &u[i].len);

                if (r == -EFBIG)
                        return errf(-EFBIG, "%s: larger than any variable store", u[i].path);
                if (r < 0)
                        return r; /* names the file */
                r = auth2_parse(u[i].buf, u[i].len, &u[i].a);
                if (r >= 0)
                        r = auth2_identify(&u[i].a, &u[i].t, u[i].signer, sizeof(u[i].signer));
                if (r >= 0)
                        r = auth2_apply(&u[i].a, &u[i].t, vars);
                if (r < 0)
                        return errf_prefix(r, "%s", u[i].path);
        }
        return 0;
}

static void print_applied(const struct update *u, size_t n, const struct sbvar_value vars[_SBVAR_MAX])
{
        for (size_t i = 0; i < n; i++)
                printf("%s: %s%s, signed by %s: applied\n", u[i].path, sbvar_name(u[i].t.var),
                       u[i].t.append ? " (append)" : "", u[i].signer);
        for (int v = 0; v < _SBVAR_MAX; v++)
                if (vars[v].exists)
                        printf("  %s: %zu bytes\n", sbvar_name((enum sbvar)v), vars[v].len);
                else
                        printf("  %s: absent\n", sbvar_name((enum sbvar)v));
}

static bool is_dir(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int efivars_apply(int argc, char **argv)
{
        static const struct option opts[] = {
                { "vars", required_argument, NULL, 'V' }, { "efivarfs", optional_argument, NULL, 'E' }, {}
        };
        struct sbvar_value vars[_SBVAR_MAX] = {};
        struct update *u = NULL;
        const char *vars_path = NULL, *efivarfs = NULL;
        size_t n;
        int c, r;

        getopt_reset(false);
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'V': vars_path = optarg; break;
                case 'E':
                        /* --efivarfs DIR: an optional argument getopt only sees
                         * as --efivarfs=DIR; a directory next is ours (payloads
                         * are files). */
                        efivarfs = optarg;
                        if (!efivarfs && optind < argc && is_dir(argv[optind]))
                                efivarfs = argv[optind++];
                        if (!efivarfs)
                                efivarfs = EFIVARFS_DEFAULT;
                        break;
                default: return usage_error("efivars", "bad option");
                }
        }
        if (!vars_path == !efivarfs)
                return usage_error("efivars", "apply needs one of --vars and --efivarfs");
        if (optind == argc)
                return usage_error("efivars", "apply needs at least one FILE.auth");
        n = (size_t)(argc - optind);
        u = xmalloc0(n * sizeof(*u));
        for (size_t i = 0; i < n; i++)
                u[i].path = argv[optind + (int)i];

        if (vars_path) {
                _cleanup_free_ uint8_t *buf = NULL;
                struct varstore vs;
                size_t len;

                r = read_file(vars_path, VARS_MAX, &buf, &len);
                if (r == -EFBIG)
                        r = errf(-EFBIG, "%s: larger than any OVMF vars file", vars_path);
                if (r >= 0) {
                        r = varstore_parse(buf, len, &vs);
                        if (r < 0)
                                r = errf_prefix(r, "%s", vars_path);
                }
                if (r >= 0) {
                        (void)varstore_sbvars(&vs, vars);
                        r = apply_all(u, n, vars);
                        for (int v = 0; v < _SBVAR_MAX && r >= 0; v++) {
                                r = varstore_put_sbvar(&vs, (enum sbvar)v, &vars[v]);
                                if (r < 0)
                                        r = errf_prefix(r, "%s", vars_path);
                        }
                        varstore_done(&vs);
                }
                if (r >= 0)
                        r = write_file_atomic(vars_path, buf, len, 0644);
        } else {
                r = efivarfs_sbvars(efivarfs, vars);
                if (r >= 0)
                        r = apply_all(u, n, vars);
                for (size_t i = 0; i < n && r >= 0; i++) {
                        r = efivarfs_write_update(efivarfs, &u[i].t, u[i].buf, u[i].len);
                        if (r < 0 && i > 0)
                                r = errf_prefix(r, "%zu of %zu updates applied, then", i, n);
                }
                if (r >= 0) { /* what the firmware now holds */
                        sbvar_values_done(vars);
                        r = efivarfs_sbvars(efivarfs, vars);
                }
        }
        if (r >= 0)
                print_applied(u, n, vars);
        sbvar_values_done(vars);
        updates_free(u, n);
        if (r < 0)
                return fail(r, "efivars apply");
        return fflush(stdout) == 0 ? 0 : 1;
}

int cmd_efivars(int argc, char **argv)
{
        if (has_help_arg(argc, argv)) {
                efivars_help(stdout);
                return 0;
        }
        if (argc >= 2 && !strcmp(argv[1], "list"))
                return efivars_list(argc - 1, argv + 1);
        if (argc >= 2 && !strcmp(argv[1], "enroll"))
                return efivars_enroll(argc - 1, argv + 1);
        if (argc >= 2 && !strcmp(argv[1], "sign-update"))
                return efivars_sign_update(argc - 1, argv + 1);
        if (argc >= 2 && !strcmp(argv[1], "apply"))
                return efivars_apply(argc - 1, argv + 1);
        return usage_error("efivars", "expected 'enroll', 'list', 'sign-update' or 'apply'");
}
