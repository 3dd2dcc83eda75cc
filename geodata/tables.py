"""Reading an uploaded table (CSV, Excel xlsx or GeoJSON) into columns and rows of text.

The kind of file is told by its content, never by its name: an xlsx file is a zip archive with
``xl/workbook.xml``; a GeoJSON file is a JSON object of type ``FeatureCollection``; anything else
that reads as text is CSV (UTF-8, else Windows-1252; delimiter ``;``, ``,`` or tab).

Reading is bounded, whatever a file claims about itself: at most :data:`MAX_ROWS` data rows,
:data:`MAX_COLUMNS` columns and :data:`MAX_SHEET_ROWS` rows read in all (blank ones included);
an xlsx file may unpack to at most :data:`MAX_UNPACKED_BYTES`, and its declared sheet
dimension is ignored.

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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

import shapely
import shapely.errors

#: The most data rows (or features) one file may have.
MAX_ROWS = 5000
#: The most columns a table may have; a file with a value in a column beyond is refused.
MAX_COLUMNS = 200
#: The most rows (blank ones included) read from a file; a file with more is refused.
MAX_SHEET_ROWS = 20_000
#: The most bytes the members of an xlsx file (a zip archive) may unpack to, together.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
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
    (b"SQLite format 3\x00", "geopackage"),  # GeoPackage is SQLite
)
#: Characters that are never in a readable text file (all C0 controls but tab, LF, FF, CR).
_CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\x0c\r")


class TableError(ValueError):
    """The file cannot be read as a table. ``code`` says why; ``details`` fill the message.

    Codes: ``empty``, ``binary``, ``nul_bytes`` (a text file with NUL characters, such as UTF-16),
    ``old_excel``, ``geopackage`` (or another SQLite file), ``not_a_table`` (a zip or JSON that is
    no xlsx or FeatureCollection), ``unreadable`` (``reason``), ``too_many_rows`` (``limit``),
    ``too_large`` (``rows``, ``columns``: the limits), ``too_large_unpacked`` (``limit_mb``),
    ``too_deep`` (JSON nested too deeply), ``geojson`` (``problem``: ``features``, ``feature`` or
    ``properties``; ``feature``: its number).
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
        raise TableError("nul_bytes" if _is_text(content.replace(b"\x00", b"")) else "binary")
    for encoding in ENCODINGS:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(character in _CONTROL for character in text):
            break
        return text
    raise TableError("binary")


def _is_text(content: bytes) -> bool:
    """Whether bytes (NULs taken out) read as text without control characters: then the
    NULs were a stray byte or the zeros of UTF-16, not a binary file."""
    content = content.removeprefix(b"\xff\xfe").removeprefix(b"\xfe\xff")  # UTF-16 BOMs
    for encoding in ENCODINGS:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return bool(text.strip()) and not any(character in _CONTROL for character in text)
    return False


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
        return _table("csv", reader)
    except csv.Error as exc:
        raise TableError("unreadable", reason=str(exc)) from None


# --- xlsx -----------------------------------------------------------------------------------


def read_xlsx(content: bytes) -> Table:
    """Read the first worksheet of an xlsx workbook: header in row 1.

    The workbook must unpack to at most :data:`MAX_UNPACKED_BYTES`; the sheet is read row by
    row (openpyxl's read-only mode), never beyond :data:`MAX_COLUMNS` (+1, to tell that there is
    more) or :data:`MAX_SHEET_ROWS`, whatever dimension the sheet declares.
    """
    from openpyxl import load_workbook  # only needed for Excel files

    try:
        check_unpacked_size(content)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                return _table("xlsx", sheet_records(workbook.worksheets[0]), blank_run_ends=True)
            finally:
                workbook.close()
    except TableError:
        raise
    except Exception as exc:  # a broken workbook fails in many ways inside openpyxl
        raise TableError("unreadable", reason=str(exc) or type(exc).__name__) from None


def check_unpacked_size(content: bytes) -> None:
    """Refuse a zip archive whose members unpack to more than :data:`MAX_UNPACKED_BYTES`.

    The sizes are the ones the archive declares; :mod:`zipfile` never unpacks a member beyond
    its declared size (it stops and fails the checksum), so they bound what can be read.
    """
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise TableError("too_large_unpacked", limit_mb=MAX_UNPACKED_BYTES // (1024 * 1024))


def sheet_records(sheet) -> Iterator[list[str]]:
    """The rows of a read-only worksheet as texts, at most ``MAX_COLUMNS + 1`` cells each.

    The sheet's declared dimension is dropped first: a forged ``A1:XFD1048576`` would otherwise
    make every row 16,384 cells wide. A blank row comes as an empty list.
    """
    sheet.reset_dimensions()
    for values in sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True):
        yield [cell_text(value) for value in values] if any(v is not None for v in values) else []


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
    taken: set[str] = set()
    for position, raw in enumerate(header, 1):
        name = raw.strip() or f"#{position}"
        candidate, number = name, 2
        while candidate in taken:
            candidate, number = f"{name} ({number})", number + 1
        names.append(candidate)
        taken.add(candidate)
    return names


