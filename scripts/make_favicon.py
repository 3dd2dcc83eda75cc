"""Write app/static/favicon.ico: the map pin of favicon.svg at 32 and 16 px (PNG in ICO).

Standard library only (no Pillow): ``python scripts/make_favicon.py``.
"""

import math
import struct
import zlib
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "app" / "static" / "favicon.ico"

BRAND = (0x0B, 0x3D, 0x6B)


def coverage(x, y, size):
    """How much of the pixel (x, y) the pin covers (0..1, 4x4 supersampling), and whether white."""
    hits = white = 0
    for i in range(4):
        for j in range(4):
            px = (x + (i + 0.5) / 4) * 32 / size
            py = (y + (j + 0.5) / 4) * 32 / size
            d = math.hypot(px - 16, py - 12)
            inside = d <= 11
            if not inside and 12 <= py <= 30.5:
                half = 11 * (30.5 - py) / 18.5  # the cone from the circle to the tip
                inside = abs(px - 16) <= half
            if inside:
                hits += 1
                white += d <= 4.5
    return hits / 16, white / 16


def png(size):
    """The pin as an RGBA PNG of size x size pixels."""
    rows = b""
    for y in range(size):
        row = b"\x00"
        for x in range(size):
            a, w = coverage(x, y, size)
            if a == 0:
                row += bytes(4)
                continue
            t = w / a
            rgb = [round(c * (1 - t) + 255 * t) for c in BRAND]
            row += bytes([*rgb, round(255 * a)])
        rows += row

    def chunk(kind, data):
        """One PNG chunk: length, kind, data, CRC."""
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def ico(sizes=(32, 16)) -> bytes:
    """An ICO file holding the pin as a PNG of each size."""
    images = [png(size) for size in sizes]
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for size, data in zip(sizes, images, strict=True):
        out += struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return out + b"".join(images)


if __name__ == "__main__":
    TARGET.write_bytes(ico())
