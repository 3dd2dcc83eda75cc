"""Fuzzing the file readers behind the importers (issue 17): arbitrary bytes and structured but
broken CSV, XLSX and GeoJSON files give a table (or a layer) or a TableError / LayerFileError
with a code the importers turn into a message, never another exception."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from geodata.layer_files import LayerFileError, read_layer_file
from geodata.tables import TableError, read_table

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
HEADERS = st.sampled_from(
    ["Firma", "Name", "PLZ", "Ort", "Straße", "E-Mail", "Beschäftigte", "WZ", "lat", "lon",
     "Breite", "Länge", "x", "y", "stop_id", "stop_lat", "stop_lon", "", " ", "name", "Name"]
)  # fmt: skip
CELLS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["51,6", "7.1", "1e400", "nan", "-inf", "45768", "٣", "=1+1", "\x00", ""]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats().map(str),
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])
DELIMITERS = st.sampled_from([",", ";", "\t", "|", " "])


def _table_or_table_error(content: bytes) -> None:
    try:
        table = read_table(content)
    except TableError as error:
        assert error.code
        return
    assert table.kind in ("csv", "xlsx", "geojson")
    for row in table.rows:
        assert set(row.cells) <= set(table.columns)
        assert all(isinstance(value, str) for value in row.cells.values())


def _layer_or_layer_error(content: bytes) -> None:
    try:
        layer = read_layer_file(content)
    except LayerFileError as error:
        assert error.code
        return
    for row in layer.rows:
        if row.point is not None:
            lon, lat = row.point
            assert -180 <= lon <= 180 and -90 <= lat <= 90, row


@st.composite
def csv_files(draw) -> bytes:
    """A CSV with random columns, cells, delimiter, encoding and ragged rows."""
    delimiter = draw(DELIMITERS)
    header = draw(st.lists(HEADERS, min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(CELLS, max_size=len(header) + 2), max_size=6))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(draw(ENCODINGS), errors="replace")


@st.composite
def xlsx_files(draw) -> bytes:
    """An XLSX built with openpyxl: random cells of random types, sometimes several sheets."""
    book = Workbook()
    values = st.one_of(
        CELLS.map(lambda text: text.replace("\x00", "")),
        st.integers(min_value=-(10**15), max_value=10**15),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.dates(),
        st.datetimes(),
        st.none(),
    )
    for index in range(draw(st.integers(min_value=1, max_value=2))):
        sheet = book.active if index == 0 else book.create_sheet()
        for row in draw(st.lists(st.lists(values, max_size=6), max_size=6)):
            sheet.append(
                [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]
            )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from([7.1, 51.6, 1e308, -1e308, 0, 400, -91]),
    st.text(max_size=4),
    st.none(),
    st.booleans(),
)
POSITIONS = st.lists(NUMBERS, min_size=0, max_size=4)


def _geometries():
    return st.one_of(
        st.none(),
        st.fixed_dictionaries({"type": st.just("Point"), "coordinates": POSITIONS}),
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["LineString", "MultiPoint"]),
                "coordinates": st.lists(POSITIONS, max_size=4),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["Polygon", "MultiLineString"]),
                "coordinates": st.lists(st.lists(POSITIONS, max_size=5), max_size=2),
            }
        ),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["GeometryCollection", "Circle", "", 3])},
            optional={"geometries": st.lists(st.none(), max_size=2), "coordinates": POSITIONS},
        ),
        st.text(max_size=5),
        st.lists(st.integers(), max_size=3),
    )


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def geojson_files(draw) -> bytes:
    """A FeatureCollection (mostly) with random geometries and properties."""
    properties = st.one_of(
        st.dictionaries(st.one_of(HEADERS, st.text(max_size=8)), JSON_VALUES, max_size=5),
        st.none(),
        JSON_VALUES,
    )
    feature = st.fixed_dictionaries(
        {"type": st.sampled_from(["Feature", "feature", "Point"])},
        optional={"geometry": _geometries(), "properties": properties, "id": JSON_VALUES},
    )
    document = draw(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["FeatureCollection", "Feature", "Topology"]),
                    "features": st.one_of(st.lists(feature, max_size=5), JSON_VALUES),
                }
            ),
            JSON_VALUES,
        )
    )
    return json.dumps(document).encode()  # NaN and Infinity too, as some tools write them


def _zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@FUZZ
@given(st.binary(max_size=400))
@example(b"\xef\xbb\xbf")
@example(b"PK\x03\x04")
@example(b"\x00\x00\x00")
@example(b"{" * 5000)
def test_arbitrary_bytes_are_a_table_or_a_table_error(content):
    _table_or_table_error(content)


@FUZZ
@given(csv_files())
def test_broken_csv_files_are_a_table_or_a_table_error(content):
    _table_or_table_error(content)


@settings(FUZZ, max_examples=15)
@given(xlsx_files())
def test_random_xlsx_files_are_a_table_or_a_table_error(content):
    _table_or_table_error(content)


@FUZZ
@given(geojson_files())
@example(b'{"type":"FeatureCollection","features":[{"type":"Feature","geometry":'
         b'{"type":"Point","coordinates":[NaN,Infinity]},"properties":{}}]}')  # fmt: skip
def test_random_geojson_is_a_table_or_a_table_error(content):
    _table_or_table_error(content)


@FUZZ
@given(st.one_of(st.binary(max_size=400), csv_files(), geojson_files()))
def test_layer_files_are_read_or_refused_with_a_code(content):
    _layer_or_layer_error(content)


@settings(FUZZ, max_examples=15)
@given(
    st.dictionaries(
        st.sampled_from(["stops.txt", "a.shp", "a.dbf", "a.prj", "a.shx", "routes.txt"]),
        st.one_of(st.binary(max_size=100), csv_files()),
        min_size=1,
        max_size=3,
    )
)
def test_zipped_layers_are_read_or_refused_with_a_code(members):
    _layer_or_layer_error(_zipped(members))
