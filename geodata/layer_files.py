"""Reading a layer file (points of a map layer) into rows with a WGS 84 point each.

Supported, told by the content and never by the file name:

- GeoJSON (a JSON ``FeatureCollection``, any CRS it declares),
- GeoPackage (an SQLite file; its first layer),
- a zipped Shapefile (``.shp``, ``.shx``, ``.dbf`` and ``.prj``; without ``.prj`` a CRS must be
  given),
- CSV with coordinate columns (``lon``/``lat``, ``longitude``/``latitude``, ``x``/``y``,
  ``rechtswert``/``hochwert``, ``easting``/``northing``) in EPSG:4326 or the CRS given,
- GTFS: a ``stops.txt`` alone or a whole GTFS zip (stops, and the lines per stop when the zip
  has ``routes.txt``, ``trips.txt`` and ``stop_times.txt``).

Reading is bounded: at most :data:`MAX_ROWS` rows, archives that unpack to at most
:data:`MAX_UNPACKED_BYTES` (declared sizes, which :mod:`zipfile` never reads beyond), at most
:data:`MAX_MEMBERS` members, at most :data:`MAX_STOP_TIMES` rows of ``stop_times.txt``.
Problems with the whole file raise :class:`LayerFileError` with a ``code`` the app turns into
a message; problems of single rows are the row's ``problem``. No Flask here.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geodata.tables import TableError, _point, cell_text, decode_text, sniff_delimiter

#: The most rows (features, stops) one layer file may have.
MAX_ROWS = 50_000
#: The most bytes the members of a zip archive may unpack to, together (declared sizes).
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
#: The most bytes one member that is read whole (stops.txt, routes.txt, a Shapefile part)
#: may have.
MAX_MEMBER_BYTES = 60 * 1024 * 1024
#: The most members a zip archive may have.
MAX_MEMBERS = 200
#: The most rows of stop_times.txt read for the lines per stop; past it the lines are partial.
MAX_STOP_TIMES = 3_000_000
#: The most lines listed per stop.
MAX_LINES_PER_STOP = 30

_SIGNATURES = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "binary"),
    (b"%PDF", "binary"),
    (b"\x89PNG", "binary"),
    (b"\xff\xd8\xff", "binary"),
    (b"GIF8", "binary"),
    (b"\x1f\x8b", "binary"),
)
_GPKG = b"SQLite format 3\x00"
COORDINATE_COLUMNS = (
    ("lon", "lat"),
    ("longitude", "latitude"),
    ("lng", "lat"),
    ("x", "y"),
    ("rechtswert", "hochwert"),
    ("easting", "northing"),
    ("stop_lon", "stop_lat"),
)
NAME_COLUMNS = ("name", "stop_name", "title", "titel", "bezeichnung", "einrichtung", "schulname")


class LayerFileError(ValueError):
    """The file cannot be read as a layer. ``code`` says why; ``details`` fill the message.

    Codes: ``empty``, ``binary``, ``nul_bytes`` (UTF-16 or another encoding with NULs),
    ``encoding`` (a text file neither in UTF-8 nor in Windows-1252),
    ``not_a_layer`` (a zip or JSON without a layer in it), ``unreadable`` (``reason``),
    ``too_many_rows`` (``limit``), ``too_large_unpacked`` (``limit_mb``), ``zip_members``
    (``limit``), ``no_crs`` (a Shapefile without .prj, or projected CSV coordinates, and no CRS
    given), ``bad_crs`` (``crs``), ``no_coordinate_columns`` (``columns``), ``too_deep``.
    """

    def __init__(self, code: str, **details):
        super().__init__(code, details)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class LayerRow:
    """One feature: its number as the user sees it (CSV: the header is row 1), its name, its
    attributes as text (by lower-cased column name), its (lon, lat) in WGS 84, the id in the
    source and what is wrong with it (``no_coordinates``, ``geometry``, ``coordinates``,
    ``extra_cells``), if anything. ``repaired`` is set when an invalid geometry was made
    valid to find its point."""

    number: int
    name: str
    cells: dict[str, str]
    point: tuple[float, float] | None = None
    problem: str | None = None
    ref: str | None = None
    repaired: bool = False


@dataclass(frozen=True)
class LayerFile:
    """A layer file read: its format, the CRS it was in, its columns and rows, and notes
    (``lines_partial`` when stop_times.txt was longer than the bound)."""

    format: str
    crs: str
    columns: tuple[str, ...]
    rows: tuple[LayerRow, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


Progress = Callable[[int], None]


def _noop(_: int) -> None:
    return None


def detect_format(content: bytes) -> str:
    """'gpkg', 'shapefile', 'gtfs', 'geojson' or 'csv' by the content; LayerFileError if none."""
    if not content.strip():
        raise LayerFileError("empty")
    if content.startswith(_GPKG):
        return "gpkg"
    if zipfile.is_zipfile(io.BytesIO(content)):
        names = _zip_names(content)
        bases = {PurePosixPath(name).name.lower() for name in names}
        if "stops.txt" in bases:
            return "gtfs"
        if any(base.endswith(".shp") for base in bases):
            return "shapefile"
        raise LayerFileError("not_a_layer")
    for signature, code in _SIGNATURES:
        if content.startswith(signature):
            raise LayerFileError(code)
    text = _text(content)
    if text.lstrip().startswith(("{", "[")):
        return "geojson"
    return "csv"


def read_layer_file(
    content: bytes, crs: str | None = None, progress: Progress | None = None
) -> LayerFile:
    """Read a layer file (by its content) into a :class:`LayerFile` in EPSG:4326.

    ``crs`` (e.g. ``EPSG:25832``) names the CRS of CSV coordinates or of a Shapefile without
    ``.prj``; for other files it overrides the CRS they declare. ``progress`` is called with
    the number of rows read since the last call.
    """
    progress = progress or _noop
    target = _crs(crs) if crs else None
    kind = detect_format(content)
    if kind == "gpkg":
        return _read_vector(content, "gpkg", target, progress)
    if kind == "shapefile":
        return _read_shapefile(content, target, progress)
    if kind == "gtfs":
        return _read_gtfs_zip(content, target, progress)
    if kind == "geojson":
        return _read_geojson(content, target, progress)
    text = _text(content)
    header = [
        c.strip().lower()
        for c in next(csv.reader([text.split("\n", 1)[0]], delimiter=sniff_delimiter(text)), [])
    ]
    if {"stop_id", "stop_lat", "stop_lon"} <= set(header):
        return _gtfs(text, None, target, progress)
    return _read_csv(text, target, progress)


# --- helpers ----------------------------------------------------------------------------------


def _text(content: bytes) -> str:
    try:
        return decode_text(content)
    except TableError as error:
        if error.code == "binary" and _mostly_text(content):
            raise LayerFileError("encoding") from None
        raise LayerFileError(error.code) from None


def _mostly_text(content: bytes) -> bool:
    """Whether bytes are nearly all printable ASCII (a text file in an unknown encoding)."""
    sample = content[:65536]
    printable = sum(32 <= byte < 127 or byte in b"\t\r\n" for byte in sample)
    return printable >= 0.95 * len(sample)


def _crs(value: str) -> CRS:
    try:
        return CRS.from_user_input(value.strip())
    except (CRSError, TypeError, ValueError):
        raise LayerFileError("bad_crs", crs=str(value)[:40]) from None


def _zip_names(content: bytes) -> list[str]:
    """The archive's member names, after checking the bounds (members, unpacked size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise LayerFileError("unreadable", reason=str(exc)) from None
    if len(infos) > MAX_MEMBERS:
        raise LayerFileError("zip_members", limit=MAX_MEMBERS)
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        raise LayerFileError("too_large_unpacked", limit_mb=MAX_UNPACKED_BYTES // (1024 * 1024))
    return [info.filename for info in infos if not info.is_dir()]


def _member(archive: zipfile.ZipFile, wanted: str) -> zipfile.ZipInfo | None:
    """The member whose base name is ``wanted`` (case-insensitive), the shallowest first."""
    found = [
        info
        for info in archive.infolist()
        if not info.is_dir() and PurePosixPath(info.filename).name.lower() == wanted
    ]
    return min(found, key=lambda info: info.filename.count("/")) if found else None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_MEMBER_BYTES:
        raise LayerFileError("too_large_unpacked", limit_mb=MAX_MEMBER_BYTES // (1024 * 1024))
    try:
        with archive.open(info) as handle:
            return handle.read(MAX_MEMBER_BYTES + 1)[:MAX_MEMBER_BYTES]
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise LayerFileError("unreadable", reason=str(exc)) from None


def _name_of(cells: dict[str, str]) -> str:
    for column in NAME_COLUMNS:
        if cells.get(column, "").strip():
            return cells[column].strip()
    return ""


# --- vector files (GeoJSON, GeoPackage, Shapefile) ----------------------------------------


def _read_geojson(content: bytes, target: CRS | None, progress: Progress) -> LayerFile:
    try:
        document = json.loads(_text(content))
    except json.JSONDecodeError as exc:
        raise LayerFileError("unreadable", reason=str(exc)) from None
    except RecursionError:
        raise LayerFileError("too_deep") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise LayerFileError("not_a_layer")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise LayerFileError("empty")
    if len(features) > MAX_ROWS:
        raise LayerFileError("too_many_rows", limit=MAX_ROWS)
    had_geometry = [isinstance(f, dict) and f.get("geometry") is not None for f in features]
    return _read_vector(content, "geojson", target, progress, had_geometry)


def _read_shapefile(content: bytes, target: CRS | None, progress: Progress) -> LayerFile:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        shp = next((i for i in archive.infolist() if i.filename.lower().endswith(".shp")), None)
        if shp is None:  # detect_format found one; a different archive is no layer
            raise LayerFileError("not_a_layer")
        stem = shp.filename[: -len(".shp")]
        parts = {
            info.filename[len(stem) :].lower(): info
            for info in archive.infolist()
            if info.filename.startswith(stem) and not info.is_dir()
        }
        if ".dbf" not in parts or ".shx" not in parts:
            raise LayerFileError("unreadable", reason=".shp, .shx and .dbf are needed")
        if ".prj" not in parts and target is None:
            raise LayerFileError("no_crs")
        with tempfile.TemporaryDirectory(prefix="layer-shp-") as folder:
            for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                if suffix in parts:
                    data = _read_member(archive, parts[suffix])
                    Path(folder, "layer" + suffix).write_bytes(data)
            return _read_vector(Path(folder, "layer.shp"), "shapefile", target, progress)


def _read_vector(
    source: bytes | Path,
    kind: str,
    target: CRS | None,
    progress: Progress,
    had_geometry: list[bool] | None = None,
) -> LayerFile:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    data = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = pyogrio.read_info(data)
            if info.get("features", 0) > MAX_ROWS:
                raise LayerFileError("too_many_rows", limit=MAX_ROWS)
            if isinstance(data, io.BytesIO):
                data.seek(0)
            frame = pyogrio.read_dataframe(data, on_invalid="ignore")
    except LayerFileError:
        raise
    except (DataSourceError, DataLayerError, OSError, ValueError, RuntimeError) as exc:
        raise LayerFileError("unreadable", reason=str(exc)[:200]) from None
    if len(frame) == 0:
        raise LayerFileError("empty")
    if target is not None:
        frame = frame.set_crs(target, allow_override=True)
    elif frame.crs is None:
        if kind == "shapefile":
            raise LayerFileError("no_crs")
        frame = frame.set_crs(4326)
    source_crs = _crs_name(frame.crs)
    invalid_before = [g is not None and not g.is_empty and not g.is_valid for g in frame.geometry]
    try:
        frame = frame.to_crs(4326)
    except Exception as exc:  # pyproj fails in several ways on odd CRS
        raise LayerFileError("unreadable", reason=str(exc)[:200]) from None
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    rows = []
    for index, (record, geometry) in enumerate(
        zip(frame[columns].itertuples(index=False), frame.geometry, strict=True)
    ):
        cells = {
            column.strip().lower(): cell_text(_plain(value))
            for column, value in zip(columns, record, strict=True)
        }
        if geometry is None and had_geometry is not None and had_geometry[index]:
            point, problem = None, "geometry"
        elif geometry is None or geometry.is_empty:
            point, problem = None, "no_coordinates"
        else:
            point, problem = _point(geometry)
            if problem is None and point is None:
                problem = "no_coordinates"
        rows.append(
            LayerRow(
                index + 1,
                _name_of(cells),
                cells,
                point,
                problem,
                cells.get("id") or None,
                repaired=invalid_before[index] and problem is None,
            )
        )
        if index % 1000 == 999:
            progress(1000)
    progress(len(rows) % 1000)
    return LayerFile(kind, source_crs, tuple(c.strip().lower() for c in columns), tuple(rows))


def _plain(value):
    """pandas' missing values (NaN, NaT, NA) as None."""
    try:
        if value is None or (not isinstance(value, str | bytes) and bool(value != value)):
            return None
    except (TypeError, ValueError):
        return value
    return value


def _crs_name(crs) -> str:
    if crs is None:
        return ""
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


# --- CSV --------------------------------------------------------------------------------------


def _records(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The lower-cased header and the data records with their row numbers (header = 1)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    header: list[str] | None = None
    records: list[tuple[int, list[str]]] = []
    try:
        for position, record in enumerate(reader, 1):
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                continue
            records.append((position, record))
            if len(records) > MAX_ROWS:
                raise LayerFileError("too_many_rows", limit=MAX_ROWS)
    except csv.Error as exc:
        raise LayerFileError("unreadable", reason=str(exc)) from None
    if header is None or not records:
        raise LayerFileError("empty")
    return header, records


def _number(value: str) -> float | None:
    value = value.strip().replace(" ", "")
    if "," in value and "." not in value:
        value = value.replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _read_csv(text: str, target: CRS | None, progress: Progress) -> LayerFile:
    header, records = _records(text)
    pair = next(((x, y) for x, y in COORDINATE_COLUMNS if x in header and y in header), None)
    if pair is None:
        raise LayerFileError("no_coordinate_columns", columns=", ".join(header[:20]))
    raw: list[tuple[int, dict[str, str], tuple[float, float] | None, str | None]] = []
    for number, record in records:
        cells = {
            name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(header)
        }
        problem = None
        if len(record) != len(header):
            problem = "extra_cells" if len(record) > len(header) else "missing_cells"
        xy = None
        x_text, y_text = cells.get(pair[0], ""), cells.get(pair[1], "")
        if problem is None:
            if not x_text and not y_text:
                problem = "no_coordinates"
            else:
                x, y = _number(x_text), _number(y_text)
                if x is None or y is None:
                    problem = "coordinates"
                else:
                    xy = (x, y)
        raw.append((number, cells, xy, problem))
    source = target
    if source is None:
        looks_projected = any(
            xy is not None and (abs(xy[0]) > 180 or abs(xy[1]) > 90) for _, _, xy, _ in raw
        )
        if looks_projected:
            raise LayerFileError("no_crs")
        source = CRS.from_epsg(4326)
    transformer = Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True)
    rows = []
    for count, (number, cells, xy, problem) in enumerate(raw, 1):
        point = None
        if xy is not None:
            lon, lat = transformer.transform(*xy)
            if (
                math.isfinite(lon)
                and math.isfinite(lat)
                and -180 <= lon <= 180
                and -90 <= lat <= 90
            ):
                point = (lon, lat)
            else:
                problem = "geometry"
        ref = cells.get("id") or cells.get("stop_id") or None
        rows.append(LayerRow(number, _name_of(cells), cells, point, problem, ref))
        if count % 1000 == 0:
            progress(1000)
    progress(len(rows) % 1000)
    return LayerFile("csv", _crs_name(source), tuple(header), tuple(rows))


# --- GTFS -------------------------------------------------------------------------------------


def _read_gtfs_zip(content: bytes, target: CRS | None, progress: Progress) -> LayerFile:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        stops = _member(archive, "stops.txt")
        if stops is None:
            raise LayerFileError("not_a_layer")
        text = _text(_read_member(archive, stops))
        return _gtfs(text, archive, target, progress)


def _gtfs(
    stops_text: str, archive: zipfile.ZipFile | None, target: CRS | None, progress: Progress
) -> LayerFile:
    """Stops (stations and stops without a parent station; platforms count for their
    station), with the route short names per stop when the archive has the tables."""
    layer = _read_csv(stops_text, target, progress)
    parent_of: dict[str, str] = {}
    kept: list[LayerRow] = []
    for row in layer.rows:
        cells = row.cells
        location_type = cells.get("location_type", "").strip() or "0"
        parent = cells.get("parent_station", "").strip()
        if location_type not in ("0", "1"):
            continue  # entrances, generic nodes, boarding areas
        if parent and location_type == "0":
            parent_of[cells.get("stop_id", "")] = parent
            continue
        kept.append(row)
    notes: list[str] = []
    lines: dict[str, set[str]] = {}
    if archive is not None:
        lines, partial = _lines_per_stop(archive, parent_of)
        if partial:
            notes.append("lines_partial")
    rows = []
    for row in kept:
        stop_id = row.cells.get("stop_id", "")
        cells = {"stop_id": stop_id}
        names = sorted(lines.get(stop_id, ()), key=_natural)
        if names:
            cells["lines"] = ", ".join(names[:MAX_LINES_PER_STOP])
        rows.append(
            LayerRow(
                row.number,
                row.cells.get("stop_name", "").strip(),
                cells,
                row.point,
                row.problem,
                stop_id or None,
            )
        )
    return LayerFile(
        "gtfs", layer.crs, ("stop_id", "stop_name", "lines"), tuple(rows), tuple(notes)
    )


def _natural(name: str) -> tuple:
    digits = "".join(c for c in name if c.isdigit())
    return (0, int(digits[:9]), name) if digits and name[0].isdigit() else (1, 0, name)


def _dict_rows(archive: zipfile.ZipFile, name: str) -> Iterable[dict[str, str]]:
    info = _member(archive, name)
    if info is None:
        return
    try:
        with archive.open(info) as handle:
            reader = csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8-sig", newline=""))
            for record in reader:
                yield {
                    (k or "").strip().lower(): (v or "").strip()
                    for k, v in record.items()
                    if isinstance(v, str)
                }
    except (zipfile.BadZipFile, UnicodeDecodeError, csv.Error, OSError) as exc:
        raise LayerFileError("unreadable", reason=f"{name}: {exc}") from None


def _lines_per_stop(
    archive: zipfile.ZipFile, parent_of: dict[str, str]
) -> tuple[dict[str, set[str]], bool]:
    """{stop id: route short names}, read within :data:`MAX_STOP_TIMES` rows; and whether the
    bound cut it short."""
    if not all(_member(archive, n) for n in ("routes.txt", "trips.txt", "stop_times.txt")):
        return {}, False
    route_names = {}
    for count, record in enumerate(_dict_rows(archive, "routes.txt")):
        if count > MAX_ROWS:
            break
        label = record.get("route_short_name") or record.get("route_long_name") or ""
        route_names[record.get("route_id", "")] = label[:40]
    trip_route = {}
    for count, record in enumerate(_dict_rows(archive, "trips.txt")):
        if count > MAX_STOP_TIMES:
            break
        trip_route[record.get("trip_id", "")] = record.get("route_id", "")
    lines: dict[str, set[str]] = {}
    partial = False
    for count, record in enumerate(_dict_rows(archive, "stop_times.txt")):
        if count >= MAX_STOP_TIMES:
            partial = True
            break
        name = route_names.get(trip_route.get(record.get("trip_id", ""), ""))
        if not name:
            continue
        stop = record.get("stop_id", "")
        stop = parent_of.get(stop, stop)
        lines.setdefault(stop, set()).add(name)
    return lines, partial
