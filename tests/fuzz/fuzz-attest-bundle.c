/* fuzz-attest-bundle.c: libFuzzer target for what `trust attest verify`
 * reads from a machine: the bundle's JSON (json-flat.c, base64.c) and the TPM
 * structures inside it (attest.c: TPMT_PUBLIC, TPMS_ATTEST, TPMT_SIGNATURE).
 * Whatever parses must format and parse again to the same bundle. */
#include <stdlib.h>
#include <string.h>

#include "formats/attest.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
        return an == bn && (an == 0 || !memcmp(a, b, an));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct attest_bundle b = { 0 }, c = { 0 };
        struct attest_quote q;
        struct attest_ak ak;
        uint8_t r[32], s[32];
        char *text;

        /* the TPM structures, straight from the fuzzer's bytes too */
        (void)attest_quote_parse(data, size, &q);
        (void)attest_ak_parse(data, size, &ak);
        (void)attest_signature_parse(data, size, r, s);
        if (attest_bundle_parse(data, size, &b) < 0)
                return 0;
        (void)attest_quote_parse(b.quote, b.quote_len, &q);
        (void)attest_ak_parse(b.ak_public, b.ak_public_len, &ak);
        (void)attest_signature_parse(b.quote_sig, b.quote_sig_len, r, s);
        text = attest_bundle_format(&b);
        if (attest_bundle_parse((const uint8_t *)text, strlen(text), &c) < 0 ||
            !same(b.sudi_cert, b.sudi_cert_len, c.sudi_cert, c.sudi_cert_len) ||
            !same(b.ak_public, b.ak_public_len, c.ak_public, c.ak_public_len) ||
            !same(b.binding_sig, b.binding_sig_len, c.binding_sig, c.binding_sig_len) ||
            !same(b.quote, b.quote_len, c.quote, c.quote_len) ||
            !same(b.quote_sig, b.quote_sig_len, c.quote_sig, c.quote_sig_len) ||
            memcmp(b.pcrs, c.pcrs, sizeof(b.pcrs)) || !b.eventlog != !c.eventlog ||
            !same(b.eventlog, b.eventlog_len, c.eventlog, c.eventlog_len))
                abort();
        free(text);
        attest_bundle_done(&b);
        attest_bundle_done(&c);
        return 0;
}
