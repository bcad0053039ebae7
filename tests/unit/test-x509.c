/* test-x509.c: the x509 module's helpers: attribute checks, key ids,
 * profiles of issued certs, the O_EXCL key/cert writer and CA loading. */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <sys/stat.h>

#include "harness.h"
#include "keys/x509.h"

static EVP_PKEY *ca_key, *leaf_key;

static void test_check_attr(void)
{
        char s65[66], s64[65], u64[129];

        ASSERT_OK(x509_check_attr("o", "Acme Corp"));
        ASSERT_OK(x509_check_attr("o", "Z\xc3\xbcrich \xe2\x82\xac \xf0\x9f\x94\x91")); /* ü € 🔑 */
        ASSERT_EQ(x509_check_attr("o", ""), -EINVAL);
        ASSERT_EQ(x509_check_attr("o", "a\nb"), -EINVAL);
        ASSERT_EQ(x509_check_attr("o", "a\x7f"), -EINVAL);
        ASSERT_EQ(x509_check_attr("o", "\xc2\x85"), -EINVAL);     /* C1 control NEL */
        ASSERT_EQ(x509_check_attr("o", "\xff"), -EINVAL);         /* not UTF-8 */
        ASSERT_EQ(x509_check_attr("o", "\xc0\xaf"), -EINVAL);     /* overlong '/' */
        ASSERT_EQ(x509_check_attr("o", "\xe0\x80\xaf"), -EINVAL); /* overlong '/' */
        ASSERT_EQ(x509_check_attr("o", "\xed\xa0\x80"), -EINVAL); /* surrogate */
        ASSERT_EQ(x509_check_attr("o", "\xf4\x90\x80\x80"), -EINVAL); /* > U+10FFFF */
        ASSERT_EQ(x509_check_attr("o", "ab\xc3"), -EINVAL);       /* truncated */
        ASSERT_EQ(x509_check_attr("o", "\xe2\x82"), -EINVAL);     /* truncated */
        memset(s64, 'a', 64), s64[64] = 0;
        memset(s65, 'a', 65), s65[65] = 0;
        ASSERT_OK(x509_check_attr("o", s64));
        ASSERT_EQ(x509_check_attr("o", s65), -EINVAL);
        for (int i = 0; i < 64; i++) /* 64 characters of 2 bytes each: fine */
                u64[2 * i] = '\xc3', u64[2 * i + 1] = '\xa9';
        u64[128] = 0;
        ASSERT_OK(x509_check_attr("o", u64));
        ASSERT_TRUE(strstr(err_msg(x509_check_attr("organization", s65)), "organization") != NULL);
}

static void test_sudi_not_after(void)
{
        struct tm tm = { .tm_year = 2099 - 1900, .tm_mon = 11, .tm_mday = 31, .tm_hour = 23 };

        ASSERT_EQ(timegm(&tm), X509_SUDI_NOT_AFTER);
}

static void test_key_id(void)
{
        unsigned char id[20], want[20], *der = NULL;
        unsigned int n = 20;
        int len;

        ASSERT_OK(x509_key_id(leaf_key, id));
        len = i2d_PUBKEY(leaf_key, &der);
        ASSERT_TRUE(len > 0);
        /* the whole DER SubjectPublicKeyInfo, not only its BIT STRING */
        ASSERT_TRUE(len > 270);
        ASSERT_TRUE(EVP_Digest(der, (size_t)len, want, &n, EVP_sha1(), NULL));
        OPENSSL_free(der);
        ASSERT_MEMEQ(id, want, 20);
}

static int ext_count(X509 *x, int nid)
{
        return X509_get_ext_by_NID(x, nid, -1) >= 0;
}

