#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check that files are valid PNG images with something drawn in them.

  check_png.py FILE...

Valid: the signature, every chunk's CRC, an IHDR first and an IEND last, image data that
inflates to the size the header promises. Drawn: 8-bit RGB(A) pixels (what gnuplot's
pngcairo writes) in at least 4 colours, at least 1% of them off the background, and at
least 0.2% in colour (not grey): axes and labels alone are black and grey, data is not.
"""
import struct
import sys
import zlib


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def rows(raw, width, height, bpp):
    stride = width * bpp
    prev = bytearray(stride)
    pos = 0
    for _ in range(height):
        kind = raw[pos]
        line = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                line[i] = (line[i] + paeth(a, b, c)) & 0xFF
            elif kind != 0:
                raise ValueError("bad filter type %d" % kind)
        yield line
        prev = line


def check(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "not a PNG (bad signature)"
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            return "bad CRC in chunk %r" % kind
        chunks.append(kind)
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    if not chunks or chunks[0] != b"IHDR" or chunks[-1] != b"IEND" or not idat:
        return "chunks out of order or missing: %r" % chunks[:4]
    if depth != 8 or color not in (2, 6) or interlace:
        return "not 8-bit RGB(A) non-interlaced (depth %d, colour type %d)" % (depth, color)
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    if len(raw) != height * (1 + width * bpp):
        return "image data of %d bytes, want %d" % (len(raw), height * (1 + width * bpp))
    counts = {}
    for line in rows(raw, width, height, bpp):
        for i in range(0, len(line), bpp * 2):  # every other pixel is plenty
            px = bytes(line[i:i + 3])
            counts[px] = counts.get(px, 0) + 1
    total = sum(counts.values())
    background = max(counts.values())
    coloured = sum(n for px, n in counts.items() if max(px) - min(px) > 40)
    if len(counts) < 4 or (total - background) < total // 100:
        return "nothing drawn: %d colours, %d of %d pixels off the background" % (
            len(counts), total - background, total)
    if coloured < total // 500:
        return "no data drawn: %d of %d pixels in colour" % (coloured, total)
    return None


if __name__ == "__main__":
    bad = 0
    for f in sys.argv[1:]:
        why = check(f)
        print("%s: %s" % (f, why or "valid PNG, drawn"))
        bad += why is not None
    sys.exit(1 if bad or len(sys.argv) < 2 else 0)
