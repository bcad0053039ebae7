/* test-policy.c: policy digests, key names and signatures against the
 * deployed pcr7data of the older tool (tests/data/reference-signdata), and
 * pcr7data lookup on that tree. */
#include <dirent.h>
#include <sys/stat.h>

#include "base/crypto.h"
#include "harness.h"
#include "formats/pcr7data.h"
#include "formats/policy.h"
#include "base/util.h"

#define REF "tests/data/reference-signdata"
#define POL REF "/policy-2"

static int read32(const char *path, uint8_t out[32])
{
        _cleanup_free_ uint8_t *b = NULL;
        size_t n;
        int r = read_file(path, 64, &b, &n);

        if (r < 0)
                return r;
        if (n != 32)
                return -EBADMSG;
        memcpy(out, b, 32);
        return 0;
}

static int verify_file(const char *pubkey, const char *sigfile, const uint8_t digest[32])
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        size_t n;
        int r;

        r = pem_load_pubkey(pubkey, &pub);
        if (r < 0)
                return r;
        r = read_file(sigfile, 4096, &sig, &n);
        if (r < 0)
                return r;
        return policy_verify(pub, digest, sig, n);
}

static void test_sample1_passwd(void)
{
        uint8_t tpm[32], want[32], got[32];

        ASSERT_OK(read32(REF "/sample1/pcr7-tpm.bin", tpm));
        ASSERT_OK(read32(REF "/sample1/passwd.policy", want));
        ASSERT_OK(policy_passwd_digest(tpm, got));
        ASSERT_MEMEQ(got, want, 32);
}

static int n_limited;

/* One limited entry: its three values, both signed policies, all lookups. */
static void check_limited(const char *dir)
{
        _cleanup_free_ char *pp = path_join(dir, "pcr_prod.bin"), *pt = path_join(dir, "pcr_tpm.bin"),
                            *pl = path_join(dir, "pcr_limited.bin");
        _cleanup_free_ char *luks_pub = NULL, *pass_pub = NULL, *luks_sig = NULL, *pass_sig = NULL,
                            *other = NULL;
        struct pcr7data_match m = { 0 };
        uint8_t prod[32], tpm[32], lim[32], luks[32], passwd[32];
        char name[66];
        const char *key;

        ASSERT_OK(read32(pp, prod));
        ASSERT_OK(read32(pt, tpm));
        ASSERT_OK(read32(pl, lim));
        ASSERT_OK(policy_luks_digest(prod, "0001", luks));
        ASSERT_OK(policy_passwd_digest(tpm, passwd));

        /* The limited value resolves to this very directory. */
        ASSERT_OK(pcr7data_lookup(REF, lim, &m));
        ASSERT_STREQ(m.key_type, "limited");
        ASSERT_TRUE(strstr(m.dir, dir + strlen(POL)) != NULL);
        ASSERT_TRUE(m.pubkey == NULL && m.signed_policy == NULL);
        ASSERT_EQ(m.policy_n, 2);
        key = m.key;

        luks_pub = xasprintf(POL "/pubkeys/luks-%s.pem", key);
        pass_pub = xasprintf(POL "/pubkeys/tpmpass-%s.pem", key);
        pcr7data_entry_name(prod, name);
        luks_sig = xasprintf(POL "/%s/tpm_luks.policy.signed", name);
        pcr7data_entry_name(tpm, name);
        pass_sig = xasprintf(POL "/%s/tpm_passwd.policy.signed", name);
        ASSERT_OK(verify_file(luks_pub, luks_sig, luks));
        ASSERT_OK(verify_file(pass_pub, pass_sig, passwd));
        /* Crossed keys or digests must not verify. */
        ASSERT_EQ(verify_file(pass_pub, luks_sig, luks), -EBADMSG);
        ASSERT_EQ(verify_file(luks_pub, pass_sig, passwd), -EBADMSG);
        ASSERT_EQ(verify_file(luks_pub, luks_sig, passwd), -EBADMSG);
        {
                uint8_t v2[32];
                ASSERT_OK(policy_luks_digest(prod, "0002", v2));
                ASSERT_EQ(verify_file(luks_pub, luks_sig, v2), -EBADMSG);
        }
        other = xstrdup(key);
        pcr7data_match_free(&m);

        ASSERT_OK(pcr7data_lookup(REF, prod, &m));
        ASSERT_STREQ(m.key_type, "production");
        ASSERT_STREQ(m.key, other);
        ASSERT_TRUE(strstr(m.signed_policy, "tpm_luks.policy.signed") != NULL);
        pcr7data_match_free(&m);
        ASSERT_OK(pcr7data_lookup(REF, tpm, &m));
        ASSERT_STREQ(m.key_type, "tpm"); /* "password" in the file */
        ASSERT_STREQ(m.key, other);
        ASSERT_TRUE(strstr(m.luks_pubkey, "/policy-2/pubkeys/luks-") != NULL);
        ASSERT_TRUE(path_exists(m.luks_pubkey) && path_exists(m.tpmpass_pubkey));
        ASSERT_TRUE(strstr(m.pubkey, "tpmpass-") != NULL);
        pcr7data_match_free(&m);
        /* A production entry checked against another policy version fails. */
        ASSERT_EQ(pcr7data_lookup_version(REF, prod, "0002", &m), -EKEYREJECTED);
        n_limited++;
}

