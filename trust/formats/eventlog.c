/* eventlog.c: parsing and replaying crypto-agile TCG event logs (see
 * eventlog.h). Layout:
 *   first record, SHA-1 format: PCRIndex u32, EventType u32 (EV_NO_ACTION),
 *     Digest[20], EventSize u32, Event = TCG_EfiSpecIdEvent: Signature[16]
 *     "Spec ID Event03", platformClass u32, versions and uintnSize (4 bytes),
 *     numberOfAlgorithms u32, {algorithmId u16, digestSize u16}[n],
 *     vendorInfoSize u8, vendorInfo;
 *   then TCG_PCR_EVENT2: PCRIndex u32, EventType u32, count u32,
 *     {hashAlg u16, digest[size of that algorithm]}[count], EventSize u32,
 *     Event[EventSize]. */
#include "formats/eventlog.h"

#include "base/crypto.h"
#include "base/endian.h"
#include "base/util.h"

#define TPM2_ALG_SHA256 0x000b
#define MAX_ALGS 16
#define MAX_DIGEST 64

struct alg {
        uint16_t id, size;
};

static const struct {
        uint32_t type;
        const char *name;
} type_names[] = {
        { 0x00000000, "EV_PREBOOT_CERT" },
        { 0x00000001, "EV_POST_CODE" },
        { 0x00000003, "EV_NO_ACTION" },
        { 0x00000004, "EV_SEPARATOR" },
        { 0x00000005, "EV_ACTION" },
        { 0x00000006, "EV_EVENT_TAG" },
        { 0x00000007, "EV_S_CRTM_CONTENTS" },
        { 0x00000008, "EV_S_CRTM_VERSION" },
        { 0x00000009, "EV_CPU_MICROCODE" },
        { 0x0000000a, "EV_PLATFORM_CONFIG_FLAGS" },
        { 0x0000000b, "EV_TABLE_OF_DEVICES" },
        { 0x0000000c, "EV_COMPACT_HASH" },
        { 0x0000000d, "EV_IPL" },
        { 0x0000000e, "EV_IPL_PARTITION_DATA" },
        { 0x0000000f, "EV_NONHOST_CODE" },
        { 0x00000010, "EV_NONHOST_CONFIG" },
        { 0x00000011, "EV_NONHOST_INFO" },
        { 0x00000012, "EV_OMIT_BOOT_DEVICE_EVENTS" },
        { 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
        { 0x80000002, "EV_EFI_VARIABLE_BOOT" },
        { 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
        { 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" },
        { 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
        { 0x80000006, "EV_EFI_GPT_EVENT" },
        { 0x80000007, "EV_EFI_ACTION" },
        { 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
        { 0x80000009, "EV_EFI_HANDOFF_TABLES" },
        { 0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
        { 0x8000000b, "EV_EFI_HANDOFF_TABLES2" },
        { 0x8000000c, "EV_EFI_VARIABLE_BOOT2" },
        { 0x80000010, "EV_EFI_HCRTM_EVENT" },
        { 0x800000e0, "EV_EFI_VARIABLE_AUTHORITY" },
        { 0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB" },
        { 0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
};

const char *evlog_type_name(uint32_t type)
{
        for (size_t i = 0; i < ELEMENTSOF(type_names); i++)
                if (type_names[i].type == type)
                        return type_names[i].name;
        return NULL;
}

bool evlog_digest_is_of_data(uint32_t type)
{
        return type == EV_EFI_VARIABLE_DRIVER_CONFIG || type == EV_EFI_VARIABLE_AUTHORITY ||
               type == EV_SEPARATOR;
}

/* The Spec ID event: the digest sizes of every bank the log carries. */
static int parse_spec_id(const uint8_t *buf, size_t len, struct alg *algs, uint32_t *n_algs,
                         size_t *ret_end)
{
        static const char sig[16] = "Spec ID Event03";
        uint32_t event_size, n;
        const uint8_t *e;

        if (len < 32)
                return errf(-EBADMSG, "offset 0: truncated first event (%zu bytes)", len);
        if (le32(buf + 4) != EV_NO_ACTION)
                return errf(-EBADMSG, "offset 4: the first event is not EV_NO_ACTION: not a "
                                      "crypto-agile log (a SHA-1 only log is not supported)");
        event_size = le32(buf + 28);
        if (event_size > len - 32)
                return errf(-EBADMSG, "offset 28: the Spec ID event's size %u runs past the log",
                            event_size);
        e = buf + 32;
        if (event_size < 28 || memcmp(e, sig, sizeof(sig)) != 0)
                return errf(-EBADMSG, "offset 32: no \"Spec ID Event03\" signature");
        n = le32(e + 24);
        if (n == 0 || n > MAX_ALGS || 28 + (size_t)n * 4 + 1 > event_size)
                return errf(-EBADMSG, "offset 56: %u algorithms do not fit the Spec ID event", n);
        for (uint32_t i = 0; i < n; i++) {
                algs[i].id = le16(e + 28 + 4 * i);
                algs[i].size = le16(e + 30 + 4 * i);
                if (algs[i].size == 0 || algs[i].size > MAX_DIGEST)
                        return errf(-EBADMSG, "offset %zu: digest size %u", (size_t)(62 + 4 * i),
                                    algs[i].size);
                if (algs[i].id == TPM2_ALG_SHA256 && algs[i].size != 32)
                        return errf(-EBADMSG, "offset %zu: sha256 digest size %u",
                                    (size_t)(62 + 4 * i), algs[i].size);
        }
        *n_algs = n;
        *ret_end = 32 + event_size;
        return 0;
}

static int push(struct eventlog *l, size_t *cap, const struct evlog_event *e)
{
        if (l->n >= EVLOG_MAX_EVENTS)
                return errf(-EBADMSG, "offset %zu: more than %d events", e->offset,
                            EVLOG_MAX_EVENTS);
        if (l->n == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                l->events = realloc(l->events, *cap * sizeof(*l->events));
                if (!l->events)
                        abort();
        }
        l->events[l->n++] = *e;
        return 0;
}

int eventlog_parse(const uint8_t *buf, size_t len, struct eventlog *ret)
{
        struct eventlog l = {};
        struct alg algs[MAX_ALGS];
        uint32_t n_algs = 0;
        size_t off, cap = 0;
        bool have_sha256 = false;
        int r;

        *ret = (struct eventlog){};
        if (len > EVLOG_MAX)
                return errf(-EFBIG, "%zu bytes: larger than any event log", len);
        r = parse_spec_id(buf, len, algs, &n_algs, &off);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < n_algs; i++)
                have_sha256 |= algs[i].id == TPM2_ALG_SHA256;
        if (!have_sha256)
                return errf(-EOPNOTSUPP, "offset 60: the log has no sha256 bank");

        while (off < len) {
                struct evlog_event e = { .offset = off };
                size_t p = off;
                uint32_t count, size;

                if (len - p < 12) {
                        r = errf(-EBADMSG, "offset %zu: truncated event header", off);
                        goto fail;
                }
                e.pcr = le32(buf + p);
                e.type = le32(buf + p + 4);
                count = le32(buf + p + 8);
                p += 12;
                if (e.pcr >= EVLOG_PCRS) {
                        r = errf(-EBADMSG, "offset %zu: PCR index %u", off, e.pcr);
                        goto fail;
                }
                if (count > n_algs) {
                        r = errf(-EBADMSG, "offset %zu: %u digests, the log has %u banks", off,
                                 count, n_algs);
                        goto fail;
                }
                for (uint32_t d = 0; d < count; d++) {
                        uint16_t id;
                        const struct alg *a = NULL;

                        if (len - p < 2) {
                                r = errf(-EBADMSG, "offset %zu: truncated digest", p);
                                goto fail;
                        }
                        id = le16(buf + p);
                        for (uint32_t i = 0; i < n_algs; i++)
                                if (algs[i].id == id)
                                        a = &algs[i];
                        if (!a) {
                                r = errf(-EBADMSG, "offset %zu: digest of algorithm 0x%04x, "
                                                   "which the Spec ID event does not list",
                                         p, id);
                                goto fail;
                        }
                        if (len - p - 2 < a->size) {
                                r = errf(-EBADMSG, "offset %zu: truncated digest", p);
                                goto fail;
                        }
                        if (id == TPM2_ALG_SHA256) {
                                memcpy(e.sha256, buf + p + 2, 32);
                                e.has_sha256 = true;
                        }
                        p += 2 + (size_t)a->size;
                }
                if (len - p < 4) {
                        r = errf(-EBADMSG, "offset %zu: truncated event size", p);
                        goto fail;
                }
                size = le32(buf + p);
                p += 4;
                if (size > len - p) {
                        r = errf(-EBADMSG, "offset %zu: event data of %u bytes runs past the log",
                                 p - 4, size);
                        goto fail;
                }
                e.data = buf + p;
                e.len = size;
                if (e.type == EV_NO_ACTION && size >= 17 &&
                    !memcmp(e.data, "StartupLocality", 16))
                        l.locality = e.data[16];
                else if (e.type != EV_NO_ACTION && !e.has_sha256) {
                        r = errf(-EBADMSG, "offset %zu: event without a sha256 digest", off);
                        goto fail;
                }
                r = push(&l, &cap, &e);
                if (r < 0)
                        goto fail;
                off = p + size;
        }
        *ret = l;
        return 0;
fail:
        eventlog_done(&l);
        return r;
}

void eventlog_done(struct eventlog *l)
{
        free(l->events);
        *l = (struct eventlog){};
}

void eventlog_replay(const struct eventlog *l, uint8_t pcrs[EVLOG_PCRS][32],
                     bool used[EVLOG_PCRS])
{
        memset(pcrs, 0, EVLOG_PCRS * 32);
        memset(used, 0, EVLOG_PCRS * sizeof(bool));
        pcrs[0][31] = l->locality;
        for (size_t i = 0; i < l->n; i++) {
                const struct evlog_event *e = &l->events[i];
                uint8_t b[64];

                if (e->type == EV_NO_ACTION)
                        continue;
                memcpy(b, pcrs[e->pcr], 32);
                memcpy(b + 32, e->sha256, 32);
                (void)sha256(b, sizeof(b), pcrs[e->pcr]);
                used[e->pcr] = true;
        }
}

int evlog_var_parse(const uint8_t *data, size_t len, struct evlog_var *ret)
{
        uint64_t name_len, data_len;

        *ret = (struct evlog_var){};
        if (len < 32)
                return -EBADMSG;
        memcpy(ret->vendor.b, data, 16);
        name_len = le64(data + 16);
        data_len = le64(data + 24);
        if (name_len > 64 || name_len * 2 > len - 32 || data_len != len - 32 - name_len * 2)
                return -EBADMSG;
        for (uint64_t i = 0; i < name_len; i++) {
                uint16_t c = le16(data + 32 + 2 * i);

                ret->name[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        ret->data = data + 32 + name_len * 2;
        ret->len = (size_t)data_len;
        return 0;
}

bool evlog_data_matches_digest(const struct evlog_event *e)
{
        uint8_t d[32];

        if (!evlog_digest_is_of_data(e->type))
                return true;
        return e->has_sha256 && sha256(e->data, e->len, d) >= 0 && !memcmp(d, e->sha256, 32);
}
