"""Reading uploaded tables: kind by content, encodings, delimiters, row numbers, GeoJSON CRS."""

import io
import json
import zipfile
from datetime import date

import geopandas as gpd
import pytest
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
