"""Layer import: every format on fixtures made here, the report before storing, replace and
append, removing a layer, hostile files, the workspace pages, the import as a job of the task
queue (with its progress page), the command line and housing offers with their expiry."""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from datetime import date, timedelta

import geopandas as gpd
import pytest
from geoalchemy2.shape import to_shape
from pyproj import Transformer
from shapely.geometry import Point
from sqlalchemy import func, select, text

from app import jobs
from app.extensions import db
from app.models import AuditEntry, ImportUpload, LayerFeature
from app.services import audit, layer_import
from geodata import layer_files
from tests.conftest import AuthActions, csrf_token
from tests.import_locking import age_import_requests, assert_refused_while_locked

TO_UTM = Transformer.from_crs(4326, 25832, always_xy=True)
#: Points inside the demo region (Emscher-Lippe).
INSIDE = [(7.2, 51.6), (7.1, 51.55), (6.95, 51.52)]


def metres(a, b) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def features(kind: str):
    rows = db.session.scalars(
        select(LayerFeature).where(LayerFeature.kind == kind).order_by(LayerFeature.name)
    )
    return [(f.name, to_shape(f.location), f.properties) for f in rows]


def geojson_25832(names=("Kita Sonnenschein", "Kita Regenbogen", "Kita Weit weg")) -> bytes:
    points = [*INSIDE[:2], (9.0, 50.0)]  # the last is outside the region
    collection = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"name": name, "Träger": "Stadt", "secret": "x"},
                "geometry": {"type": "Point", "coordinates": list(TO_UTM.transform(*point))},
            }
            for name, point in zip(names, points, strict=True)
        ],
    }
    return json.dumps(collection).encode()


def shapefile_zip(tmp_path, *, prj=True) -> bytes:
    points = [Point(*TO_UTM.transform(*p)) for p in INSIDE]
    frame = gpd.GeoDataFrame(
        {"name": ["BK Nord", "BK Süd", "VHS"], "type": ["Berufskolleg", "Berufskolleg", "VHS"]},
        geometry=points,
        crs=25832,
    )
    frame.to_file(tmp_path / "schools.shp", engine="pyogrio")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in tmp_path.glob("schools.*"):
            if part.suffix == ".prj" and not prj:
                continue
            archive.write(part, f"export/{part.name}")
    return buffer.getvalue()


