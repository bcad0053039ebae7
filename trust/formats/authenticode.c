/* authenticode.c: Authenticode signing and verification of PE images with
 * OpenSSL (see authenticode.h). The image hash follows "Windows Authenticode
 * Portable Executable Signature Format" §"Calculating the PE Image Hash",
 * which is also what EDK2's DxeImageVerificationLib computes. */
#include "formats/authenticode.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "base/crypto.h"
#include "base/endian.h"

#define SPC_INDIRECT_DATA_OBJID "1.3.6.1.4.1.311.2.1.4"
#define SPC_PE_IMAGE_DATA_OBJID "1.3.6.1.4.1.311.2.1.15"
#define WIN_CERT_HEADER_SIZE 8
#define MAX_DER 0x100000 /* a signature table larger than 1 MiB is not ours */

DEFINE_CLEANUP(ASN1_OBJECT_freep, ASN1_OBJECT *, ASN1_OBJECT_free)

/* The digests an image may be hashed with; any other is refused by name. */
static const EVP_MD *strong_digest(int nid)
{
        switch (nid) {
        case NID_sha256:
                return EVP_sha256();
        case NID_sha384:
                return EVP_sha384();
        case NID_sha512:
                return EVP_sha512();
        default:
                return NULL;
        }
}

/* MD5 and SHA-1 admit chosen-prefix collisions: a second image (or signed
 * attribute set) with the digest of a signed one. Anything but a strong
 * digest is refused, by its name. */
static const char *weak_digest(int nid)
{
        const char *sn;

        if (strong_digest(nid))
                return NULL;
        sn = OBJ_nid2sn(nid);
        return sn ? sn : "unknown";
}

static size_t align8(size_t n)
{
        return (n + 7) & ~(size_t)7;
}

/* The hash of pe as if the file ended at `end` (excluding any certificate
 * table) followed by `pad` zero bytes. */
static int hash_pe(const struct pe_image *pe, const EVP_MD *md, size_t end, size_t pad, uint8_t *out,
                   unsigned *out_len)
{
        static const uint8_t zeros[8];
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        const uint8_t *d = pe->data;
        unsigned order[PE_MAX_SECTIONS], n = 0;
        uint64_t hashed;
        size_t after_sum;

        if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL))
                return openssl_errf(-ENOMEM, "cannot start digest");

        /* Headers, leaving out the CheckSum field and the certificate table
         * directory entry (pe_parse guarantees both lie inside SizeOfHeaders). */
        if (!EVP_DigestUpdate(ctx, d, pe->checksum_offset))
                return openssl_errf(-EIO, "digest failed");
        if (pe->certdir_offset) {
                if (!EVP_DigestUpdate(ctx, d + pe->checksum_offset + 4,
                                      pe->certdir_offset - pe->checksum_offset - 4) ||
                    !EVP_DigestUpdate(ctx, d + pe->certdir_offset + 8,
                                      pe->size_of_headers - pe->certdir_offset - 8))
                        return openssl_errf(-EIO, "digest failed");
        } else if (!EVP_DigestUpdate(ctx, d + pe->checksum_offset + 4,
                                     pe->size_of_headers - pe->checksum_offset - 4))
                return openssl_errf(-EIO, "digest failed");
        hashed = pe->size_of_headers;

        /* Sections with raw data, in ascending file offset order. */
        for (unsigned i = 0; i < pe->n_sections; i++) {
                unsigned j = n++;

                if (pe->sections[i].size_of_raw_data == 0) {
                        n--;
                        continue;
                }
                while (j > 0 && pe->sections[order[j - 1]].pointer_to_raw_data >
                                        pe->sections[i].pointer_to_raw_data) {
                        order[j] = order[j - 1];
                        j--;
                }
                order[j] = i;
        }
        for (unsigned k = 0; k < n; k++) {
                const struct pe_section *s = &pe->sections[order[k]];

                if (!EVP_DigestUpdate(ctx, d + s->pointer_to_raw_data, s->size_of_raw_data))
                        return openssl_errf(-EIO, "digest failed");
                hashed += s->size_of_raw_data;
        }

        /* Data after the sections (not the certificate table, which pe_parse
         * requires to be last) counts as well, from SUM_OF_BYTES_HASHED on. */
        /* Overlapping sections count bytes twice: SUM_OF_BYTES_HASHED then
         * exceeds the image, which firmware treats inconsistently; refuse. */
        if (hashed > end)
                return errf(-EBADMSG, "sections overlap (they hold more bytes than the image)");
        if (end > hashed) {
                after_sum = (size_t)(end - hashed);
                if (!EVP_DigestUpdate(ctx, d + hashed, after_sum) ||
                    (pad > 0 && !EVP_DigestUpdate(ctx, zeros, pad)))
                        return openssl_errf(-EIO, "digest failed");
        }

        if (!EVP_DigestFinal_ex(ctx, out, out_len))
                return openssl_errf(-EIO, "digest failed");
        return 0;
}

