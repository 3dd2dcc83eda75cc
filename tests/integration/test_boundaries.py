"""Official municipality boundaries: reading (GeoJSON, GeoPackage, zipped Shapefile in EPSG:25832),
the import (filtered by the region's AGS or a prefix, reported, audited), and what follows: the
municipality filter, point-in-polygon assignment, in_region, the outline, the CLI and the
workspace page. The files are made by the tests; two adjacent squares (Recklinghausen west,
Herten east) share the border x = BORDER_X (EPSG:25832)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import Polygon, box
from sqlalchemy import select, text

from app.extensions import db
from app.models import AuditEntry, Company
from app.services import boundaries, coverage, region
from geodata.boundaries import BoundaryFileError, read_boundaries

RECKLINGHAUSEN, HERTEN, MARL, BOTTROP = "05562032", "05562020", "05562024", "05512000"
TO_UTM = Transformer.from_crs(4326, 25832, always_xy=True)
TO_WGS = Transformer.from_crs(25832, 4326, always_xy=True)
GEOD = Geod(ellps="WGS84")
#: The border between the squares: the easting of Recklinghausen's centre (as in make_company).
BORDER_X, MIDDLE_Y = (round(v) for v in TO_UTM.transform(7.1975, 51.6146))
SIDE = 4000


def wgs(x: float, y: float) -> tuple[float, float]:
    return TO_WGS.transform(x, y)


def frame() -> gpd.GeoDataFrame:
    """Recklinghausen west of the border, Herten east of it, Marl as a self-intersecting
    "bow tie" further north, an AGS of the district that is no municipality of the region
    and one of another district, in EPSG:25832."""
    south, north = MIDDLE_Y - SIDE / 2, MIDDLE_Y + SIDE / 2
    bow_tie = Polygon(
        [
            (BORDER_X, north + 1000),
            (BORDER_X + 1000, north + 2000),
            (BORDER_X + 1000, north + 1000),
            (BORDER_X, north + 2000),
        ]
    )
    return gpd.GeoDataFrame(
        {
            "AGS": [RECKLINGHAUSEN, HERTEN, MARL, "05562999", "05111000"],
            "GEN": ["Recklinghausen", "Herten", "Marl", "Nirgendwo", "Düsseldorf"],
        },
        geometry=[
            box(BORDER_X - SIDE, south, BORDER_X, north),
            box(BORDER_X, south, BORDER_X + SIDE, north),
            bow_tie,
            box(BORDER_X - 3 * SIDE, south, BORDER_X - 2 * SIDE, north),
            box(BORDER_X - 5 * SIDE, south, BORDER_X - 4 * SIDE, north),
        ],
        crs="EPSG:25832",
    )


def write(folder: Path, kind: str, data: gpd.GeoDataFrame | None = None, *, prj=True) -> Path:
    data = frame() if data is None else data
    if kind == "geojson":
        path = folder / "grenzen.geojson"
        data.to_file(path, driver="GeoJSON")
    elif kind == "gpkg":
        path = folder / "grenzen.gpkg"
        data.to_file(path, driver="GPKG")
    else:
        shp = folder / "shp"
        shp.mkdir()
        data.to_file(shp / "VG250_GEM.shp")
        path = folder / "grenzen.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for part in shp.iterdir():
                if prj or part.suffix != ".prj":
                    archive.write(part, part.name)
    return path


@pytest.fixture
def clear_boundaries(app):
    """The municipalities are shared reference rows: remove what a test stored."""
    yield
    with app.app_context():
        db.session.execute(text("UPDATE municipalities SET boundary = NULL"))
        db.session.execute(text("DELETE FROM audit_entries WHERE action = 'import_boundaries'"))
        db.session.commit()


def run_import(app, path, **options) -> boundaries.ImportReport:
    with app.test_request_context():
        return boundaries.import_file(path, **options)


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["geojson", "gpkg", "shp"])
def test_reads_and_reprojects_every_format_to_a_metre(tmp_path, kind):
    result = read_boundaries(write(tmp_path, kind))
    assert set(result.polygons) == {RECKLINGHAUSEN, HERTEN, MARL, "05562999", "05111000"}
    assert result.ags_column == "AGS"
    assert result.fixed == 1  # the bow tie
    assert all(p.geom_type == "MultiPolygon" and p.is_valid for p in result.polygons.values())
    south = MIDDLE_Y - SIDE / 2
    lon, lat = wgs(BORDER_X, south)  # Recklinghausen's south-east corner
    corners = result.polygons[RECKLINGHAUSEN].geoms[0].exterior.coords
    nearest = min(GEOD.inv(lon, lat, x, y)[2] for x, y in corners)
    assert nearest < 1.0
    minx, miny, maxx, maxy = result.polygons[HERTEN].bounds
    assert 7.19 < minx < 7.2 < maxx < 7.26 and 51.59 < miny < 51.62 < maxy < 51.64


def test_finds_the_ags_column_by_name_or_as_given(tmp_path):
    data = frame().rename(columns={"AGS": "KN"})
    data["KN"] = data["KN"].astype(int)  # leading zeros lost, as in many spreadsheets
    assert set(read_boundaries(write(tmp_path, "gpkg", data)).polygons) >= {RECKLINGHAUSEN}
    other = frame().rename(columns={"AGS": "schluessel"})
    path = write(tmp_path, "geojson", other)
    with pytest.raises(BoundaryFileError) as error:
        read_boundaries(path)
    assert error.value.code == "no_ags_column"
    assert RECKLINGHAUSEN in read_boundaries(path, ags_column="Schluessel").polygons


def test_a_shapefile_without_prj_needs_a_crs(tmp_path):
    path = write(tmp_path, "shp", prj=False)
    with pytest.raises(BoundaryFileError) as error:
        read_boundaries(path)
    assert error.value.code == "no_crs"
    result = read_boundaries(path, crs="EPSG:25832")
    assert result.polygons[HERTEN].bounds[0] == pytest.approx(7.1975, abs=2e-3)
    with pytest.raises(BoundaryFileError) as error:
        read_boundaries(path, crs="EPSG:nonsense")
    assert error.value.code == "bad_crs"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"\x00\x01garbage" * 100, "format"),
        (b'{"type": "FeatureCollection", "features": [', "unreadable"),
        (b"SQLite format 3\x00" + b"\x00" * 200, "unreadable"),
        (b"PK\x03\x04broken", "zip_damaged"),
    ],
)
def test_broken_files_get_a_clear_error(tmp_path, content, code):
    path = tmp_path / "grenzen.geojson"
    path.write_bytes(content)
    with pytest.raises(BoundaryFileError) as error:
        read_boundaries(path)
    assert error.value.code == code


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.shp", b"\x00" * (600 * 1024 * 1024))
    with pytest.raises(BoundaryFileError) as error:
        read_boundaries(path)
    assert error.value.code == "zip_size"


# --- the import and what follows ----------------------------------------------------------------


def test_import_by_prefix_reports_matched_unmatched_and_fixed(app, tmp_path, clear_boundaries):
    report = run_import(app, write(tmp_path, "geojson"), ags_prefix="05562")
    assert [ags for ags, _name in report.matched] == [HERTEN, MARL, RECKLINGHAUSEN]
    assert report.unmatched == ["05562999"]
    assert report.ignored == 1  # Düsseldorf
    assert report.fixed == 1
    assert BOTTROP in [ags for ags, _name in report.missing]
    with app.app_context():
        stored = db.session.execute(
            text("SELECT ags FROM municipalities WHERE boundary IS NOT NULL ORDER BY ags")
        ).scalars()
        assert list(stored) == [HERTEN, MARL, RECKLINGHAUSEN]
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "import_boundaries")
        ).one()
        assert entry.company_id is None
        assert entry.after["unmatched"] == ["05562999"]


def test_import_without_prefix_keeps_the_regions_municipalities(app, tmp_path, clear_boundaries):
    report = run_import(app, write(tmp_path, "shp"))
    assert len(report.matched) == 3
    assert report.unmatched == []
    assert report.ignored == 2


def test_a_file_without_the_regions_municipalities_stores_nothing(app, tmp_path):
    data = frame()
    data["AGS"] = ["09162000", "09162001", "09162002", "09162003", "09162004"]
    with pytest.raises(BoundaryFileError) as error:
        run_import(app, write(tmp_path, "geojson", data))
    assert error.value.code == "no_match"
    with app.app_context():
        assert not db.session.scalar(
            text("SELECT count(*) FROM municipalities WHERE boundary IS NOT NULL")
        )


def ids(client, query: str) -> set[str]:
    return {item["name"] for item in client.get(f"/api/employers/list?{query}").get_json()["items"]}


def test_the_municipality_filter_follows_the_polygons(
    app, client, make_company, tmp_path, clear_boundaries
):
    east = wgs(BORDER_X + 500, MIDDLE_Y)
    west = wgs(BORDER_X - 500, MIDDLE_Y)
    make_company("Falsch eingetragen", lon=east[0], lat=east[1], municipality_ags=RECKLINGHAUSEN)
    make_company("Recklinghäuser", lon=west[0], lat=west[1], municipality_ags=RECKLINGHAUSEN)
    make_company("Bottroper", lon=6.93, lat=51.52, municipality_ags=BOTTROP)
    assert ids(client, f"municipality={HERTEN}") == set()
    run_import(app, write(tmp_path, "gpkg"), ags_prefix="05562")
    assert ids(client, f"municipality={HERTEN}") == {"Falsch eingetragen"}
    assert ids(client, f"municipality={RECKLINGHAUSEN}") == {"Recklinghäuser"}
    assert ids(client, f"municipality={BOTTROP}") == {"Bottroper"}  # no boundary: by AGS
    assert ids(client, f"municipality={BOTTROP}&municipality={HERTEN}") == {
        "Bottroper",
        "Falsch eingetragen",
    }
    counts = {}
    with app.test_request_context():
        counts = {m.ags: m.published for m in coverage.municipality_counts()}
    assert counts[HERTEN] == 1 and counts[RECKLINGHAUSEN] == 1 and counts[BOTTROP] == 1


def test_employers_near_the_border_get_the_right_municipality(
    app, make_company, tmp_path, clear_boundaries
):
    east = wgs(BORDER_X + 20, MIDDLE_Y)
    west = wgs(BORDER_X - 20, MIDDLE_Y)
    outside = wgs(BORDER_X + 2 * SIDE, MIDDLE_Y)
    east_id = make_company("Ost", lon=east[0], lat=east[1], municipality_ags=None)
    west_id = make_company("West", lon=west[0], lat=west[1], municipality_ags=None)
    outside_id = make_company("Draußen", lon=outside[0], lat=outside[1], municipality_ags=None)
    kept_id = make_company("Gesetzt", lon=east[0], lat=east[1], municipality_ags=MARL)
    report = run_import(app, write(tmp_path, "geojson"), ags_prefix="05562")
    assert report.assigned == 2
    with app.app_context():
        assert db.session.get(Company, east_id).municipality_ags == HERTEN
        assert db.session.get(Company, west_id).municipality_ags == RECKLINGHAUSEN
        assert db.session.get(Company, outside_id).municipality_ags is None
        assert db.session.get(Company, kept_id).municipality_ags == MARL  # set ones are kept


def test_in_region_uses_the_polygons_once_stored(app, tmp_path, clear_boundaries):
    gap = wgs(BORDER_X - 2 * SIDE + 500, MIDDLE_Y)  # inside the bounds, between the squares
    inside = wgs(BORDER_X + 100, MIDDLE_Y)
    with app.test_request_context():
        assert region.in_region(*gap) and region.in_region(*inside)
        assert not region.in_region(13.4, 52.5)  # Berlin
    run_import(app, write(tmp_path, "geojson"), ags_prefix="05562")
    with app.test_request_context():
        assert not region.in_region(*gap)
        assert region.in_region(*inside)
        test = region.region_test()
        assert not test(*gap) and test(*inside)


def test_the_outline(app, client, tmp_path, clear_boundaries):
    empty = client.get("/api/region/outline")
    assert empty.status_code == 200
    assert empty.get_json() == {"type": "FeatureCollection", "features": []}
    run_import(app, write(tmp_path, "geojson"), ags_prefix="05562")
    response = client.get("/api/region/outline")
    assert response.mimetype == "application/geo+json"
    (feature,) = response.get_json()["features"]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    text_ = json.dumps(feature)
    west = wgs(BORDER_X - SIDE, MIDDLE_Y)[0]
    assert f"{west:.3f}"[:6] in text_  # the western edge is part of the outline


def test_the_dashboard_draws_the_stored_polygons(app, client, auth, tmp_path, clear_boundaries):
    run_import(app, write(tmp_path, "geojson"), ags_prefix="05562")
    auth.login("curator")
    html = client.get("/agentur/").get_data(as_text=True)
    assert "L.geoJson(" in html
    assert HERTEN in html
    assert "L.circleMarker(" in html  # the municipalities without a boundary


# --- the command line -------------------------------------------------------------------------


def test_cli_imports_and_reports(runner, tmp_path, clear_boundaries):
    path = write(tmp_path, "shp", prj=False)
    result = runner.invoke(
        args=["boundaries", "import", str(path), "--ags-prefix", "05562", "--crs", "EPSG:25832"]
    )
    assert result.exit_code == 0, result.output
    assert "3 municipality boundaries imported" in result.output
    assert "05562999" in result.output
    assert "1 invalid geometries made valid" in result.output


def test_cli_says_what_is_wrong_with_a_broken_file(runner, tmp_path):
    path = tmp_path / "kaputt.zip"
    path.write_bytes(b"not a zip at all")
    result = runner.invoke(args=["boundaries", "import", str(path)])
    assert result.exit_code == 1
    assert "Nothing was imported" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(args=["boundaries", "import", str(write(tmp_path, "shp", prj=False))])
    assert result.exit_code == 1 and "coordinate reference system" in result.output


# --- the workspace page -------------------------------------------------------------------------


def upload(auth, path: Path, **fields):
    with path.open("rb") as handle:
        return auth.post("/agentur/grenzen/", {"file": (handle, path.name), **fields})


def test_the_page_is_for_staff_only(client, auth, tmp_path):
    assert client.get("/agentur/grenzen/").status_code == 403
    path = write(tmp_path, "geojson")
    assert upload(auth, path).status_code == 403  # anonymous, even with a token
    auth.login("curator")
    assert client.get("/agentur/grenzen/").status_code == 200
    with path.open("rb") as handle:  # no CSRF token
        response = client.post("/agentur/grenzen/", data={"file": (handle, "g.geojson")})
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["curator", "admin"])
def test_staff_import_on_the_page(app, client, auth, tmp_path, clear_boundaries, role):
    auth.login(role)
    response = upload(auth, write(tmp_path, "gpkg"), ags_prefix="05562")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "3 Gemeindegrenzen übernommen" in html
    assert "1 ungültige Geometrie repariert" in html
    assert "05562999" in html


@pytest.mark.parametrize(
    ("content", "fields", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, {}, "weder GeoJSON"),
        (b'{"type": "FeatureCollection", "features": [', {}, "beschädigt"),
        (None, {}, "kein Koordinatensystem"),
        (None, {"crs": "<b>EPSG:kaputt</b>"}, "&lt;b&gt;EPSG:kaputt&lt;/b&gt;"),
        (None, {"crs": "EPSG:25832", "ags_prefix": "abc"}, "AGS-Anfang"),
    ],
)
def test_a_broken_upload_gets_a_clear_message(client, auth, tmp_path, content, fields, message):
    auth.login("curator")
    if content is None:
        path = write(tmp_path, "shp", prj=False)
    else:
        path = tmp_path / "grenzen.zip"
        path.write_bytes(content)
    response = upload(auth, path, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "<b>EPSG" not in html
