"""Region definitions: which municipalities a deployment covers, and where.

A region is a JSON file (see ``regions/emscher_lippe.json``). Another region reuses the software
by writing its own file and pointing the ``REGION`` setting at its key (a file in ``regions/``)
or at a path. Coordinates are ``[longitude, latitude]`` in WGS 84 (EPSG:4326), as in GeoJSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

REGIONS_DIR = Path(__file__).parent / "regions"
_AGS = re.compile(r"^\d{8}$")
_POSTAL_CODE = re.compile(r"^\d{5}$")


class RegionError(ValueError):
    """A region definition is missing or malformed."""


@dataclass(frozen=True)
class PostalCode:
    """A postal code with an approximate point inside its municipality."""

    code: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Municipality:
    """A municipality of the region, keyed by its official AGS (Amtlicher Gemeindeschlüssel)."""

    ags: str
    name: str
    lon: float
    lat: float
    postal_codes: tuple[PostalCode, ...]


@dataclass(frozen=True)
class Region:
    """A region: its name, initial map view and municipalities."""

    key: str
    name: str
    name_en: str
    center: tuple[float, float]
    zoom: int
    bounds: tuple[tuple[float, float], tuple[float, float]]
    municipalities: tuple[Municipality, ...]

    def municipality(self, ags: str) -> Municipality | None:
        """Return the municipality with this AGS key, or None."""
        return next((m for m in self.municipalities if m.ags == ags), None)

    def postal_code(self, code: str) -> tuple[Municipality, PostalCode] | None:
        """Return the municipality and point of a postal code of this region, or None."""
        for municipality in self.municipalities:
            for postal_code in municipality.postal_codes:
                if postal_code.code == code:
                    return municipality, postal_code
        return None


def region_path(key_or_path: str) -> Path:
    """Resolve a region setting: a key of a bundled region, or a path to a JSON file."""
    if key_or_path.endswith(".json") or "/" in key_or_path:
        return Path(key_or_path)
    return REGIONS_DIR / f"{key_or_path.replace('-', '_')}.json"


def load_region(key_or_path: str) -> Region:
    """Load and validate a region definition; raise RegionError with a clear message if bad."""
    path = region_path(key_or_path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        bundled = ", ".join(sorted(p.stem.replace("_", "-") for p in REGIONS_DIR.glob("*.json")))
        raise RegionError(
            f"Region {key_or_path!r} not found: give a bundled region ({bundled}) or a path "
            "to a region JSON file."
        ) from None
    except json.JSONDecodeError as exc:
        raise RegionError(f"Region file {path} is not valid JSON: {exc}") from None
    return parse_region(raw, source=str(path))


def parse_region(raw: dict, source: str = "region") -> Region:
    """Build a Region from its JSON structure, checking keys, codes and coordinates."""
    try:
        municipalities = tuple(_parse_municipality(m, source) for m in raw["municipalities"])
        view = raw["map"]
        (west, south), (east, north) = view["bounds"]
        region = Region(
            key=str(raw["key"]),
            name=str(raw["name"]),
            name_en=str(raw.get("name_en") or raw["name"]),
            center=_point(view["center"], source),
            zoom=int(view["zoom"]),
            bounds=((float(west), float(south)), (float(east), float(north))),
            municipalities=municipalities,
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, RegionError):
            raise
        raise RegionError(f"{source}: missing or malformed field ({exc})") from None
    if not municipalities:
        raise RegionError(f"{source}: a region needs at least one municipality.")
    keys = [m.ags for m in municipalities]
    if len(set(keys)) != len(keys):
        raise RegionError(f"{source}: an AGS key appears twice.")
    codes = [p.code for m in municipalities for p in m.postal_codes]
    if len(set(codes)) != len(codes):
        raise RegionError(f"{source}: a postal code appears in two municipalities.")
    return region


def _parse_municipality(raw: dict, source: str) -> Municipality:
    ags = str(raw["ags"])
    if not _AGS.match(ags):
        raise RegionError(f"{source}: {ags!r} is not an eight-digit AGS key.")
    lon, lat = _point(raw["centroid"], source)
    postal_codes = []
    for item in raw.get("postal_codes", []):
        code = str(item["code"])
        if not _POSTAL_CODE.match(code):
            raise RegionError(f"{source}: {code!r} is not a five-digit postal code.")
        postal_codes.append(PostalCode(code, *_point(item["point"], source)))
    return Municipality(ags, str(raw["name"]), lon, lat, tuple(postal_codes))


def _point(value, source: str) -> tuple[float, float]:
    lon, lat = (float(v) for v in value)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise RegionError(f"{source}: {value!r} is not a [longitude, latitude] pair.")
    return lon, lat
