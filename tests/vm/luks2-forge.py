#!/usr/bin/env python3
"""luks2-forge.py: what a disk-swap attacker does to a LUKS2 header that
cryptsetup itself will not write (tests only; python3 comes with mkosi).

  luks2-forge.py null IMG
      IMG: a LUKS2 volume made by `cryptsetup luksFormat`. Gives it a new
      volume key and makes every keyslot and the data segment cipher_null-ecb:
      the keyslot area then holds the AF-split volume key in clear, so any
      passphrase "decrypts" it and the digest matches; the data are plaintext
      (write the root after the header). cryptsetup 2.6 refuses to create a
      cipher_null keyslot (it swaps in aes-xts-plain64), hence this.
  luks2-forge.py encrypt IMG PASSFILE PAYLOAD
      Unlocks keyslot 0 of IMG (pbkdf2, aes-xts-plain64) with the passphrase
      in PASSFILE, checks the volume key against the header's digest (which
      proves the XTS code below matches the kernel's), then writes PAYLOAD
      into the data segment encrypted with that key: the attacker's own
      real-cipher volume holding a root, made without device-mapper.

LUKS2 layout: the on-disk format specification (LUKS2 "On-Disk Format
Specification", version 1.1.x): two binary headers of 4096 bytes each followed
by the JSON area, big-endian fields, checksum over header (checksum zeroed) +
JSON area; AF as in LUKS1 (section "AF-splitter" of the LUKS1 spec)."""
import base64
import ctypes
import hashlib
import json
import os
import struct
import sys

BIN = 4096
MAGIC = (b"LUKS\xba\xbe", b"SKUL\xba\xbe")
CSUM_OFF, CSUM_LEN = 448, 64


def die(msg):
    sys.exit("luks2-forge: " + msg)


def read_hdr(f, off):
    f.seek(off)
    b = f.read(BIN)
    if b[:6] not in MAGIC or struct.unpack(">H", b[6:8])[0] != 2:
        die("no LUKS2 header at %d" % off)
    size = struct.unpack(">Q", b[8:16])[0]
    alg = b[72:104].rstrip(b"\0").decode()
    if alg != "sha256" or size < BIN * 2 or size > 4 << 20:
        die("unexpected header (checksum %s, size %d)" % (alg, size))
    area = f.read(size - BIN)
    return bytearray(b), bytearray(area), size


def checksum(binhdr, area):
    h = bytearray(binhdr)
    h[CSUM_OFF:CSUM_OFF + CSUM_LEN] = bytes(CSUM_LEN)
    return hashlib.sha256(bytes(h) + bytes(area)).digest()


def load(f):
    binhdr, area, size = read_hdr(f, 0)
    want = bytes(binhdr[CSUM_OFF:CSUM_OFF + 32])
    if checksum(binhdr, area) != want:
        die("primary header checksum does not verify: layout misread")
    meta = json.loads(bytes(area).split(b"\0", 1)[0])
    second, _, _ = read_hdr(f, size)
    return (binhdr, second), meta, size


def store(f, binhdrs, meta, size):
    text = json.dumps(meta, separators=(",", ":")).encode()
    if len(text) >= size - BIN:
        die("JSON too large")
    area = text + bytes(size - BIN - len(text))
    seqid = struct.unpack(">Q", binhdrs[0][16:24])[0] + 1
    for i, off in enumerate((0, size)):
        h = bytearray(binhdrs[i])  # each copy keeps its own salt
        h[0:6] = MAGIC[i]
        h[16:24] = struct.pack(">Q", seqid)
        h[256:264] = struct.pack(">Q", off)
        h[CSUM_OFF:CSUM_OFF + CSUM_LEN] = bytes(CSUM_LEN)
        h[CSUM_OFF:CSUM_OFF + 32] = checksum(h, area)
        f.seek(off)
        f.write(bytes(h) + area)


