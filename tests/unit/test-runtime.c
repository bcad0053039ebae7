/* test-runtime.c: the TPM runtime's pure parts: passphrases, the PCR7 lock
 * digest, NV attribute names, policy versions, keyring target parsing. (The
 * workflows are tested in test-workflows.c, the TPM work against swtpm in
 * tests/tpm.) */
#include <openssl/sha.h>

#include "harness.h"
#include "target/keyring.h"
#include "target/runtime.h"
#include "target/tpm2.h"
#include "target/workflow.h"

static void test_passphrase(void)
{
        struct secret a = {}, b = {};
        unsigned seen[256] = {};

        ASSERT_OK(passphrase_new(40, &a));
        ASSERT_OK(passphrase_new(40, &b));
        ASSERT_EQ(a.len, 40);
        ASSERT_EQ(strlen((char *)a.data), 40);
        ASSERT_TRUE(memcmp(a.data, b.data, 40) != 0);
        for (size_t i = 0; i < a.len; i++)
                ASSERT_TRUE(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                                   a.data[i]) != NULL);
        secret_free(&a);
        secret_free(&b);
        /* every one of the 62 characters shows up in 20000 draws */
        ASSERT_OK(passphrase_new(20000, &a));
        for (size_t i = 0; i < a.len; i++)
                seen[a.data[i]]++;
        for (const char *c = "Aa0Zz9"; *c; c++)
                ASSERT_TRUE(seen[(unsigned char)*c] > 150);
        secret_free(&a);
}

static void test_lock_digest(void)
{
        uint8_t d[32];

        SHA256((const unsigned char *)"atomix\n", 7, d);
        ASSERT_MEMEQ(d, pcr7_lock_digest, 32);
}

static void test_attributes(void)
{
        char *s = tpm2_nv_attributes_string(0x20060002);

        ASSERT_STREQ(s, "ownerwrite|ownerread|authread|written");
        free(s);
        s = tpm2_nv_attributes_string(NVA_OWNERWRITE | NVA_POLICYWRITE | NVA_OWNERREAD |
                                      NVA_POLICYREAD);
        ASSERT_STREQ(s, "ownerwrite|policywrite|ownerread|policyread");
        free(s);
        s = tpm2_nv_attributes_string(0);
        ASSERT_STREQ(s, "");
        free(s);
}

/* One check for the four places that take a policy version. */
static void test_policy_version_valid(void)
{
        ASSERT_TRUE(policy_version_valid(POLICY_VERSION));
        ASSERT_TRUE(policy_version_valid("0002"));
        ASSERT_TRUE(policy_version_valid("9999"));
        ASSERT_TRUE(!policy_version_valid(NULL));
        ASSERT_TRUE(!policy_version_valid(""));
        ASSERT_TRUE(!policy_version_valid("001"));
        ASSERT_TRUE(!policy_version_valid("00001"));
        ASSERT_TRUE(!policy_version_valid("00a1"));
        ASSERT_TRUE(!policy_version_valid("-001"));
        ASSERT_TRUE(!policy_version_valid(" 001"));
        ASSERT_EQ(strlen(POLICY_VERSION), POLICY_VERSION_LEN);
        ASSERT_EQ(strlen(LAYOUT_VERSION), 8);
}

static void test_keyring_target(void)
{
        enum keyring_target k;

        ASSERT_OK(keyring_target_from_string("user", &k));
        ASSERT_EQ(k, KEYRING_USER);
        ASSERT_OK(keyring_target_from_string("session", &k));
        ASSERT_EQ(k, KEYRING_SESSION);
        ASSERT_EQ(keyring_target_from_string("@u", &k), -EINVAL);
}

int main(void)
{
        RUN(test_passphrase);
        RUN(test_lock_digest);
        RUN(test_attributes);
        RUN(test_policy_version_valid);
        RUN(test_keyring_target);
        return test_exit();
}
