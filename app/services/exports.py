"""Exporting published employers as CSV, Excel (xlsx), GeoJSON or GeoPackage.

The set is the one the filter contract describes (:func:`app.services.employers.matching`,
without the map view), so an export holds exactly what the map and the list show for the
same URL. Only published entries ever leave; the private contact person only on request
(``private=True``, for the agency's own use). Texts in the spreadsheet formats (CSV and xlsx)
cannot start a formula (:mod:`app.services.spreadsheets`).
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from app.extensions import db
from app.filters import EmployerFilter
from app.models import Company, company_family_criteria, company_occupations, company_sectors
from app.services.employers import PUBLIC_FIELDS, matching
from app.services.spreadsheets import safe_cell, safe_frame

#: Columns only the agency's own exports hold.
PRIVATE_FIELDS = ("contact_name", "contact_email")
#: Classifications, as codes joined by ";".
CODE_FIELDS = ("sectors", "occupations", "family")
LAYER = "employers"
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
    "xlsx": Format(
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", None
    ),
    "geojson": Format("geojson", "application/geo+json", "GeoJSON"),
    "gpkg": Format("gpkg", "application/geopackage+sqlite3", "GPKG"),
}
_INTEGER_FIELDS = ("employees", "open_positions")
_BOOLEAN_FIELDS = ("offers_apprenticeships", "offers_internships")


def columns(*, private: bool = False) -> tuple[str, ...]:
    """The attribute columns of an export, in order."""
    return (*PUBLIC_FIELDS, *CODE_FIELDS, *(PRIVATE_FIELDS if private else ()))


def _query(f: EmployerFilter, *, private: bool):
    fields = [getattr(Company, name) for name in PUBLIC_FIELDS if name != "languages"]
    fields.append(func.array_to_string(Company.languages, ";").label("languages"))
    fields += [
        _ordered_codes(company_sectors.c.division_code).label("sectors"),
        _ordered_codes(company_occupations.c.group_code).label("occupations"),
        _ordered_codes(company_family_criteria.c.criterion_key).label("family"),
    ]
    if private:
        fields += [getattr(Company, name) for name in PRIVATE_FIELDS]
    fields += [func.ST_X(Company.location).label("lon"), func.ST_Y(Company.location).label("lat")]
    return (
        matching(f, use_view=False)
        .with_only_columns(*fields)
        .order_by(Company.id)
        .execution_options(yield_per=BATCH)
    )


def _ordered_codes(code_column):
    """The company's codes in ``code_column``'s association table, sorted, joined by ';'."""
    table = code_column.table
    aggregated = func.string_agg(code_column, aggregate_order_by(literal(";"), code_column))
    return (
        select(func.coalesce(aggregated, ""))
        .where(table.c.company_id == Company.id)
        .scalar_subquery()
    )


def published_frame(f: EmployerFilter, *, private: bool = False) -> gpd.GeoDataFrame:
    """The published employers the filter matches, as a GeoDataFrame in EPSG:4326 (one row
    per employer, ordered by id; codes joined by ';'; the contact person only if ``private``)."""
    names = [*columns(private=private), "lon", "lat"]
    batches = [
        pd.DataFrame.from_records(rows, columns=names)
        for rows in db.session.execute(_query(f, private=private)).partitions()
    ]
    table = pd.concat(batches, ignore_index=True) if batches else pd.DataFrame(columns=names)
    for name in _INTEGER_FIELDS:
        table[name] = table[name].astype("Int64")
    for name in _BOOLEAN_FIELDS:
        table[name] = table[name].astype(bool)
    for name in names[: len(columns(private=private))]:
        if name not in (*_INTEGER_FIELDS, *_BOOLEAN_FIELDS):
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


def to_xlsx(frame: gpd.GeoDataFrame) -> bytes:
    """An Excel workbook (one sheet, a header row, lon/lat columns), written by openpyxl:
    numbers stay numbers; texts lose the characters xlsx cannot hold, and those that would
    start a formula are neutralised."""
    from openpyxl import Workbook

    table = _with_lon_lat(frame)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(LAYER)
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


def to_vector(frame: gpd.GeoDataFrame, kind: str) -> bytes:
    """The frame as a GeoJSON (RFC 7946) or GeoPackage file, written by pyogrio."""
    import pyogrio

    export_format = FORMATS[kind]
    options = {"RFC7946": "YES"} if kind == "geojson" else {}
    with tempfile.TemporaryDirectory(prefix="kmu-atlas-export-") as directory:
        path = Path(directory) / f"{LAYER}.{export_format.extension}"
        pyogrio.write_dataframe(
            frame, path, layer=LAYER, driver=export_format.driver, layer_options=options
        )
        return path.read_bytes()


def export_file(f: EmployerFilter, kind: str, *, private: bool = False) -> bytes:
    """The published employers the filter matches as a file of ``kind`` (csv, xlsx, geojson,
    gpkg)."""
    if kind not in FORMATS:
        raise ValueError(f"unknown export format {kind!r}")
    frame = published_frame(f, private=private)
    if kind == "csv":
        return to_csv(frame)
    if kind == "xlsx":
        return to_xlsx(frame)
    return to_vector(frame, kind)


def filename(kind: str, today: date | None = None) -> str:
    """The download's name: kmu-atlas-YYYY-MM-DD.<ext>."""
    return f"kmu-atlas-{(today or date.today()).isoformat()}.{FORMATS[kind].extension}"
