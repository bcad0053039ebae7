/* test-esl.c: GUID text form, signature lists, UEFI_VARIABLE_DATA and the
 * strict info.json parser. */
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/crypto.h"
#include "formats/esl.h"
#include "harness.h"
#include "formats/pcr7data.h"
#include "base/util.h"

static void test_guid(void)
{
        efi_guid g;
        char s[37];

        ASSERT_OK(guid_parse("8be4df61-93ca-11d2-aa0d-00e098032b8c", &g));
        ASSERT_MEMEQ(g.b, EFI_GLOBAL_VARIABLE_GUID.b, 16);
        /* mixed-endian storage: first field little-endian */
        ASSERT_EQ(g.b[0], 0x61);
        ASSERT_EQ(g.b[3], 0x8b);
        ASSERT_EQ(g.b[4], 0xca);
        ASSERT_EQ(g.b[8], 0xaa);
        guid_format(&EFI_IMAGE_SECURITY_DB_GUID, s);
        ASSERT_STREQ(s, "d719b2cb-3d3a-4596-a3bc-dad00e67656f");
        ASSERT_OK(guid_parse("A5C059A1-94E4-4AA7-87B5-AB155C2BF072", &g));
        ASSERT_MEMEQ(g.b, EFI_CERT_X509_GUID.b, 16);
        ASSERT_EQ(guid_parse("8be4df61-93ca-11d2-aa0d-00e098032b8", &g), -EINVAL);
        ASSERT_EQ(guid_parse("8be4df61-93ca-11d2-aa0d-00e098032b8cc", &g), -EINVAL);
        ASSERT_EQ(guid_parse("8be4df6193ca-11d2-aa0d-00e098032b8c0", &g), -EINVAL);
        ASSERT_EQ(guid_parse("8be4df61-93ca-11d2-aa0d-00e098032b8g", &g), -EINVAL);
        ASSERT_EQ(guid_parse("", &g), -EINVAL);
}

static X509 *make_cert(int cn_len)
{
        EVP_PKEY *k = EVP_RSA_gen(2048);
        X509 *x = X509_new();
        char cn[64];

        memset(cn, 'a', sizeof(cn));
        cn[cn_len] = 0;
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, k);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                   (unsigned char *)cn, -1, -1, 0);
        X509_set_issuer_name(x, X509_get_subject_name(x));
        X509_sign(x, k, EVP_sha256());
        EVP_PKEY_free(k);
        return x;
}

struct walk_state {
        int n;
        size_t lens[4];
        efi_guid owners[4];
};

static int collect(const efi_guid *type, const efi_guid *owner, const uint8_t *data, size_t len,
                   void *userdata)
{
        struct walk_state *s = userdata;

        (void)data;
        if (memcmp(type->b, EFI_CERT_X509_GUID.b, 16) || s->n >= 4)
                return -EINVAL;
        s->owners[s->n] = *owner;
        s->lens[s->n++] = len;
        return 0;
}

static void test_esl(void)
{
        _cleanup_(X509_freep) X509 *a = make_cert(5), *b = make_cert(40);
        _cleanup_free_ uint8_t *buf = NULL;
        unsigned char *der = NULL;
        struct walk_state st = { 0 };
        efi_guid o1, o2;
        size_t len = 0;
        int der_len;

        ASSERT_OK(guid_parse("11111111-2222-3333-4444-555555555555", &o1));
        ASSERT_OK(guid_parse("66666666-7777-8888-9999-000000000000", &o2));
        ASSERT_OK(esl_append_cert(&buf, &len, &o1, a));
        ASSERT_OK(esl_append_cert(&buf, &len, &o2, b));
        der_len = i2d_X509(a, &der);
        OPENSSL_free(der);
        /* header: type, ListSize, HeaderSize 0, SignatureSize 16 + DER */
        ASSERT_MEMEQ(buf, EFI_CERT_X509_GUID.b, 16);
        ASSERT_EQ(buf[16] | buf[17] << 8, 28 + 16 + der_len);
        ASSERT_EQ(buf[20] | buf[21] << 8 | buf[22] << 16 | buf[23] << 24, 0);
        ASSERT_EQ(buf[24] | buf[25] << 8, 16 + der_len);
        ASSERT_MEMEQ(buf + 28, o1.b, 16);

        ASSERT_OK(esl_walk(buf, len, collect, &st));
        ASSERT_EQ(st.n, 2);
        ASSERT_EQ(st.lens[0], der_len);
        ASSERT_MEMEQ(st.owners[1].b, o2.b, 16);
        ASSERT_OK(esl_walk(NULL, 0, collect, &st));

        /* Every truncation is refused. */
        for (size_t cut = 1; cut < len; cut++)
                if (cut != (size_t)(28 + 16 + der_len))
                        ASSERT_EQ(esl_walk(buf, cut, NULL, NULL), -EBADMSG);
        /* Corrupted size fields. */
        buf[24] = (uint8_t)(buf[24] + 1); /* SignatureSize no longer divides */
        ASSERT_EQ(esl_walk(buf, len, NULL, NULL), -EBADMSG);
        buf[24] = (uint8_t)(buf[24] - 1);
        buf[20] = 0xff; /* HeaderSize beyond the list */
        ASSERT_EQ(esl_walk(buf, len, NULL, NULL), -EBADMSG);
        buf[20] = 0;
        buf[19] = 0xff; /* ListSize beyond the buffer */
        ASSERT_EQ(esl_walk(buf, len, NULL, NULL), -EBADMSG);
        buf[19] = 0;
        ASSERT_OK(esl_walk(buf, len, NULL, NULL));
}

