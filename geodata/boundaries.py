"""Reading municipality boundaries (e.g. the BKG's VG250) into WGS 84 MultiPolygons by AGS.

A file is GeoJSON, a GeoPackage or a zipped Shapefile, told apart by its content (not its name),
in any coordinate reference system the file declares (or one given for a file without). Every
polygon becomes a valid MultiPolygon in EPSG:4326; several features with the same AGS (VG250
keeps land and water parts apart) are merged into one.
"""

from __future__ import annotations

import re
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

#: Column names that hold the AGS (Amtlicher Gemeindeschlüssel), looked for in this order.
AGS_COLUMNS = ("ags", "ags_0", "kn", "gkz", "gemeindeschluessel", "gem_schl", "ags8")
#: Column names that hold the municipality's name (VG250: GEN, DVG: GN), looked for in this order.
NAME_COLUMNS = ("gen", "gn", "name", "gemeinde", "gemeindename", "gem_name")
#: What an unpacked zipped Shapefile may occupy at most (a zip bomb is refused before reading).
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_ZIP_MEMBERS = 50
_AGS = re.compile(r"^\d{8}$")


class BoundaryFileError(ValueError):
    """The file cannot be read as municipality boundaries; the message says why (in English,
    for the command line), ``code`` names the reason and ``detail`` a name or value, for a
    message in the interface language."""

    def __init__(self, message: str, code: str = "unreadable", detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail


@dataclass
class Boundaries:
    """The boundaries of a file: a valid MultiPolygon (EPSG:4326) by AGS, and what was fixed."""

    polygons: dict[str, MultiPolygon]
    ags_column: str
    #: Features whose geometry was invalid and made valid.
    fixed: int = 0
    #: Features without a usable polygon or AGS (skipped), with the reason.
    skipped: list[str] = field(default_factory=list)
    #: The municipalities' names by AGS, when the file has a name column.
    names: dict[str, str] = field(default_factory=dict)


def file_kind(head: bytes) -> str | None:
    """ "geojson", "gpkg" or "zip" from a file's first bytes, or None."""
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "geojson"
    return None


def read_boundaries(
    path: str | Path, *, crs: str | None = None, ags_column: str | None = None
) -> Boundaries:
    """Read a boundary file (by content) into valid MultiPolygons in EPSG:4326 by AGS.

    ``crs`` is required for a file that names no coordinate reference system (and overrides
    none that it names); ``ags_column`` names the AGS column if it is not found by name.
    Raises :class:`BoundaryFileError` with one clear sentence.
    """
    path = Path(path)
    if not path.is_file():
        raise BoundaryFileError(f"{path.name}: no such file.", "missing")
    with path.open("rb") as handle:
        kind = file_kind(handle.read(64))
    if kind is None:
        raise BoundaryFileError(
            "The file is neither GeoJSON, a GeoPackage nor a zipped Shapefile.", "format"
        )
    given = _crs(crs) if crs else None
    try:
        frame = _read_zip(path) if kind == "zip" else _read_vector(path, kind)
    except BoundaryFileError:
        raise
    except (OSError, ValueError, DataSourceError, DataLayerError, RuntimeError) as exc:
        raise BoundaryFileError(f"The file cannot be read ({_first_line(exc)}).") from None
    if frame.crs is None and given is None:
        raise BoundaryFileError(
            "The file names no coordinate reference system: give one (e.g. EPSG:25832).",
            "no_crs",
        )
    if given is not None:
        frame = frame.set_crs(given, allow_override=True)
    column = _ags_column(frame, ags_column)
    try:
        frame = frame.to_crs(4326)
    except (CRSError, ValueError) as exc:
        raise BoundaryFileError(
            f"The file cannot be reprojected ({_first_line(exc)}).", "reproject"
        ) from None
    result = _collect(frame, column)
    result.names = _names(frame, column)
    return result


def _names(frame: gpd.GeoDataFrame, ags_column: str) -> dict[str, str]:
    """The first non-empty name per AGS from a name column (GEN, GN, NAME, …), if any."""
    by_name = {c.lower(): c for c in frame.columns if c != frame.geometry.name}
    column = next((by_name[n] for n in NAME_COLUMNS if n in by_name), None)
    names: dict[str, str] = {}
    if column is None:
        return names
    for value, name in zip(frame[ags_column], frame[column], strict=True):
        ags = normalise_ags(value)
        if ags and isinstance(name, str) and name.strip():
            names.setdefault(ags, name.strip())
    return names


def _read_file(path: Path) -> gpd.GeoDataFrame:
    """Read with GDAL's warnings about a damaged file silenced: its errors are what count."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return gpd.read_file(path, engine="pyogrio")


def _read_vector(path: Path, kind: str) -> gpd.GeoDataFrame:
    """A GeoJSON file or GeoPackage, read under the suffix its content calls for (GDAL warns
    about a GeoPackage named otherwise, e.g. an upload)."""
    suffix = {"geojson": ".geojson", "gpkg": ".gpkg"}[kind]
    if path.suffix.lower() == suffix or (kind == "geojson" and path.suffix.lower() == ".json"):
        return _read_file(path)
    with tempfile.TemporaryDirectory() as folder:
        named = Path(folder) / f"boundaries{suffix}"
        named.symlink_to(path.resolve())
        return _read_file(named)


def _crs(value: str) -> CRS:
    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise BoundaryFileError(
            f"{value[:40]!r} is not a coordinate reference system (e.g. EPSG:25832).",
            "bad_crs",
            value[:40],
        ) from None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _read_zip(path: Path) -> gpd.GeoDataFrame:
    """The one Shapefile of a zip, unpacked into a temporary folder after checking its size."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise BoundaryFileError("The zip file holds too many files.", "zip_members")
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise BoundaryFileError("The zip file is too large when unpacked.", "zip_size")
            shapefiles = [
                m for m in members if m.filename.lower().endswith(".shp") and not m.is_dir()
            ]
            if len(shapefiles) != 1:
                raise BoundaryFileError(
                    "The zip file must hold exactly one Shapefile (.shp).", "zip_shapefile"
                )
            stem = shapefiles[0].filename[:-4]
            wanted = [m for m in members if m.filename.rsplit(".", 1)[0] == stem]
            with tempfile.TemporaryDirectory() as folder:
                for member in wanted:
                    suffix = member.filename.rsplit(".", 1)[-1].lower()
                    if not re.fullmatch(r"[a-z0-9]{1,8}", suffix):
                        continue
                    target = Path(folder) / f"boundaries.{suffix}"
                    with archive.open(member) as source, target.open("wb") as sink:
                        _copy_limited(source, sink, member.file_size)
                return _read_file(Path(folder) / "boundaries.shp")
    except zipfile.BadZipFile:
        raise BoundaryFileError("The zip file is damaged.", "zip_damaged") from None


def _copy_limited(source, sink, declared: int) -> None:
    """Copy at most the declared size (a lying header cannot unpack more)."""
    written = 0
    while chunk := source.read(1024 * 1024):
        written += len(chunk)
        if written > declared or written > MAX_UNPACKED_BYTES:
            raise BoundaryFileError("The zip file is too large when unpacked.", "zip_size")
        sink.write(chunk)


def _ags_column(frame: gpd.GeoDataFrame, given: str | None) -> str:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    if given:
        match = next((c for c in columns if c.lower() == given.lower()), None)
        if match is None:
            raise BoundaryFileError(
                f"The file has no column {given[:40]!r}; it has: {', '.join(columns)[:300]}.",
                "no_column",
                given[:40],
            )
        return match
    by_name = {c.lower(): c for c in columns}
    for name in AGS_COLUMNS:
        if name in by_name and frame[by_name[name]].map(normalise_ags).notna().any():
            return by_name[name]
    raise BoundaryFileError(
        "No AGS column found (AGS, AGS_0, KN, …): name it. The file has: "
        f"{', '.join(columns)[:300]}.",
        "no_ags_column",
        ", ".join(columns)[:300],
    )


def normalise_ags(value) -> str | None:
    """An eight-digit AGS from a cell (a number loses its leading zero: it is put back)."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value or not value.is_integer():
            return None
        value = int(value)
    text = str(value).strip()
    if text.isdigit() and 6 <= len(text) < 8:
        text = text.zfill(8)
    return text if _AGS.match(text) else None


def as_multipolygon(geometry: BaseGeometry | None) -> MultiPolygon | None:
    """The polygonal part of a geometry as a MultiPolygon, or None if it has none."""
    if geometry is None or geometry.is_empty:
        return None
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    if isinstance(geometry, MultiPolygon):
        return geometry
    parts = [
        polygon
        for part in getattr(geometry, "geoms", ())
        if (multi := as_multipolygon(part)) is not None
        for polygon in multi.geoms
    ]
    return MultiPolygon(parts) if parts else None


def _collect(frame: gpd.GeoDataFrame, column: str) -> Boundaries:
    result = Boundaries(polygons={}, ags_column=column)
    parts: dict[str, list[MultiPolygon]] = {}
    for position, (value, geometry) in enumerate(zip(frame[column], frame.geometry, strict=True)):
        ags = normalise_ags(value)
        if ags is None:
            result.skipped.append(f"feature {position + 1}: no AGS ({str(value)[:20]!r})")
            continue
        if geometry is not None and not geometry.is_empty and not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
            result.fixed += 1
        polygon = as_multipolygon(geometry)
        if polygon is None:
            result.skipped.append(f"feature {position + 1} ({ags}): no polygon")
            continue
        parts.setdefault(ags, []).append(polygon)
    for ags, polygons in parts.items():
        merged = polygons[0] if len(polygons) == 1 else shapely.union_all(polygons)
        merged = as_multipolygon(merged if merged.is_valid else shapely.make_valid(merged))
        if merged is not None:
            result.polygons[ags] = merged
    return result