int authenticode_hash(const struct pe_image *pe, const EVP_MD *md, uint8_t *out, unsigned *out_len)
{
        return hash_pe(pe, md, pe->size - pe->cert_size, 0, out, out_len);
}

/* A tiny DER writer: appends tag || length || content to buf. */
static void der_put(uint8_t **buf, size_t *len, uint8_t tag, const uint8_t *content, size_t clen)
{
        uint8_t hdr[6];
        size_t h = 0;

        hdr[h++] = tag;
        if (clen < 0x80)
                hdr[h++] = (uint8_t)clen;
        else if (clen < 0x100) {
                hdr[h++] = 0x81;
                hdr[h++] = (uint8_t)clen;
        } else {
                hdr[h++] = 0x82; /* our structures stay below 64 KiB */
                hdr[h++] = (uint8_t)(clen >> 8);
                hdr[h++] = (uint8_t)clen;
        }
        *buf = realloc(*buf, *len + h + clen);
        if (!*buf)
                abort();
        memcpy(*buf + *len, hdr, h);
        memcpy(*buf + *len + h, content, clen);
        *len += h + clen;
}

/* Wraps the whole of *buf into one TLV with the given tag. */
static void der_wrap(uint8_t **buf, size_t *len, uint8_t tag)
{
        uint8_t *inner = *buf;
        size_t inner_len = *len;

        *buf = NULL;
        *len = 0;
        der_put(buf, len, tag, inner, inner_len);
        free(inner);
}

static int oid_der(const char *oid, uint8_t **buf, size_t *len)
{
        _cleanup_(ASN1_OBJECT_freep) ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
        unsigned char *der = NULL;
        int n;

        if (!o)
                return openssl_errf(-EINVAL, "bad OID %s", oid);
        n = i2d_ASN1_OBJECT(o, &der);
        if (n <= 0)
                return openssl_errf(-EINVAL, "cannot encode OID %s", oid);
        *buf = realloc(*buf, *len + (size_t)n);
        if (!*buf)
                abort();
        memcpy(*buf + *len, der, (size_t)n);
        *len += (size_t)n;
        OPENSSL_free(der);
        return 0;
}

/* SpcIndirectDataContent (Authenticode §"Authenticode-Specific Structures"):
 * SEQUENCE { SpcAttributeTypeAndOptionalValue { SPC_PE_IMAGE_DATAOBJ,
 * SpcPeImageData { flags, file "<<<Obsolete>>>" } }, DigestInfo }. */