def _bounded_records(
    records: Iterable[Sequence[str]], *, blank_run_ends: bool
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (the first row with a value) and the data rows with their numbers (the
    header is row 1), read within the limits: TableError ``too_large`` past
    :data:`MAX_SHEET_ROWS` rows or with a value past :data:`MAX_COLUMNS` columns,
    ``too_many_rows`` past :data:`MAX_ROWS` data rows. With ``blank_run_ends``, a run of
    :data:`_MAX_BLANK_RUN` blank rows ends the table (spreadsheet formatting, no data).
    """
    header: list[str] | None = None
    data: list[tuple[int, list[str]]] = []
    start = blank = 0
    for position, record in enumerate(records, 1):
        if position > MAX_SHEET_ROWS:
            raise TableError("too_large", rows=MAX_SHEET_ROWS, columns=MAX_COLUMNS)
        if len(record) > MAX_COLUMNS and any(cell.strip() for cell in record[MAX_COLUMNS:]):
            raise TableError("too_large", rows=MAX_SHEET_ROWS, columns=MAX_COLUMNS)
        cells = [cell.strip() for cell in record[:MAX_COLUMNS]]
        if not any(cells):
            blank += 1
            if blank_run_ends and blank > _MAX_BLANK_RUN:
                break  # only formatting follows
            continue
        blank = 0
        if header is None:
            header, start = cells, position
            continue
        data.append((position - start + 1, cells))
        if len(data) > MAX_ROWS:
            raise TableError("too_many_rows", limit=MAX_ROWS)
    if header is None:
        raise TableError("empty")
    return header, data


def _table(kind: str, records: Iterable[Sequence[str]], *, blank_run_ends: bool = False) -> Table:
    """A table from records of texts (CSV or xlsx rows), read within the limits."""
    header, data = _bounded_records(records, blank_run_ends=blank_run_ends)
    width = max(len(header), *(len(r) for _, r in data)) if data else len(header)
    # Trailing columns with neither a header nor any value are spreadsheet noise.
    while (
        width and not _filled(header, width - 1) and not any(_filled(r, width - 1) for _, r in data)
    ):
        width -= 1
    columns = _column_names(header[:width])
    rows = []
    for number, record in data:
        cells = record[: len(columns)] + [""] * (len(columns) - len(record))
        extra = any(record[len(columns) :])
        rows.append(
            Row(
                number,
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
        features = _features(document)
        columns: list[str] = []
        for feature in features:
            for key in feature.get("properties") or {}:
                if key not in columns:
                    columns.append(key)
        points = _feature_points(content, features)
        rows = []
        for number, (feature, (point, problem)) in enumerate(zip(features, points, strict=True), 1):
            properties = feature.get("properties") or {}
            cells = {column: cell_text(properties.get(column)) for column in columns}
            rows.append(Row(number, cells, point, problem))
    except json.JSONDecodeError as exc:
        raise TableError("unreadable", reason=str(exc)) from None
    except RecursionError:  # arrays or objects nested thousands deep
        raise TableError("too_deep") from None
    return _checked(Table("geojson", tuple(columns), tuple(rows)))


def _features(document) -> list[dict]:
    """The features of a FeatureCollection, each checked to be an object with an object (or
    null) as its properties; TableError (``geojson``, naming the feature) if not."""
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise TableError("not_a_table")
    features = document.get("features")
    if not isinstance(features, list):
        raise TableError("geojson", problem="features", feature=0)
    if not features:
        raise TableError("empty")
    if len(features) > MAX_ROWS:
        raise TableError("too_many_rows", limit=MAX_ROWS)
    for number, feature in enumerate(features, 1):
        if not isinstance(feature, dict):
            raise TableError("geojson", problem="feature", feature=number)
        if not isinstance(feature.get("properties"), dict | None):
            raise TableError("geojson", problem="properties", feature=number)
    return features


def _feature_points(
    content: bytes, features: list[dict]
) -> list[tuple[tuple[float, float] | None, str | None]]:
    """(point, problem) per feature, read and reprojected by pyogrio/geopandas.

    A geometry GDAL or GEOS cannot read (an unclosed ring, an unknown type, coordinates that
    are no numbers) is the row's problem (``geometry``), not the file's.
    """
    import pyogrio  # imported here: GDAL is only needed for GeoJSON
    from pyogrio.errors import DataSourceError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL notes about the source are no errors
            frame = pyogrio.read_dataframe(io.BytesIO(content), columns=[], on_invalid="ignore")
    except (DataSourceError, OSError, ValueError) as exc:
        raise TableError("unreadable", reason=str(exc)) from None
    if len(frame) != len(features):
        raise TableError("unreadable", reason=f"{len(frame)} of {len(features)} features read")
    frame = frame.set_crs(4326) if frame.crs is None else frame.to_crs(4326)
    return [
        (None, "geometry") if geometry is None and feature.get("geometry") is not None
        else _point(geometry)
        for feature, geometry in zip(features, frame.geometry, strict=True)
    ]  # fmt: skip


def _point(geometry) -> tuple[tuple[float, float] | None, str | None]:
    """The point that stands for a geometry (itself, or a point inside a line or area, made
    valid first), and the problem if there is none."""
    if geometry is None or geometry.is_empty:
        return None, None
    try:
        if geometry.geom_type != "Point" and not geometry.is_valid:
            geometry = shapely.make_valid(geometry)  # e.g. a self-intersecting area
        spot = geometry if geometry.geom_type == "Point" else geometry.representative_point()
    except shapely.errors.ShapelyError:
        return None, "geometry"
    if spot.is_empty or not (math.isfinite(spot.x) and math.isfinite(spot.y)):
        return None, "geometry"
    if not (-180 <= spot.x <= 180 and -90 <= spot.y <= 90):
        return None, "geometry"
    return (spot.x, spot.y), None
