/* test-tpm2-layout.c: NV layouts 3 and 4 of spec tpm.md as the tpm2 layer
 * defines them (what provision gives each index) and the layout-3 exposure
 * `tpm status` reports. (Sessions and reads are tested against swtpm in
 * tests/tpm.) */
#include "harness.h"
#include "target/tpm2.h"

#define OW NVA_OWNERWRITE
#define OR NVA_OWNERREAD
#define AR NVA_AUTHREAD
#define PR NVA_POLICYREAD
#define PW NVA_POLICYWRITE

static void test_layout4(void)
{
        /* spec tpm.md, "Layout 4" */
        ASSERT_EQ(tpm2_nv_layout_attributes(4, NV_ADMIN_PASSWORD), OW | PR);
        ASSERT_EQ(tpm2_nv_layout_attributes(4, NV_LAYOUT_VERSION), OW | OR | AR);
        ASSERT_EQ(tpm2_nv_layout_attributes(4, NV_POLICY_VERSION), OW | OR | AR);
        ASSERT_EQ(tpm2_nv_layout_attributes(4, NV_CERT), OW | OR | PR);
        ASSERT_EQ(tpm2_nv_layout_attributes(4, NV_KEY), OW | PR);
        ASSERT_EQ(tpm2_nv_layout_attributes(4, NV_SBF_PASSPHRASE), OW | PR);
        ASSERT_EQ(tpm2_nv_layout_attributes(4, NV_OS_PASSPHRASE), OW | PR | PW);
        ASSERT_EQ(NV_LAYOUT, 4);
        ASSERT_STREQ(LAYOUT_VERSION, "00000004");
}

static void test_layout3(void)
{
        const uint32_t secret[] = { NV_ADMIN_PASSWORD, NV_CERT, NV_KEY, NV_SBF_PASSPHRASE };

        for (size_t i = 0; i < ELEMENTSOF(secret); i++)
                ASSERT_EQ(tpm2_nv_layout_attributes(3, secret[i]), OW | OR | PR);
        ASSERT_EQ(tpm2_nv_layout_attributes(3, NV_OS_PASSPHRASE), OW | OR | PR | PW);
        ASSERT_EQ(tpm2_nv_layout_attributes(3, NV_LAYOUT_VERSION), OW | OR | AR);
        /* its name is part of the luks policy: 0x20060002 once written */
        ASSERT_EQ(tpm2_nv_layout_attributes(3, NV_POLICY_VERSION) | NVA_WRITTEN, 0x20060002u);
}

static void test_unknown(void)
{
        ASSERT_EQ(tpm2_nv_layout_attributes(4, 0x01500003), 0);
        ASSERT_EQ(tpm2_nv_layout_attributes(2, NV_KEY), 0);
        ASSERT_EQ(tpm2_nv_layout_attributes(5, NV_KEY), 0);
}

static void test_policy_only(void)
{
        ASSERT_TRUE(tpm2_nv_policy_only(NV_ADMIN_PASSWORD));
        ASSERT_TRUE(tpm2_nv_policy_only(NV_KEY));
        ASSERT_TRUE(tpm2_nv_policy_only(NV_SBF_PASSPHRASE));
        ASSERT_TRUE(tpm2_nv_policy_only(NV_OS_PASSPHRASE));
        ASSERT_TRUE(!tpm2_nv_policy_only(NV_CERT));
        ASSERT_TRUE(!tpm2_nv_policy_only(NV_LAYOUT_VERSION));
        ASSERT_TRUE(!tpm2_nv_policy_only(NV_POLICY_VERSION));
        ASSERT_TRUE(!tpm2_nv_policy_only(0x01500099));

        /* what `tpm status` counts: layout-3 secrets, not layout 4's */
        ASSERT_TRUE(tpm2_nv_secret_owner_readable(NV_KEY, OW | OR | PR | NVA_WRITTEN));
        ASSERT_TRUE(tpm2_nv_secret_owner_readable(NV_OS_PASSPHRASE, OW | AR | PR | PW));
        ASSERT_TRUE(!tpm2_nv_secret_owner_readable(NV_KEY, OW | PR | NVA_WRITTEN));
        ASSERT_TRUE(!tpm2_nv_secret_owner_readable(NV_CERT, OW | OR | PR | NVA_WRITTEN));
        ASSERT_TRUE(!tpm2_nv_secret_owner_readable(NV_LAYOUT_VERSION, OW | OR | AR));
}

int main(void)
{
        RUN(test_layout4);
        RUN(test_layout3);
        RUN(test_unknown);
        RUN(test_policy_only);
        return test_exit();
}