static int build_idc(const EVP_MD *md, const uint8_t *digest, size_t digest_len, uint8_t **ret,
                     size_t *ret_len)
{
        static const char obsolete[] = "<<<Obsolete>>>";
        _cleanup_free_ uint8_t *attr = NULL, *peid = NULL, *link = NULL, *alg = NULL,
                               *dinfo = NULL, *idc = NULL;
        size_t attr_len = 0, peid_len = 0, link_len = 0, alg_len = 0, dinfo_len = 0, idc_len = 0;
        uint8_t bmp[2 * sizeof(obsolete)];
        static const uint8_t no_flags[] = { 0x00 };
        static const uint8_t null_der[] = { 0x05, 0x00 };
        char md_oid[64];
        int r;

        for (size_t i = 0; i < sizeof(obsolete) - 1; i++) {
                bmp[2 * i] = 0; /* BMPString: UTF-16 big-endian */
                bmp[2 * i + 1] = (uint8_t)obsolete[i];
        }
        der_put(&link, &link_len, 0x80, bmp, 2 * (sizeof(obsolete) - 1)); /* unicode [0] */
        der_wrap(&link, &link_len, 0xa2);                                 /* file [2] */
        der_put(&peid, &peid_len, 0x03, no_flags, sizeof(no_flags));      /* flags */
        der_put(&peid, &peid_len, 0xa0, link, link_len);                  /* file [0] */
        der_wrap(&peid, &peid_len, 0x30);

        r = oid_der(SPC_PE_IMAGE_DATA_OBJID, &attr, &attr_len);
        if (r < 0)
                return r;
        attr = realloc(attr, attr_len + peid_len);
        if (!attr)
                abort();
        memcpy(attr + attr_len, peid, peid_len);
        attr_len += peid_len;

        if (OBJ_obj2txt(md_oid, sizeof(md_oid), OBJ_nid2obj(EVP_MD_get_type(md)), 1) <= 0)
                return openssl_errf(-EINVAL, "digest has no OID");
        r = oid_der(md_oid, &alg, &alg_len);
        if (r < 0)
                return r;
        alg = realloc(alg, alg_len + sizeof(null_der));
        if (!alg)
                abort();
        memcpy(alg + alg_len, null_der, sizeof(null_der));
        alg_len += sizeof(null_der);
        der_put(&dinfo, &dinfo_len, 0x30, alg, alg_len);
        der_put(&dinfo, &dinfo_len, 0x04, digest, digest_len);
        der_wrap(&dinfo, &dinfo_len, 0x30);

        der_put(&idc, &idc_len, 0x30, attr, attr_len);
        idc = realloc(idc, idc_len + dinfo_len);
        if (!idc)
                abort();
        memcpy(idc + idc_len, dinfo, dinfo_len);
        idc_len += dinfo_len;
        der_wrap(&idc, &idc_len, 0x30);

        *ret = TAKE_PTR(idc);
        *ret_len = idc_len;
        return 0;
}

/* A tiny DER reader: the next TLV of [*p, *p + *len), advancing past it. */
static int der_next(const uint8_t **p, size_t *len, uint8_t *tag, const uint8_t **content,
                    size_t *clen)
{
        const uint8_t *q = *p;
        size_t left = *len, l;

        if (left < 2)
                return -EBADMSG;
        *tag = q[0];
        l = q[1];
        q += 2;
        left -= 2;
        if (l & 0x80) {
                unsigned nb = l & 0x7f;

                if (nb == 0 || nb > 4 || nb > left)
                        return -EBADMSG;
                l = 0;
                for (unsigned i = 0; i < nb; i++)
                        l = l << 8 | q[i];
                q += nb;
                left -= nb;
        }
        if (l > left)
                return -EBADMSG;
        *content = q;
        *clen = l;
        *p = q + l;
        *len = left - l;
        return 0;
}

/* The content octets of SpcIndirectDataContent (what messageDigest covers:
 * Authenticode hashes the value without its outer tag and length) and the
 * DigestInfo inside it; *nid is its digest algorithm, a digest OpenSSL
 * knows (by its provider name: no legacy name table needed). */
