/* test-efi.c: the PE parser, Authenticode hash/sign/verify, UKI layout and
 * assembly, and the varstore writer on the committed fixtures, without QEMU. */
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "formats/authenticode.h"
#include "base/crypto.h"
#include "formats/efivars.h"
#include "harness.h"
#include "formats/pe.h"
#include "formats/uki.h"
#include "base/endian.h"
#include "base/util.h"

#define FIXTURES "tests/data/efi/"

static uint8_t *load(const char *path, size_t *len)
{
        uint8_t *buf = NULL;

        if (read_file(path, 1 << 26, &buf, len) < 0)
                return NULL;
        return buf;
}

static int make_identity(const char *cn, EVP_PKEY **key, X509 **cert)
{
        X509 *x = X509_new();
        EVP_PKEY *k = EVP_RSA_gen(2048);

        if (!x || !k)
                return -1;
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                   (const unsigned char *)cn, -1, -1, 0);
        X509_set_issuer_name(x, X509_get_subject_name(x));
        X509_set_pubkey(x, k);
        if (!X509_sign(x, k, EVP_sha256()))
                return -1;
        *key = k;
        *cert = x;
        return 0;
}

static void test_checksum_matches_linker(void)
{
        _cleanup_free_ uint8_t *stub = NULL;
        struct pe_image pe;
        size_t len;

        /* ld computed the stub's CheckSum: an independent known answer. */
        stub = load("/usr/lib/systemd/boot/efi/linuxx64.efi.stub", &len);
        if (!stub) {
                fprintf(stderr, "(no systemd stub, checksum known answer not checked)\n");
                return;
        }
        ASSERT_OK(pe_parse(stub, len, &pe));
        ASSERT_TRUE(le32(stub + pe.checksum_offset) != 0);
        ASSERT_EQ(pe_checksum(stub, len, pe.checksum_offset), le32(stub + pe.checksum_offset));
}

static void test_parse_mini(void)
{
        _cleanup_free_ uint8_t *img = NULL;
        struct pe_image pe;
        size_t len;

        img = load(FIXTURES "mini.efi", &len);
        ASSERT_TRUE(img);
        ASSERT_OK(pe_parse(img, len, &pe));
        ASSERT_EQ(pe.n_sections, 1);
        ASSERT_TRUE(pe.pe32plus);
        ASSERT_STREQ(pe.sections[0].name, ".text");
        ASSERT_EQ(pe.sections[0].pointer_to_raw_data, 0x200);
        ASSERT_EQ(pe.cert_size, 0);
        ASSERT_EQ(pe.raw_end, 0x400);
        ASSERT_TRUE(pe_find_section(&pe, ".text"));
        ASSERT_TRUE(!pe_find_section(&pe, ".linux"));
        /* every strict prefix is refused, never read past */
        for (size_t n = 0; n < len; n++) {
                uint8_t *copy = xmalloc0(n ? n : 1);

                memcpy(copy, img, n);
                ASSERT_EQ(pe_parse(copy, n, &pe), -EBADMSG);
                free(copy);
        }
}

static void test_hash_skips_checksum_and_certdir(void)
{
        _cleanup_free_ uint8_t *img = NULL;
        uint8_t h1[EVP_MAX_MD_SIZE], h2[EVP_MAX_MD_SIZE];
        unsigned n1, n2;
        struct pe_image pe;
        size_t len;

        img = load(FIXTURES "mini.efi", &len);
        ASSERT_TRUE(img);
        ASSERT_OK(pe_parse(img, len, &pe));
        ASSERT_OK(authenticode_hash(&pe, EVP_sha256(), h1, &n1));
        ASSERT_EQ(n1, 32);
        put_le32(img + pe.checksum_offset, 0x12345678);
        ASSERT_OK(authenticode_hash(&pe, EVP_sha256(), h2, &n2));
        ASSERT_MEMEQ(h1, h2, 32);
        img[0x210] ^= 1; /* section byte */
        ASSERT_OK(authenticode_hash(&pe, EVP_sha256(), h2, &n2));
        ASSERT_TRUE(memcmp(h1, h2, 32) != 0);
        img[0x210] ^= 1;
        img[0x3e] ^= 1; /* header byte */
        ASSERT_OK(authenticode_hash(&pe, EVP_sha256(), h2, &n2));
        ASSERT_TRUE(memcmp(h1, h2, 32) != 0);
}

