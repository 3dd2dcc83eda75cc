"""Reading uploaded tables: kind by content, encodings, delimiters, row numbers, GeoJSON CRS."""

import io
import json
import tracemalloc
import zipfile
from datetime import date

import geopandas as gpd
import pytest
import shapely
from openpyxl import Workbook
from shapely.geometry import LineString, Point, Polygon

from geodata import tables
from geodata.tables import TableError, detect_kind, read_table

HEADER = "Firma;PLZ;Ort;Telefon\n"


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def geojson_bytes(frame: gpd.GeoDataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_file(buffer, driver="GeoJSON")
    return buffer.getvalue()


def test_csv_with_semicolons_and_row_numbers_as_the_user_sees_them():
    content = (HEADER + "Bäckerei Müller;45657;Recklinghausen;02361 1\n\n;45768;Marl;\n").encode()
    table = read_table(content)
    assert table.kind == "csv"
    assert table.columns == ("Firma", "PLZ", "Ort", "Telefon")
    assert [row.number for row in table.rows] == [2, 4]  # the blank line 3 is skipped
    assert table.rows[0].cells == {
        "Firma": "Bäckerei Müller",
        "PLZ": "45657",
        "Ort": "Recklinghausen",
        "Telefon": "02361 1",
    }
    assert table.rows[1].cells["Firma"] == ""


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed(delimiter):
    content = delimiter.join(["name", "plz", "beschreibung"]) + "\n"
    content += delimiter.join(["A", "45657", '"Brot, Brötchen; Kuchen"']) + "\n"
    table = read_table(content.encode())
    assert table.columns == ("name", "plz", "beschreibung")
    assert table.rows[0].cells["beschreibung"] == "Brot, Brötchen; Kuchen"


def test_utf8_bom_and_windows_1252_are_read():
    assert read_table(("\ufeff" + HEADER + "Öztürk;45657;Marl;\n").encode()).columns[0] == "Firma"
    table = read_table((HEADER + "Straßenbau Söhne;45657;Dorsten;\n").encode("cp1252"))
    assert table.rows[0].cells["Firma"] == "Straßenbau Söhne"


def test_short_rows_are_padded_and_extra_cells_flagged():
    table = read_table(b"a;b;c\n1\n1;2;3;4\n")
    assert table.rows[0].cells == {"a": "1", "b": "", "c": ""}
    assert table.rows[0].problem is None
    assert table.rows[1].problem == "extra_cells"


def test_empty_and_repeated_headers_get_names():
    table = read_table(b"name;;name\nA;x;B\n")
    assert table.columns == ("name", "#2", "name (2)")


def test_xlsx_by_content_with_typed_cells():
    content = xlsx_bytes(
        [
            ["Firma", "PLZ", "Breite", "Gegründet", "Ausbildung", None],
            ["Elektro Kaya", 45657, 51.6146, date(2020, 5, 1), True, None],
            [None, None, None, None, None, None],
            ["Malerei Nowak", "45768", 51.65, None, False, None],
        ]
    )
    assert detect_kind(content) == "xlsx"
    table = read_table(content)
    assert table.kind == "xlsx"
    assert table.columns == ("Firma", "PLZ", "Breite", "Gegründet", "Ausbildung")
    assert [row.number for row in table.rows] == [2, 4]
    assert table.rows[0].cells == {
        "Firma": "Elektro Kaya",
        "PLZ": "45657",
        "Breite": "51.6146",
        "Gegründet": "2020-05-01",
        "Ausbildung": "true",
    }


def test_geojson_in_another_crs_is_reprojected_to_lon_lat():
    frame = gpd.GeoDataFrame(
        {"name": ["A", "B"], "plz": ["45657", None], "employees": [3, 12]},
        geometry=[Point(370000, 5720000), None],
        crs="EPSG:25832",
    )
    table = read_table(geojson_bytes(frame))
    assert table.kind == "geojson"
    assert table.columns == ("name", "plz", "employees")
    assert [row.number for row in table.rows] == [1, 2]
    assert table.rows[0].cells == {"name": "A", "plz": "45657", "employees": "3"}
    lon, lat = table.rows[0].point
    expected = gpd.GeoSeries([Point(370000, 5720000)], crs=25832).to_crs(4326)[0]
    assert lon == pytest.approx(expected.x, abs=1e-9)
    assert lat == pytest.approx(expected.y, abs=1e-9)
    assert 7.0 < lon < 7.3 and 51.5 < lat < 51.7
    assert table.rows[1].point is None
    assert table.rows[1].cells["plz"] == ""


def test_geojson_without_crs_is_wgs84_and_areas_give_a_point():
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Fläche", "plz": 45657},
                "geometry": Polygon(
                    [(7.1, 51.6), (7.2, 51.6), (7.2, 51.7), (7.1, 51.6)]
                ).__geo_interface__,
            },
            {
                "type": "Feature",
                "properties": {"name": "Linie", "extra": {"a": 1}},
                "geometry": LineString([(7.1, 51.6), (7.2, 51.6)]).__geo_interface__,
            },
        ],
    }
    table = read_table(json.dumps(document).encode())
    assert table.columns == ("name", "plz", "extra")
    assert table.rows[0].cells["plz"] == "45657"
    lon, lat = table.rows[0].point
    assert Polygon([(7.1, 51.6), (7.2, 51.6), (7.2, 51.7)]).contains(Point(lon, lat))
    assert table.rows[1].point[1] == pytest.approx(51.6)
    assert table.rows[1].cells["extra"] == '{"a": 1}'


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"name;plz\n", "empty"),
        (bytes(range(256)) * 4, "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old_excel"),
        (b'{"type": "Feature", "properties": {}}', "not_a_table"),
        (b'{"type": "FeatureCollection", "features": []}', "empty"),
        (b'{"type": "FeatureCollection", "features": [', "unreadable"),
    ],
)
def test_unreadable_files_raise_a_table_error_with_a_code(content, code):
    with pytest.raises(TableError) as raised:
        read_table(content)
    assert raised.value.code == code