static int parse_idc(const uint8_t *idc, size_t idc_len, const uint8_t **body, size_t *body_len,
                     int *nid, const uint8_t **digest, size_t *digest_len)
{
        _cleanup_(EVP_MD_freep) EVP_MD *known = NULL;
        const char *sn;
        const uint8_t *p = idc, *c, *alg, *oid, *dinfo;
        size_t len = idc_len, clen, alg_len, oid_len, dinfo_len;
        _cleanup_(ASN1_OBJECT_freep) ASN1_OBJECT *o = NULL;
        const unsigned char *op;
        uint8_t tag;

        if (der_next(&p, &len, &tag, body, body_len) < 0 || tag != 0x30)
                return -EBADMSG;
        p = *body;
        len = *body_len;
        if (der_next(&p, &len, &tag, &c, &clen) < 0 || tag != 0x30) /* SpcAttributeType... */
                return -EBADMSG;
        if (der_next(&p, &len, &tag, &dinfo, &dinfo_len) < 0 || tag != 0x30) /* DigestInfo */
                return -EBADMSG;
        p = dinfo;
        len = dinfo_len;
        if (der_next(&p, &len, &tag, &alg, &alg_len) < 0 || tag != 0x30)
                return -EBADMSG;
        if (der_next(&p, &len, &tag, digest, digest_len) < 0 || tag != 0x04)
                return -EBADMSG;
        p = alg;
        len = alg_len;
        oid = p;
        if (der_next(&p, &len, &tag, &c, &clen) < 0 || tag != 0x06)
                return -EBADMSG;
        oid_len = (size_t)(p - oid);
        op = oid;
        o = d2i_ASN1_OBJECT(NULL, &op, (long)oid_len);
        if (!o)
                return -EBADMSG;
        *nid = OBJ_obj2nid(o);
        sn = OBJ_nid2sn(*nid);
        if (*nid == NID_undef || !sn)
                return -EOPNOTSUPP;
        if (strong_digest(*nid))
                return 0;
        known = EVP_MD_fetch(NULL, sn, NULL);
        ERR_clear_error();
        return known ? 0 : -EOPNOTSUPP;
}

int win_cert_walk(const uint8_t *table, size_t len, win_cert_fn fn, void *userdata)
{
        size_t off = 0;
        int r;

        while (off < len) {
                uint32_t dw_length;
                uint16_t revision, type;

                if (len - off < WIN_CERT_HEADER_SIZE)
                        return errf(-EBADMSG, "truncated WIN_CERTIFICATE at table offset %zu", off);
                dw_length = le32(table + off);
                revision = le16(table + off + 4);
                type = le16(table + off + 6);
                if (dw_length < WIN_CERT_HEADER_SIZE || dw_length > len - off)
                        return errf(-EBADMSG, "WIN_CERTIFICATE at table offset %zu has bad length %u",
                                    off, dw_length);
                if (revision == WIN_CERT_REVISION_2_0 && type == WIN_CERT_TYPE_PKCS_SIGNED_DATA) {
                        r = fn(table + off + WIN_CERT_HEADER_SIZE, dw_length - WIN_CERT_HEADER_SIZE,
                               userdata);
                        if (r != 0)
                                return r;
                }
                /* Entries are 8-byte aligned; dwLength excludes the padding. */
                if (align8(dw_length) > len - off)
                        break;
                off += align8(dw_length);
        }
        return 0;
}

