/* vm-prepare.c: a VM's TPM and disk prepared on the host (vm-prepare.h). */
#include "machine/vm-prepare.h"
#include "machine/qemu.h"
#include "machine/vmdir.h"
#include "formats/gpt.h"
#include "target/keyring.h"
#include "target/luks.h"
#include "target/osvol.h"
#include "target/runtime.h"
#include "base/process.h"
#include "base/secure.h"
#include "base/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#define ESP_TYPE_GUID "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define LINUX_TYPE_GUID "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
/* The OS volume's encryption sector: ext4's block, and 8x fewer IVs for the
 * guest's dm-crypt than 512 (the partitions are 1 MiB aligned). */
#define OS_SECTOR_SIZE 4096
#define TOOL_TIMEOUT_S 120

/* The production PCR7 the images were built for, as their finalize hook
 * wrote it (64 hex digits, a newline). */
static int read_pcr7(const char *images, uint8_t out[32])
{
        _cleanup_free_ char *path = path_join(images, "os/pcr7-production.txt");
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        r = read_file(path, 128, &buf, &len);
        if (r < 0)
                return r;
        len = text_chomp(buf, len);
        if (len != 64 || hex_decode((char *)buf, out, 32) < 0)
                return errf(-EBADMSG, "%s: not a PCR7 value (64 hex digits)", path);
        return 0;
}

int vm_prepare_tpm(const struct vm_prepare_args *a, struct secret *ret_sbf,
                   struct secret *ret_os)
{
        _cleanup_free_ char *tcti = NULL;
        uint8_t pcr7[32];
        pid_t pid = 0;
        int r;

        r = read_pcr7(a->images, pcr7);
        if (r < 0)
                return r;
        r = vm_swtpm_serve(a->dir, &pid, &tcti);
        if (r < 0)
                return r;
        r = runtime_provision_for(&(struct runtime_opts){ .tcti = tcti, .pcr7data = a->pcr7data },
                                  pcr7, a->sudi_cert, a->sudi_key, ret_sbf, ret_os);
        vm_swtpm_end(a->dir, &pid);
        return r < 0 ? errf_prefix(r, "the VM's TPM") : 0;
}

/* Copies len bytes of src from soff to dst at doff, skipping the holes of
 * src: the destination is a new sparse file, so a hole left there reads as
 * the zeros src holds. */
static int copy_extent(int src, const char *src_name, uint64_t soff, int dst,
                       const char *dst_name, uint64_t doff, uint64_t len)
{
        const size_t chunk = 1 << 20;
        _cleanup_free_ uint8_t *buf = xmalloc0(chunk);
        uint64_t pos = soff, end = soff + len;

        while (pos < end) {
                off_t data = lseek(src, (off_t)pos, SEEK_DATA), hole;

                if (data < 0 && errno == ENXIO)
                        break; /* only a hole up to the end */
                if (data < 0)
                        return errf(-errno, "%s: %s", src_name, strerror(errno));
                if ((uint64_t)data >= end)
                        break;
                hole = lseek(src, data, SEEK_HOLE);
                if (hole < 0)
                        return errf(-errno, "%s: %s", src_name, strerror(errno));
                pos = (uint64_t)data;
                while (pos < (uint64_t)hole && pos < end) {
                        uint64_t left = ((uint64_t)hole < end ? (uint64_t)hole : end) - pos;
                        size_t n = left < chunk ? (size_t)left : chunk;
                        ssize_t got = pread(src, buf, n, (off_t)pos);

                        if (got <= 0)
                                return errf(got < 0 ? -errno : -EIO, "%s: cannot read at %llu",
                                            src_name, (unsigned long long)pos);
                        if (pwrite(dst, buf, (size_t)got, (off_t)(doff + pos - soff)) != got)
                                return errf(-EIO, "%s: cannot write at %llu", dst_name,
                                            (unsigned long long)(doff + pos - soff));
                        pos += (uint64_t)got;
                }
        }
        return 0;
}

/* A sparse scratch file of `size` bytes in the state directory, where a
 * partition is made before it is copied into the disk (mkfs.ext4 and
 * libcryptsetup write from offset 0 of what they are given). */