def gtfs_zip() -> bytes:
    files = {
        "agency.txt": "agency_id,agency_name\nA,Verkehr\n",
        "stops.txt": (
            "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
            "S1,Hauptbahnhof,51.6,7.2,1,\n"
            "S1a,Hauptbahnhof Gleis 1,51.6001,7.2001,0,S1\n"
            "S2,Marktplatz,51.55,7.1,0,\n"
            "S3,Ohne Linie,51.52,6.95,,\n"
            "E1,Eingang,51.6,7.2,2,S1\n"
        ),
        "routes.txt": "route_id,route_short_name,route_type\nR1,SB 25,3\nR2,RE 2,2\n",
        "trips.txt": "route_id,service_id,trip_id\nR1,W,T1\nR2,W,T2\n",
        "stop_times.txt": (
            "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
            "T1,08:00:00,08:00:00,S2,1\nT1,08:10:00,08:10:00,S1a,2\n"
            "T2,09:00:00,09:00:00,S1a,1\n"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# --- formats ---------------------------------------------------------------------------------


def test_geojson_in_25832_lands_at_the_right_wgs84_position(app):
    with app.app_context():
        result = layer_import.import_layer(
            geojson_25832(), "childcare", filename="kitas.geojson", mode="replace", actor=None
        )
        assert result.added == 2
        assert result.report.counts["outside_region"] == 1
        stored = features("childcare")
        by_name = {name: point for name, point, _ in stored}
        assert (
            metres((by_name["Kita Sonnenschein"].x, by_name["Kita Sonnenschein"].y), INSIDE[0]) < 1
        )
        assert metres((by_name["Kita Regenbogen"].x, by_name["Kita Regenbogen"].y), INSIDE[1]) < 1
        # Only the kind's fields are kept (by key or label): no unknown attributes.
        assert stored[0][2] == {"operator": "Stadt"}
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.action == "layer_import" and entry.company_id is None
        assert "kitas.geojson" in entry.note and "childcare" in entry.note


def test_geopackage(app, tmp_path):
    frame = gpd.GeoDataFrame(
        {"name": ["Haltestelle A", "Haltestelle B"], "lines": ["1, 2", "3"]},
        geometry=[Point(*TO_UTM.transform(*p)) for p in INSIDE[:2]],
        crs=25832,
    )
    path = tmp_path / "stops.gpkg"
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    with app.app_context():
        result = layer_import.import_layer(
            path.read_bytes(), "transit", filename="x.bin", mode="replace", actor=None
        )
        assert result.report.format == "gpkg" and result.added == 2
        name, point, properties = features("transit")[0]
        assert name == "Haltestelle A" and properties == {"lines": "1, 2"}
        assert metres((point.x, point.y), INSIDE[0]) < 1


def test_csv_with_a_broken_row_reports_it_and_imports_the_rest(app):
    x, y = TO_UTM.transform(*INSIDE[0])
    content = (
        "Name;Rechtswert;Hochwert;Träger\n"
        f"Kita A;{x:.2f};{y:.2f};AWO\n"
        "Kita B;;;AWO\n"
        "Kita C;abc;5710000;AWO\n"
        f"Kita D;{x:.2f};{y:.2f};AWO;zu viel\n"
    ).encode("cp1252")
    with app.app_context():
        report = layer_import.check(content, "childcare", crs="EPSG:25832")
        assert [r.name for r in report.accepted] == ["Kita A"]
        # The coordinates make the position: not among the columns left out.
        assert (report.columns_used, report.columns_ignored) == ({"operator": "träger"}, [])
        assert {p.number: p.code for p in report.problems} == {
            3: "no_coordinates",
            4: "coordinates",
            5: "extra_cells",
        }
        assert db.session.scalar(select(func.count()).select_from(LayerFeature)) == 0
        # x/y in metres without a CRS: a clear report asking for it.
        with pytest.raises(layer_import.LayerImportError, match="EPSG"):
            layer_import.check(content, "childcare")


def test_zipped_shapefile(app, tmp_path):
    with app.app_context():
        result = layer_import.import_layer(
            shapefile_zip(tmp_path), "training", filename="s.zip", mode="replace", actor=None
        )
        assert result.report.format == "shapefile" and result.added == 3
        by_name = {name: (point, props) for name, point, props in features("training")}
        point, properties = by_name["BK Süd"]
        assert metres((point.x, point.y), INSIDE[1]) < 1 and properties == {"type": "Berufskolleg"}


def test_shapefile_without_prj_asks_for_the_crs(app, tmp_path):
    content = shapefile_zip(tmp_path, prj=False)
    with app.app_context():
        with pytest.raises(layer_import.LayerImportError, match=r"\.prj.*EPSG"):
            layer_import.check(content, "training")
        report = layer_import.check(content, "training", crs="EPSG:25832")
        assert len(report.accepted) == 3


def test_gtfs_zip_with_routes_per_stop(app):
    with app.app_context():
        result = layer_import.import_layer(
            gtfs_zip(), "transit", filename="gtfs.zip", mode="replace", actor=None
        )
        assert result.report.format == "gtfs"
        stored = {name: properties for name, _, properties in features("transit")}
        assert stored == {
            "Hauptbahnhof": {"lines": "RE 2, SB 25"},
            "Marktplatz": {"lines": "SB 25"},
            "Ohne Linie": {},
        }


def test_gtfs_stops_txt_alone(app):
    stops = "stop_id,stop_name,stop_lat,stop_lon\nA,Am Markt,51.6,7.2\nB,Kirche,51.55,7.1\n"
    with app.app_context():
        report = layer_import.check(stops.encode(), "transit")
        assert report.format == "gtfs" and [r.name for r in report.accepted] == [
            "Am Markt",
            "Kirche",
        ]


# --- report, append, replace, remove ------------------------------------------------------


def test_duplicates_in_the_file_and_against_the_stored_layer(app):
    lon, lat = INSIDE[0]
    content = (
        "name,lon,lat\n"
        f"Haltestelle X,{lon},{lat}\n"
        f"Haltestelle  x,{lon + 0.00005},{lat}\n"  # ~3.5 m away, same name: duplicate
        f"Haltestelle X,{lon + 0.001},{lat}\n"  # ~70 m away: another stop
        "Ohne Ort,,\n"
    ).encode()
    with app.app_context():
        report = layer_import.check(content, "transit")
        assert report.counts["duplicate_in_file"] == 1 and report.counts["no_coordinates"] == 1
        assert len(report.accepted) == 2
        layer_import.import_layer(content, "transit", filename="a.csv", mode="append", actor=None)
        again = layer_import.check(content, "transit")
        assert again.counts["duplicate_stored"] == 2
        assert again.rows_for("append") == [] and len(again.rows_for("replace")) == 2


def test_append_versus_replace_and_remove(app):
    first = b"name,lon,lat\nA,7.2,51.6\nB,7.1,51.55\n"
    second = b"name,lon,lat\nB,7.1,51.55\nC,6.95,51.52\n"
    with app.app_context():
        layer_import.import_layer(first, "transit", filename="1.csv", mode="replace", actor=None)
        result = layer_import.import_layer(
            second, "transit", filename="2.csv", mode="append", actor=None
        )
        assert (result.added, result.removed) == (1, 0)
        assert [n for n, _, _ in features("transit")] == ["A", "B", "C"]
        result = layer_import.import_layer(
            second, "transit", filename="2.csv", mode="replace", actor=None
        )
        assert (result.added, result.removed) == (2, 3)
        assert [n for n, _, _ in features("transit")] == ["B", "C"]
        layer_import.import_layer(first, "childcare", filename="k.csv", mode="replace", actor=None)
        assert layer_import.remove_layer("transit", None) == 2
        assert features("transit") == [] and len(features("childcare")) == 2
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions.count("layer_import") == 4 and actions[-1] == "layer_remove"


def test_a_failure_while_storing_leaves_the_layer_as_it_was(app, monkeypatch):
    first = b"name,lon,lat\nA,7.2,51.6\n"
    with app.app_context():
        layer_import.import_layer(first, "transit", filename="1.csv", mode="replace", actor=None)

        def broken(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(layer_import.audit, "record", broken)
        with pytest.raises(RuntimeError):
            layer_import.import_layer(
                b"name,lon,lat\nB,7.1,51.55\n",
                "transit",
                filename="2.csv",
                mode="replace",
                actor=None,
            )
        assert [n for n, _, _ in features("transit")] == ["A"]


# --- hostile and broken files -------------------------------------------------------------


def test_zip_bomb_is_refused_without_unpacking(app, monkeypatch):
    monkeypatch.setattr(layer_files, "MAX_UNPACKED_BYTES", 1024 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("stops.txt", b"0" * (5 * 1024 * 1024))
    content = buffer.getvalue()
    assert len(content) < 20_000

    def no_unpacking(*args, **kwargs):
        raise AssertionError("a member was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_unpacking)
    with (
        app.app_context(),
        pytest.raises(layer_import.LayerImportError, match="entpackt zu groß"),
    ):
        layer_import.check(content, "transit")


def test_a_zip_that_lies_about_its_sizes_is_read_no_further_than_declared(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "stops.txt", "stop_id,stop_name,stop_lat,stop_lon\n" + "A,B,51.6,7.2\n" * 50_000
        )
    content = bytearray(buffer.getvalue())
    # Shrink the declared size in the central directory: zipfile stops there and fails.
    central = content.rfind(b"PK\x01\x02")
    content[central + 24 : central + 28] = (100).to_bytes(4, "little")
    with app.app_context(), pytest.raises(layer_import.LayerImportError):
        layer_import.check(bytes(content), "transit")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 20, "weder GeoJSON"),
        (b"%PDF-1.4 garbage", "weder GeoJSON"),
        (b"", "leer"),
        ("name,lon,lat\nKita Ä,7.2,51.6\n".encode("utf-16"), "Zeichenkodierung"),
        (b'{"type": "FeatureCollection", "features": [', "kann nicht gelesen werden"),
        (b"PK\x03\x04 not really a zip", "weder GeoJSON"),
        (b"name;strasse\nKita;Hauptstr. 1\n", "keine Koordinatenspalten"),
        ("name,lon,lat\nKita \x81,7.2,51.6\n".encode("latin-1"), "Zeichenkodierung"),
        (b"SQLite format 3\x00" + bytes(range(256)) * 8, "kann nicht gelesen werden"),
    ],
)
def test_broken_files_get_a_clear_german_report(app, content, message):
    with app.app_context():
        with pytest.raises(layer_import.LayerImportError, match=message):
            layer_import.check(content, "childcare")
        assert db.session.scalar(select(func.count()).select_from(LayerFeature)) == 0


def test_an_unknown_kind_and_a_bad_crs_are_refused(app):
    with app.app_context():
        with pytest.raises(layer_import.LayerImportError, match="Unbekannte Ebene"):
            layer_import.check(b"name,lon,lat\nA,7.2,51.6\n", "nope")
        with pytest.raises(layer_import.LayerImportError, match="kein bekanntes"):
            layer_import.check(b"name,x,y\nA,1,2\n", "transit", crs="EPSG:999999")


# --- workspace pages ----------------------------------------------------------------------


def test_workspace_upload_preview_and_import(app, client, auth):
    auth.login()
    assert "Ebenen der Karte" in client.get("/agentur/ebenen/").get_data(as_text=True)
    response = auth.post(
        "/agentur/ebenen/hochladen",
        {"kind": "childcare", "file": (io.BytesIO(geojson_25832()), "kitas.geojson")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    preview = client.get(response.headers["Location"])
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Außerhalb der Region" in text
    assert 'id="layer-accepted">2<' in text
    with app.app_context():
        assert features("childcare") == []
    upload_id = re.search(r"/datei/(\d+)", response.headers["Location"]).group(1)
    # Without a CSRF token: refused, nothing stored.
    refused = client.post(
        f"/agentur/ebenen/datei/{upload_id}/importieren",
        data={"kind": "childcare", "mode": "replace"},
    )
    assert refused.status_code == 400
    done = auth.post(
        f"/agentur/ebenen/datei/{upload_id}/importieren",
        {"kind": "childcare", "mode": "replace"},
        follow_redirects=True,
    )
    # Queued, run (inline in tests) and shown on its progress page.
    assert done.request.path == f"/agentur/ebenen/datei/{upload_id}/stand"
    assert done.status_code == 200 and "2 Objekte gespeichert" in done.get_data(as_text=True)
    again = auth.post(
        f"/agentur/ebenen/datei/{upload_id}/importieren", {"kind": "childcare", "mode": "append"}
    )
    assert again.status_code == 409
    assert "Diese Datei wurde schon importiert." in again.get_data(as_text=True)
    with app.app_context():
        assert len(features("childcare")) == 2
    removed = auth.post("/agentur/ebenen/childcare/entfernen", {"confirm": "1"})
    assert removed.status_code == 200
    with app.app_context():
        assert features("childcare") == []


def test_workspace_upload_errors_are_pages_not_500(app, client, auth):
    auth.login()
    for content, expected in (
        (bytes(range(256)) * 4, "weder GeoJSON"),
        ("name,lon,lat\nA,7,51\n".encode("utf-16"), "Zeichenkodierung"),
    ):
        response = auth.post(
            "/agentur/ebenen/hochladen",
            {"kind": "transit", "file": (io.BytesIO(content), "stops.csv")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422 and expected in response.get_data(as_text=True)
    no_kind = auth.post("/agentur/ebenen/hochladen", {"kind": "nope"})
    assert no_kind.status_code == 422


def test_workspace_layer_pages_are_for_staff_only(app, client, make_staff):
    for url in ("/agentur/ebenen/", "/agentur/ebenen/wohnen", "/agentur/ebenen/wohnen/neu"):
        assert client.get(url).status_code == 403
    token = csrf_token(client)
    response = client.post(
        "/agentur/ebenen/transit/entfernen", data={"csrf_token": token, "confirm": "1"}
    )
    assert response.status_code == 403
    AuthActions(client, make_staff).login("curator")
    assert client.get("/agentur/ebenen/").status_code == 200


# --- the import as a job ------------------------------------------------------------------


def upload_layer(auth, content: bytes, kind: str = "childcare", name: str = "kitas.geojson"):
    """Upload a layer file in the workspace; the upload's id."""
    response = auth.post(
        "/agentur/ebenen/hochladen",
        {"kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"/datei/(\d+)", response.headers["Location"]).group(1))


def ask_import(auth, number: int, kind: str = "childcare", mode: str = "replace", **kwargs):
    return auth.post(
        f"/agentur/ebenen/datei/{number}/importieren", {"kind": kind, "mode": mode}, **kwargs
    )


def run_worker(app):
    jobs.run_worker(app, wait=False, queues=("imports",), install_signal_handlers=False)


def layer_imports(app) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "layer_import")
        ).all()


def map_generation(app) -> int:
    with app.app_context():
        return db.session.scalar(text("SELECT generation FROM map_generation"))


def test_the_layer_import_is_a_job_with_a_progress_page(app, client, auth):
    """As in production: the request only queues the import; the worker stores the
    features, and the progress page then shows what the import did."""
    app.config["JOBS_RUN_INLINE"] = False
    auth.login("curator")
    number = upload_layer(auth, geojson_25832())
    queued = ask_import(auth, number)
    assert queued.status_code == 303
    assert queued.headers["Location"] == f"/agentur/ebenen/datei/{number}/stand"
    with app.app_context():
        assert features("childcare") == []  # not within the request
        job = db.session.execute(
            text("SELECT task_name, queue_name, args FROM procrastinate_jobs")
        ).one()
    assert job == ("layers.import", "imports", {"upload_id": number})
    running = client.get(f"/agentur/ebenen/datei/{number}/stand")
    page = running.get_data(as_text=True)
    assert running.status_code == 200 and "Import läuft" in page
    assert 'role="status" data-import-state="queued"' in page
    assert 'src="/static/js/import-progress.js' in page and "http-equiv" not in page
    assert f'href="/agentur/ebenen/datei/{number}/stand">Jetzt neu laden<' in page
    again = ask_import(auth, number, mode="append")
    assert again.status_code == 409
    assert "Diese Datei wird schon importiert." in again.get_data(as_text=True)

    generation = map_generation(app)
    run_worker(app)
    with app.app_context():
        assert [name for name, *_ in features("childcare")] == [
            "Kita Regenbogen",
            "Kita Sonnenschein",
        ]
        stored = db.session.get(ImportUpload, number)
        assert stored.import_state == "done" and stored.content == b""
    assert map_generation(app) > generation  # no cached map answer outlives the import
    (entry,) = layer_imports(app)
    assert entry.actor_id is not None and "2 hinzugefügt, 0 entfernt" in entry.note
    done = client.get(f"/agentur/ebenen/datei/{number}/stand").get_data(as_text=True)
    assert "Ebene importiert" in done and "Kinderbetreuung: 2 Objekte gespeichert" in done
    assert 'id="layer-accepted">2<' in done and "Außerhalb der Region" in done
    assert "data-import-state" not in done and 'src="/static/js/import-progress.js' not in done
    assert ask_import(auth, number).status_code == 409


def test_a_request_while_the_import_runs_is_refused_at_once(app, client, auth):
    """The worker holds the upload's row while it imports: a request does not wait for it."""
    auth.login("curator")
    number = upload_layer(auth, geojson_25832())
    assert_refused_while_locked(app, number, lambda: ask_import(auth, number))


def test_the_summary_kept_after_an_import_is_bounded(app, client, auth):
    outside = "".join(f"Weit weg {n},9.0,{50 + n / 1000:.3f}\n" for n in range(250))
    content = f"name,lon,lat\nKita Mitte,7.2,51.6\n{outside}".encode()
    auth.login("curator")
    number = upload_layer(auth, content, name="kitas.csv")
    page = ask_import(auth, number, follow_redirects=True).get_data(as_text=True)
    assert "1 Objekte gespeichert" in page
    assert "die ersten 200 von 250 Zeilen mit Problemen" in page
    with app.app_context():
        kept = db.session.get(ImportUpload, number).import_result
    assert kept["counts"]["outside_region"] == 250 and kept["problem_count"] == 250
    assert len(kept["problems"]) == layer_import.MAX_LISTED_PROBLEMS
    assert kept["problems"][0] == [3, "Weit weg 0", "outside_region"]
    assert (kept["mode"], kept["added"], kept["removed"]) == ("replace", 1, 0)


def test_a_layer_import_queued_long_ago_may_be_asked_again_and_runs_once(app, client, auth):
    """Its job may have been lost (a worker killed mid-import): after half an hour a new
    request is taken; if both jobs run after all, the file is imported once."""
    app.config["JOBS_RUN_INLINE"] = False
    auth.login("curator")
    number = upload_layer(auth, geojson_25832())
    assert ask_import(auth, number, mode="append").status_code == 303
    age_import_requests(app)
    assert ask_import(auth, number, mode="append").status_code == 303
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM procrastinate_jobs")) == 2
    run_worker(app)
    assert len(layer_imports(app)) == 1
    with app.app_context():
        assert len(features("childcare")) == 2
        assert db.session.get(ImportUpload, number).import_state == "done"


def test_a_failed_layer_import_says_why_in_the_curators_language_and_may_be_asked_again(
    app, client, auth
):
    auth.login("curator")
    number = upload_layer(auth, b"name,lon,lat\nWeit weg,9.0,50.0\n", name="kitas.csv")
    failed = auth.post(
        f"/agentur/ebenen/datei/{number}/importieren?lang=en",
        {"kind": "childcare", "mode": "replace"},
        follow_redirects=True,
    )
    page = failed.get_data(as_text=True)
    assert failed.status_code == 200 and "Import failed" in page
    assert 'id="layer-import-error">The file has no row that can be imported.<' in page
    back = f'href="/agentur/ebenen/datei/{number}?kind=childcare"'
    assert back in page and 'href="/agentur/ebenen/"' in page
    assert client.get(f"/agentur/ebenen/datei/{number}?kind=childcare").status_code == 200
    with app.app_context():
        assert db.session.get(ImportUpload, number).import_state == "failed"
        assert features("childcare") == []
    assert layer_imports(app) == []
    assert ask_import(auth, number).status_code == 303  # asked again (and refused again)


def test_a_layer_import_whose_account_was_deleted_meanwhile_fails_clearly(
    app, client, auth, make_staff
):
    app.config["JOBS_RUN_INLINE"] = False
    auth.login("curator")
    number = upload_layer(auth, geojson_25832())
    auth.logout()
    auth.login("admin")  # another account asks for the import, and is deleted before it runs
    assert ask_import(auth, number).status_code == 303
    with app.app_context():
        db.session.execute(text("DELETE FROM staff_users WHERE email = 'admin@agentur.test'"))
        db.session.commit()
    run_worker(app)
    with app.app_context():
        upload = db.session.get(ImportUpload, number)
        assert upload.import_state == "failed" and upload.imported_at is None
        assert upload.import_error == (
            "Das Konto, das den Import angefordert hat, gibt es nicht mehr."
        )
        assert features("childcare") == []
    assert layer_imports(app) == []


def test_an_unexpected_error_fails_the_layer_job_and_says_so(app, client, auth, monkeypatch):
    app.config["JOBS_RUN_INLINE"] = False
    auth.login("curator")
    number = upload_layer(auth, geojson_25832())
    ask_import(auth, number)
    monkeypatch.setattr(audit, "record", lambda *args, **kwargs: 1 / 0)
    run_worker(app)
    page = client.get(f"/agentur/ebenen/datei/{number}/stand").get_data(as_text=True)
    assert "Import fehlgeschlagen" in page
    assert "Der Import ist an einem Fehler gescheitert; es wurde nichts importiert." in page
    with app.app_context():
        assert features("childcare") == []
        status = db.session.scalar(
            text("SELECT status::text FROM procrastinate_jobs WHERE task_name = 'layers.import'")
        )
    assert status == "failed"  # kept for a look


def test_the_layer_progress_page_is_for_curators_only(app, client, auth, make_staff):
    auth.login("curator")
    number = upload_layer(auth, geojson_25832())
    employer_upload = auth.post(
        "/agentur/import",
        {"file": (io.BytesIO(b"Firma;PLZ\nBackstube;45657\n"), "firmen.csv")},
        content_type="multipart/form-data",
    )
    employer_number = int(employer_upload.headers["Location"].rsplit("/", 1)[1])
    # Not asked for yet: the layers page; no layer upload of that id (an employer file): 404.
    assert client.get(f"/agentur/ebenen/datei/{number}/stand").status_code == 303
    assert client.get(f"/agentur/ebenen/datei/{employer_number}/stand").status_code == 404
    assert client.get("/agentur/ebenen/datei/999999/stand").status_code == 404
    assert ask_import(auth, number).status_code == 303
    auth.logout()
    assert client.get(f"/agentur/ebenen/datei/{number}/stand").status_code == 403
    assert ask_import(auth, number).status_code == 403
    assert AuthActions(client, make_staff).login("partner").status_code == 302  # signed in
    assert client.get(f"/agentur/ebenen/datei/{number}/stand").status_code == 403
    assert ask_import(auth, number).status_code == 403
    assert len(layer_imports(app)) == 1


# --- command line -------------------------------------------------------------------------


def test_cli_import_and_remove(app, runner, tmp_path):
    path = tmp_path / "gtfs.bin"
    path.write_bytes(gtfs_zip())
    result = runner.invoke(
        args=["layers", "import", str(path), "--kind", "transit", "--replace", "--progress"]
    )
    assert result.exit_code == 0, result.output
    assert "3 features stored in 'transit' (replace)" in result.output
    with app.app_context():
        assert len(features("transit")) == 3
    result = runner.invoke(args=["layers", "remove", "--kind", "transit"])
    assert result.exit_code == 0 and "3 features of 'transit' removed" in result.output


def test_cli_errors_are_one_clear_line(app, runner, tmp_path):
    path = tmp_path / "schools.zip"
    path.write_bytes(shapefile_zip(tmp_path, prj=False))
    result = runner.invoke(args=["layers", "import", str(path), "--kind", "training"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output and ".prj" in result.output
    assert len(result.output.strip().splitlines()) == 1
    ok = runner.invoke(
        args=["layers", "import", str(path), "--kind", "training", "--crs", "EPSG:25832"]
    )
    assert ok.exit_code == 0, ok.output
    unknown = runner.invoke(args=["layers", "remove", "--kind", "nope"])
    assert unknown.exit_code != 0 and "Unbekannte Ebene" in unknown.output


# --- housing ----------------------------------------------------------------------------------


def offer_form(**overrides):
    values = {
        "title": "2-Zimmer-Wohnung am Markt",
        "address": "Markt 1, 45657 Recklinghausen",
        "lat": "51.6",
        "lon": "7.2",
        "rooms": "2,5".replace(",", "."),
        "rent": "650",
        "available_from": "2026-12-01",
        "contact": "wohnen@example.org",
        "expires_on": (date.today() + timedelta(days=30)).isoformat(),
    }
    values.update(overrides)
    return values


def test_housing_offers_create_edit_delete(app, client, auth):
    auth.login()
    assert client.get("/agentur/ebenen/wohnen/neu").status_code == 200
    response = auth.post("/agentur/ebenen/wohnen/neu", offer_form())
    assert response.status_code == 303
    with app.app_context():
        offer = db.session.scalars(select(LayerFeature)).one()
        assert offer.kind == "housing" and offer.source == "workspace"
        assert offer.properties == {
            "address": "Markt 1, 45657 Recklinghausen",
            "rooms": "2,5",
            "rent": "650 €",
            "available_from": "2026-12-01",
            "contact": "wohnen@example.org",
        }
        offer_id = offer.id
    page = client.get(f"/agentur/ebenen/wohnen/{offer_id}").get_data(as_text=True)
    assert "2-Zimmer-Wohnung am Markt" in page
    response = auth.post(
        f"/agentur/ebenen/wohnen/{offer_id}",
        offer_form(title="3 Zimmer", lat="", lon="", postal_code="46236"),
    )
    assert response.status_code == 303
    with app.app_context():
        offer = db.session.get(LayerFeature, offer_id)
        point = to_shape(offer.location)
        assert offer.name == "3 Zimmer" and (point.x, point.y) == (6.924, 51.526)
    bad = auth.post("/agentur/ebenen/wohnen/neu", offer_form(title="", lat="", lon=""))
    assert bad.status_code == 422
    outside = auth.post("/agentur/ebenen/wohnen/neu", offer_form(lat="50.0", lon="9.0"))
    assert outside.status_code == 422 and "außerhalb" in outside.get_data(as_text=True)
    past = auth.post("/agentur/ebenen/wohnen/neu", offer_form(expires_on="2020-01-01"))
    assert past.status_code == 422
    assert auth.post(f"/agentur/ebenen/wohnen/{offer_id}/loeschen").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LayerFeature)) == 0
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"housing_create", "housing_update", "housing_delete"} <= actions


def add_housing_offers(app, **days_left):
    """Housing offers by name, each expiring that many days from today."""
    with app.app_context():
        for name, days in days_left.items():
            db.session.add(
                LayerFeature(
                    kind="housing",
                    name=name,
                    location="SRID=4326;POINT(7.2 51.6)",
                    properties={},
                    expires_on=date.today() + timedelta(days=days),
                )
            )
        db.session.commit()


def test_expired_housing_offers_are_marked_in_the_list(app, client, auth):
    add_housing_offers(app, Alt=-1, Neu=10)
    auth.login()
    page = client.get("/agentur/ebenen/wohnen").get_data(as_text=True)
    rows = re.findall(r"<tr( class=\"expired\")?>\s*<td><a [^>]+>(\w+)</a>", page)
    assert rows == [(' class="expired"', "Alt"), ("", "Neu")]


def test_partner_housing_csv_sets_the_expiry_date(app):
    content = (
        "Titel;lon;lat;Zimmer;Miete;Gültig bis;Adresse\n"
        "Wohnung 1;7,2;51,6;3;700 €;31.12.2030;Weg 1\n"
    ).encode("cp1252")
    with app.app_context():
        layer_import.import_layer(
            content, "housing", filename="partner.csv", mode="append", actor=None
        )
        offer = db.session.scalars(select(LayerFeature)).one()
        assert offer.expires_on == date(2030, 12, 31)
        assert offer.properties == {"rooms": "3", "rent": "700 €", "address": "Weg 1"}


def test_expired_offers_leave_the_public_map_and_stay_editable(app, client, auth):
    add_housing_offers(app, Abgelaufen=-1, Aktuell=0)
    with app.app_context():
        expired_id = db.session.scalar(
            select(LayerFeature.id).where(LayerFeature.name == "Abgelaufen")
        )
    public = client.get("/api/layers/housing?bbox=6.75,51.43,7.55,51.82&zoom=18")
    assert public.status_code == 200
    text = public.get_data(as_text=True)
    assert "Aktuell" in text and "Abgelaufen" not in text
    auth.login()
    past = (date.today() - timedelta(days=1)).isoformat()
    response = auth.post(
        f"/agentur/ebenen/wohnen/{expired_id}",
        offer_form(title="Abgelaufen, korrigiert", expires_on=past),
    )
    assert response.status_code == 303
    log = client.get("/agentur/protokoll").get_data(as_text=True)
    assert "Wohnungsangebot geändert" in log and "Abgelaufen, korrigiert" in log