static void test_sign_verify(void)
{
        _cleanup_free_ uint8_t *img = NULL, *signed_img = NULL, *resigned = NULL;
        struct signed_pe sp;
        EVP_PKEY *ka = NULL, *kb = NULL;
        X509 *ca = NULL, *cb = NULL;
        struct pe_image pe;
        size_t len, slen, rlen;

        img = load(FIXTURES "mini.efi", &len);
        ASSERT_TRUE(img);
        ASSERT_OK(make_identity("A", &ka, &ca));
        ASSERT_OK(make_identity("B", &kb, &cb));

        ASSERT_EQ(authenticode_verify(img, len, ca), -ENOKEY);
        ASSERT_OK(authenticode_sign(img, len, ka, ca, &sp));
        signed_img = signed_pe_flatten(&sp);
        slen = signed_pe_size(&sp);
        signed_pe_done(&sp);
        ASSERT_OK(pe_parse(signed_img, slen, &pe));
        ASSERT_EQ(pe.cert_offset, len);
        ASSERT_EQ(pe.cert_offset + pe.cert_size, slen);
        ASSERT_EQ(slen % 8, 0);
        ASSERT_EQ(le32(signed_img + pe.checksum_offset),
                  pe_checksum(signed_img, slen, pe.checksum_offset));
        ASSERT_OK(authenticode_verify(signed_img, slen, ca));
        ASSERT_EQ(authenticode_verify(signed_img, slen, cb), -EKEYREJECTED);

        /* re-signing replaces: B verifies, A no longer */
        ASSERT_OK(authenticode_sign(signed_img, slen, kb, cb, &sp));
        resigned = signed_pe_flatten(&sp);
        rlen = signed_pe_size(&sp);
        signed_pe_done(&sp);
        ASSERT_EQ(rlen, slen);
        ASSERT_OK(authenticode_verify(resigned, rlen, cb));
        ASSERT_EQ(authenticode_verify(resigned, rlen, ca), -EKEYREJECTED);

        signed_img[0x211] ^= 0x80;
        ASSERT_EQ(authenticode_verify(signed_img, slen, ca), -EKEYREJECTED);

        /* odd length: zero-padded to 8 before the table, checksum over all of it */
        img = realloc(img, len + 3);
        ASSERT_TRUE(img);
        memcpy(img + len, "odd", 3);
        ASSERT_OK(authenticode_sign(img, len + 3, ka, ca, &sp));
        ASSERT_EQ(sp.pad, 5);
        free(signed_img);
        signed_img = signed_pe_flatten(&sp);
        slen = signed_pe_size(&sp);
        signed_pe_done(&sp);
        ASSERT_OK(pe_parse(signed_img, slen, &pe));
        ASSERT_EQ(pe.cert_offset, len + 8);
        ASSERT_EQ(le32(signed_img + pe.checksum_offset),
                  pe_checksum(signed_img, slen, pe.checksum_offset));
        ASSERT_OK(authenticode_verify(signed_img, slen, ca));

        EVP_PKEY_free(ka);
        EVP_PKEY_free(kb);
        X509_free(ca);
        X509_free(cb);
}