static int scratch_file(const char *dir, const char *name, uint64_t size, char **ret)
{
        _cleanup_free_ char *path = path_join(dir, name);
        int r;

        (void)unlink(path);
        r = sparse_file_create(path, size, 0600);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(path);
        return 0;
}

/* Ends a scratch file whose making returned r: when that succeeded, copies
 * its first len bytes into the disk at doff; removes it either way. */
static int scratch_into(const char *scratch, int r, uint64_t len, int disk,
                        const char *disk_name, uint64_t doff)
{
        _cleanup_close_ int fd = -1;

        if (r >= 0) {
                fd = open(scratch, O_RDONLY | O_CLOEXEC);
                r = fd < 0 ? errf(-errno, "%s: %s", scratch, strerror(errno))
                           : copy_extent(fd, scratch, 0, disk, disk_name, doff, len);
        }
        (void)unlink(scratch);
        return r;
}

struct disk {
        const char *path;
        int fd;
        struct gpt_extent pbf, sbf, esp, os;
};

static int find_part(const char *dev, const char *type_guid, const char *what,
                     struct gpt_extent *ret)
{
        uint8_t type[16];
        uint32_t n;
        int r;

        r = gpt_guid_parse(type_guid, type);
        if (r >= 0)
                r = gpt_disk_find_type(dev, type, &n, ret);
        if (r == -ENOENT)
                return errf(r, "%s: no %s partition (type %s)", dev, what, type_guid);
        if (r < 0)
                return errf(r, "%s: cannot read its partition table: %s", dev, strerror(-r));
        return 0;
}

/* The four partitions as provision --disk and the installer leave them:
 * pbf and sbf where provision puts them, then the esp (the payload's size)
 * and the os volume over the rest. */
static int disk_partition(struct disk *d, uint64_t esp_size)
{
        _cleanup_free_ char *script = xasprintf(
                "label: gpt\n"
                "start=%llu, size=%llu, type=%s, name=pbf\n"
                "start=%llu, size=%llu, type=%s, name=sbf\n"
                "size=%llu, type=%s, name=esp\n"
                "type=%s, name=os\n",
                PBF_START / 512, PBF_SIZE / 512, PBF_TYPE_GUID, SBF_START / 512, SBF_SIZE / 512,
                SBF_TYPE_GUID, (unsigned long long)(esp_size / 512), ESP_TYPE_GUID,
                LINUX_TYPE_GUID);
        char *argv[] = { "sfdisk", "--quiet", (char *)d->path, NULL };
        const struct process_run o = { .input = script, .stdout_null = true, .last_line = true,
                                       .timeout_ms = TOOL_TIMEOUT_S * 1000 };
        int r;

        r = process_run(argv, &o);
        if (r < 0)
                return errf_prefix(r, "%s: partitioning", d->path);
        if ((r = find_part(d->path, PBF_TYPE_GUID, "pbf", &d->pbf)) < 0 ||
            (r = find_part(d->path, SBF_TYPE_GUID, "sbf", &d->sbf)) < 0 ||
            (r = find_part(d->path, ESP_TYPE_GUID, "esp", &d->esp)) < 0 ||
            (r = find_part(d->path, LINUX_TYPE_GUID, "os", &d->os)) < 0)
                return r;
        return 0;
}

/* pbf and sbf: made as provision --disk makes them (pbf_format,
 * sbf_format), here in scratch files. */
static int disk_pbf(const struct vm_prepare_args *a, struct disk *d)
{
        _cleanup_free_ char *img = NULL;
        int r;

        r = scratch_file(a->dir, "pbf.tmp", d->pbf.size, &img);
        if (r < 0)
                return r;
        r = pbf_format(img, a->pcr7data);
        return scratch_into(img, r, d->pbf.size, d->fd, d->path, d->pbf.offset);
}

static int disk_sbf(const struct vm_prepare_args *a, struct disk *d, const struct secret *sbf)
{
        _cleanup_free_ char *img = NULL;
        uint64_t off = 0;
        int r;

        r = scratch_file(a->dir, "sbf.tmp", d->sbf.size, &img);
        if (r < 0)
                return r;
        r = sbf_format(img, sbf, &off);
        return scratch_into(img, r, off, d->fd, d->path, d->sbf.offset);
}

