"""Making a region file from official municipality boundaries (``flask region create``).

The boundaries (GeoJSON, GeoPackage or a zipped Shapefile in any CRS, e.g. the BKG's VG250) are
read by :mod:`geodata.boundaries`; the municipalities whose AGS starts with the given prefix
become the region. For each one the file gets:

- its **centroid**: the area centroid (computed in an equal-area projection centred on the
  region) when it lies inside the municipality, else a representative point (GEOS
  ``PointOnSurface``, always inside) — so a crescent- or ring-shaped municipality never gets a
  point in its neighbour;
- its **postal codes**, from an optional point file (:mod:`geodata.points`): each point goes to
  the municipality polygon that contains it; points outside every municipality are reported.

The region gets its **outline** (the union of the municipalities, simplified) and its **map
view** (the outline's bounds, their centre, and the largest zoom at which they fit a
1024 × 768 map). The result is checked by :func:`geodata.regions.parse_region` before it is
returned, so a written file always loads. No Flask, no app imports.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import CRS
from shapely import prepared
from shapely.geometry import LineString, MultiPolygon, Point, mapping
from shapely.ops import nearest_points

from geodata.boundaries import BoundaryFileError, read_boundaries
from geodata.points import PointFileError, postal_code_points, read_points
from geodata.regions import (
    DEFAULT_ACCENT,
    DEFAULT_PRIMARY,
    RegionError,
    parse_region,
)

#: Tolerance of the stored outline, in degrees (about 50 m): small file, smooth line.
OUTLINE_TOLERANCE = 0.0005
#: Coordinates are written with this many decimals (5: about a metre).
DECIMALS = 5
#: A postal-code point at most this far outside (degrees, about 500 m) is moved into the nearest
#: municipality: approximate points often lie a few metres over a boundary.
SNAP_DEGREES = 0.005
#: The map size the initial view is chosen for (pixels).
VIEW_SIZE = (1024, 768)
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class RegionBuildError(ValueError):
    """The region cannot be made from these files; the message says why in one sentence."""


@dataclass
class BuildReport:
    """What went into the region file and what was left out."""

    region: dict
    #: AGS of municipalities that got their representative point instead of the centroid.
    representative_points: list[str] = field(default_factory=list)
    #: Postal codes whose point lies in no municipality of the region.
    outside: list[str] = field(default_factory=list)
    #: Postal codes whose point lay just outside and was moved into the nearest municipality.
    snapped: list[str] = field(default_factory=list)
    #: Postal codes that appeared more than once (the first point was kept).
    duplicates: list[str] = field(default_factory=list)
    #: Rows of the postal-code file that could not be used.
    problems: list[str] = field(default_factory=list)
    #: Municipalities without any postal code.
    without_postal_codes: list[str] = field(default_factory=list)
    #: Boundary features skipped (no AGS, no polygon).
    skipped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as lines for the command line."""
        municipalities = self.region["municipalities"]
        codes = sum(len(m["postal_codes"]) for m in municipalities)
        lines = [f"{len(municipalities)} municipalities, {codes} postal codes."]
        if self.representative_points:
            lines.append(
                "Representative point instead of the centroid (centroid outside): "
                + ", ".join(self.representative_points)
            )
        if self.outside:
            lines.append("Postal codes outside the region, left out: " + ", ".join(self.outside))
        if self.snapped:
            lines.append(
                "Postal codes just outside, moved into the nearest municipality: "
                + ", ".join(self.snapped)
            )
        if self.duplicates:
            lines.append("Postal codes given twice, first kept: " + ", ".join(self.duplicates))
        if self.problems:
            lines.append(f"{len(self.problems)} unusable postal-code row(s): {self.problems[0]}")
        if self.without_postal_codes:
            lines.append(
                "Municipalities without postal codes (add them with `flask import-postal-codes`"
                " or a point file): " + ", ".join(self.without_postal_codes)
            )
        return lines


def slug(name: str) -> str:
    """A region key from its name: lower case, umlauts spelt out, words joined by hyphens."""
    text = name.lower()
    for umlaut, spelt in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelt)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:40] or "region"