static void test_sha256_list(void)
{
        uint8_t l[28 + 48] = { 0 };

        memcpy(l, EFI_CERT_SHA256_GUID.b, 16);
        l[16] = sizeof(l);
        l[24] = 48;
        ASSERT_OK(esl_walk(l, sizeof(l), NULL, NULL));
        l[16] = 28 + 47;
        l[24] = 47;
        ASSERT_EQ(esl_walk(l, 28 + 47, NULL, NULL), -EBADMSG);
}

static void test_variable_data(void)
{
        _cleanup_free_ uint8_t *v = NULL;
        const uint8_t one = 1;
        size_t n;

        ASSERT_OK(efi_variable_data(&EFI_GLOBAL_VARIABLE_GUID, "SecureBoot", &one, 1, &v, &n));
        ASSERT_EQ(n, 16 + 8 + 8 + 20 + 1);
        ASSERT_MEMEQ(v, EFI_GLOBAL_VARIABLE_GUID.b, 16);
        ASSERT_EQ(v[16], 10);
        ASSERT_EQ(v[24], 1);
        ASSERT_MEMEQ(v + 32, "S\0e\0c\0u\0r\0e\0B\0o\0o\0t\0", 20);
        ASSERT_EQ(v[52], 1);
        free(TAKE_PTR(v));
        ASSERT_OK(efi_variable_data(&EFI_IMAGE_SECURITY_DB_GUID, "dbx", NULL, 0, &v, &n));
        ASSERT_EQ(n, 16 + 8 + 8 + 6);
}

static int parse(const char *s, struct pcr7data_info *i)
{
        return pcr7data_info_parse((const uint8_t *)s, strlen(s), i);
}

static void test_info_json(void)
{
        struct pcr7data_info i = { 0 };
        _cleanup_free_ char *out = NULL;
        static const char *const bad[] = {
                "",
                "[]",
                "{",
                "{\"key\":\"a\",\"key_type\":\"tpm\"",
                "{\"key\":\"a\",\"key_type\":\"tpm\"}x",
                "{\"key\":\"a\",\"key_type\":\"tpm\",}",
                "{\"key\":\"a\",\"key\":\"b\",\"key_type\":\"tpm\"}",
                "{\"key\":1,\"key_type\":\"tpm\"}",
                "{\"key\":\"a\",\"key_type\":null}",
                "{\"key\":\"a\"}",
                "{\"key\":\"a\\q\",\"key_type\":\"tpm\"}",
                "{\"key\":\"a\\u0000\",\"key_type\":\"tpm\"}",
                "{\"key\":\"a\\ud800\",\"key_type\":\"tpm\"}",
                "{\"key\":\"a\\udc00\",\"key_type\":\"tpm\"}",
                "{\"key\":\"a\\u12\",\"key_type\":\"tpm\"}",
                "{\"key\":\"a\xc0\x80\",\"key_type\":\"tpm\"}",
                "{\"key\":\"a\xff\",\"key_type\":\"tpm\"}",
                "{\"key\":\"a\nb\",\"key_type\":\"tpm\"}",
                "{\"key\":\"a\",\"key_type\":\"tpm\",\"x\":{}}",
                "{\"key\" \"a\",\"key_type\":\"tpm\"}",
        };

        ASSERT_OK(parse(" {\"key\":\"dev\",\"key_type\":\"password\",\"est_date\":\"20220527\","
                        "\"comment\":\"q\\\"\\u00e9\\ud83d\\ude00\",\"extra\":\"x\"}\n",
                        &i));
        ASSERT_STREQ(i.key, "dev");
        ASSERT_STREQ(i.key_type, "password");
        ASSERT_STREQ(i.est_date, "20220527");
        ASSERT_STREQ(i.comment, "q\"\xc3\xa9\xf0\x9f\x98\x80");
        out = pcr7data_info_format(&i);
        ASSERT_STREQ(out, "{\"key\":\"dev\",\"key_type\":\"password\",\"est_date\":\"20220527\","
                          "\"comment\":\"q\\\"\xc3\xa9\xf0\x9f\x98\x80\"}\n");
        pcr7data_info_free(&i);
        ASSERT_OK(parse(out, &i));
        ASSERT_STREQ(i.comment, "q\"\xc3\xa9\xf0\x9f\x98\x80");
        pcr7data_info_free(&i);

        for (size_t k = 0; k < ELEMENTSOF(bad); k++) {
                int r = parse(bad[k], &i);
                if (r != -EBADMSG)
                        fprintf(stderr, "accepted: %s\n", bad[k]);
                ASSERT_EQ(r, -EBADMSG);
        }
}

int main(void)
{
        RUN(test_guid);
        RUN(test_esl);
        RUN(test_sha256_list);
        RUN(test_variable_data);
        RUN(test_info_json);
        return test_exit();
}