static PKCS7 *make_signed_data(const uint8_t *idc, size_t idc_len, const uint8_t *body,
                               size_t body_len, EVP_PKEY *key, X509 *cert)
{
        _cleanup_(PKCS7_freep) PKCS7 *p7 = PKCS7_new(), *content = NULL;
        PKCS7_SIGNER_INFO *si;
        ASN1_STRING *s = NULL;
        ASN1_TYPE *t = NULL;
        BIO *bio;

        if (!p7 || !PKCS7_set_type(p7, NID_pkcs7_signed))
                return NULL;
        si = PKCS7_add_signature(p7, cert, key, EVP_sha256());
        if (!si)
                return NULL;
        if (!PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                        OBJ_txt2obj(SPC_INDIRECT_DATA_OBJID, 1)))
                return NULL;
        if (!PKCS7_add_certificate(p7, cert) || !PKCS7_content_new(p7, NID_pkcs7_data))
                return NULL;

        /* messageDigest covers the SpcIndirectDataContent's value octets. */
        bio = PKCS7_dataInit(p7, NULL);
        if (!bio)
                return NULL;
        if (BIO_write(bio, body, (int)body_len) != (int)body_len || !PKCS7_dataFinal(p7, bio)) {
                BIO_free_all(bio);
                return NULL;
        }
        BIO_free_all(bio);

        /* Then the content becomes the SpcIndirectDataContent itself. */
        content = PKCS7_new();
        s = ASN1_STRING_new();
        t = ASN1_TYPE_new();
        if (!content || !s || !t || !ASN1_STRING_set(s, idc, (int)idc_len)) {
                ASN1_STRING_free(s);
                ASN1_TYPE_free(t);
                return NULL;
        }
        ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
        content->type = OBJ_txt2obj(SPC_INDIRECT_DATA_OBJID, 1);
        content->d.other = t;
        if (!content->type || !PKCS7_set_content(p7, content))
                return NULL;
        content = NULL; /* owned by p7 now */
        return TAKE_PTR(p7);
}

int authenticode_sign(const uint8_t *image, size_t size, EVP_PKEY *key, X509 *cert,
                      struct signed_pe *ret)
{
        _cleanup_free_ uint8_t *idc = NULL, *headers = NULL, *table = NULL;
        _cleanup_(PKCS7_freep) PKCS7 *p7 = NULL;
        uint8_t digest[EVP_MAX_MD_SIZE];
        unsigned char *der = NULL;
        const uint8_t *body;
        size_t base, padded, idc_len = 0, body_len = 0, table_len;
        unsigned digest_len;
        struct pe_image pe;
        struct pe_csum csum = {};
        const uint8_t *d_unused;
        size_t dl_unused;
        int nid_unused;
        int r, n;

        r = pe_parse(image, size, &pe);
        if (r < 0)
                return r;
        if (!pe.certdir_offset)
                return errf(-EBADMSG, "image has no certificate table directory entry");

        /* Replace any existing signature: keep what precedes the table and
         * zero-pad it to 8 bytes (the padding is hashed, as sbsign does). */
        base = pe.cert_size ? pe.cert_offset : size;
        padded = align8(base);
        r = hash_pe(&pe, EVP_sha256(), base, padded - base, digest, &digest_len);
        if (r < 0)
                return r;

        r = build_idc(EVP_sha256(), digest, digest_len, &idc, &idc_len);
        if (r < 0)
                return r;
        r = parse_idc(idc, idc_len, &body, &body_len, &nid_unused, &d_unused, &dl_unused);
        if (r < 0)
                return errf(r, "cannot encode SpcIndirectDataContent");

        p7 = make_signed_data(idc, idc_len, body, body_len, key, cert);
        if (!p7)
                return openssl_errf(-EIO, "cannot create PKCS#7 signature");
        n = i2d_PKCS7(p7, &der);
        if (n <= 0)
                return openssl_errf(-EIO, "cannot encode PKCS#7 signature");

        table_len = align8(WIN_CERT_HEADER_SIZE + (size_t)n);
        if (padded + table_len > UINT32_MAX) {
                OPENSSL_free(der);
                return errf(-EFBIG, "signed image would exceed 4 GiB");
        }
        table = xmalloc0(table_len);
        put_le32(table, (uint32_t)(WIN_CERT_HEADER_SIZE + (size_t)n));
        put_le16(table + 4, WIN_CERT_REVISION_2_0);
        put_le16(table + 6, WIN_CERT_TYPE_PKCS_SIGNED_DATA);
        memcpy(table + WIN_CERT_HEADER_SIZE, der, (size_t)n);
        OPENSSL_free(der);

