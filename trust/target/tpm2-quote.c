/* tpm2-quote.c: a quote of PCRs 0-7 (sha256 bank) by a fresh attestation key
 * (formats/attest.h says what the verifier expects of it). The AK is a
 * primary key of the null hierarchy: the owner and endorsement hierarchies
 * carry the admin password, which a production boot never holds (spec tpm.md,
 * provision), while the null hierarchy needs none and forgets its keys at the
 * next reboot. What ties the AK to this machine is the SUDI key's signature
 * over its public area (target/attest.c), not its hierarchy. */
#include "formats/attest.h"
#include "target/tpm2-internal.h"

static const TPM2B_PUBLIC ak_template = {
        .publicArea = {
                .type = TPM2_ALG_ECC,
                .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                    TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
                                    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT,
                .parameters.eccDetail = {
                        .symmetric.algorithm = TPM2_ALG_NULL,
                        .scheme = { .scheme = TPM2_ALG_ECDSA,
                                    .details.ecdsa.hashAlg = TPM2_ALG_SHA256 },
                        .curveID = TPM2_ECC_NIST_P256,
                        .kdf.scheme = TPM2_ALG_NULL,
                },
        },
};

static const TPML_PCR_SELECTION pcrs_0_7 = {
        .count = 1,
        .pcrSelections = { { .hash = TPM2_ALG_SHA256, .sizeofSelect = 3, .pcrSelect = { 0xff } } },
};

/* PCRs 0-7; the TPM may answer fewer than asked per PCR_Read (it says which). */
static int read_pcrs(struct tpm2 *t, uint8_t out[ATTEST_PCRS][32])
{
        unsigned want = (1u << ATTEST_PCRS) - 1;

        for (int round = 0; want && round < ATTEST_PCRS; round++) {
                TPML_PCR_SELECTION sel = pcrs_0_7, *sel_out = NULL;
                TPML_DIGEST *values = NULL;
                UINT32 counter;
                TSS2_RC rc;
                size_t k = 0;
                int r = 0;

                sel.pcrSelections[0].pcrSelect[0] = (uint8_t)want;
                rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel,
                                   &counter, &sel_out, &values);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm2_tss_err(rc, "PCR_Read of PCRs 0-7");
                for (uint32_t b = 0; b < sel_out->count && r == 0; b++) {
                        const TPMS_PCR_SELECTION *s = &sel_out->pcrSelections[b];

                        if (s->hash != TPM2_ALG_SHA256 || s->sizeofSelect < 1)
                                continue;
                        for (int i = 0; i < ATTEST_PCRS; i++) {
                                if (!(s->pcrSelect[0] & (1u << i)))
                                        continue;
                                if (k >= values->count || values->digests[k].size != 32) {
                                        r = errf(-EBADMSG, "PCR_Read of PCRs 0-7: the TPM "
                                                           "answered no sha256 value for PCR%d",
                                                 i);
                                        break;
                                }
                                memcpy(out[i], values->digests[k++].buffer, 32);
                                want &= ~(1u << i);
                        }
                }
                Esys_Free(sel_out);
                Esys_Free(values);
                if (r < 0)
                        return r;
        }
        if (want)
                return errf(-EBADMSG, "PCR_Read of PCRs 0-7: the TPM has no sha256 bank");
        return 0;
}

void tpm2_quote_done(struct tpm2_quote *q)
{
        if (!q)
                return;
        free(q->ak_public);
        free(q->attest);
        free(q->signature);
        *q = (struct tpm2_quote){ 0 };
}

/* One quote and the PCR values read after it. */
static int quote_once(struct tpm2 *t, ESYS_TR ak, const TPM2B_DATA *nonce, struct tpm2_quote *q)
{
        TPM2B_ATTEST *quoted = NULL;
        TPMT_SIGNATURE *sig = NULL;
        uint8_t buf[sizeof(TPMT_SIGNATURE)];
        size_t off = 0;
        TSS2_RC rc;
        int r;

        rc = Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, nonce,
                        &(TPMT_SIG_SCHEME){ .scheme = TPM2_ALG_NULL }, &pcrs_0_7, &quoted, &sig);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "Quote of PCRs 0-7");
        rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof(buf), &off);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "marshalling the quote's signature");
                goto out;
        }
        free(q->attest);
        free(q->signature);
        q->attest = xmalloc0(quoted->size);
        memcpy(q->attest, quoted->attestationData, quoted->size);
        q->attest_len = quoted->size;
        q->signature = xmalloc0(off);
        memcpy(q->signature, buf, off);
        q->signature_len = off;
        r = read_pcrs(t, q->pcrs);
out:
        Esys_Free(quoted);
        Esys_Free(sig);
        return r;
}

int tpm2_quote_pcrs(struct tpm2 *t, const uint8_t *nonce, size_t nonce_len, struct tpm2_quote *ret)
{
        struct tpm2_quote q = { 0 };
        TPM2B_PUBLIC *pub = NULL;
        TPM2B_DATA data = { .size = (UINT16)nonce_len };
        uint8_t buf[sizeof(TPMT_PUBLIC)];
        ESYS_TR ak = ESYS_TR_NONE;
        size_t off = 0;
        TSS2_RC rc;
        int r;

        if (nonce_len > sizeof(data.buffer))
                return errf(-EINVAL, "a nonce of %zu bytes does not fit a quote", nonce_len);
        memcpy(data.buffer, nonce, nonce_len);
        rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_NULL, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &(TPM2B_SENSITIVE_CREATE){}, &ak_template,
                                &(TPM2B_DATA){}, &(TPML_PCR_SELECTION){}, &ak, &pub, NULL, NULL,
                                NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm2_tss_err(rc, "CreatePrimary of the attestation key (null hierarchy)");
        rc = Tss2_MU_TPMT_PUBLIC_Marshal(&pub->publicArea, buf, sizeof(buf), &off);
        Esys_Free(pub);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "marshalling the attestation key's public area");
                goto out;
        }
        q.ak_public = xmalloc0(off);
        memcpy(q.ak_public, buf, off);
        q.ak_public_len = off;
        /* Something may extend a PCR between the quote and the read: the
         * values must be the ones the quote's digest covers. */
        for (int attempt = 0;; attempt++) {
                struct attest_quote parsed;
                uint8_t digest[32];

                r = quote_once(t, ak, &data, &q);
                if (r < 0)
                        goto out;
                r = attest_quote_parse(q.attest, q.attest_len, &parsed);
                if (r < 0) {
                        r = errf_prefix(r, "the TPM's quote");
                        goto out;
                }
                r = attest_pcr_digest(q.pcrs, digest);
                if (r < 0)
                        goto out;
                if (!memcmp(digest, parsed.pcr_digest, 32))
                        break;
                if (attempt == 2) {
                        r = errf(-EAGAIN, "PCRs 0-7 kept changing while they were quoted");
                        goto out;
                }
        }
        rc = Esys_FlushContext(t->esys, ak);
        ak = ESYS_TR_NONE;
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm2_tss_err(rc, "FlushContext of the attestation key");
                goto out;
        }
        *ret = q;
        return 0;
out:
        if (ak != ESYS_TR_NONE)
                (void)Esys_FlushContext(t->esys, ak);
        tpm2_quote_done(&q);
        return r;
}
