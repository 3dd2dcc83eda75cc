"""Reading an uploaded table (CSV, Excel xlsx or GeoJSON) into columns and rows of text.

The kind of file is told by its content, never by its name: an xlsx file is a zip archive with
``xl/workbook.xml``; a GeoJSON file is a JSON object of type ``FeatureCollection``; anything else
that reads as text is CSV (UTF-8, else Windows-1252; delimiter ``;``, ``,`` or tab).

Row numbers are the ones the user sees: in a CSV or xlsx file the header is row 1, so the first
data row is 2; in a GeoJSON file the features count from 1. GeoJSON geometries are reprojected
to WGS 84 (EPSG:4326) and kept as (lon, lat) per row; a line or area gives its representative
point. Problems with the whole file raise :class:`TableError` with a ``code`` the app turns into
a message in the user's language.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

#: The most data rows (or features) one file may have.
MAX_ROWS = 5000
DELIMITERS = (";", ",", "\t")
#: Reading an xlsx sheet stops after this many empty rows in a row (formatted, but unused).
_MAX_BLANK_RUN = 10_000
ENCODINGS = ("utf-8-sig", "cp1252")
#: Signatures of binary files people upload by mistake, and the code they are reported with.
_SIGNATURES = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old_excel"),  # .xls and other OLE2 documents
    (b"%PDF", "binary"),
    (b"\x89PNG", "binary"),
    (b"\xff\xd8\xff", "binary"),
    (b"GIF8", "binary"),
    (b"\x1f\x8b", "binary"),
    (b"SQLite format 3\x00", "binary"),
)
#: Characters that are never in a readable text file (all C0 controls but tab, LF, FF, CR).
_CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\x0c\r")


class TableError(ValueError):
    """The file cannot be read as a table. ``code`` says why; ``details`` fill the message.

    Codes: ``empty``, ``binary``, ``old_excel``, ``not_a_table`` (a zip or JSON that is no xlsx
    or FeatureCollection), ``unreadable`` (``reason``), ``too_many_rows`` (``limit``).
    """

    def __init__(self, code: str, **details):
        super().__init__(code, details)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Row:
    """One data row: its number as the user sees it and its cells as text (by column name).

    ``point`` is the (lon, lat) of a GeoJSON feature's geometry, if it has one; ``problem``
    names what is wrong with the row itself (``extra_cells``, ``geometry``), if anything.
    """

    number: int
    cells: dict[str, str]
    point: tuple[float, float] | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Table:
    """A file read as a table: its kind (csv, xlsx, geojson), column names and data rows."""

    kind: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...] = field(default_factory=tuple)


def detect_kind(content: bytes) -> str:
    """'xlsx', 'geojson' or 'csv' by the file's content; TableError if it is none of them."""
    if not content.strip():
        raise TableError("empty")
    if zipfile.is_zipfile(io.BytesIO(content)):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "xl/workbook.xml" in archive.namelist():
                return "xlsx"
        raise TableError("not_a_table")
    for signature, code in _SIGNATURES:
        if content.startswith(signature):
            raise TableError(code)
    text = decode_text(content)
    if text.lstrip().startswith("{"):
        return "geojson"
    return "csv"


def read_table(content: bytes) -> Table:
    """Read an uploaded file (by its content) into a :class:`Table`."""
    kind = detect_kind(content)
    if kind == "xlsx":
        return read_xlsx(content)
    if kind == "geojson":
        return read_geojson(content)
    return read_csv(content)


def decode_text(content: bytes) -> str:
    """The file as text (UTF-8, with or without BOM, else Windows-1252); TableError('binary')
    if it is no text file."""
    if b"\x00" in content:
        raise TableError("binary")
    for encoding in ENCODINGS:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(character in _CONTROL for character in text):
            break
        return text
    raise TableError("binary")


# --- CSV ------------------------------------------------------------------------------------


def sniff_delimiter(text: str) -> str:
    """The delimiter (``;``, ``,`` or tab) that splits the header line into the most fields."""
    first_line = next(iter(text.splitlines()), "")
    counts = {
        delimiter: len(next(csv.reader([first_line], delimiter=delimiter), []))
        for delimiter in DELIMITERS
    }
    return max(DELIMITERS, key=lambda d: counts[d])  # ties: the first (";" for German files)


