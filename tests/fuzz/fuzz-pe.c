/* fuzz-pe.c: libFuzzer target for the PE/COFF parser and what reads through
 * it: the Authenticode hash, the certificate table walker with PKCS#7
 * verification, UKI assembly on top of the input as a stub, and the bzImage
 * release string. The input is copied to an exact-size heap buffer so ASan
 * catches any read past it. */
#include <stdlib.h>

#include "formats/authenticode.h"
#include "formats/uki.h"
#include "base/endian.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *anchor;

static void init(void)
{
        EVP_PKEY *k = EVP_RSA_gen(2048);

        anchor = X509_new();
        if (!k || !anchor)
                abort();
        X509_NAME_add_entry_by_txt(X509_get_subject_name(anchor), "CN", MBSTRING_ASC,
                                   (const unsigned char *)"fuzz", -1, -1, 0);
        X509_set_issuer_name(anchor, X509_get_subject_name(anchor));
        X509_set_pubkey(anchor, k);
        X509_gmtime_adj(X509_getm_notBefore(anchor), 0);
        X509_gmtime_adj(X509_getm_notAfter(anchor), 3600);
        if (!X509_sign(anchor, k, EVP_sha256()))
                abort();
        EVP_PKEY_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const uint8_t payload[] = "fuzz payload";
        const struct uki_part parts[] = { { ".linux", payload, sizeof(payload) } };
        uint8_t *copy = malloc(size ? size : 1), *out;
        struct uki_image img;
        uint8_t digest[EVP_MAX_MD_SIZE];
        struct pe_image pe;
        unsigned n;
        size_t out_len;
        char *rel = NULL;

        if (!anchor)
                init();
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        if (pe_parse(copy, size, &pe) >= 0) {
                (void)authenticode_hash(&pe, EVP_sha256(), digest, &n);
                (void)authenticode_verify(copy, size, anchor);
                if (uki_build(copy, size, parts, 1, &img) >= 0) {
                        out = uki_image_flatten(&img);
                        out_len = uki_image_size(&img);
                        if (pe_parse(out, out_len, &pe) < 0 ||
                            le32(out + pe.checksum_offset) !=
                                    pe_checksum(out, out_len, pe.checksum_offset))
                                abort(); /* what we assemble must parse, checksum included */
                        free(out);
                        uki_image_done(&img);
                }
        }
        if (uki_kernel_release(copy, size, &rel) >= 0)
                free(rel);
        err_clear();
        free(copy);
        return 0;
}