        /* Only the headers change (certificate directory, checksum): the rest
         * of the image is passed through without a copy. */
        headers = xmalloc0(pe.size_of_headers);
        memcpy(headers, image, pe.size_of_headers);
        put_le32(headers + pe.certdir_offset, (uint32_t)padded);
        put_le32(headers + pe.certdir_offset + 4, (uint32_t)table_len);
        put_le32(headers + pe.checksum_offset, 0);
        pe_csum_update(&csum, headers, pe.size_of_headers);
        pe_csum_update(&csum, image + pe.size_of_headers, base - pe.size_of_headers);
        csum.pos += padded - base; /* zeros add nothing but length */
        pe_csum_update(&csum, table, table_len);
        put_le32(headers + pe.checksum_offset, pe_csum_final(&csum));

        *ret = (struct signed_pe){
                .headers = TAKE_PTR(headers),
                .headers_len = pe.size_of_headers,
                .body = image + pe.size_of_headers,
                .body_len = base - pe.size_of_headers,
                .pad = padded - base,
                .table = TAKE_PTR(table),
                .table_len = table_len,
        };
        return 0;
}

void signed_pe_done(struct signed_pe *s)
{
        free(s->headers);
        free(s->table);
        *s = (struct signed_pe){};
}

size_t signed_pe_size(const struct signed_pe *s)
{
        return s->headers_len + s->body_len + s->pad + s->table_len;
}

uint8_t *signed_pe_flatten(const struct signed_pe *s)
{
        uint8_t *out = xmalloc0(signed_pe_size(s)), *p = out;

        memcpy(p, s->headers, s->headers_len);
        p += s->headers_len;
        memcpy(p, s->body, s->body_len);
        p += s->body_len + s->pad;
        memcpy(p, s->table, s->table_len);
        return out;
}

struct verify_ctx {
        const struct pe_image *pe;
        X509 *cert;
        X509_STORE *store;
        unsigned n_signatures;
        bool digest_mismatch;
        bool signer_ok;
        char reason[256];
        char weak[64]; /* "signature N: SHA1", the first weak digest met */
};