def build_region(
    boundaries: str | Path,
    *,
    ags_prefix: str,
    name: str,
    key: str | None = None,
    name_en: str | None = None,
    postal_codes: str | Path | None = None,
    postal_code_column: str = "plz",
    crs: str | None = None,
    ags_column: str | None = None,
    postal_codes_crs: str | None = None,
) -> BuildReport:
    """Build a region definition (the JSON structure) from a boundary file; raise
    :class:`RegionBuildError` with one clear sentence if the files do not make a region."""
    if not re.fullmatch(r"\d{1,8}", ags_prefix or ""):
        raise RegionBuildError(f"The AGS prefix {ags_prefix!r} must be 1 to 8 digits (e.g. 05974).")
    if not name.strip():
        raise RegionBuildError("The region needs a name (--name).")
    key = key or slug(name)
    if not _KEY.match(key):
        raise RegionBuildError(
            f"The key {key!r} must be lower-case letters, digits and hyphens (e.g. soest)."
        )
    try:
        read = read_boundaries(boundaries, crs=crs, ags_column=ags_column)
    except BoundaryFileError as exc:
        raise RegionBuildError(str(exc)) from None
    polygons = {ags: p for ags, p in sorted(read.polygons.items()) if ags.startswith(ags_prefix)}
    if not polygons:
        sample = ", ".join(sorted(read.polygons)[:5]) or "none"
        raise RegionBuildError(
            f"No municipality in the file has an AGS starting with {ags_prefix} "
            f"(column {read.ags_column}; the file's first keys: {sample})."
        )
    west, south, east, north = shapely.union_all(list(polygons.values())).bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise RegionBuildError(
            "The polygons' coordinates are no longitude/latitude: the file names the wrong "
            "coordinate reference system (or none); give the right one with --crs "
            "(e.g. EPSG:25832)."
        )
    report = BuildReport(region={}, skipped=read.skipped)
    centroids = _centroids(polygons, report)
    assigned = _postal_codes(polygons, postal_codes, postal_code_column, postal_codes_crs, report)
    outline = shapely.union_all(list(polygons.values()))
    outline = shapely.simplify(outline, OUTLINE_TOLERANCE, preserve_topology=True)
    outline = _rounded(outline)
    municipalities = []
    for ags in polygons:
        lon, lat = centroids[ags]
        codes = sorted(assigned.get(ags, []), key=lambda item: item[0])
        if not codes:
            report.without_postal_codes.append(ags)
        municipalities.append(
            {
                "ags": ags,
                "name": read.names.get(ags) or ags,
                "centroid": [round(lon, DECIMALS), round(lat, DECIMALS)],
                "postal_codes": [
                    {"code": code, "point": [round(x, 4), round(y, 4)]} for code, x, y in codes
                ],
            }
        )
    region = {
        "key": key,
        "name": name.strip(),
        "name_en": (name_en or name).strip(),
        "description_de": "",
        "description_en": "",
        "map": map_view(outline.bounds),
        "sources": "",
        "theme": {
            "primary": DEFAULT_PRIMARY,
            "accent": DEFAULT_ACCENT,
            "agency": {"name": "", "email": "", "phone": "", "address": []},
            "operator": {
                "name": "",
                "representative": "",
                "email": "",
                "phone": "",
                "address": [],
            },
            # The legal pages' details: null is "not given yet" (the page shows a placeholder
            # for the operator), false "does not apply".
            "imprint": dict.fromkeys(
                ("register", "vat_id", "supervisory_authority", "content_responsible")
            ),
            "accessibility": {
                **dict.fromkeys(
                    ("conformity", "statement_date", "method", "feedback", "enforcement")
                ),
                "enforcement_checked": False,
            },
        },
        "outline": mapping(outline),
        "municipalities": municipalities,
    }
    region["outline"] = json.loads(json.dumps(region["outline"]))  # tuples to lists
    try:
        parse_region(region, source="the new region")
    except RegionError as exc:
        raise RegionBuildError(str(exc)) from None
    report.region = region
    return report


def map_view(bounds: tuple[float, float, float, float]) -> dict:
    """The initial map view for bounds (west, south, east, north): the bounds widened by 2 %,
    their centre, and the largest zoom (Web Mercator, 256 px tiles) at which they fit
    :data:`VIEW_SIZE`."""
    west, south, east, north = bounds
    pad_x, pad_y = (east - west) * 0.02, (north - south) * 0.02
    west, east, south, north = west - pad_x, east + pad_x, south - pad_y, north + pad_y

    def mercator_y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    width = max((east - west) / 360, 1e-9)
    height = max((mercator_y(north) - mercator_y(south)) / (2 * math.pi), 1e-9)
    zoom = math.floor(
        min(math.log2(VIEW_SIZE[0] / (256 * width)), math.log2(VIEW_SIZE[1] / (256 * height)))
    )
    return {
        "center": [round((west + east) / 2, 4), round((south + north) / 2, 4)],
        "zoom": max(1, min(zoom, 16)),
        "bounds": [
            [round(west, 4), round(south, 4)],
            [round(east, 4), round(north, 4)],
        ],
    }


