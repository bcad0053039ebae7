#!/usr/bin/python3
# eventlog-digests.py LOG: the sha256 extends of a TCG crypto-agile event log
# (TCG PC Client Platform Firmware Profile, 10.2), one "PCR HEX TYPE OFFSET"
# line each (OFFSET: where the event's data start), in log order, for tests to replay into swtpm as firmware would. A test oracle
# written apart from trust's own parser (trust/formats/eventlog.c).
import struct
import sys

SIZES = {0x0004: 20, 0x000B: 32, 0x000C: 48, 0x000D: 64, 0x0012: 32}
EV_NO_ACTION = 3

data = open(sys.argv[1], "rb").read()
# the first event is in the SHA-1 format: pcr, type, sha1, size, data
(size,) = struct.unpack_from("<I", data, 28)
off = 32 + size
while off < len(data):
    pcr, etype, count = struct.unpack_from("<III", data, off)
    off += 12
    sha256 = None
    for _ in range(count):
        (alg,) = struct.unpack_from("<H", data, off)
        off += 2
        if alg == 0x000B:
            sha256 = data[off:off + 32].hex()
        off += SIZES[alg]
    (size,) = struct.unpack_from("<I", data, off)
    if etype != EV_NO_ACTION and sha256:
        print(pcr, sha256, "0x%08x" % etype, off + 4)
    off += 4 + size
