/* efivars.c: read and write OVMF variable store files (see efivars.h).
 * Record layout, EDK2 AUTHENTICATED_VARIABLE_HEADER (60 bytes, packed):
 * StartId u16 0x55AA, State u8, Reserved u8, Attributes u32, MonotonicCount
 * u64, TimeStamp EFI_TIME (16), PubKeyIndex u32, NameSize u32, DataSize u32,
 * VendorGuid; then the UTF-16LE name with NUL and the data, unpadded; the
 * next header starts 4-byte aligned (HEADER_ALIGNMENT). Erased flash is 0xFF. */
#include "formats/efivars.h"

#include <stdio.h>

#include "base/endian.h"
#include "formats/pe.h" /* range_ok */
#include "base/utf8.h"
#include "base/util.h"

#define FV_SIGNATURE_OFFSET 0x28
#define FV_LENGTH_OFFSET 0x20
#define FV_HEADER_LENGTH_OFFSET 0x30
#define VS_HEADER_SIZE 28
#define VS_FORMATTED 0x5a
#define VS_HEALTHY 0xfe
#define VAR_HEADER_SIZE 60
#define VAR_START_ID 0x55aa
#define VAR_ADDED 0x3f
#define VAR_IN_DELETED_TRANSITION 0xfe
#define VAR_DELETED 0xfd
#define VAR_MAX_RECORDS 8192

/* gEfiAuthenticatedVariableGuid, and gEfiVariableGuid (no authentication) */
static const efi_guid auth_store_guid =
        GUID_INIT(0xaaf32c78, 0x947b, 0x439a, 0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92);
static const efi_guid plain_store_guid =
        GUID_INIT(0xddcf3616, 0x3275, 0x4164, 0x98, 0xb6, 0xfe, 0x85, 0x70, 0x7f, 0xfe, 0x7d);

static size_t align4(size_t n)
{
        return (n + 3) & ~(size_t)3;
}

/* UTF-16LE (NUL-terminated within len) to UTF-8; -EBADMSG if malformed. */
static int name_to_utf8(const uint8_t *p, size_t len, char *out, size_t out_size)
{
        size_t o = 0;

        if (len < 2 || len % 2)
                return -EBADMSG;
        for (size_t i = 0; i < len; i += 2) {
                uint32_t c = le16(p + i);
                char u[4];
                size_t n;

                if (c == 0)
                        return i + 2 == len ? 0 : -EBADMSG; /* NUL must be last */
                if (c >= 0xd800 && c < 0xe000)
                        c = '?'; /* a surrogate pair is shown, not decoded */
                n = utf8_encode(c, u);
                if (o + n >= out_size)
                        return -ENAMETOOLONG;
                memcpy(out + o, u, n);
                o += n;
                out[o] = 0;
        }
        return -EBADMSG; /* no NUL */
}

static int parse_records(struct varstore *vs);

int varstore_parse(uint8_t *buf, size_t size, struct varstore *vs)
{
        uint64_t fv_length;
        uint32_t store_size;
        size_t hdr;
        int r;

        memset(vs, 0, sizeof(*vs));
        vs->buf = buf;
        vs->size = size;

        if (size < FV_HEADER_LENGTH_OFFSET + 2)
                return errf(-EBADMSG, "truncated firmware volume header (%zu bytes)", size);
        if (memcmp(buf + FV_SIGNATURE_OFFSET, "_FVH", 4) != 0)
                return errf(-EBADMSG, "no firmware volume signature, not an OVMF vars file");
        fv_length = le64(buf + FV_LENGTH_OFFSET);
        hdr = le16(buf + FV_HEADER_LENGTH_OFFSET);
        if (fv_length > size)
                return errf(-EBADMSG, "firmware volume length 0x%llx exceeds the file (0x%zx bytes)",
                            (unsigned long long)fv_length, size);
        if (hdr < FV_HEADER_LENGTH_OFFSET + 2 || !range_ok(hdr, VS_HEADER_SIZE, fv_length))
                return errf(-EBADMSG, "truncated variable store header");
        if (!memcmp(buf + hdr, plain_store_guid.b, 16))
                return errf(-EOPNOTSUPP, "variable store without authenticated variables (not a Secure Boot vars file)");
        if (memcmp(buf + hdr, auth_store_guid.b, 16) != 0)
                return errf(-EBADMSG, "unknown variable store GUID at 0x%zx", hdr);
        store_size = le32(buf + hdr + 16);
        if (buf[hdr + 20] != VS_FORMATTED || buf[hdr + 21] != VS_HEALTHY)
                return errf(-EBADMSG, "variable store is not formatted and healthy");
        if (store_size < VS_HEADER_SIZE || !range_ok(hdr, store_size, fv_length))
                return errf(-EBADMSG, "variable store size 0x%x exceeds the firmware volume",
                            store_size);
        vs->store_offset = hdr;
        vs->store_end = hdr + store_size;

        r = parse_records(vs);
        if (r < 0)
                varstore_done(vs);
        return r;
}

