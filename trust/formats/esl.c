/* esl.c: the well-known EFI GUIDs, EFI_SIGNATURE_LIST building and walking (UEFI 2.10
 * §32.4.1) and the UEFI_VARIABLE_DATA blob that firmware hashes into PCR7
 * (TCG PC Client PFP §10.4.4 / §10.2.6). The walker takes untrusted bytes
 * (a user's dbx file, a varstore) and checks every bound. */
#include "formats/esl.h"


#include "base/crypto.h"
#include "base/endian.h"
#include "base/util.h"

const efi_guid EFI_GLOBAL_VARIABLE_GUID =
        GUID_INIT(0x8be4df61, 0x93ca, 0x11d2, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c);
const efi_guid EFI_IMAGE_SECURITY_DB_GUID =
        GUID_INIT(0xd719b2cb, 0x3d3a, 0x4596, 0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f);
const efi_guid EFI_CERT_X509_GUID =
        GUID_INIT(0xa5c059a1, 0x94e4, 0x4aa7, 0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72);
const efi_guid EFI_CERT_SHA256_GUID =
        GUID_INIT(0xc1c41626, 0x504c, 0x4092, 0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28);

#define ESL_HEADER_SIZE 28 /* SignatureType, ListSize, HeaderSize, SignatureSize */
#define ESD_OWNER_SIZE 16
/* A list larger than any varstore is certainly not one we should build. */
#define ESL_MAX_DATA (1024 * 1024)

int esl_append_cert(uint8_t **buf, size_t *len, const efi_guid *owner, X509 *cert)
{
        unsigned char *der = NULL;
        size_t der_len, list_len;
        uint8_t *n, *p;
        int r;

        r = der_cert(cert, &der, &der_len);
        if (r < 0)
                return r;
        if (der_len > ESL_MAX_DATA) {
                OPENSSL_free(der);
                return errf(-EFBIG, "certificate of %zu bytes is too large for a signature list",
                            der_len);
        }
        list_len = ESL_HEADER_SIZE + ESD_OWNER_SIZE + der_len;
        n = realloc(*buf, *len + list_len);
        if (!n) {
                OPENSSL_free(der);
                return -ENOMEM;
        }
        p = n + *len;
        memcpy(p, EFI_CERT_X509_GUID.b, 16);
        put_le32(p + 16, (uint32_t)list_len);
        put_le32(p + 20, 0); /* SignatureHeaderSize: none for X509 */
        put_le32(p + 24, (uint32_t)(ESD_OWNER_SIZE + der_len));
        memcpy(p + ESL_HEADER_SIZE, owner->b, 16);
        memcpy(p + ESL_HEADER_SIZE + ESD_OWNER_SIZE, der, der_len);
        OPENSSL_free(der);
        *buf = n;
        *len += list_len;
        return 0;
}

void esl_append_sha256(uint8_t **buf, size_t *len, const efi_guid *owner, const uint8_t hash[32])
{
        const size_t list_len = ESL_HEADER_SIZE + ESD_OWNER_SIZE + 32;
        uint8_t *n = realloc(*buf, *len + list_len), *p;

        if (!n)
                abort();
        p = n + *len;
        memcpy(p, EFI_CERT_SHA256_GUID.b, 16);
        put_le32(p + 16, (uint32_t)list_len);
        put_le32(p + 20, 0);
        put_le32(p + 24, ESD_OWNER_SIZE + 32);
        memcpy(p + ESL_HEADER_SIZE, owner->b, 16);
        memcpy(p + ESL_HEADER_SIZE + ESD_OWNER_SIZE, hash, 32);
        *buf = n;
        *len += list_len;
}

