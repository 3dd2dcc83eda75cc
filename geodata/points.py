"""Reading point files (GeoJSON, GeoPackage, Shapefile, CSV) into WGS 84 longitude/latitude.

Any CRS the file declares is reprojected to EPSG:4326; a CSV has longitude/latitude columns
(``lon``/``lat``, ``longitude``/``latitude``, ``x``/``y``, or ``centroid_lon``/``centroid_lat``)
in EPSG:4326 unless another CRS is named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyogrio.errors import DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError

_POSTAL_CODE = re.compile(r"^\d{5}$")
_COORDINATE_COLUMNS = (
    ("lon", "lat"),
    ("longitude", "latitude"),
    ("centroid_lon", "centroid_lat"),
    ("x", "y"),
)
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")


class PointFileError(ValueError):
    """The file cannot be read as points; the message says why."""


@dataclass(frozen=True)
class PostalCodePoint:
    """A postal code and its point in WGS 84."""

    code: str
    lon: float
    lat: float


def read_points(path: str | Path, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read a point file and return it in EPSG:4326."""
    path = Path(path)
    if not path.exists():
        raise PointFileError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = _read_csv(path, crs)
        elif suffix in VECTOR_SUFFIXES:
            frame = gpd.read_file(path)
            if crs:
                frame = frame.set_crs(CRS.from_user_input(crs), allow_override=True)
        else:
            raise PointFileError(
                f"{path}: unknown file type {suffix!r}; use CSV, GeoJSON, GeoPackage or Shapefile."
            )
    except CRSError:
        raise PointFileError(
            f"{crs!r} is not a coordinate reference system (e.g. EPSG:25832)."
        ) from None
    except (OSError, ValueError, DataSourceError) as exc:
        if isinstance(exc, PointFileError):
            raise
        raise PointFileError(f"{path}: cannot be read ({exc}).") from None
    if frame.crs is None:
        raise PointFileError(f"{path}: the file names no coordinate reference system; give one.")
    frame = frame[frame.geometry.notna()]
    if not (frame.geometry.geom_type == "Point").all():
        raise PointFileError(f"{path}: only points can be imported here.")
    return frame.to_crs(4326)


def _read_csv(path: Path, crs: str | None) -> gpd.GeoDataFrame:
    table = pd.read_csv(path, dtype=str, sep=None, engine="python")
    columns = {c.lower().strip(): c for c in table.columns}
    for x_name, y_name in _COORDINATE_COLUMNS:
        if x_name in columns and y_name in columns:
            x = pd.to_numeric(table[columns[x_name]].str.replace(",", "."), errors="coerce")
            y = pd.to_numeric(table[columns[y_name]].str.replace(",", "."), errors="coerce")
            geometry = gpd.points_from_xy(x, y)
            return gpd.GeoDataFrame(table, geometry=geometry, crs=CRS.from_user_input(crs or 4326))
    raise PointFileError(
        f"{path}: no coordinate columns; expected one of "
        + ", ".join(f"{a}/{b}" for a, b in _COORDINATE_COLUMNS)
    )


def postal_code_points(
    frame: gpd.GeoDataFrame, code_column: str = "plz"
) -> tuple[list[PostalCodePoint], list[str]]:
    """Postal codes and points from a frame read by :func:`read_points`, plus row problems."""
    columns = {c.lower(): c for c in frame.columns}
    if code_column.lower() not in columns:
        raise PointFileError(
            f"no column {code_column!r}; the file has: {', '.join(map(str, frame.columns))}"
        )
    column = columns[code_column.lower()]
    points, problems = [], []
    for number, (code, geometry) in enumerate(zip(frame[column], frame.geometry, strict=True), 1):
        code = str(code).strip().zfill(5) if code is not None else ""
        if not _POSTAL_CODE.match(code):
            problems.append(f"record {number}: {code!r} is not a five-digit postal code")
        elif geometry.is_empty or not (-180 <= geometry.x <= 180 and -90 <= geometry.y <= 90):
            problems.append(f"record {number}: postal code {code} has no valid point")
        else:
            points.append(PostalCodePoint(code, geometry.x, geometry.y))
    return points, problems
