"""The installable app without a database: the icons (read from their PNG headers and pixels),
the shell's version, the ROUTE_URL setting and the ``tel:`` links."""

import struct
import zlib
from pathlib import Path

import pytest
from flask import Flask

from app import pwa
from app.config import DEFAULT_ROUTE_URL, PROJECT_ROOT, ConfigError, load_settings
from app.contact import route_href, tel_href

STATIC = PROJECT_ROOT / "app" / "static"
GOOD = {"APP_ENV": "testing", "DATABASE_URL": "postgresql://atlas:secret@db.internal:5432/atlas"}
#: Phone numbers as employers write them and the ``tel:`` link each gets; the browser's twin
#: (js/contact.js telHref) is checked against the same table in tests/browser/test_pwa_browser.py.
TEL_EXAMPLES = [
    ("02361 12345", "tel:+49236112345"),
    ("02361 / 12 34-5", "tel:+49236112345"),
    ("(0209) 123 456", "tel:+49209123456"),
    ("+49 2361 12345", "tel:+49236112345"),
    ("+49 (0) 2361 12345", "tel:+49236112345"),
    ("0049 2361 12345", "tel:+49236112345"),
    ("+90 212 555 0101", "tel:+902125550101"),
    ("0170-1234567", "tel:+491701234567"),
    ("12 34 56", "tel:123456"),
    ("Tel. 02361 12345", "tel:+49236112345"),
    ("keine", None),
    ("", None),
    (None, None),
]