static void test_uki_layout(void)
{
        _cleanup_free_ uint8_t *stub = NULL, *out = NULL;
        static const uint8_t a[5000] = { 1 }, b[10] = { 2 };
        const struct uki_part parts[] = { { ".linux", a, sizeof(a) }, { ".initrd", b, sizeof(b) } };
        const struct uki_part too_many[] = { { ".a", b, 1 }, { ".b", b, 1 }, { ".c", b, 1 }, { ".d", b, 1 } };
        const struct pe_section *s;
        struct pe_image pe;
        size_t len, olen;

        stub = load(FIXTURES "mini.efi", &len);
        ASSERT_TRUE(stub);
        struct uki_image img;

        ASSERT_OK(uki_build(stub, len, parts, 2, &img));
        out = uki_image_flatten(&img);
        olen = uki_image_size(&img);
        uki_image_done(&img);
        ASSERT_OK(pe_parse(out, olen, &pe));
        ASSERT_EQ(pe.n_sections, 3);
        s = pe_find_section(&pe, ".linux");
        ASSERT_TRUE(s);
        ASSERT_EQ(s->virtual_address, 0x2000); /* after SizeOfImage 0x2000 */
        ASSERT_EQ(s->virtual_size, sizeof(a));
        ASSERT_EQ(s->pointer_to_raw_data, 0x400);
        ASSERT_EQ(s->size_of_raw_data, 0x1400);
        ASSERT_MEMEQ(out + 0x400, a, sizeof(a));
        s = pe_find_section(&pe, ".initrd");
        ASSERT_TRUE(s);
        ASSERT_EQ(s->virtual_address, 0x4000); /* 0x2000 + 5000 rounded to 4 KiB */
        ASSERT_EQ(s->pointer_to_raw_data, 0x1800);
        ASSERT_EQ(pe.size_of_image, 0x5000);
        ASSERT_EQ(le32(out + pe.checksum_offset), pe_checksum(out, olen, pe.checksum_offset));
        /* mini.efi has room for three more section headers, not four */
        free(out);
        out = NULL;
        ASSERT_EQ(uki_build(stub, len, too_many, 4, &img), -ENOSPC);
        ASSERT_OK(uki_build(stub, len, too_many, 3, &img));
        out = uki_image_flatten(&img);
        olen = uki_image_size(&img);
        uki_image_done(&img);
        ASSERT_OK(pe_parse(out, olen, &pe));
        ASSERT_EQ(pe.n_sections, 4);
}

/* uki_assemble: several initrds become one .initrd, each but the last padded
 * to 4 bytes; one is used in place; errors name the input at fault. */
static void test_uki_assemble(void)
{
        _cleanup_free_ uint8_t *stub = NULL, *out = NULL;
        static const uint8_t kernel[3000] = { 7 };
        static const struct uki_input initrds[] = {
                { "i1", (const uint8_t *)"abcde", 5 },
                { "i2", (const uint8_t *)"fghijkl", 7 },
                { "i3", (const uint8_t *)"mn", 2 },
        };
        static const char want[] = "abcde\0\0\0fghijkl\0mn";
        struct uki_inputs in = { .kernel = { "vmlinuz", kernel, sizeof(kernel) },
                                 .initrds = initrds, .n_initrds = 3,
                                 .cmdline = { "cmdline", (const uint8_t *)"quiet", 5 } };
        struct uki_image img;
        const struct pe_section *s;
        struct pe_image pe;
        size_t len, olen;

        stub = load(FIXTURES "mini.efi", &len);
        ASSERT_TRUE(stub);
        in.stub = (struct uki_input){ "mini.efi", stub, len };
        ASSERT_OK(uki_assemble(&in, &img));
        ASSERT_EQ(img.n_parts, 3); /* .cmdline .linux .initrd: no release, no os-release */
        out = uki_image_flatten(&img);
        olen = uki_image_size(&img);
        uki_image_done(&img);
        ASSERT_OK(pe_parse(out, olen, &pe));
        s = pe_find_section(&pe, ".initrd");
        ASSERT_TRUE(s);
        ASSERT_EQ(s->virtual_size, sizeof(want) - 1);
        ASSERT_MEMEQ(out + s->pointer_to_raw_data, want, sizeof(want) - 1);
        s = pe_find_section(&pe, ".cmdline");
        ASSERT_TRUE(s);
        ASSERT_MEMEQ(out + s->pointer_to_raw_data, "quiet", 5);
        ASSERT_TRUE(pe_find_section(&pe, ".linux") && !pe_find_section(&pe, ".uname"));

        in.n_initrds = 1; /* one initrd: its own bytes, not a copy */
        ASSERT_OK(uki_assemble(&in, &img));
        ASSERT_TRUE(img.parts[2].data == initrds[0].data && img.parts[2].len == 5);
        ASSERT_TRUE(img.initrds == NULL);
        uki_image_done(&img);

        in.osrel = (struct uki_input){ "os-release", (const uint8_t *)"ID=debian\n", 10 };
        ASSERT_EQ(uki_assemble(&in, &img), -ENOSPC);
        ASSERT_STREQ(err_msg(-ENOSPC), "mini.efi: stub has no room for 4 more section headers");
        in.osrel.len = 0;
        in.kernel.len = 0;
        ASSERT_EQ(uki_assemble(&in, &img), -EINVAL);
        ASSERT_STREQ(err_msg(-EINVAL), "vmlinuz: empty file");
        in.kernel.len = sizeof(kernel);
        in.initrds = (const struct uki_input[]){ { "e1", kernel, 0 }, { "e2", kernel, 0 } };
        in.n_initrds = 2;
        ASSERT_EQ(uki_assemble(&in, &img), -EINVAL);
        ASSERT_STREQ(err_msg(-EINVAL), "the initrds are empty");
}

