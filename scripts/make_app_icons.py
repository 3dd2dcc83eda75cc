"""Write the installable app's icons (app/static/icons/) from the map pin of favicon.svg.

Standard library only (no Pillow, no browser): ``python scripts/make_app_icons.py``. The files
are committed; run this again only when the pin's design changes.

- ``icon-192.png``, ``icon-512.png`` (manifest purpose "any"): the pin in the brand colour on a
  transparent background, as favicon.svg draws it.
- ``maskable-192.png``, ``maskable-512.png`` (purpose "maskable"): a white pin on the brand
  colour filling the square; the pin stays inside the safe zone, the circle of 40 % of the size
  around the centre, so any mask shape (circle, squircle) keeps it whole.
- ``apple-touch-icon.png`` (180 px): like the maskable one with a larger pin (iOS rounds the
  corners itself and shows no transparency).
"""

import math
import struct
import zlib
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "app" / "static" / "icons"

BRAND = (0x0B, 0x3D, 0x6B)
WHITE = (0xFF, 0xFF, 0xFF)
#: favicon.svg's pin in its 32-unit box: a circle (centre, radius) running into a tip, with a
#: hole (radius) in the circle's centre.
CENTRE, RADIUS, HOLE, TIP_Y = (16.0, 12.0), 11.0, 4.5, 30.5
#: The middle of the pin's bounding box (y from 1 to 30.5) and its largest distance from it.
PIN_MIDDLE = (16.0, 15.75)
PIN_REACH = 14.75
SAMPLES = 4  # per axis, for smooth edges


def in_pin(x: float, y: float) -> tuple[bool, bool]:
    """Whether the design point (x, y) lies in the pin (the circle and the two lines from the
    tip that touch it), and whether in its hole."""
    d = math.hypot(x - CENTRE[0], y - CENTRE[1])
    axis = TIP_Y - CENTRE[1]  # from the tip up to the circle's centre
    along = TIP_Y - y  # how far above the tip
    # The lines from the tip touch the circle where `along` is axis·cos²α (sin α = RADIUS/axis).
    cos2 = 1 - (RADIUS / axis) ** 2
    in_cone = 0 <= along <= axis * cos2 and abs(x - CENTRE[0]) <= along * RADIUS / math.sqrt(
        axis**2 - RADIUS**2
    )
    return d <= RADIUS or in_cone, d <= HOLE


def render(size: int, *, background, pin, hole, reach: float) -> bytes:
    """An RGBA image (rows of bytes) of the pin centred in a square of ``size`` pixels, its
    farthest point ``reach`` × size from the centre; ``background`` None is transparent."""
    scale = reach * size / PIN_REACH  # pixels per design unit
    rows = bytearray()
    for py in range(size):
        rows.append(0)  # PNG filter: none
        for px in range(size):
            pin_hits = hole_hits = 0
            for i in range(SAMPLES):
                for j in range(SAMPLES):
                    x = PIN_MIDDLE[0] + (px + (i + 0.5) / SAMPLES - size / 2) / scale
                    y = PIN_MIDDLE[1] + (py + (j + 0.5) / SAMPLES - size / 2) / scale
                    inside, in_hole = in_pin(x, y)
                    pin_hits += inside
                    hole_hits += inside and in_hole
            total = SAMPLES * SAMPLES
            covered, holed = pin_hits / total, hole_hits / total
            # The pin over the background, the hole over the pin (premultiplied by coverage).
            painted = [p * (covered - holed) + h * holed for p, h in zip(pin, hole, strict=True)]
            if background is None:  # transparent: the colour of what is covered, its coverage
                colour = [c / covered for c in painted] if covered else [0, 0, 0]
                alpha = covered
            else:
                colour = [b * (1 - covered) + c for b, c in zip(background, painted, strict=True)]
                alpha = 1.0
            rows += bytes([*(round(c) for c in colour), round(255 * alpha)])
    return bytes(rows)


def png(size: int, pixels: bytes) -> bytes:
    """A PNG file of RGBA ``pixels`` (filtered rows)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


#: File name -> (size, drawing); the maskable pin reaches 36 % of the size from the centre,
#: inside the safe zone's 40 %.
ICONS = {
    "icon-192.png": (192, dict(background=None, pin=BRAND, hole=WHITE, reach=0.48)),
    "icon-512.png": (512, dict(background=None, pin=BRAND, hole=WHITE, reach=0.48)),
    "maskable-192.png": (192, dict(background=BRAND, pin=WHITE, hole=BRAND, reach=0.36)),
    "maskable-512.png": (512, dict(background=BRAND, pin=WHITE, hole=BRAND, reach=0.36)),
    "apple-touch-icon.png": (180, dict(background=BRAND, pin=WHITE, hole=BRAND, reach=0.4)),
}


if __name__ == "__main__":
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, (size, drawing) in ICONS.items():
        (TARGET / name).write_bytes(png(size, render(size, **drawing)))
        print(f"{TARGET / name}: {size} x {size}")
