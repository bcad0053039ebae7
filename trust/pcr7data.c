/* pcr7data.c: the signed-policy tree shipped in initrds (spec keysets.md):
 * looking a PCR7 value up (and checking its signed policy against the shipped
 * public key), a strict parser for the entries' info.json, and adding a
 * keyset's three entries atomically in the older tool's policy-2 layout. */
#include "pcr7data.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "crypto.h"
#include "policy.h"
#include "util.h"

#define SIGNED_MAX 4096
#define PEM_PUB_MAX 16384

void pcr7data_match_free(struct pcr7data_match *m)
{
        if (!m)
                return;
        free(m->dir);
        free(m->key);
        free(m->key_type);
        free(m->pubkey);
        free(m->signed_policy);
        *m = (struct pcr7data_match){ 0 };
}

void pcr7data_info_free(struct pcr7data_info *i)
{
        if (!i)
                return;
        free(i->key);
        free(i->key_type);
        free(i->est_date);
        free(i->comment);
        *i = (struct pcr7data_info){ 0 };
}

/* The deployed trees name an entry by the hex of PCR7 with every pair of bytes
 * swapped (bytes 64 48 74 68 ... give "48646874..."): the older tool printed
 * the value through a 16-bit-word dump. Initrds in the field look entries up
 * by exactly this name, so we must keep writing (and reading) it. */
void pcr7data_entry_name(const uint8_t pcr7[32], char out[static 66])
{
        static const char digits[] = "0123456789abcdef";
        char h[64];

        for (size_t i = 0; i < 32; i++) {
                uint8_t b = pcr7[i ^ 1];
                h[2 * i] = digits[b >> 4];
                h[2 * i + 1] = digits[b & 15];
        }
        out[0] = h[0];
        out[1] = h[1];
        out[2] = '/';
        memcpy(out + 3, h + 2, 62);
        out[65] = 0;
}

/* ---- info.json ---------------------------------------------------------- */

struct json_in {
        const uint8_t *p, *end;
};