def _centroids(
    polygons: dict[str, MultiPolygon], report: BuildReport
) -> dict[str, tuple[float, float]]:
    """Area centroids computed in an equal-area projection centred on the region; the
    representative point where the centroid falls outside the municipality."""
    union_centre = shapely.union_all(list(polygons.values())).centroid
    equal_area = CRS.from_proj4(
        f"+proj=laea +lat_0={union_centre.y:.6f} +lon_0={union_centre.x:.6f} +ellps=GRS80 "
        "+units=m +no_defs"
    )
    frame = gpd.GeoSeries(list(polygons.values()), index=list(polygons), crs=4326)
    centres = frame.to_crs(equal_area).centroid.to_crs(4326)
    result = {}
    for ags, polygon in polygons.items():
        centre = centres[ags]
        if not polygon.contains(centre):
            centre = polygon.representative_point()
            report.representative_points.append(ags)
        result[ags] = (centre.x, centre.y)
    return result


def _postal_codes(
    polygons: dict[str, MultiPolygon],
    path: str | Path | None,
    column: str,
    crs: str | None,
    report: BuildReport,
) -> dict[str, list[tuple[str, float, float]]]:
    """The postal codes of a point file by the AGS of the municipality containing each point."""
    if path is None:
        return {}
    try:
        points, report.problems = postal_code_points(read_points(path, crs), column)
    except PointFileError as exc:
        raise RegionBuildError(f"Postal codes: {exc}") from None
    areas = [(ags, prepared.prep(polygon)) for ags, polygon in polygons.items()]
    assigned: dict[str, list[tuple[str, float, float]]] = {}
    seen: set[str] = set()
    for point in points:
        if point.code in seen:
            if point.code not in report.duplicates:
                report.duplicates.append(point.code)
            continue
        seen.add(point.code)
        location = Point(point.lon, point.lat)
        ags = next((ags for ags, area in areas if area.contains(location)), None)
        if ags is None:
            ags, location = _snapped(polygons, location)
            if ags is None:
                report.outside.append(point.code)
                continue
            report.snapped.append(point.code)
        assigned.setdefault(ags, []).append((point.code, location.x, location.y))
    return assigned


def _snapped(polygons: dict[str, MultiPolygon], location: Point) -> tuple[str | None, Point]:
    """A point just outside the region (an approximate postal-code point a few metres over the
    boundary) moved into the nearest municipality, if one is within :data:`SNAP_DEGREES`."""
    distance, ags = min((polygon.distance(location), ags) for ags, polygon in polygons.items())
    if distance > SNAP_DEGREES:
        return None, location
    polygon = polygons[ags]
    edge = nearest_points(polygon, location)[0]
    path = LineString([edge, polygon.representative_point()])
    for step in (0.0005, 0.001, 0.002, 0.004):
        candidate = path.interpolate(min(step, path.length))
        if polygon.contains(candidate):
            return ags, candidate
    return ags, polygon.representative_point()


def _rounded(geometry):
    """The geometry with coordinates rounded to :data:`DECIMALS`, still valid."""
    rounded = shapely.set_precision(geometry, 10**-DECIMALS)
    return rounded if not rounded.is_empty else geometry


def write_region(region: dict, output: str | Path, *, overwrite: bool = False) -> Path:
    """Write a region definition as JSON (UTF-8, indented); refuse to replace a file unless
    told to. Returns the path written."""
    path = Path(output)
    if path.exists() and not overwrite:
        raise RegionBuildError(f"{path} exists already: choose another --output or give --force.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(region_json(region), encoding="utf-8")
    return path


def region_json(region: dict) -> str:
    """A region definition as readable JSON: indented, but each coordinate pair on one line
    and the outline's coordinates in one line (it is data, not for reading)."""
    placeholder = "__OUTLINE__"
    outline = region.get("outline")
    text = json.dumps(
        {**region, "outline": placeholder} if outline else region, ensure_ascii=False, indent=2
    )
    text = re.sub(r"\[\s*(-?[\d.e-]+),\s*(-?[\d.e-]+)\s*\]", r"[\1, \2]", text)
    text = re.sub(r"\{\s*(\"code\": \"\d{5}\"),\s*(\"point\": \[[^\]]*\])\s*\}", r"{\1, \2}", text)
    if outline:
        text = text.replace(json.dumps(placeholder), json.dumps(outline, separators=(",", ":")), 1)
    return text + "\n"
