#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write and read the small pcap files the tidepmd tests feed to net_pcap ports.

  pcap_tool.py write FILE COUNT SRC_MAC DST_MAC   COUNT 64-byte IPv4/UDP frames
  pcap_tool.py macs FILE                          one line per frame: "SRC DST LEN"
  pcap_tool.py count FILE                         frames in a pcap or pcapng file
"""
import struct
import sys


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def mac_str(b):
    return ":".join("%02x" % x for x in b)


def write(path, count, src, dst):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 50, 0, 0, 64, 17, 0,
                     bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]))
    udp = struct.pack("!HHHH", 9, 9, 30, 0)
    frame = mac_bytes(dst) + mac_bytes(src) + b"\x08\x00" + ip + udp
    frame += bytes(64 - len(frame))
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(count):
            f.write(struct.pack("<IIII", i, 0, len(frame), len(frame)))
            f.write(frame)


def macs(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        print(mac_str(frame[6:12]), mac_str(frame[0:6]), orig)
        off += 16 + incl


def count(path):
    """Frames in a pcap file, or enhanced/simple packet blocks in a pcapng file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return 0
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        bom = struct.unpack("<I", data[8:12])[0]
        endian = "<" if bom == 0x1A2B3C4D else ">"
        n = off = 0
        while off + 12 <= len(data):
            kind, length = struct.unpack(endian + "II", data[off:off + 8])
            if length < 12:
                break
            n += kind in (3, 6)
            off += length
        return n
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    n, off = 0, 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        if off + 16 + incl > len(data):
            break
        n += 1
        off += 16 + incl
    return n


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif len(sys.argv) == 3 and sys.argv[1] == "macs":
        macs(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "count":
        print(count(sys.argv[2]))
    else:
        sys.exit(__doc__)