def read_csv(content: bytes) -> Table:
    """Read CSV bytes: header in the first line, one row per record."""
    text = decode_text(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        records = list(reader)
    except csv.Error as exc:
        raise TableError("unreadable", reason=str(exc)) from None
    return _table("csv", records)


# --- xlsx -----------------------------------------------------------------------------------


def read_xlsx(content: bytes) -> Table:
    """Read the first worksheet of an xlsx workbook: header in row 1."""
    from openpyxl import load_workbook  # only needed for Excel files

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                records, filled, blank = [], 0, 0
                for values in sheet.iter_rows(values_only=True):
                    record = [cell_text(value) for value in values]
                    filled, blank = (filled + 1, 0) if any(record) else (filled, blank + 1)
                    records.append(record)
                    if filled > MAX_ROWS + 1 or blank > _MAX_BLANK_RUN:
                        break  # enough to tell it is too long, or only formatting follows
            finally:
                workbook.close()
    except TableError:
        raise
    except Exception as exc:  # a broken workbook fails in many ways inside openpyxl
        raise TableError("unreadable", reason=str(exc) or type(exc).__name__) from None
    return _table("xlsx", records)


def cell_text(value) -> str:
    """A cell value as the text the user typed: 45657 not 45657.0, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


# --- rows from records (CSV and xlsx) -------------------------------------------------------


def _column_names(header: list[str]) -> list[str]:
    """Unique names: an empty header becomes '#<position>', a repeated one gets ' (2)'."""
    names: list[str] = []
    for position, raw in enumerate(header, 1):
        name = raw.strip() or f"#{position}"
        candidate, number = name, 2
        while candidate in names:
            candidate, number = f"{name} ({number})", number + 1
        names.append(candidate)
    return names


def _table(kind: str, records: list[list[str]]) -> Table:
    records = [[cell.strip() for cell in record] for record in records]
    while records and not any(records[0]):
        records.pop(0)  # blank lines above the header
    if not records:
        raise TableError("empty")
    header, data = records[0], records[1:]
    width = max(len(header), *(len(r) for r in data)) if data else len(header)
    # Trailing columns with neither a header nor any value are spreadsheet noise.
    while width and not _filled(header, width - 1) and not any(_filled(r, width - 1) for r in data):
        width -= 1
    columns = _column_names(header[:width])
    rows = []
    for offset, record in enumerate(data):
        if not any(record):
            continue
        cells = record[: len(columns)] + [""] * (len(columns) - len(record))
        extra = any(record[len(columns) :])
        rows.append(
            Row(
                offset + 2,
                dict(zip(columns, cells, strict=True)),
                None,
                "extra_cells" if extra else None,
            )
        )
    return _checked(Table(kind, tuple(columns), tuple(rows)))


def _filled(record: list[str], index: int) -> bool:
    return index < len(record) and bool(record[index])


def _checked(table: Table) -> Table:
    if not table.columns or not table.rows:
        raise TableError("empty")
    if len(table.rows) > MAX_ROWS:
        raise TableError("too_many_rows", limit=MAX_ROWS)
    return table


# --- GeoJSON --------------------------------------------------------------------------------


def read_geojson(content: bytes) -> Table:
    """Read a GeoJSON FeatureCollection: properties as cells, geometry as (lon, lat) in WGS 84."""
    try:
        document = json.loads(decode_text(content))
    except json.JSONDecodeError as exc:
        raise TableError("unreadable", reason=str(exc)) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise TableError("not_a_table")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise TableError("empty")
    if len(features) > MAX_ROWS:
        raise TableError("too_many_rows", limit=MAX_ROWS)
    if not all(isinstance(f, dict) for f in features):
        raise TableError("unreadable", reason="a feature is not a JSON object")
    points = _feature_points(content, len(features))
    columns: list[str] = []
    for feature in features:
        for key in feature.get("properties") or {}:
            if key not in columns:
                columns.append(key)
    rows = []
    for number, (feature, (point, problem)) in enumerate(zip(features, points, strict=True), 1):
        properties = feature.get("properties") or {}
        cells = {column: cell_text(properties.get(column)) for column in columns}
        rows.append(Row(number, cells, point, problem))
    return _checked(Table("geojson", tuple(columns), tuple(rows)))


def _feature_points(
    content: bytes, expected: int
) -> list[tuple[tuple[float, float] | None, str | None]]:
    """(point, problem) per feature, read and reprojected by pyogrio/geopandas."""
    import pyogrio  # imported here: GDAL is only needed for GeoJSON
    from pyogrio.errors import DataSourceError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL notes about the source are no errors
            frame = pyogrio.read_dataframe(io.BytesIO(content), columns=[])
    except (DataSourceError, OSError, ValueError) as exc:
        raise TableError("unreadable", reason=str(exc)) from None
    if len(frame) != expected:
        raise TableError("unreadable", reason=f"{len(frame)} of {expected} features read")
    frame = frame.set_crs(4326) if frame.crs is None else frame.to_crs(4326)
    return [_point(geometry) for geometry in frame.geometry]


def _point(geometry) -> tuple[tuple[float, float] | None, str | None]:
    if geometry is None or geometry.is_empty:
        return None, None
    spot = geometry if geometry.geom_type == "Point" else geometry.representative_point()
    if spot.is_empty or not (math.isfinite(spot.x) and math.isfinite(spot.y)):
        return None, "geometry"
    if not (-180 <= spot.x <= 180 and -90 <= spot.y <= 90):
        return None, "geometry"
    return (spot.x, spot.y), None