/* os: LUKS2 as the installer makes it (label trust-os, a keyring token for
 * machine:luks), here with a volume key of our own, then the payload's root
 * written into it encrypted with that key. */
static int disk_os(const struct vm_prepare_args *a, struct disk *d, int payload,
                   const struct gpt_extent *root, const struct secret *os)
{
        _cleanup_free_ char *img = NULL;
        struct secret vk = {};
        uint64_t off = 0, len = root->size / OS_SECTOR_SIZE * OS_SECTOR_SIZE;
        int r;

        r = secret_alloc(&vk, LUKS_OS_KEY_SIZE);
        if (r >= 0)
                r = random_bytes(vk.data, vk.len);
        if (r >= 0)
                r = scratch_file(a->dir, "os.tmp", d->os.size, &img);
        if (r >= 0) {
                const struct luks_format_opts o = { .keyring_key = KEYRING_LUKS_DESCRIPTION,
                                                    .label = OSVOL_LABEL,
                                                    .volume_key = vk.data,
                                                    .sector_size = OS_SECTOR_SIZE };

                r = luks_format(img, os->data, os->len, &o, &off);
                /* libcryptsetup formats a device too small for any data (it
                 * only warns): its header would then end past the partition. */
                if (r >= 0 && off > d->os.size)
                        r = errf(-ENOSPC,
                                 "%s: too small: the os partition (%llu bytes) does not hold "
                                 "its LUKS2 header (%llu bytes)",
                                 d->path, (unsigned long long)d->os.size,
                                 (unsigned long long)off);
                r = scratch_into(img, r, off, d->fd, d->path, d->os.offset);
        }
        if (r >= 0 && d->os.size - off < len)
                r = errf(-ENOSPC, "%s: too small: the OS needs %llu bytes, the volume has %llu",
                         d->path, (unsigned long long)len,
                         (unsigned long long)(d->os.size - off));
        if (r >= 0)
                r = luks_encrypt_copy(&(struct luks_copy){ .src_fd = payload,
                                                           .src_off = root->offset,
                                                           .src_name = a->payload,
                                                           .dst_fd = d->fd,
                                                           .dst_off = d->os.offset + off,
                                                           .dst_name = d->path,
                                                           .len = len,
                                                           .sector_size = OS_SECTOR_SIZE },
                                      vk.data);
        secret_free(&vk);
        return r;
}

int vm_prepare_disk(const struct vm_prepare_args *a, const struct secret *sbf,
                    const struct secret *os)
{
        _cleanup_free_ char *path = path_join(a->dir, VM_OS_DISK);
        _cleanup_close_ int payload = -1, fd = -1;
        struct gpt_extent esp, root;
        struct disk d = { .path = path };
        int r;

        r = find_part(a->payload, ESP_TYPE_GUID, "trust-esp", &esp);
        if (r >= 0)
                r = find_part(a->payload, LINUX_TYPE_GUID, "trust-root", &root);
        if (r < 0)
                return r;
        payload = open(a->payload, O_RDONLY | O_CLOEXEC);
        if (payload < 0)
                return errf(-errno, "%s: %s", a->payload, strerror(errno));
        r = disk_partition(&d, esp.size);
        if (r < 0)
                return r;
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return errf(-errno, "%s: %s", path, strerror(errno));
        d.fd = fd;
        if (d.esp.size < esp.size)
                return errf(-ENOSPC, "%s: the esp partition is smaller than the payload's", path);
        r = disk_pbf(a, &d);
        if (r >= 0)
                r = disk_sbf(a, &d, sbf);
        if (r >= 0)
                r = copy_extent(payload, a->payload, esp.offset, fd, path, d.esp.offset, esp.size);
        if (r >= 0)
                r = disk_os(a, &d, payload, &root, os);
        if (r >= 0 && fsync(fd) < 0)
                r = errf(-errno, "%s: %s", path, strerror(errno));
        return r;
}