def png_header(path: Path) -> tuple[int, int, int, int]:
    """Width, height, bit depth and colour type from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, depth, colour


def rgba_pixels(path: Path) -> tuple[int, list[bytes]]:
    """The size and rows (RGBA, 8 bit, unfiltered as the icon script writes them) of a PNG."""
    data = path.read_bytes()
    width, height, depth, colour = png_header(path)
    assert (depth, colour) == (8, 6), "the icons are 8-bit RGBA"
    chunks, offset = b"", 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"IDAT":
            chunks += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompress(chunks)
    stride = 1 + 4 * width
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows), "rows are written without a filter"
    return width, [row[1:] for row in rows]


@pytest.mark.parametrize(("path", "size", "purpose"), pwa.ICONS)
def test_each_manifest_icon_exists_with_its_stated_size(path, size, purpose):
    width, height, _depth, _colour = png_header(STATIC / path)
    assert (width, height) == (size, size)
    assert purpose in ("any", "maskable")


def test_there_are_icons_of_192_and_512_pixels_for_any_use_and_as_maskable():
    sizes = {(size, purpose) for _path, size, purpose in pwa.ICONS}
    assert {(192, "any"), (512, "any"), (192, "maskable"), (512, "maskable")} <= sizes


@pytest.mark.parametrize("name", ["maskable-192.png", "maskable-512.png"])
def test_the_maskable_icons_keep_the_pin_inside_the_safe_zone(name):
    # Outside the circle of 40 % of the size around the centre, a mask may cut: only the
    # opaque brand colour may be there, and the pin (white) must be inside.
    size, rows = rgba_pixels(STATIC / "icons" / name)
    brand = (0x0B, 0x3D, 0x6B, 255)
    outside, white_inside = set(), 0
    for y, row in enumerate(rows):
        for x in range(size):
            pixel = tuple(row[4 * x : 4 * x + 4])
            distance = ((x + 0.5 - size / 2) ** 2 + (y + 0.5 - size / 2) ** 2) ** 0.5
            if distance > 0.4 * size:
                outside.add(pixel)
            elif pixel == (255, 255, 255, 255):
                white_inside += 1
    assert outside == {brand}
    assert white_inside > 0.1 * size * size


def test_the_apple_touch_icon_is_opaque_and_180_pixels():
    size, rows = rgba_pixels(STATIC / pwa.APPLE_TOUCH_ICON)
    assert size == 180
    assert all(row[4 * x + 3] == 255 for row in rows for x in range(size))


def test_the_any_icons_are_transparent_around_the_pin():
    size, rows = rgba_pixels(STATIC / "icons" / "icon-512.png")
    corners = [rows[0][3], rows[0][4 * (size - 1) + 3], rows[-1][3], rows[-1][4 * (size - 1) + 3]]
    assert corners == [0, 0, 0, 0]
    middle = rows[size // 2][4 * (size // 2) : 4 * (size // 2) + 4]
    assert middle[3] == 255  # the pin is drawn


def test_the_shell_version_follows_the_files(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "js" / "atlas").mkdir(parents=True)
    (tmp_path / "css" / "app.css").write_text("body {}")
    (tmp_path / "js" / "atlas" / "map.js").write_text("export const a = 1;")
    (tmp_path / "notes.txt").write_text("not part of the shell")
    first = pwa.shell_version(tmp_path, "theme1")
    assert [p.name for p in pwa.shell_files(tmp_path)] == ["app.css", "map.js"]
    assert pwa.shell_version(tmp_path, "theme1") == first
    (tmp_path / "notes.txt").write_text("changed, still not part of the shell")
    assert pwa.shell_version(tmp_path, "theme1") == first
    (tmp_path / "js" / "atlas" / "map.js").write_text("export const a = 2;")
    second = pwa.shell_version(tmp_path, "theme1")
    assert second != first
    assert pwa.shell_version(tmp_path, "theme2") != second


@pytest.mark.parametrize(("phone", "href"), TEL_EXAMPLES)
def test_a_phone_number_is_dialled_in_the_international_form(phone, href):
    assert tel_href(phone) == href


def test_route_url_default_and_its_link():
    settings = load_settings(GOOD, environ={})
    assert settings["ROUTE_URL"] == DEFAULT_ROUTE_URL
    app = Flask(__name__)
    app.config["ROUTE_URL"] = settings["ROUTE_URL"]
    with app.app_context():
        assert route_href(51.6146, 7.1975) == (
            "https://www.openstreetmap.org/directions?to=51.614600%2C7.197500"
        )
        assert route_href(None, 7.1975) is None


def test_a_configured_route_url_is_used():
    template = "https://routing.example.org/?dest={lon},{lat}&mode=foot"
    settings = load_settings({**GOOD, "ROUTE_URL": template}, environ={})
    app = Flask(__name__)
    app.config["ROUTE_URL"] = settings["ROUTE_URL"]
    with app.app_context():
        assert (
            route_href(51.5, 7.25)
            == "https://routing.example.org/?dest=7.250000,51.500000&mode=foot"
        )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("javascript:alert({lat},{lon})", "must be an http(s) URL"),
        ("ftp://routing.example.org/{lat}/{lon}", "must be an http(s) URL"),
        ("https://routing.example.org/?to={lat}", "lacks the placeholder(s) {lon}"),
        ("https://routing.example.org/", "lacks the placeholder(s) {lat}, {lon}"),
        ("https://routing.example.org/{lat}/{lon}/{zoom}", "only the placeholders"),
    ],
)
def test_a_bad_route_url_stops_the_start_with_one_sentence(value, message):
    with pytest.raises(ConfigError, match="ROUTE_URL") as caught:
        load_settings({**GOOD, "ROUTE_URL": value}, environ={})
    assert message in str(caught.value)


def test_the_service_worker_setting():
    assert load_settings({**GOOD, "APP_ENV": "development"}, environ={})["SERVICE_WORKER"] is True
    assert load_settings(GOOD, environ={})["SERVICE_WORKER"] is False  # testing: off unless asked
    assert load_settings({**GOOD, "SERVICE_WORKER": "true"}, environ={})["SERVICE_WORKER"] is True
    off = {**GOOD, "APP_ENV": "development", "SERVICE_WORKER": "False"}
    assert load_settings(off, environ={})["SERVICE_WORKER"] is False
    with pytest.raises(ConfigError, match="SERVICE_WORKER 'vielleicht' must be true or false"):
        load_settings({**GOOD, "SERVICE_WORKER": "vielleicht"}, environ={})