static void test_issue_ca_and_leaf(void)
{
        static const char *const orgs[] = { "Acme", "Acme Labs" };
        struct x509_profile cap = { .cn = "Test CA", .orgs = orgs, .n_orgs = 2, .ou = "ks",
                                    .ca = true, .valid_years = 50 };
        _cleanup_free_ char *sn = NULL;
        struct x509_profile lp = {
                .cn = "4cc76b82-948c-44b8-948c-1cc9a7d460d0",
                .key_usage = X509_KU_DIGITAL_SIGNATURE | X509_KU_KEY_ENCIPHERMENT,
                .ext_key_usage = X509_EKU_SERVER_AUTH | X509_EKU_CLIENT_AUTH,
                .not_after = X509_SUDI_NOT_AFTER,
        };
        _cleanup_(X509_freep) X509 *ca = NULL, *leaf = NULL;
        unsigned char id[20];
        const ASN1_OCTET_STRING *skid, *akid;
        const ASN1_INTEGER *serial;
        char buf[256];
        int crit = -1;

        /* the deployed SUDI serialNumber is 80 characters: longer than
         * ub-serial-number, and must still be accepted */
        sn = xasprintf("PID:%s SN:%s", "bc564363-2a8e-44fe-bb0e-54c7f9988ecf", lp.cn);
        lp.serial_number = sn;
        ASSERT_EQ(strlen(sn), 80);

        ASSERT_OK(x509_issue(&cap, ca_key, NULL, NULL, &ca));
        ASSERT_EQ(X509_check_ca(ca), 1);
        ASSERT_TRUE(ext_count(ca, NID_basic_constraints));
        crit = X509_EXTENSION_get_critical(
                X509_get_ext(ca, X509_get_ext_by_NID(ca, NID_basic_constraints, -1)));
        ASSERT_EQ(crit, 1);
        ASSERT_TRUE(!ext_count(ca, NID_key_usage));
        ASSERT_TRUE(!ext_count(ca, NID_authority_key_identifier));
        ASSERT_EQ(ASN1_STRING_type(X509_get0_notAfter(ca)), V_ASN1_GENERALIZEDTIME);
        ASSERT_EQ(ASN1_STRING_type(X509_get0_notBefore(ca)), V_ASN1_UTCTIME);
        ASSERT_EQ(X509_NAME_cmp(X509_get_subject_name(ca), X509_get_issuer_name(ca)), 0);
        X509_NAME_oneline(X509_get_subject_name(ca), buf, sizeof(buf));
        ASSERT_STREQ(buf, "/O=Acme/O=Acme Labs/OU=ks/CN=Test CA");
        ASSERT_EQ(X509_verify(ca, ca_key), 1);

        ASSERT_OK(x509_issue(&lp, leaf_key, ca, ca_key, &leaf));
        ASSERT_EQ(X509_check_ca(leaf), 0);
        ASSERT_EQ(X509_verify(leaf, ca_key), 1);
        ASSERT_EQ(X509_verify(leaf, leaf_key), 0);
        ERR_clear_error();
        ASSERT_EQ(X509_check_issued(ca, leaf), X509_V_OK);
        X509_NAME_oneline(X509_get_subject_name(leaf), buf, sizeof(buf));
        ASSERT_TRUE(strstr(buf, "/CN=4cc76b82-948c-44b8-948c-1cc9a7d460d0/serialNumber=PID:bc564363") == buf);
        ASSERT_EQ(X509_cmp_time(X509_get0_notAfter(leaf), &(time_t){ X509_SUDI_NOT_AFTER - 1 }), 1);
        ASSERT_EQ(X509_cmp_time(X509_get0_notAfter(leaf), &(time_t){ X509_SUDI_NOT_AFTER }), -1);
        ASSERT_TRUE(X509_get_key_usage(leaf) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
        ASSERT_TRUE(X509_get_extended_key_usage(leaf) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));

        /* SKID = SHA-1(SPKI); AKID = the issuer's SKID */
        skid = X509_get0_subject_key_id(leaf);
        akid = X509_get0_authority_key_id(leaf);
        ASSERT_TRUE(skid && akid);
        ASSERT_OK(x509_key_id(leaf_key, id));
        ASSERT_EQ(ASN1_STRING_length(skid), 20);
        ASSERT_MEMEQ(ASN1_STRING_get0_data(skid), id, 20);
        ASSERT_EQ(ASN1_OCTET_STRING_cmp(akid, X509_get0_subject_key_id(ca)), 0);

        /* serial: positive, at most 16 bytes of randomness */
        serial = X509_get0_serialNumber(leaf);
        ASSERT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER);
        ASSERT_TRUE(ASN1_STRING_length(serial) >= 1 && ASN1_STRING_length(serial) <= 16);
        ASSERT_TRUE(ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(ca)) != 0);

        /* an issuer needs both halves */
        X509 *bad = NULL;
        ASSERT_EQ(x509_issue(&lp, leaf_key, ca, NULL, &bad), -EINVAL);
        ASSERT_TRUE(bad == NULL);
}

