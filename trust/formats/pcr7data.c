/* pcr7data.c: the signed-policy tree shipped in initrds (spec keysets.md):
 * looking a PCR7 value up (and checking its signed policy against the shipped
 * public key) and adding a keyset's three entries atomically in the older
 * tool's policy-2 layout. info.json parsing lives in pcr7data-json.c. */
#include "formats/pcr7data.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "base/crypto.h"
#include "formats/policy.h"
#include "base/util.h"


void pcr7data_match_free(struct pcr7data_match *m)
{
        if (!m)
                return;
        free(m->dir);
        free(m->key);
        free(m->key_type);
        free(m->pubkey);
        free(m->signed_policy);
        free(m->luks_pubkey);
        free(m->tpmpass_pubkey);
        *m = (struct pcr7data_match){ 0 };
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

int pcr7data_read_info(const char *dir, struct pcr7data_info *info)
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
                return errf_prefix(r, "%s", p);
        return 0;
}

/* Class of an info.json key_type: production, tpm (written "password" by the
 * older tool) or limited. */
int pcr7data_class_normalise(const char *t, const char **ret)
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

int pcr7data_lookup_version(const char *root, const uint8_t pcr7[32], const char *version,
                            struct pcr7data_match *ret)
{
        _cleanup_free_ char *pdir = NULL, *dir = NULL, *hex = NULL, *pubkey = NULL,
                            *signed_path = NULL, *luks_pub = NULL, *pass_pub = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;
        struct pcr7data_info info = { 0 };
        char name[66];
        const char *type;
        uint8_t digest[32];
        struct stat st;
        size_t sig_len;
        int n = 0, r;

        if (!policy_version_valid(version))
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

        r = pcr7data_read_info(dir, &info);
        if (r < 0)
                return r;
        if (name_validate("info.json key", info.key) < 0) {
                r = errf(-EBADMSG, "%s/info.json: key '%s' is not a valid keyset name", dir,
                         info.key);
                goto fail;
        }
        if (pcr7data_class_normalise(info.key_type, &type) < 0) {
                r = errf(-EBADMSG, "%s/info.json: unknown key_type '%s'", dir, info.key_type);
                goto fail;
        }

        if (!strcmp(type, "limited")) {
                _cleanup_free_ char *p = path_join(dir, "pcr_limited.bin");
                uint8_t v[32];

                r = read_file_exact(p, v, 32, "PCR value");
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
                r = read_file(signed_path, PCR7DATA_SIGNED_MAX, &sig, &sig_len);
                if (r < 0)
                        goto fail;
                r = prod ? policy_luks_digest(pcr7, version, digest)
                         : policy_passwd_digest(pcr7, digest);
                if (r < 0)
                        goto fail;
                r = policy_verify(pub, digest, sig, sig_len);
                if (r < 0) {
                        r = errf(-EKEYREJECTED, "%s: signature does not verify with %s",
                                 signed_path, pubkey);
                        goto fail;
                }
        }

        /* (initializers are unordered: nothing below may read info.key) */
        luks_pub = xasprintf("%s/pubkeys/luks-%s.pem", pdir, info.key);
        pass_pub = xasprintf("%s/pubkeys/tpmpass-%s.pem", pdir, info.key);
        *ret = (struct pcr7data_match){
                .dir = TAKE_PTR(dir),
                .key = TAKE_PTR(info.key),
                .key_type = xstrdup(type),
                .pubkey = TAKE_PTR(pubkey),
                .signed_policy = TAKE_PTR(signed_path),
                .policy_n = n,
                .luks_pubkey = TAKE_PTR(luks_pub),
                .tpmpass_pubkey = TAKE_PTR(pass_pub),
        };
        pcr7data_info_free(&info);
        return 0;
fail:
        pcr7data_info_free(&info);
        return r;
}

int pcr7data_lookup(const char *root, const uint8_t pcr7[32], struct pcr7data_match *ret)
{
        return pcr7data_lookup_version(root, pcr7, POLICY_VERSION, ret);
}

/* "<h0h1>/<h2...h63>" (two directory levels) back to the PCR7 value. */
static bool entry_name_decode(const char *dir, const char *rest, uint8_t out[32])
{
        char h[65];
        uint8_t b[32];

        if (strlen(dir) != 2 || strlen(rest) != 62)
                return false;
        memcpy(h, dir, 2);
        memcpy(h + 2, rest, 63);
        if (strspn(h, "0123456789abcdef") != 64 || hex_decode(h, b, 32) < 0)
                return false;
        for (size_t i = 0; i < 32; i++)
                out[i ^ 1] = b[i];
        return true;
}

int pcr7data_values(const char *root, uint8_t (**ret)[32], size_t *ret_n)
{
        _cleanup_free_ char *pdir = NULL;
        uint8_t(*v)[32] = NULL;
        struct dirent *de;
        size_t n = 0;
        DIR *d;
        int pn = 0, r;

        r = highest_policy_dir(root, &pn);
        if (r < 0)
                return r;
        pdir = xasprintf("%s/policy-%d", root, pn);
        d = opendir(pdir);
        if (!d)
                return errf(-errno, "%s: %s", pdir, strerror(errno));
        v = xmalloc0(PCR7DATA_ENTRIES_MAX * sizeof(*v)); /* 128 KiB */
        r = 0;
        while (r == 0 && (de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;
                struct dirent *e;
                DIR *d2;

                if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
                        continue;
                sub = path_join(pdir, de->d_name);
                d2 = opendir(sub);
                if (!d2)
                        continue; /* not a directory: not an entry */
                while ((e = readdir(d2))) {
                        uint8_t pcr7[32];

                        if (!entry_name_decode(de->d_name, e->d_name, pcr7))
                                continue;
                        if (n >= PCR7DATA_ENTRIES_MAX) {
                                r = errf(-E2BIG, "%s: more than %d entries", pdir,
                                         PCR7DATA_ENTRIES_MAX);
                                break;
                        }
                        memcpy(v[n++], pcr7, 32);
                }
                closedir(d2);
        }
        closedir(d);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}