static int parse_records(struct varstore *vs)
{
        uint8_t *buf = vs->buf;
        size_t off, cap = 0;

        off = align4(vs->store_offset + VS_HEADER_SIZE);
        for (;;) {
                struct efivar *v;
                uint32_t name_size, data_size;
                uint16_t start;
                int r;

                if (off + VAR_HEADER_SIZE > vs->store_end) /* no room for another header */
                        break;
                start = le16(buf + off);
                if (start == 0xffff)
                        break;
                if (start != VAR_START_ID)
                        return errf(-EBADMSG, "corrupt variable record at 0x%zx", off);
                if (vs->n_vars >= VAR_MAX_RECORDS)
                        return errf(-EBADMSG, "more than %d variable records", VAR_MAX_RECORDS);
                name_size = le32(buf + off + 36);
                data_size = le32(buf + off + 40);
                if (!range_ok(off + VAR_HEADER_SIZE, (uint64_t)name_size + data_size,
                              vs->store_end))
                        return errf(-EBADMSG, "variable record at 0x%zx runs past the store", off);

                if (vs->n_vars == cap) {
                        cap = cap ? cap * 2 : 16;
                        vs->vars = realloc(vs->vars, cap * sizeof(*vs->vars));
                        if (!vs->vars)
                                abort();
                }
                v = &vs->vars[vs->n_vars];
                memset(v, 0, sizeof(*v));
                v->offset = off;
                v->state = buf[off + 2];
                v->valid = v->state == VAR_ADDED ||
                           v->state == (VAR_ADDED & VAR_IN_DELETED_TRANSITION);
                v->attributes = le32(buf + off + 4);
                memcpy(v->timestamp, buf + off + 16, sizeof(v->timestamp));
                memcpy(v->vendor.b, buf + off + 44, 16);
                r = name_to_utf8(buf + off + VAR_HEADER_SIZE, name_size, v->name, sizeof(v->name));
                if (r < 0)
                        return errf(-EBADMSG, "variable record at 0x%zx has a bad name", off);
                v->data_offset = off + VAR_HEADER_SIZE + name_size;
                v->data_len = data_size;
                vs->n_vars++;
                off = align4(v->data_offset + data_size);
        }
        vs->free_offset = off;
        return 0;
}

void varstore_done(struct varstore *vs)
{
        free(vs->vars);
        vs->vars = NULL;
        vs->n_vars = 0;
}

const struct efivar *varstore_find(const struct varstore *vs, const efi_guid *vendor,
                                   const char *name)
{
        for (size_t i = 0; i < vs->n_vars; i++)
                if (vs->vars[i].valid && !memcmp(vs->vars[i].vendor.b, vendor->b, 16) &&
                    !strcmp(vs->vars[i].name, name))
                        return &vs->vars[i];
        return NULL;
}