static void test_reference_limited_dirs(void)
{
        DIR *top = opendir(POL);
        struct dirent *a;

        ASSERT_TRUE(top != NULL);
        while ((a = readdir(top))) {
                _cleanup_free_ char *sub = NULL;
                DIR *d;
                struct dirent *b;

                if (strlen(a->d_name) != 2)
                        continue;
                sub = path_join(POL, a->d_name);
                d = opendir(sub);
                if (!d)
                        continue;
                while ((b = readdir(d))) {
                        _cleanup_free_ char *e = path_join(sub, b->d_name),
                                            *l = path_join(e, "pcr_limited.bin");
                        int before = harness_failed;

                        if (b->d_name[0] == '.' || !path_exists(l))
                                continue;
                        check_limited(e);
                        if (harness_failed != before)
                                fprintf(stderr, "  in %s\n", e);
                }
                closedir(d);
        }
        closedir(top);
        ASSERT_EQ(n_limited, 6);
}

static void test_entry_name(void)
{
        uint8_t v[32];
        char name[66];

        ASSERT_OK(read32(POL "/48/646874b3f2f3b42b07ca0c2ffb6f9e0937cdd9176eebc4b5ce2aedd3a07cf8/"
                               "pcr_limited.bin",
                         v));
        /* The file holds the unswapped value; the directory is its pair-swapped hex. */
        ASSERT_EQ(v[0], 0x64);
        ASSERT_EQ(v[1], 0x48);
        pcr7data_entry_name(v, name);
        ASSERT_STREQ(name, "48/646874b3f2f3b42b07ca0c2ffb6f9e0937cdd9176eebc4b5ce2aedd3a07cf8");
}

/* Every entry directory of the deployed tree is listed once, its value
 * giving back its name, and each value looks up. */
static void test_values(void)
{
        _cleanup_free_ uint8_t(*v)[32] = NULL;
        size_t n = 0, dirs = 0;
        DIR *top = opendir(POL);
        struct dirent *a;

        ASSERT_TRUE(top != NULL);
        while ((a = readdir(top))) {
                _cleanup_free_ char *sub = path_join(POL, a->d_name);
                DIR *d;
                struct dirent *b;

                if (strlen(a->d_name) != 2 || !(d = opendir(sub)))
                        continue;
                while ((b = readdir(d)))
                        dirs += strlen(b->d_name) == 62;
                closedir(d);
        }
        closedir(top);
        ASSERT_OK(pcr7data_values(REF, &v, &n));
        ASSERT_TRUE(n > 0);
        ASSERT_EQ(n, dirs);
        for (size_t i = 0; i < n; i++) {
                struct pcr7data_match m = { 0 };
                _cleanup_free_ char *path = NULL;
                char name[66];

                pcr7data_entry_name(v[i], name);
                path = path_join(POL, name);
                ASSERT_TRUE(path_exists(path));
                ASSERT_OK(pcr7data_lookup(REF, v[i], &m));
                pcr7data_match_free(&m);
        }
        ASSERT_EQ(pcr7data_values("/nonexistent", &v, &n), -ENOENT);
}

static void test_lookup_unknown(void)
{
        struct pcr7data_match m = { 0 };
        uint8_t v[32] = { 1, 2, 3 };

        ASSERT_EQ(pcr7data_lookup(REF, v, &m), -ENOENT);
        ASSERT_TRUE(strstr(err_msg(-ENOENT), "does not match any signed policy") != NULL);
        ASSERT_EQ(pcr7data_lookup("/nonexistent", v, &m), -ENOENT);
}

static void test_key_name_and_authorize(void)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;
        uint8_t name[34], a[32], b[32];

        ASSERT_OK(pem_load_pubkey(POL "/pubkeys/luks-dev.pem", &pub));
        ASSERT_OK(policy_key_name(pub, name));
        ASSERT_EQ(name[0], 0x00);
        ASSERT_EQ(name[1], 0x0b);
        ASSERT_OK(policy_authorize_digest(pub, a));
        ASSERT_OK(policy_authorize_digest(pub, b));
        ASSERT_MEMEQ(a, b, 32);
}

static void test_sign_verify(void)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = EVP_RSA_gen(2048), *k2 = EVP_RSA_gen(2048);
        _cleanup_free_ uint8_t *sig = NULL;
        uint8_t d[32] = { 7 }, pcr[32] = { 0 };
        size_t n;

        ASSERT_TRUE(k && k2);
        ASSERT_OK(policy_luks_digest(pcr, "0001", d));
        ASSERT_OK(policy_sign(k, d, &sig, &n));
        ASSERT_EQ(n, 256);
        ASSERT_OK(policy_verify(k, d, sig, n));
        ASSERT_EQ(policy_verify(k2, d, sig, n), -EBADMSG);
        sig[10] ^= 1;
        ASSERT_EQ(policy_verify(k, d, sig, n), -EBADMSG);
        ASSERT_EQ(policy_luks_digest(pcr, "00a1", d), -EINVAL);
}

int main(void)
{
        RUN(test_sample1_passwd);
        RUN(test_reference_limited_dirs);
        RUN(test_entry_name);
        RUN(test_values);
        RUN(test_lookup_unknown);
        RUN(test_key_name_and_authorize);
        RUN(test_sign_verify);
        return test_exit();
}