static void test_write_pair_and_load(void)
{
        char dir[] = "/tmp/test-x509-XXXXXX";
        struct x509_profile cap = { .cn = "CA", .ca = true, .valid_years = 1 };
        struct x509_profile lp = { .cn = "leaf", .key_usage = X509_KU_DIGITAL_SIGNATURE,
                                   .valid_years = 1 };
        _cleanup_(X509_freep) X509 *ca = NULL, *leaf = NULL, *loaded = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *lkey = NULL;
        _cleanup_free_ char *kp = NULL, *cp = NULL;
        struct stat st;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        kp = path_join(dir, "privkey.pem");
        cp = path_join(dir, "cert.pem");
        ASSERT_OK(x509_issue(&cap, ca_key, NULL, NULL, &ca));
        ASSERT_OK(x509_write_pair(dir, ca_key, ca));
        ASSERT_OK(stat(kp, &st));
        ASSERT_EQ(st.st_mode & 07777, 0600);
        ASSERT_OK(stat(cp, &st));
        ASSERT_EQ(st.st_mode & 07777, 0640);
        /* O_EXCL: never overwrite */
        ASSERT_EQ(x509_write_pair(dir, ca_key, ca), -EEXIST);
        ASSERT_OK(x509_load_ca(dir, &loaded, &lkey));
        ASSERT_EQ(X509_cmp(loaded, ca), 0);
        ASSERT_EQ(EVP_PKEY_eq(lkey, ca_key), 1);
        X509_free(TAKE_PTR(loaded));
        EVP_PKEY_free(TAKE_PTR(lkey));

        /* a key that does not belong to the cert */
        ASSERT_OK(unlink(kp));
        ASSERT_OK(x509_issue(&lp, leaf_key, ca, ca_key, &leaf));
        {
                _cleanup_(BIO_freep) BIO *b = BIO_new_file(kp, "w");
                ASSERT_TRUE(b && PEM_write_bio_PrivateKey(b, leaf_key, NULL, NULL, 0, NULL, NULL));
        }
        ASSERT_EQ(x509_load_ca(dir, &loaded, &lkey), -EBADMSG);
        ASSERT_TRUE(strstr(err_msg(-EBADMSG), "does not belong") != NULL);
        /* a cert that is not a CA */
        ASSERT_OK(unlink(cp));
        ASSERT_OK(unlink(kp));
        ASSERT_OK(x509_write_pair(dir, leaf_key, leaf));
        ASSERT_EQ(x509_load_ca(dir, &loaded, &lkey), -EBADMSG);
        ASSERT_TRUE(strstr(err_msg(-EBADMSG), "not a CA certificate") != NULL);
        /* missing files name the file */
        ASSERT_OK(unlink(cp));
        ASSERT_EQ(x509_load_ca(dir, &loaded, &lkey), -ENOENT);
        ASSERT_TRUE(strstr(err_msg(-ENOENT), "cert.pem") != NULL);
        ASSERT_TRUE(loaded == NULL && lkey == NULL);
        ASSERT_OK(rm_rf(dir));
}

static void test_validity_years(void)
{
        struct x509_profile p = { .cn = "x", .valid_years = 25 };
        _cleanup_(X509_freep) X509 *x = NULL;
        struct tm nb, na;

        ASSERT_OK(x509_issue(&p, leaf_key, NULL, NULL, &x));
        ASSERT_TRUE(ASN1_TIME_to_tm(X509_get0_notBefore(x), &nb));
        ASSERT_TRUE(ASN1_TIME_to_tm(X509_get0_notAfter(x), &na));
        /* calendar years: same month, day and time (but 29 February) */
        ASSERT_EQ(na.tm_year - nb.tm_year, 25);
        if (!(nb.tm_mon == 1 && nb.tm_mday == 29)) {
                ASSERT_EQ(na.tm_mon, nb.tm_mon);
                ASSERT_EQ(na.tm_mday, nb.tm_mday);
        }
        ASSERT_EQ(na.tm_hour * 3600 + na.tm_min * 60 + na.tm_sec,
                  nb.tm_hour * 3600 + nb.tm_min * 60 + nb.tm_sec);
        /* a NotAfter in the past is refused */
        X509 *y = NULL;
        struct x509_profile old = { .cn = "old", .not_after = 1000 };
        ASSERT_EQ(x509_issue(&old, leaf_key, NULL, NULL, &y), -EINVAL);
}

static void test_genkeys(void)
{
        EVP_PKEY *keys[5];

        /* more keys than threads, and more threads than keys */
        ASSERT_OK(x509_genkeys(keys, 5, 2));
        for (int i = 0; i < 5; i++) {
                ASSERT_TRUE(keys[i] != NULL);
                ASSERT_EQ(EVP_PKEY_get_bits(keys[i]), 2048);
                ASSERT_EQ(EVP_PKEY_get_base_id(keys[i]), EVP_PKEY_RSA);
                for (int k = 0; k < i; k++)
                        ASSERT_TRUE(EVP_PKEY_eq(keys[i], keys[k]) != 1);
        }
        for (int i = 0; i < 5; i++)
                EVP_PKEY_free(keys[i]);
        ASSERT_OK(x509_genkeys(keys, 1, 8));
        ASSERT_TRUE(keys[0] != NULL);
        EVP_PKEY_free(keys[0]);
}

int main(void)
{
        if (x509_genkey(&ca_key) < 0 || x509_genkey(&leaf_key) < 0) {
                fprintf(stderr, "cannot generate keys: %s\n", err_msg(-EIO));
                return 1;
        }
        RUN(test_check_attr);
        RUN(test_sudi_not_after);
        RUN(test_key_id);
        RUN(test_issue_ca_and_leaf);
        RUN(test_write_pair_and_load);
        RUN(test_validity_years);
        RUN(test_genkeys);
        EVP_PKEY_free(ca_key);
        EVP_PKEY_free(leaf_key);
        return test_exit();
}