/* Deleted after a completed transition: both state bits cleared. */
static int mark_deleted(struct varstore *vs, const efi_guid *vendor, const char *name)
{
        int n = 0;

        for (size_t i = 0; i < vs->n_vars; i++) {
                struct efivar *v = &vs->vars[i];

                if (v->valid && !memcmp(v->vendor.b, vendor->b, 16) && !strcmp(v->name, name)) {
                        vs->buf[v->offset + 2] = v->state & VAR_DELETED & VAR_IN_DELETED_TRANSITION;
                        v->state = vs->buf[v->offset + 2];
                        v->valid = false;
                        n++;
                }
        }
        return n;
}

int varstore_delete(struct varstore *vs, const efi_guid *vendor, const char *name)
{
        return mark_deleted(vs, vendor, name);
}

int varstore_set(struct varstore *vs, const efi_guid *vendor, const char *name, uint32_t attributes,
                 const uint8_t *timestamp, const uint8_t *data, size_t len)
{
        size_t name_len = strlen(name), name_size, rec, off = vs->free_offset;
        uint8_t *h;
        int r;

        if (name_len == 0 || name_len > EFIVAR_NAME_MAX)
                return errf(-EINVAL, "bad variable name");
        for (size_t i = 0; i < name_len; i++)
                if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x7f)
                        return errf(-EINVAL, "variable name '%s' is not printable ASCII", name);
        name_size = 2 * (name_len + 1);
        if (len > UINT32_MAX - name_size)
                return errf(-EFBIG, "variable %s is too large", name);
        rec = VAR_HEADER_SIZE + name_size + len;

        /* Never write past the store, and only over erased (0xFF) space. */
        if (!range_ok(off, rec, vs->store_end))
                return errf(-ENOSPC, "variable store full: %s needs %zu bytes, %zu free", name, rec,
                            vs->store_end > off ? vs->store_end - off : 0);
        for (size_t i = off; i < off + rec; i++)
                if (vs->buf[i] != 0xff)
                        return errf(-EBADMSG, "variable store free space at 0x%zx is not erased", i);

        h = vs->buf + off;
        memset(h, 0, VAR_HEADER_SIZE);
        put_le16(h, VAR_START_ID);
        h[2] = VAR_ADDED;
        put_le32(h + 4, attributes);
        /* MonotonicCount, PubKeyIndex: zero */
        if (timestamp)
                memcpy(h + 16, timestamp, 16);
        put_le32(h + 36, (uint32_t)name_size);
        put_le32(h + 40, (uint32_t)len);
        memcpy(h + 44, vendor->b, 16);
        for (size_t i = 0; i <= name_len; i++)
                put_le16(h + VAR_HEADER_SIZE + 2 * i, (uint16_t)(i < name_len ? name[i] : 0));
        if (len)
                memcpy(h + VAR_HEADER_SIZE + name_size, data, len);

        /* The older copy, if any, goes. */
        (void)mark_deleted(vs, vendor, name);

        varstore_done(vs);
        r = varstore_parse(vs->buf, vs->size, vs);
        if (r < 0)
                return errf_prefix(r, "variable store inconsistent after writing %s", name);
        return 0;
}

int varstore_sbvars(const struct varstore *vs, struct sbvar_value out[_SBVAR_MAX])
{
        for (int i = 0; i < _SBVAR_MAX; i++) {
                const struct efivar *v = varstore_find(vs, sbvar_vendor((enum sbvar)i),
                                                       sbvar_name((enum sbvar)i));
                struct sbvar_value *o = &out[i];

                *o = (struct sbvar_value){ .time_known = true };
                if (!v)
                        continue;
                o->exists = true;
                memcpy(o->timestamp, v->timestamp, sizeof(o->timestamp));
                o->len = v->data_len;
                o->data = xmalloc0(v->data_len + 1);
                memcpy(o->data, vs->buf + v->data_offset, v->data_len);
        }
        return 0;
}

int varstore_put_sbvar(struct varstore *vs, enum sbvar v, const struct sbvar_value *val)
{
        if (!val->exists) {
                (void)varstore_delete(vs, sbvar_vendor(v), sbvar_name(v));
                return 0;
        }
        return varstore_set(vs, sbvar_vendor(v), sbvar_name(v), EFI_SECURE_BOOT_VAR_ATTRS,
                            val->timestamp, val->data, val->len);
}