def test_a_zip_that_is_no_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("content.xml", "<x/>")
    with pytest.raises(TableError) as raised:
        read_table(buffer.getvalue())
    assert raised.value.code == "not_a_table"


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr(tables, "MAX_ROWS", 3)
    assert len(read_table(b"name\na\nb\nc\n").rows) == 3
    with pytest.raises(TableError) as raised:
        read_table(b"name\na\nb\nc\nd\n")
    assert raised.value.code == "too_many_rows"
    assert raised.value.details == {"limit": 3}
    with pytest.raises(TableError):
        read_table(xlsx_bytes([["name"], ["a"], ["b"], ["c"], ["d"]]))


# --- files built to hurt: bounded reading, clear codes -------------------------------------

_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Tabelle1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def forged_xlsx(cells: dict[str, str], dimension: str = "A1:XFD1048576", **extra: bytes) -> bytes:
    """A tiny xlsx whose sheet declares ``dimension`` and holds ``cells`` ({"A1": text}),
    written by hand as an attacker would; ``extra`` adds members (name: content)."""
    rows: dict[int, list[str]] = {}
    for ref, text in cells.items():
        number = int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        rows.setdefault(number, []).append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
    sheet_data = "".join(
        f'<row r="{number}">{"".join(row)}</row>' for number, row in sorted(rows.items())
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{sheet_data}</sheetData></worksheet>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _XLSX_PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, content in extra.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def rows_read(monkeypatch):
    """How many rows openpyxl handed out while reading, and how wide the widest was."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    seen = {"rows": 0, "width": 0}
    original = ReadOnlyWorksheet._cells_by_row

    def counting(self, *args, **kwargs):
        for row in original(self, *args, **kwargs):
            seen["rows"] += 1
            seen["width"] = max(seen["width"], len(row))
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counting)
    return seen


def test_an_xlsx_that_claims_a_million_rows_and_columns_is_read_within_bounds(rows_read):
    content = forged_xlsx(
        {"A1": "Firma", "B1": "PLZ", "A2": "Bäckerei", "B2": "45657", "XFD1048576": "Bombe"}
    )
    assert len(content) < 5000
    tracemalloc.start()
    try:
        table = read_table(content)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert table.columns == ("Firma", "PLZ")
    assert [row.cells for row in table.rows] == [{"Firma": "Bäckerei", "PLZ": "45657"}]
    assert rows_read["width"] <= tables.MAX_COLUMNS + 1  # not 16,384 cells a row
    assert rows_read["rows"] <= tables.MAX_SHEET_ROWS  # not a million rows
    assert peak < 100 * 1024 * 1024


def test_an_xlsx_with_cells_far_apart_is_refused_after_the_row_limit(rows_read):
    cells = {"A1": "Firma"} | {f"A{number}": "x" for number in range(2, 1_048_576, 9000)}
    with pytest.raises(TableError) as raised:
        read_table(forged_xlsx(cells))
    assert raised.value.code == "too_large"
    assert raised.value.details == {"rows": tables.MAX_SHEET_ROWS, "columns": tables.MAX_COLUMNS}
    assert rows_read["rows"] <= tables.MAX_SHEET_ROWS + 1


def test_an_xlsx_with_a_value_beyond_the_column_limit_is_refused(rows_read):
    from openpyxl.utils import get_column_letter

    beyond = get_column_letter(tables.MAX_COLUMNS + 1)
    with pytest.raises(TableError) as raised:
        read_table(forged_xlsx({"A1": "Firma", "A2": "x", f"{beyond}2": "zu weit"}))
    assert raised.value.code == "too_large"
    assert rows_read["width"] <= tables.MAX_COLUMNS + 1


def test_an_xlsx_that_unpacks_to_too_much_is_refused_before_it_is_opened(monkeypatch):
    import openpyxl

    monkeypatch.setattr(tables, "MAX_UNPACKED_BYTES", 1024 * 1024)
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(a))
    content = forged_xlsx({"A1": "Firma", "A2": "x"}, **{"xl/media/image1.png": b"\0" * 2**21})
    assert len(content) < 10_000  # 2 MB of zeros pack into a few KB
    with pytest.raises(TableError) as raised:
        read_table(content)
    assert raised.value.code == "too_large_unpacked"
    assert raised.value.details == {"limit_mb": 1}
    assert opened == []


@pytest.mark.parametrize(
    "content",
    [
        b"name\n" + b"\n" * (tables.MAX_SHEET_ROWS + 1) + b"A\n",
        b"name" + b";" * tables.MAX_COLUMNS + b"zu weit\nA\n",
    ],
    ids=["blank lines", "columns"],
)
def test_a_csv_beyond_the_limits_is_refused(content):
    with pytest.raises(TableError) as raised:
        read_table(content)
    assert raised.value.code == "too_large"


def test_a_csv_with_many_empty_headers_is_read_quickly():
    table = read_table(b";" * (tables.MAX_COLUMNS - 2) + b"name\n" + b";" * 199 + b"A\n")
    assert table.columns[-1] == "name" and table.columns[0] == "#1"


def feature_collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def feature(geometry=None, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


@pytest.mark.parametrize(
    ("content", "code", "details"),
    [
        (
            b'{"type": "FeatureCollection", "features": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "too_deep",
            {},
        ),
        (
            feature_collection(
                feature(), {"type": "Feature", "properties": ["a"], "geometry": None}
            ),
            "geojson",
            {"problem": "properties", "feature": 2},
        ),
        (
            feature_collection({"type": "Feature", "properties": "name", "geometry": None}),
            "geojson",
            {"problem": "properties", "feature": 1},
        ),
        (
            json.dumps({"type": "FeatureCollection", "features": {"a": 1}}).encode(),
            "geojson",
            {"problem": "features", "feature": 0},
        ),
        (feature_collection(feature(), "Feature"), "geojson", {"problem": "feature", "feature": 2}),
        (b"name;plz\nB\x00ckerei;45657\n", "nul_bytes", {}),
        ("name;plz\nBäckerei;45657\n".encode("utf-16"), "nul_bytes", {}),
        (b"SQLite format 3\x00" + bytes(200), "geopackage", {}),
        (b"name\n\x81\x8d\x8f\n", "binary", {}),
    ],
    ids=[
        "deep nesting",
        "properties list",
        "properties text",
        "features object",
        "feature text",
        "NUL byte",
        "UTF-16",
        "GeoPackage",
        "not UTF-8",
    ],
)
def test_malformed_files_raise_a_table_error_with_a_code(content, code, details):
    with pytest.raises(TableError) as raised:
        read_table(content)
    assert (raised.value.code, raised.value.details) == (code, details)


def test_broken_geometries_are_the_rows_problem_not_the_files():
    unclosed = {"type": "Polygon", "coordinates": [[[7.1, 51.6], [7.2, 51.6], [7.2, 51.7]]]}
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[7.1, 51.6], [7.2, 51.7], [7.2, 51.6], [7.1, 51.7], [7.1, 51.6]]],
    }
    table = read_table(
        feature_collection(
            feature(unclosed, name="Offener Ring"),
            feature({"type": "Point", "coordinates": ["a", "b"]}, name="Text"),
            feature("POINT (7.1 51.6)", name="WKT"),
            feature(None, name="Ohne"),
            feature(bowtie, name="Schleife"),
            feature({"type": "Point", "coordinates": [7.1, 51.6]}, name="Gut"),
        )
    )
    problems = {row.cells["name"]: (row.point, row.problem) for row in table.rows}
    assert problems["Offener Ring"] == (None, "geometry")
    assert problems["Text"] == (None, "geometry")
    assert problems["WKT"] == (None, "geometry")
    assert problems["Ohne"] == (None, None)
    point, problem = problems["Schleife"]
    area = shapely.make_valid(Polygon(bowtie["coordinates"][0]))
    assert problem is None and area.contains(Point(point))
    assert problems["Gut"] == ((7.1, 51.6), None)