static void test_kernel_release(void)
{
        uint8_t k[0x1400] = { 0 };
        char *rel = NULL;

        ASSERT_EQ(uki_kernel_release(k, sizeof(k), &rel), -ENODATA);
        memcpy(k + 0x202, "HdrS", 4);
        put_le16(k + 0x206, 0x20f);
        put_le16(k + 0x20e, 0x1000);
        memcpy(k + 0x1200, "6.1.0-57-amd64 (debian)", 23);
        ASSERT_OK(uki_kernel_release(k, sizeof(k), &rel));
        ASSERT_STREQ(rel, "6.1.0-57-amd64");
        free(rel);
        put_le16(k + 0x20e, 0x2000); /* points past the end */
        ASSERT_EQ(uki_kernel_release(k, sizeof(k), &rel), -ENODATA);
}

static void test_varstore(void)
{
        _cleanup_free_ uint8_t *buf = NULL, *before = NULL;
        static const uint8_t data1[100] = { 1 }, data2[33] = { 2 }, big[20000] = { 3 };
        const struct efivar *v;
        struct varstore vs;
        size_t len, valid = 0;

        buf = load(FIXTURES "vars-small.fd", &len);
        ASSERT_TRUE(buf);
        ASSERT_OK(varstore_parse(buf, len, &vs));
        ASSERT_EQ(vs.n_vars, 0);
        ASSERT_EQ(vs.free_offset, 0x64);
        ASSERT_OK(varstore_set(&vs, &EFI_GLOBAL_VARIABLE_GUID, "PK", EFI_SECURE_BOOT_VAR_ATTRS, NULL, data1,
                               sizeof(data1)));
        ASSERT_EQ(vs.free_offset, 0x64 + 60 + 6 + 100 + 2); /* aligned to 4 */
        ASSERT_OK(varstore_set(&vs, &EFI_GLOBAL_VARIABLE_GUID, "PK", EFI_SECURE_BOOT_VAR_ATTRS, NULL, data2,
                               sizeof(data2)));
        ASSERT_EQ(vs.n_vars, 2);
        ASSERT_EQ(buf[0x66], 0x3c);
        for (size_t i = 0; i < vs.n_vars; i++)
                valid += vs.vars[i].valid;
        ASSERT_EQ(valid, 1);
        v = varstore_find(&vs, &EFI_GLOBAL_VARIABLE_GUID, "PK");
        ASSERT_TRUE(v);
        ASSERT_EQ(v->data_len, sizeof(data2));
        ASSERT_EQ(v->attributes, 0x27);
        ASSERT_MEMEQ(buf + v->data_offset, data2, sizeof(data2));
        ASSERT_TRUE(!varstore_find(&vs, &EFI_IMAGE_SECURITY_DB_GUID, "PK"));

        /* too large: -ENOSPC and not one byte changed */
        before = xmalloc0(len);
        memcpy(before, buf, len);
        ASSERT_EQ(varstore_set(&vs, &EFI_IMAGE_SECURITY_DB_GUID, "db", EFI_SECURE_BOOT_VAR_ATTRS,
                               NULL, big, sizeof(big)),
                  -ENOSPC);
        ASSERT_MEMEQ(before, buf, len);
        varstore_done(&vs);
}

int main(void)
{
        RUN(test_checksum_matches_linker);
        RUN(test_parse_mini);
        RUN(test_hash_skips_checksum_and_certdir);
        RUN(test_sign_verify);
        RUN(test_uki_layout);
        RUN(test_uki_assemble);
        RUN(test_kernel_release);
        RUN(test_varstore);
        return test_exit();
}