def diffuse(buf, hname):
    """AF diffusion: each digest-sized block i becomes H(be32(i) || block)."""
    ds = hashlib.new(hname).digest_size
    out = bytearray()
    for i in range(0, len(buf), ds):
        chunk = buf[i:i + ds]
        out += hashlib.new(hname, struct.pack(">I", i // ds) + chunk).digest()[:len(chunk)]
    return bytes(out)


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def af_split(key, stripes, hname):
    d = bytes(len(key))
    out = bytearray()
    for _ in range(stripes - 1):
        s = os.urandom(len(key))
        out += s
        d = diffuse(xor(d, s), hname)
    out += xor(d, key)
    return bytes(out)


def af_merge(material, keylen, stripes, hname):
    d = bytes(keylen)
    for i in range(stripes - 1):
        d = diffuse(xor(d, material[i * keylen:(i + 1) * keylen]), hname)
    return xor(d, material[(stripes - 1) * keylen:stripes * keylen])


def af_size(keylen, stripes):
    return (keylen * stripes + 511) // 512 * 512


def digest_of(vk, dg):
    salt = base64.b64decode(dg["salt"])
    want = base64.b64decode(dg["digest"])
    return hashlib.pbkdf2_hmac(dg["hash"], vk, salt, dg["iterations"], len(want))


class Xts:
    """AES-256-XTS through libcrypto, one data unit per call (dm-crypt's
    aes-xts-plain64: the tweak is the little-endian 64-bit sector number)."""

    def __init__(self, key, enc):
        lib = ctypes.CDLL("libcrypto.so.3")
        lib.EVP_CIPHER_CTX_new.restype = ctypes.c_void_p
        lib.EVP_aes_256_xts.restype = ctypes.c_void_p
        lib.EVP_CipherInit_ex.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                          ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
        lib.EVP_CipherUpdate.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                         ctypes.POINTER(ctypes.c_int), ctypes.c_char_p,
                                         ctypes.c_int]
        self.lib = lib
        self.ctx = lib.EVP_CIPHER_CTX_new()
        if len(key) != 64 or lib.EVP_CipherInit_ex(self.ctx, lib.EVP_aes_256_xts(), None, key,
                                                     None, 1 if enc else 0) != 1:
            die("libcrypto refused the AES-256-XTS key")

    def unit(self, data, sector):
        iv = struct.pack("<Q", sector) + bytes(8)
        out = ctypes.create_string_buffer(len(data))
        n = ctypes.c_int(0)
        if self.lib.EVP_CipherInit_ex(self.ctx, None, None, None, iv, -1) != 1 or \
                self.lib.EVP_CipherUpdate(self.ctx, out, ctypes.byref(n), data, len(data)) != 1:
            die("AES-XTS failed")
        return out.raw[:n.value]


def forge_null(path):
    with open(path, "r+b") as f:
        binhdr, meta, size = load(f)
        vk = None
        for name, ks in meta["keyslots"].items():
            if ks["type"] != "luks2" or ks["af"]["type"] != "luks1":
                die("keyslot %s: unexpected type" % name)
            if vk is None:
                vk = os.urandom(ks["key_size"])
            if ks["key_size"] != len(vk):
                die("keyslots with different key sizes")
            area = ks["area"]
            material = af_split(vk, ks["af"]["stripes"], ks["af"]["hash"])
            material += bytes(af_size(len(vk), ks["af"]["stripes"]) - len(material))
            if len(material) > int(area["size"]):
                die("keyslot %s: area too small" % name)
            area["encryption"] = "cipher_null-ecb"
            f.seek(int(area["offset"]))
            f.write(material)
        for seg in meta["segments"].values():
            seg["encryption"] = "cipher_null-ecb"
        for dg in meta["digests"].values():
            salt = os.urandom(32)
            dg["salt"] = base64.b64encode(salt).decode()
            dg["digest"] = base64.b64encode(
                hashlib.pbkdf2_hmac(dg["hash"], vk, salt, dg["iterations"],
                                    len(base64.b64decode(dg["digest"])))).decode()
        store(f, binhdr, meta, size)


def unlock(f, meta, passphrase):
    ks = meta["keyslots"]["0"]
    kdf, area = ks["kdf"], ks["area"]
    if kdf["type"] != "pbkdf2" or area["encryption"] != "aes-xts-plain64":
        die("keyslot 0: need pbkdf2 and aes-xts-plain64")
    derived = hashlib.pbkdf2_hmac(kdf["hash"], passphrase, base64.b64decode(kdf["salt"]),
                                  kdf["iterations"], area["key_size"])
    stripes, keylen = ks["af"]["stripes"], ks["key_size"]
    f.seek(int(area["offset"]))
    enc = f.read(af_size(keylen, stripes))
    xts = Xts(derived, False)
    material = b"".join(xts.unit(enc[i:i + 512], i // 512) for i in range(0, len(enc), 512))
    vk = af_merge(material, keylen, stripes, ks["af"]["hash"])
    for dg in meta["digests"].values():
        if "0" in dg["keyslots"] and digest_of(vk, dg) == base64.b64decode(dg["digest"]):
            return vk
    die("keyslot 0: the volume key does not match the digest (wrong passphrase or XTS code)")


def forge_encrypt(path, passfile, payload):
    with open(passfile, "rb") as p:
        passphrase = p.read()
    with open(path, "r+b") as f:
        _, meta, _ = load(f)
        vk = unlock(f, meta, passphrase)
        seg = meta["segments"]["0"]
        if seg["encryption"] != "aes-xts-plain64" or seg.get("integrity"):
            die("segment 0: need aes-xts-plain64 without integrity")
        unit, off, tweak = seg["sector_size"], int(seg["offset"]), int(seg["iv_tweak"])
        xts = Xts(vk, True)
        with open(payload, "rb") as src:
            data = src.read()
        data += bytes(-len(data) % unit)
        f.seek(off)
        for i in range(0, len(data), unit):
            # dm-crypt counts IVs in 512-byte sectors (no iv_large_sectors)
            f.write(xts.unit(data[i:i + unit], tweak + i // 512))


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "null":
        forge_null(a[1])
    elif len(a) == 4 and a[0] == "encrypt":
        forge_encrypt(a[1], a[2], a[3])
    else:
        die("usage: luks2-forge.py null IMG | encrypt IMG PASSFILE PAYLOAD")


main()