static int verify_one(const uint8_t *blob, size_t len, void *userdata)
{
        struct verify_ctx *v = userdata;
        _cleanup_(PKCS7_freep) PKCS7 *p7 = NULL;
        _cleanup_(BIO_freep) BIO *in = NULL;
        STACK_OF(X509) *extra = NULL;
        const unsigned char *p = blob;
        const uint8_t *body, *digest;
        size_t body_len, digest_len;
        uint8_t hash[EVP_MAX_MD_SIZE];
        unsigned hash_len;
        const EVP_MD *md;
        PKCS7 *content;
        int nid;
        ASN1_TYPE *t;
        char oid[64];
        int r, ok;

        v->n_signatures++;
        if (len > MAX_DER)
                return errf(-EBADMSG, "signature of %zu bytes is too large", len);
        p7 = d2i_PKCS7(NULL, &p, (long)len);
        if (!p7 || !PKCS7_type_is_signed(p7) || !p7->d.sign || !p7->d.sign->contents) {
                ERR_clear_error();
                return errf(-EBADMSG, "signature %u is not a PKCS#7 SignedData", v->n_signatures);
        }
        content = p7->d.sign->contents;
        if (!content->type || OBJ_obj2txt(oid, sizeof(oid), content->type, 1) <= 0 ||
            strcmp(oid, SPC_INDIRECT_DATA_OBJID) != 0)
                return errf(-EBADMSG, "signature %u does not hold SpcIndirectDataContent",
                            v->n_signatures);
        t = content->d.other;
        if (!t || t->type != V_ASN1_SEQUENCE || !t->value.sequence)
                return errf(-EBADMSG, "signature %u: malformed SpcIndirectDataContent",
                            v->n_signatures);
        r = parse_idc(t->value.sequence->data, (size_t)t->value.sequence->length, &body,
                      &body_len, &nid, &digest, &digest_len);
        if (r == -EOPNOTSUPP)
                return errf(r, "signature %u uses an unsupported digest", v->n_signatures);
        if (r < 0)
                return errf(-EBADMSG, "signature %u: malformed SpcIndirectDataContent",
                            v->n_signatures);
        {
                STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(p7);
                const char *weak = weak_digest(nid);
                X509_ALGOR *dig;

                for (int k = 0; !weak && k < sk_PKCS7_SIGNER_INFO_num(sis); k++) {
                        PKCS7_SIGNER_INFO_get0_algs(sk_PKCS7_SIGNER_INFO_value(sis, k), NULL, &dig,
                                                    NULL);
                        weak = weak_digest(dig ? OBJ_obj2nid(dig->algorithm) : NID_undef);
                }
                if (weak) { /* skipped: another signature in the table may be strong */
                        if (!v->weak[0])
                                snprintf(v->weak, sizeof(v->weak), "signature %u: %s",
                                         v->n_signatures, weak);
                        return 0;
                }
        }

        /* The signature itself: signed by cert, or by a certificate cert issued. */
        in = BIO_new_mem_buf(body, (int)body_len);
        extra = sk_X509_new_null();
        if (!in || !extra || !sk_X509_push(extra, v->cert)) {
                sk_X509_free(extra);
                return -ENOMEM;
        }
        ok = PKCS7_verify(p7, extra, v->store, in, NULL, PKCS7_BINARY);
        sk_X509_free(extra);
        if (ok != 1) {
                unsigned long e = ERR_peek_last_error();

                if (e && !v->reason[0])
                        ERR_error_string_n(e, v->reason, sizeof(v->reason));
                ERR_clear_error();
                return 0; /* maybe another signature in the table is by cert */
        }
        v->signer_ok = true;

        md = strong_digest(nid); /* not weak: one of the three */
        if (!md)
                return -EOPNOTSUPP;
        r = authenticode_hash(v->pe, md, hash, &hash_len);
        if (r < 0)
                return r;
        if (hash_len != digest_len || CRYPTO_memcmp(hash, digest, hash_len) != 0) {
                v->digest_mismatch = true;
                return 0;
        }
        return 1; /* found */
}

int authenticode_verify(const uint8_t *image, size_t size, X509 *cert)
{
        _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
        struct verify_ctx v = { .cert = cert };
        struct pe_image pe;
        char subject[256];
        int r;

        r = pe_parse(image, size, &pe);
        if (r < 0)
                return r;
        if (pe.cert_size == 0)
                return errf(-ENOKEY, "image is not signed");

        /* Like the firmware: the given certificate is the trust anchor whether
         * or not it is self-signed, and neither time nor key usage purposes
         * are checked. */
        if (!store || !X509_STORE_add_cert(store, cert) ||
            !X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME) ||
            !X509_STORE_set_purpose(store, X509_PURPOSE_ANY))
                return openssl_errf(-ENOMEM, "cannot set up certificate store");
        v.pe = &pe;
        v.store = store;

        r = win_cert_walk(pe.data + pe.cert_offset, pe.cert_size, verify_one, &v);
        if (r < 0)
                return r;
        if (r > 0)
                return 0;
        if (v.n_signatures == 0)
                return errf(-ENOKEY, "certificate table holds no PKCS#7 signature");
        if (v.digest_mismatch)
                return errf(-EKEYREJECTED, "image digest does not match the signature (image modified after signing)");
        if (v.weak[0])
                return errf(-EKEYREJECTED, "%s digest refused (only SHA-256, SHA-384 and SHA-512 are accepted)",
                            v.weak);
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
        if (v.reason[0])
                return errf(-EKEYREJECTED, "no signature by %s (%s)", subject, v.reason);
        return errf(-EKEYREJECTED, "no signature by %s", subject);
}