static void json_ws(struct json_in *in)
{
        while (in->p < in->end &&
               (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
                in->p++;
}

static int json_hex4(struct json_in *in, uint32_t *ret)
{
        uint32_t v = 0;

        if (in->end - in->p < 4)
                return -EBADMSG;
        for (int i = 0; i < 4; i++) {
                uint8_t c = *in->p++;
                int d = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
                if (d < 0)
                        return -EBADMSG;
                v = v << 4 | (uint32_t)d;
        }
        *ret = v;
        return 0;
}

/* Length of a valid UTF-8 sequence starting at p (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t utf8_seq(const uint8_t *p, const uint8_t *end)
{
        size_t n, left = (size_t)(end - p);
        uint32_t cp;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2, cp = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3, cp = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4, cp = p[0] & 0x07;
        else
                return 0;
        if (left < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

static size_t utf8_put(char *o, uint32_t cp)
{
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xc0 | cp >> 6);
                o[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xe0 | cp >> 12);
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        o[0] = (char)(0xf0 | cp >> 18);
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* A JSON string (RFC 8259 §7) into a fresh NUL-terminated UTF-8 buffer. The
 * decoded text is never longer than the encoded one, so the input length
 * bounds the output. \u0000 is refused: it would truncate a C string. */
static int json_string(struct json_in *in, char **ret)
{
        _cleanup_free_ char *out = NULL;
        size_t o = 0;

        if (in->p >= in->end || *in->p != '"')
                return -EBADMSG;
        in->p++;
        out = xmalloc0((size_t)(in->end - in->p) + 1);
        for (;;) {
                uint8_t c;

                if (in->p >= in->end)
                        return -EBADMSG;
                c = *in->p;
                if (c == '"') {
                        in->p++;
                        break;
                }
                if (c < 0x20)
                        return -EBADMSG;
                if (c == '\\') {
                        uint32_t cp, lo;

                        if (in->end - in->p < 2)
                                return -EBADMSG;
                        c = in->p[1];
                        in->p += 2;
                        switch (c) {
                        case '"': out[o++] = '"'; continue;
                        case '\\': out[o++] = '\\'; continue;
                        case '/': out[o++] = '/'; continue;
                        case 'b': out[o++] = '\b'; continue;
                        case 'f': out[o++] = '\f'; continue;
                        case 'n': out[o++] = '\n'; continue;
                        case 'r': out[o++] = '\r'; continue;
                        case 't': out[o++] = '\t'; continue;
                        case 'u': break;
                        default: return -EBADMSG;
                        }
                        if (json_hex4(in, &cp) < 0 || cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
                                return -EBADMSG;
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                if (in->end - in->p < 6 || in->p[0] != '\\' || in->p[1] != 'u')
                                        return -EBADMSG;
                                in->p += 2;
                                if (json_hex4(in, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                                        return -EBADMSG;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        }
                        /* 6 (or 12) input bytes give at most 4 output bytes. */
                        o += utf8_put(out + o, cp);
                        continue;
                }
                {
                        size_t n = utf8_seq(in->p, in->end);
                        if (n == 0)
                                return -EBADMSG;
                        memcpy(out + o, in->p, n);
                        o += n;
                        in->p += n;
                }
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int info_parse(const uint8_t *buf, size_t len, struct pcr7data_info *info)
{
        struct json_in in = { buf, buf + len };
        int members = 0;

        json_ws(&in);
        if (in.p >= in.end || *in.p != '{')
                return errf(-EBADMSG, "not a JSON object");
        in.p++;
        json_ws(&in);
        if (in.p < in.end && *in.p == '}') {
                in.p++;
        } else {
                for (;;) {
                        _cleanup_free_ char *name = NULL, *value = NULL;
                        char **slot = NULL;

                        json_ws(&in);
                        if (json_string(&in, &name) < 0)
                                return errf(-EBADMSG, "bad member name");
                        json_ws(&in);
                        if (in.p >= in.end || *in.p != ':')
                                return errf(-EBADMSG, "expected ':' after \"%s\"", name);
                        in.p++;
                        json_ws(&in);
                        if (json_string(&in, &value) < 0)
                                return errf(-EBADMSG, "member \"%s\" is not a valid string", name);
                        if (++members > 32)
                                return errf(-EBADMSG, "too many members");
                        if (!strcmp(name, "key"))
                                slot = &info->key;
                        else if (!strcmp(name, "key_type"))
                                slot = &info->key_type;
                        else if (!strcmp(name, "est_date"))
                                slot = &info->est_date;
                        else if (!strcmp(name, "comment"))
                                slot = &info->comment;
                        if (slot) {
                                if (*slot)
                                        return errf(-EBADMSG, "duplicate member \"%s\"", name);
                                *slot = TAKE_PTR(value);
                        }
                        json_ws(&in);
                        if (in.p < in.end && *in.p == ',') {
                                in.p++;
                                continue;
                        }
                        if (in.p < in.end && *in.p == '}') {
                                in.p++;
                                break;
                        }
                        return errf(-EBADMSG, "expected ',' or '}' after \"%s\"", name);
                }
        }
        json_ws(&in);
        if (in.p != in.end)
                return errf(-EBADMSG, "trailing data after the object");
        if (!info->key || !info->key_type)
                return errf(-EBADMSG, "\"key\" and \"key_type\" are required");
        return 0;
}

int pcr7data_info_parse(const uint8_t *buf, size_t len, struct pcr7data_info *ret)
{
        struct pcr7data_info info = { 0 };
        int r;

        if (len > PCR7DATA_INFO_MAX)
                return errf(-EBADMSG, "larger than %d bytes", PCR7DATA_INFO_MAX);
        r = info_parse(buf, len, &info);
        if (r < 0) {
                pcr7data_info_free(&info);
                return r;
        }
        *ret = info;
        return 0;
}

static void json_put_string(FILE *f, const char *s)
{
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p == '\t')
                        fputs("\\t", f);
                else if (*p < 0x20)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

char *pcr7data_info_format(const struct pcr7data_info *i)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                abort();
        /* Same member order and compact form as the deployed files. */
        fputs("{\"key\":", f);
        json_put_string(f, i->key);
        fputs(",\"key_type\":", f);
        json_put_string(f, i->key_type);
        fputs(",\"est_date\":", f);
        json_put_string(f, i->est_date ? i->est_date : "");
        fputs(",\"comment\":", f);
        json_put_string(f, i->comment ? i->comment : "");
        fputs("}\n", f);
        if (fclose(f) != 0)
                abort();
        return buf;
}

/* ---- lookup ------------------------------------------------------------- */

static int highest_policy_dir(const char *root, int *ret_n)
{
        DIR *d = opendir(root);
        struct dirent *de;
        long best = -1;

        if (!d)
                return errf(-errno, "%s: %s", root, strerror(errno));
        while ((de = readdir(d))) {
                const char *s;
                char *end;
                long n;

                if (strncmp(de->d_name, "policy-", 7) != 0)
                        continue;
                s = de->d_name + 7;
                if (*s < '0' || *s > '9' || strlen(s) > 6)
                        continue;
                n = strtol(s, &end, 10);
                if (*end)
                        continue;
                {
                        _cleanup_free_ char *p = path_join(root, de->d_name);
                        struct stat st;
                        if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
                                continue;
                }
                if (n > best)
                        best = n;
        }
        closedir(d);
        if (best < 0)
                return errf(-ENOENT, "%s: no policy-N directory", root);
        *ret_n = (int)best;
        return 0;
}

static int read_info(const char *dir, struct pcr7data_info *info)
{
        _cleanup_free_ char *p = path_join(dir, "info.json");
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        r = read_file(p, PCR7DATA_INFO_MAX, &buf, &len);
        if (r < 0)
                return r;
        r = pcr7data_info_parse(buf, len, info);
        if (r < 0)
                return errf(r, "%s: %s", p, err_msg(r));
        return 0;
}

/* Class of an info.json key_type: production, tpm (written "password" by the
 * older tool) or limited. */
static int key_type_normalise(const char *t, const char **ret)
{
        if (!strcmp(t, "production") || !strcmp(t, "limited") || !strcmp(t, "tpm")) {
                *ret = t;
                return 0;
        }
        if (!strcmp(t, "password")) {
                *ret = "tpm";
                return 0;
        }
        return -EBADMSG;
}

static int read_pcr_bin(const char *path, uint8_t out[32])
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        r = read_file(path, 32, &buf, &len);
        if (r == -EFBIG || (r >= 0 && len != 32))
                return errf(-EBADMSG, "%s: not a 32-byte PCR value", path);
        if (r < 0)
                return r;
        memcpy(out, buf, 32);
        return 0;
}

int pcr7data_lookup_version(const char *root, const uint8_t pcr7[32], const char *version,
                            struct pcr7data_match *ret)
{
        _cleanup_free_ char *pdir = NULL, *dir = NULL, *hex = NULL, *pubkey = NULL,
                            *signed_path = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;
        struct pcr7data_info info = { 0 };
        char name[66];
        const char *type;
        uint8_t digest[32];
        struct stat st;
        size_t sig_len;
        int n = 0, r;

        if (!version || strlen(version) != POLICY_VERSION_LEN)
                return errf(-EINVAL, "policy version must be %d decimal digits",
                            POLICY_VERSION_LEN);
        r = highest_policy_dir(root, &n);
        if (r < 0)
                return r;
        pdir = xasprintf("%s/policy-%d", root, n);
        pcr7data_entry_name(pcr7, name);
        dir = path_join(pdir, name);
        hex = hex_encode(pcr7, 32);
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return errf(-ENOENT, "PCR7 %s does not match any signed policy (in %s)", hex,
                            pdir);

        r = read_info(dir, &info);
        if (r < 0)
                return r;
        if (name_validate("info.json key", info.key) < 0) {
                r = errf(-EBADMSG, "%s/info.json: key '%s' is not a valid keyset name", dir,
                         info.key);
                goto fail;
        }
        if (key_type_normalise(info.key_type, &type) < 0) {
                r = errf(-EBADMSG, "%s/info.json: unknown key_type '%s'", dir, info.key_type);
                goto fail;
        }

        if (!strcmp(type, "limited")) {
                _cleanup_free_ char *p = path_join(dir, "pcr_limited.bin");
                uint8_t v[32];

                r = read_pcr_bin(p, v);
                if (r < 0)
                        goto fail;
                if (memcmp(v, pcr7, 32) != 0) {
                        r = errf(-EBADMSG, "%s: does not hold PCR7 %s", p, hex);
                        goto fail;
                }
        } else {
                bool prod = !strcmp(type, "production");

                pubkey = xasprintf("%s/pubkeys/%s-%s.pem", pdir, prod ? "luks" : "tpmpass",
                                   info.key);
                signed_path = path_join(dir, prod ? "tpm_luks.policy.signed"
                                                  : "tpm_passwd.policy.signed");
                r = pem_load_pubkey(pubkey, &pub);
                if (r < 0)
                        goto fail;
                r = read_file(signed_path, SIGNED_MAX, &sig, &sig_len);
                if (r < 0)
                        goto fail;
                r = prod ? policy_luks_digest(pcr7, version, digest)
                         : policy_passwd_digest(pcr7, digest);
                if (r < 0)
                        goto fail;
                r = policy_verify(pub, digest, sig, sig_len);
                if (r < 0) {
                        r = errf(-EBADMSG, "%s: signature does not verify with %s", signed_path,
                                 pubkey);
                        goto fail;
                }
        }

        *ret = (struct pcr7data_match){
                .dir = TAKE_PTR(dir),
                .key = TAKE_PTR(info.key),
                .key_type = xstrdup(type),
                .pubkey = TAKE_PTR(pubkey),
                .signed_policy = TAKE_PTR(signed_path),
                .policy_n = n,
        };
        pcr7data_info_free(&info);
        return 0;
fail:
        pcr7data_info_free(&info);
        return r;
}

int pcr7data_lookup(const char *root, const uint8_t pcr7[32], struct pcr7data_match *ret)
{
        return pcr7data_lookup_version(root, pcr7, "0001", ret);
}
