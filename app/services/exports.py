"""Exporting a feature source's public rows as CSV (plain, or for a German Excel), Excel (xlsx),
GeoJSON or GeoPackage.

The set is the one the filter contract describes (:func:`app.features.pipeline.matching`,
without the map view), so an export holds exactly what the map and the list show for the
same URL. Which columns a source exports is the source's business (``export_rows``); for
employers, the private contact person only on request (``private=True``, for the agency's own
use). Texts in the spreadsheet formats (CSV and xlsx) cannot start a formula
(:mod:`app.services.spreadsheets`).
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd

from app.extensions import db
from app.features.filters import FeatureFilter
from app.features.source import FeatureSource
from app.services.spreadsheets import safe_cell, safe_frame

#: Rows fetched from the database at a time.
BATCH = 2000


@dataclass(frozen=True)
class Format:
    """An export format: file extension, media type (the whole Content-Type) and GDAL driver."""

    extension: str
    media_type: str
    driver: str | None


FORMATS = {
    "csv": Format("csv", "text/csv; charset=utf-8", None),
    "csv-excel": Format("csv", "text/csv; charset=utf-8", None),
    "xlsx": Format(
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", None
    ),
    "geojson": Format("geojson", "application/geo+json", "GeoJSON"),
    "gpkg": Format("gpkg", "application/geopackage+sqlite3", "GPKG"),
}


def published_frame(source: FeatureSource, f: FeatureFilter, **options) -> gpd.GeoDataFrame:
    """The source's public rows the filter matches, as a GeoDataFrame in EPSG:4326 (one row per
    feature, in the source's export order; ``options`` go to the source's ``export_rows``)."""
    attributes, query = source.export_rows(f.without_view(), **options)
    names = [*attributes, "lon", "lat"]
    batches = [
        pd.DataFrame.from_records(rows, columns=names)
        for rows in db.session.execute(query.execution_options(yield_per=BATCH)).partitions()
    ]
    table = pd.concat(batches, ignore_index=True) if batches else pd.DataFrame(columns=names)
    integers = getattr(source, "integer_fields", ())
    booleans = getattr(source, "boolean_fields", ())
    for name in attributes:
        if name in integers:
            table[name] = table[name].astype("Int64")
        elif name in booleans:
            table[name] = table[name].astype(bool)
        else:
            table[name] = table[name].fillna("").astype(str)
    geometry = gpd.points_from_xy(table["lon"].astype(float), table["lat"].astype(float))
    return gpd.GeoDataFrame(table.drop(columns=["lon", "lat"]), geometry=geometry, crs="EPSG:4326")


def _with_lon_lat(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """The attribute table with the point as lon/lat columns (7 decimals, about 1 cm)."""
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    table["lon"] = frame.geometry.x.round(7)
    table["lat"] = frame.geometry.y.round(7)
    return table


def to_csv(frame: gpd.GeoDataFrame) -> bytes:
    """CSV (comma-separated, UTF-8 with a byte-order mark for Excel) with lon/lat columns;
    texts that would start a formula are neutralised."""
    table = safe_frame(_with_lon_lat(frame))
    return table.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def to_excel_csv(frame: gpd.GeoDataFrame) -> bytes:
    """CSV as a German Excel opens it with a double click: semicolons between the cells,
    UTF-8 with a byte-order mark, Ja/Nein for yes/no and a decimal comma in lon/lat; texts
    that would start a formula are neutralised."""
    table = safe_frame(_with_lon_lat(frame))
    for name in table.columns:
        if pd.api.types.is_bool_dtype(table[name]):
            table[name] = table[name].map({True: "Ja", False: "Nein"})
    csv = table.to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n")
    return csv.encode("utf-8-sig")


def to_xlsx(frame: gpd.GeoDataFrame, layer: str) -> bytes:
    """An Excel workbook (one sheet, a header row, lon/lat columns), written by openpyxl:
    numbers stay numbers; texts lose the characters xlsx cannot hold, and those that would
    start a formula are neutralised."""
    from openpyxl import Workbook

    table = _with_lon_lat(frame)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(layer)
    sheet.append(list(table.columns))
    for record in table.itertuples(index=False, name=None):
        sheet.append([_xlsx_cell(value) for value in record])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(value):
    """A value as openpyxl takes it: None for missing, Python numbers, safe texts."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value.item() if hasattr(value, "item") else value  # numpy scalars


def to_vector(frame: gpd.GeoDataFrame, kind: str, layer: str) -> bytes:
    """The frame as a GeoJSON (RFC 7946) or GeoPackage file (layer ``layer``), by pyogrio."""
    import pyogrio

    export_format = FORMATS[kind]
    options = {"RFC7946": "YES"} if kind == "geojson" else {}
    with tempfile.TemporaryDirectory(prefix="kmu-atlas-export-") as directory:
        path = Path(directory) / f"{layer}.{export_format.extension}"
        pyogrio.write_dataframe(
            frame, path, layer=layer, driver=export_format.driver, layer_options=options
        )
        return path.read_bytes()


def export_file(source: FeatureSource, f: FeatureFilter, kind: str, **options) -> bytes:
    """The source's public rows the filter matches as a file of ``kind`` (csv, csv-excel, xlsx,
    geojson, gpkg); ``options`` go to the source's ``export_rows``."""
    if kind not in FORMATS:
        raise ValueError(f"unknown export format {kind!r}")
    frame = published_frame(source, f, **options)
    if kind == "csv":
        return to_csv(frame)
    if kind == "csv-excel":
        return to_excel_csv(frame)
    if kind == "xlsx":
        return to_xlsx(frame, source.key)
    return to_vector(frame, kind, source.key)


def filename(kind: str, today: date | None = None) -> str:
    """The download's name: kmu-atlas-YYYY-MM-DD.<ext>."""
    return f"kmu-atlas-{(today or date.today()).isoformat()}.{FORMATS[kind].extension}"