int esl_walk(const uint8_t *buf, size_t len, esl_entry_fn fn, void *userdata)
{
        size_t off = 0, list_no = 0;

        if (!buf && len > 0)
                return -EINVAL;
        while (off < len) {
                const uint8_t *l = buf + off;
                size_t rest = len - off, list_size, header_size, sig_size, body;
                efi_guid type;

                if (rest < ESL_HEADER_SIZE)
                        return errf(-EBADMSG, "signature list %zu: truncated header (%zu bytes)",
                                    list_no, rest);
                memcpy(type.b, l, 16);
                list_size = le32(l + 16);
                header_size = le32(l + 20);
                sig_size = le32(l + 24);
                if (list_size > rest)
                        return errf(-EBADMSG, "signature list %zu: size %zu exceeds the %zu bytes left",
                                    list_no, list_size, rest);
                /* Both sizes are at most 2^32-1 here, so these sums cannot wrap a size_t. */
                if (list_size < ESL_HEADER_SIZE + header_size)
                        return errf(-EBADMSG, "signature list %zu: header size %zu does not fit",
                                    list_no, header_size);
                if (sig_size <= ESD_OWNER_SIZE)
                        return errf(-EBADMSG, "signature list %zu: signature size %zu too small",
                                    list_no, sig_size);
                body = list_size - ESL_HEADER_SIZE - header_size;
                if (body == 0 || body % sig_size != 0)
                        return errf(-EBADMSG,
                                    "signature list %zu: %zu bytes of entries are not a multiple "
                                    "of the signature size %zu",
                                    list_no, body, sig_size);
                if (!memcmp(type.b, EFI_CERT_SHA256_GUID.b, 16) &&
                    (header_size != 0 || sig_size != ESD_OWNER_SIZE + 32))
                        return errf(-EBADMSG, "signature list %zu: bad SHA-256 list geometry",
                                    list_no);
                if (!memcmp(type.b, EFI_CERT_X509_GUID.b, 16) && header_size != 0)
                        return errf(-EBADMSG, "signature list %zu: X509 list with a header",
                                    list_no);
                for (size_t e = 0; e < body / sig_size; e++) {
                        const uint8_t *s = l + ESL_HEADER_SIZE + header_size + e * sig_size;
                        efi_guid owner;
                        int r;

                        memcpy(owner.b, s, 16);
                        if (fn) {
                                r = fn(&type, &owner, s + ESD_OWNER_SIZE, sig_size - ESD_OWNER_SIZE,
                                       userdata);
                                if (r < 0)
                                        return r;
                        }
                }
                off += list_size;
                list_no++;
        }
        return 0;
}

struct holds {
        const efi_guid *type, *owner;
        const uint8_t *data;
        size_t len;
        bool found;
};

static int holds_entry(const efi_guid *type, const efi_guid *owner, const uint8_t *data, size_t len,
                       void *userdata)
{
        struct holds *h = userdata;

        if (!memcmp(type->b, h->type->b, 16) && (!h->owner || !memcmp(owner->b, h->owner->b, 16)) &&
            len == h->len && !memcmp(data, h->data, len))
                h->found = true;
        return 0;
}

bool esl_holds(const uint8_t *buf, size_t len, const efi_guid *type, const efi_guid *owner,
               const uint8_t *data, size_t data_len)
{
        struct holds h = { type, owner, data, data_len, false };

        (void)esl_walk(buf, len, holds_entry, &h);
        return h.found;
}

int efi_variable_data(const efi_guid *vendor, const char *name, const uint8_t *data, size_t len,
                      uint8_t **ret, size_t *ret_len)
{
        size_t name_len = strlen(name), total;
        uint8_t *b, *p;

        if (name_len == 0 || name_len > 256 || len > ESL_MAX_DATA * 64 || (!data && len))
                return -EINVAL;
        total = 16 + 8 + 8 + 2 * name_len + len;
        b = malloc(total);
        if (!b)
                return -ENOMEM;
        memcpy(b, vendor->b, 16);
        put_le64(b + 16, name_len); /* in UTF-16 code units, no NUL */
        put_le64(b + 24, len);
        p = b + 32;
        for (size_t i = 0; i < name_len; i++) {
                unsigned char c = (unsigned char)name[i];
                if (c >= 0x80) { /* variable names here are ASCII; UTF-16LE of ASCII is c, 0 */
                        free(b);
                        return -EINVAL;
                }
                *p++ = c;
                *p++ = 0;
        }
        if (len)
                memcpy(p, data, len);
        *ret = b;
        *ret_len = total;
        return 0;
}
