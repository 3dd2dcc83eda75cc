"""Importing employers: upload, column mapping, per-row report, all-or-nothing import."""

import io
import json
import re

import geopandas as gpd
import pytest
from geoalchemy2.shape import to_shape
from openpyxl import Workbook
from shapely.geometry import Point, Polygon
from sqlalchemy import func, select, text

from app import jobs
from app.extensions import db
from app.models import AuditEntry, Company, CompanyStatus, ImportUpload, StaffUser
from app.services import audit, importer
from geodata import tables
from geodata.tables import read_table
from tests.conftest import csrf_token
from tests.import_locking import age_import_requests, assert_refused_while_locked
from tests.unit.test_tables import forged_xlsx

HEADER = "Firma;Straße;Nr;PLZ;Ort;E-Mail;Beschäftigte;WZ;Ausbildung;ID;Breite;Länge\n"
GOOD_AND_BAD = (
    HEADER
    # 2: good, with coordinates in Recklinghausen
    + "Bäckerei Sonnenschein;Markt;1;45657;Recklinghausen;info@sonne.example;12;10, 47;ja;"
    "A-1;51,6146;7,1975\n"
    # 3: no name
    + ";Hauptstr.;2;45657;Recklinghausen;;3;43;nein;A-2;;\n"
    # 4: postal code outside the region, no coordinates
    + "Malerei Nowak;Weg;3;10115;Berlin;;5;43;x;A-3;;\n"
    # 5: good, placed by its postal code; the town comes from the postal code
    + "Elektro Kaya;Ring;4;45768;;;7;43.21;1;A-4;;\n"
    # 6: bad e-mail, bad head count, unknown sector, not a yes/no
    + "Tischlerei Holz;Allee;5;45768;Marl;holz(at)example;viele;04;vielleicht;A-5;;\n"
    # 7: repeats the reference of row 2
    + "Dachdecker Dach;Gasse;6;45699;Herten;;4;43;0;A-1;;\n"
    # 8: coordinates outside the region (Berlin), no postal code
    + "Späti Berlin;;;;;;;;;A-8;52.52;13.405\n"
    # 9: good, no reference, no postal code but coordinates
    + "Friseur Schnitt;;;;Dorsten;;2;96;;;51.66;6.96\n"
)
GOOD_NAMES = {"Bäckerei Sonnenschein", "Elektro Kaya", "Friseur Schnitt"}


def upload(auth, content: bytes, name: str = "firmen.csv", **query):
    return auth.post(
        "/agentur/import" + (f"?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else ""),
        {"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def upload_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"/agentur/import/(\d+)$", response.headers["Location"]).group(1))


def selected_mapping(html: str) -> dict[str, str]:
    """The column each target's select has chosen in the preview."""
    mapping = {}
    for key, body in re.findall(
        r'<select id="map-(\w+)" name="map-\w+">(.*?)</select>', html, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        if chosen:
            mapping[key] = chosen.group(1)
    return mapping


def form_of(mapping: dict[str, str], status: str = "pending") -> dict[str, str]:
    return {**{f"map-{key}": column for key, column in mapping.items()}, "status": status}


def imported(app):
    with app.app_context():
        return {
            c.name: c for c in db.session.scalars(select(Company).where(Company.source == "import"))
        }


def rows_with_errors(html: str) -> list[tuple[str, str, str]]:
    """(row, field label, message) of the report's error table."""
    table = re.search(r'<table class="data-table" id="import-errors">(.*?)</table>', html, re.S)
    cells = re.findall(
        r"<tr>\s*<td>(\d+)</td>\s*<td>([^<]*)</td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*"
        r"<td>([^<]*)</td>",
        table.group(1),
    )
    return cells


def test_headers_suggest_the_mapping():
    columns = read_table(GOOD_AND_BAD.encode()).columns
    assert importer.suggest_mapping(columns) == {
        "name": "Firma",
        "street": "Straße",
        "house_number": "Nr",
        "postal_code": "PLZ",
        "town": "Ort",
        "lat": "Breite",
        "lon": "Länge",
        "email": "E-Mail",
        "employees": "Beschäftigte",
        "sectors": "WZ",
        "offers_apprenticeships": "Ausbildung",
        "source_ref": "ID",
    }
    english = "Company,Street,House number,ZIP,City,latitude,lng,Website,Phone,Contact person"
    english = [*english.split(","), "Contact email", "Employees", "KldB", "Internship"]
    assert importer.suggest_mapping(english) == {
        "name": "Company",
        "street": "Street",
        "house_number": "House number",
        "postal_code": "ZIP",
        "town": "City",
        "lat": "latitude",
        "lon": "lng",
        "website": "Website",
        "phone": "Phone",
        "contact_name": "Contact person",
        "contact_email": "Contact email",
        "employees": "Employees",
        "occupations": "KldB",
        "offers_internships": "Internship",
    }


def test_report_names_the_row_the_field_and_why(app):
    table = read_table(GOOD_AND_BAD.encode())
    with app.test_request_context():
        report = importer.validate(table.rows, importer.suggest_mapping(table.columns), "de")
    problems = {row.number: [tuple(p) for p in row.errors] for row in report.rows}
    assert [row.number for row in report.valid] == [2, 5, 9]
    assert problems[2] == problems[5] == problems[9] == []
    assert problems[3] == [("name", "Bitte füllen Sie dieses Feld aus.")]
    assert problems[4] == [("postal_code", "Die Postleitzahl 10115 liegt nicht in unserer Region.")]
    assert sorted(problems[6]) == [
        ("email", "Das ist keine gültige E-Mail-Adresse (Beispiel: name@firma.de)."),
        ("employees", "Bitte geben Sie eine ganze Zahl ab 1 ein."),
        (
            "offers_apprenticeships",
            "„vielleicht“ ist weder ja noch nein (erlaubt: ja, nein, x, 1, 0).",
        ),
        (
            "sectors",
            "Unbekannte WZ-Abteilung „04“: erwartet werden zweistellige Codes der WZ 2008 "
            "wie 43 oder 43.21.",
        ),
    ]
    assert problems[7] == [("source_ref", "Die Kennung „A-1“ steht schon in Zeile 2 dieser Datei.")]
    assert problems[8] == [
        (
            "location",
            "Die Koordinaten (Breite 52.52000, Länge 13.40500) liegen außerhalb der Region.",
        )
    ]
    kaya = next(row for row in report.valid if row.number == 5)
    assert kaya.answers["town"] == "Marl"  # from the postal code
    assert kaya.answers["sectors"] == ["43"]  # 43.21 is in division 43
    assert kaya.answers["offers_apprenticeships"] is True


def test_english_report_uses_the_engine_messages_in_english(app):
    table = read_table(GOOD_AND_BAD.encode())
    with app.test_request_context("/?lang=en"):
        report = importer.validate(table.rows, importer.suggest_mapping(table.columns), "en")
    assert ("name", "Please fill in this field.") in report.rows[1].errors


def test_import_csv_through_the_views_as_pending(app, client, auth):
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    preview = client.get(f"/agentur/import/{number}")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "Bäckerei Sonnenschein" in html and "8 Zeilen" in html
    mapping = selected_mapping(html)
    assert mapping["name"] == "Firma" and mapping["source_ref"] == "ID"

    check = auth.post(f"/agentur/import/{number}/pruefen", form_of(mapping))
    assert check.status_code == 200
    report = check.get_data(as_text=True)
    assert "3 Zeilen sind gültig" in report
    assert "5 Zeilen haben Fehler" in report
    errors = rows_with_errors(report)
    assert ("3", "Name des Betriebs", "Bitte füllen Sie dieses Feld aus.") in errors
    assert (
        "7",
        "Externe Kennung",
        "Die Kennung „A-1“ steht schon in Zeile 2 dieser Datei.",
    ) in errors
    assert {row for row, _field, _message in errors} == {"3", "4", "6", "7", "8"}
    assert 'name="map-name" value="Firma"' in report  # the mapping is kept for the import
    assert imported(app) == {}  # checking imports nothing

    done = auth.post(
        f"/agentur/import/{number}/importieren", form_of(mapping), follow_redirects=True
    )
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert "3 Einträge importiert" in page
    assert "5 Zeilen mit Fehlern wurden ausgelassen." in page

    entries = imported(app)
    assert set(entries) == GOOD_NAMES
    for company in entries.values():
        assert company.status is CompanyStatus.PENDING
        assert company.published_at is None
        assert f'href="/agentur/eintraege/{company.id}"' in page
    with app.app_context():
        baker = db.session.scalar(select(Company).where(Company.source_ref == "A-1"))
        point = to_shape(baker.location)
        assert (round(point.x, 4), round(point.y, 4)) == (7.1975, 51.6146)
        assert [d.code for d in baker.sectors] == ["10", "47"]
        assert baker.employees == 12 and baker.offers_apprenticeships
        assert baker.municipality_ags == "05562032"
        kaya = db.session.scalar(select(Company).where(Company.source_ref == "A-4"))
        assert kaya.town == "Marl" and kaya.location is not None
        hair = db.session.scalar(select(Company).where(Company.name == "Friseur Schnitt"))
        assert hair.source_ref is None and hair.postal_code == ""
        audit_rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [a.action for a in audit_rows] == ["import"] * 3
        assert {a.company_id for a in audit_rows} == {c.id for c in entries.values()}
        assert all(a.actor.email == "curator@agentur.test" for a in audit_rows)
        assert audit_rows[0].after["status"] == "pending"
        assert audit_rows[0].note == "Datei firmen.csv, Zeile 2"
        assert db.session.get(ImportUpload, number).imported_at is not None


def test_import_as_published_puts_them_on_the_map(app, client, auth):
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    mapping = selected_mapping(client.get(f"/agentur/import/{number}").get_data(as_text=True))
    response = auth.post(
        f"/agentur/import/{number}/importieren",
        form_of(mapping, "published"),
        follow_redirects=True,
    )
    assert response.status_code == 200
    for company in imported(app).values():
        assert company.status is CompanyStatus.PUBLISHED
        assert company.published_at is not None and company.confirmed_at is not None
    with app.app_context():
        after = db.session.scalars(select(AuditEntry.after)).all()
        assert {a["status"] for a in after} == {"published"}
    names = {f["properties"]["name"] for f in client.get("/api/employers").get_json()["features"]}
    assert names == GOOD_NAMES


def test_an_upload_is_imported_only_once(app, client, auth):
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    mapping = selected_mapping(client.get(f"/agentur/import/{number}").get_data(as_text=True))
    assert (
        auth.post(
            f"/agentur/import/{number}/importieren", form_of(mapping), follow_redirects=True
        ).status_code
        == 200
    )
    again = auth.post(f"/agentur/import/{number}/importieren", form_of(mapping))
    assert again.status_code == 409
    assert "Diese Datei wurde schon importiert." in again.get_data(as_text=True)
    assert len(imported(app)) == 3
    # The same file uploaded anew: its references are taken now.
    second = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    report = auth.post(f"/agentur/import/{second}/pruefen", form_of(mapping)).get_data(as_text=True)
    assert "Die Kennung „A-1“ wurde schon importiert (Eintrag „Bäckerei Sonnenschein“)." in report


def test_a_request_while_the_import_runs_is_refused_at_once(app, client, auth):
    """A running import holds the upload's row: another request does not wait for it."""
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    mapping = selected_mapping(client.get(f"/agentur/import/{number}").get_data(as_text=True))
    assert_refused_while_locked(
        app, number, lambda: auth.post(f"/agentur/import/{number}/importieren", form_of(mapping))
    )


def test_the_import_is_a_job_with_a_progress_page(app, client, auth):
    """As in production: the request only queues the import; the worker runs it, and the
    progress page (asking again in the background, never reloading itself while the import
    is queued) then shows the new entries."""
    app.config["JOBS_RUN_INLINE"] = False
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    mapping = selected_mapping(client.get(f"/agentur/import/{number}").get_data(as_text=True))
    queued = auth.post(f"/agentur/import/{number}/importieren", form_of(mapping))
    assert queued.status_code == 303
    assert queued.headers["Location"] == f"/agentur/import/{number}/stand"
    assert imported(app) == {}  # not within the request
    running = client.get(f"/agentur/import/{number}/stand").get_data(as_text=True)
    assert "Import läuft" in running and "http-equiv" not in running
    assert 'role="status" data-import-state="queued"' in running
    assert f'data-poll-url="/agentur/import/{number}/stand"' in running
    assert 'src="/static/js/import-progress.js' in running
    assert f'href="/agentur/import/{number}/stand">Jetzt neu laden<' in running
    again = auth.post(f"/agentur/import/{number}/importieren", form_of(mapping))
    assert again.status_code == 409
    assert "Diese Datei wird schon importiert." in again.get_data(as_text=True)

    jobs.run_worker(app, wait=False, queues=("imports",), install_signal_handlers=False)
    assert set(imported(app)) == GOOD_NAMES
    with app.app_context():
        actors = db.session.scalars(select(AuditEntry.actor_id)).all()
        assert len(actors) == 3 and None not in actors
    done = client.get(f"/agentur/import/{number}/stand").get_data(as_text=True)
    assert "3 Einträge importiert" in done and "data-import-state" not in done
    assert 'src="/static/js/import-progress.js' not in done


def test_an_import_queued_long_ago_may_be_asked_again_and_runs_once(app, client, auth):
    """Its job may have been lost (a worker killed mid-import): after half an hour a new
    request is taken; if both jobs run after all, the rows are imported once."""
    app.config["JOBS_RUN_INLINE"] = False
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    mapping = selected_mapping(client.get(f"/agentur/import/{number}").get_data(as_text=True))
    assert auth.post(f"/agentur/import/{number}/importieren", form_of(mapping)).status_code == 303
    age_import_requests(app)
    assert auth.post(f"/agentur/import/{number}/importieren", form_of(mapping)).status_code == 303
    jobs.run_worker(app, wait=False, queues=("imports",), install_signal_handlers=False)
    assert set(imported(app)) == GOOD_NAMES
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 3
        assert db.session.get(ImportUpload, number).import_state == importer.DONE


def test_a_refused_import_is_shown_on_the_progress_page_and_can_be_asked_again(app, client, auth):
    auth.login("curator")
    number = upload_id(
        upload(auth, (HEADER + ";Hauptstr.;2;45657;Recklinghausen;;;;;;;\n").encode())
    )
    mapping = selected_mapping(client.get(f"/agentur/import/{number}").get_data(as_text=True))
    failed = auth.post(
        f"/agentur/import/{number}/importieren", form_of(mapping), follow_redirects=True
    )
    assert failed.status_code == 200
    page = failed.get_data(as_text=True)
    assert "Import fehlgeschlagen" in page
    assert 'role="alert">Die Datei hat keine gültige Zeile zum Importieren.' in page
    assert f'href="/agentur/import/{number}"' in page
    assert imported(app) == {}
    with app.app_context():
        assert db.session.get(ImportUpload, number).import_state == importer.FAILED
    again = auth.post(f"/agentur/import/{number}/importieren", form_of(mapping))
    assert again.status_code == 303  # asked again (and refused again)


def test_an_unexpected_error_fails_the_job_and_says_so(app, client, auth, monkeypatch):
    app.config["JOBS_RUN_INLINE"] = False
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    mapping = selected_mapping(client.get(f"/agentur/import/{number}").get_data(as_text=True))
    auth.post(f"/agentur/import/{number}/importieren", form_of(mapping))
    monkeypatch.setattr(audit, "record", lambda *args, **kwargs: 1 / 0)
    jobs.run_worker(app, wait=False, queues=("imports",), install_signal_handlers=False)
    assert imported(app) == {}
    page = client.get(f"/agentur/import/{number}/stand").get_data(as_text=True)
    assert "Der Import ist an einem Fehler gescheitert; es wurde nichts importiert." in page
    with app.app_context():
        status = db.session.scalar(
            text("SELECT status::text FROM procrastinate_jobs WHERE task_name = 'imports.run'")
        )
    assert status == "failed"  # kept for a look


def test_the_progress_page_of_an_upload_never_imported_is_its_preview(app, client, auth):
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    response = client.get(f"/agentur/import/{number}/stand")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/agentur/import/{number}"


@pytest.mark.parametrize("step", ["create", "audit"])
def test_nothing_is_half_imported(app, auth, monkeypatch, step):
    """A failure on the second entry (while building it, or after the entries were written,
    while recording them) leaves no entry, no audit record and the upload not imported."""
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    module, name = (importer, "_create") if step == "create" else (audit, "record")
    original = getattr(module, name)
    calls = []

    def fail_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, fail_on_second)
    with app.test_request_context():
        upload_row = db.session.get(ImportUpload, number)
        actor = db.session.scalar(select(StaffUser))
        mapping = importer.suggest_mapping(importer.table_of(upload_row).columns)
        with pytest.raises(RuntimeError):
            importer.run_import(upload_row, mapping, "published", actor)
        assert db.session.scalar(select(func.count()).select_from(Company)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert db.session.get(ImportUpload, number).imported_at is None
    assert len(calls) == 2
    monkeypatch.setattr(module, name, original)
    with app.test_request_context():
        upload_row = db.session.get(ImportUpload, number)
        actor = db.session.scalar(select(StaffUser))
        result = importer.run_import(upload_row, mapping, "pending", actor)
        assert len(result.entries) == 3
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 3


def test_rows_with_the_same_name_and_town_get_their_own_slugs(app, client, auth, make_company):
    make_company("Kiosk", slug="kiosk-marl-2")
    content = b"Firma;PLZ;Ort\nKiosk;45768;Marl\nKiosk;45768;Marl\nKiosk;45770;Marl\n"
    auth.login("curator")
    number = upload_id(upload(auth, content))
    mapping = selected_mapping(client.get(f"/agentur/import/{number}").get_data(as_text=True))
    assert (
        auth.post(
            f"/agentur/import/{number}/importieren", form_of(mapping), follow_redirects=True
        ).status_code
        == 200
    )
    with app.app_context():
        slugs = db.session.scalars(
            select(Company.slug).where(Company.source == "import").order_by(Company.id)
        ).all()
    assert slugs == ["kiosk-marl", "kiosk-marl-3", "kiosk-marl-4"]


def test_likely_duplicates_are_a_warning_not_an_error(app, auth, client, make_company):
    make_company("Elektro Kaya GmbH", lon=7.0997, lat=51.6545, website="https://kaya.example")
    content = (
        b"Name;PLZ;Ort;Website;lat;lon\n"
        b"Elektro Kaya;45768;Marl;www.kaya.example;51.6546;7.0998\n"
        b"Neuer Betrieb;45768;Marl;;;\n"
    )
    auth.login("curator")
    number = upload_id(upload(auth, content))
    mapping = selected_mapping(client.get(f"/agentur/import/{number}").get_data(as_text=True))
    html = auth.post(f"/agentur/import/{number}/pruefen", form_of(mapping)).get_data(as_text=True)
    assert "2 Zeilen sind gültig" in html
    assert "1 gültige Zeile hat einen Hinweis" in html
    assert "Vielleicht schon vorhanden: „Elektro Kaya GmbH“ (45657 Recklinghausen)." in html


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_is_read_by_content_even_when_named_csv(app, client, auth):
    content = xlsx_bytes(
        [
            ["Firma", "PLZ", "Ort", "Mitarbeiter", "Praktikum", "Berufe", "Familie"],
            ["Bäckerei Brot", 45657, "Recklinghausen", 4, "x", "29; 62", "part_time"],
            ["Ohne PLZ", None, "Marl", 2, None, None, None],
        ]
    )
    auth.login("curator")
    number = upload_id(upload(auth, content, "x.csv"))
    html = client.get(f"/agentur/import/{number}").get_data(as_text=True)
    assert "Excel-Arbeitsmappe" in html
    mapping = selected_mapping(html)
    assert mapping["employees"] == "Mitarbeiter" and mapping["family"] == "Familie"
    report = auth.post(f"/agentur/import/{number}/pruefen", form_of(mapping)).get_data(as_text=True)
    assert ("3", "Postleitzahl", "Ohne Koordinaten brauchen wir eine Postleitzahl der Region.") in (
        rows_with_errors(report)
    )
    assert (
        auth.post(
            f"/agentur/import/{number}/importieren", form_of(mapping), follow_redirects=True
        ).status_code
        == 200
    )
    with app.app_context():
        assert db.session.get(ImportUpload, number).kind == "xlsx"
        company = db.session.scalar(select(Company).where(Company.source == "import"))
        assert company.name == "Bäckerei Brot" and company.postal_code == "45657"
        assert company.employees == 4 and company.offers_internships
        assert [g.code for g in company.occupations] == ["29", "62"]
        assert [c.key for c in company.family_criteria] == ["part_time"]


def test_geojson_in_utm_lands_at_the_right_place(app, client, auth):
    target = gpd.GeoSeries([Point(7.1975, 51.6146), Point(7.10, 51.65)], crs=4326).to_crs(25832)
    area = Polygon([(p[0] - 50, p[1] - 50) for p in [(target[1].x, target[1].y)]] + [
        (target[1].x + 50, target[1].y - 50), (target[1].x, target[1].y + 50)
    ])  # fmt: skip
    frame = gpd.GeoDataFrame(
        {"name": ["Punkt GmbH", "Fläche KG"], "beschaeftigte": [3, 20]},
        geometry=[target[0], area],
        crs="EPSG:25832",
    )
    buffer = io.BytesIO()
    frame.to_file(buffer, driver="GeoJSON")
    auth.login("curator")
    number = upload_id(upload(auth, buffer.getvalue(), "betriebe.json"))
    html = client.get(f"/agentur/import/{number}").get_data(as_text=True)
    assert "Die Lage kommt aus der Geometrie" in html
    mapping = selected_mapping(html)
    assert mapping == {"name": "name", "employees": "beschaeftigte"}
    response = auth.post(
        f"/agentur/import/{number}/importieren",
        form_of(mapping, "published"),
        follow_redirects=True,
    )
    assert response.status_code == 200
    entries = imported(app)
    with app.app_context():
        spot = to_shape(db.session.get(Company, entries["Punkt GmbH"].id).location)
        assert spot.x == pytest.approx(7.1975, abs=1e-6)
        assert spot.y == pytest.approx(51.6146, abs=1e-6)
        inside = to_shape(db.session.get(Company, entries["Fläche KG"].id).location)
        assert inside.x == pytest.approx(7.10, abs=0.001)
        assert inside.y == pytest.approx(51.65, abs=0.001)
        assert db.session.get(Company, entries["Fläche KG"].id).municipality_ags is None


def test_garbage_is_refused_with_a_clear_message(app, client, auth):
    auth.login("curator")
    response = upload(auth, bytes(range(256)) * 8, "firmen.csv")
    assert response.status_code == 422
    assert "Diese Datei können wir nicht als Tabelle lesen." in response.get_data(as_text=True)
    empty = upload(auth, b"", "leer.csv")
    assert empty.status_code == 422
    assert "Die Datei enthält keine Daten" in empty.get_data(as_text=True)
    none = auth.post("/agentur/import", {}, content_type="multipart/form-data")
    assert none.status_code == 422
    assert "Bitte wählen Sie eine Datei aus." in none.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportUpload)) == 0


def test_unreadable_file_message_in_english(app, client, auth):
    auth.login("curator")
    response = upload(auth, b"%PDF-1.7 not a table", "firmen.csv", lang="en")
    assert response.status_code == 422
    assert "We cannot read this file as a table." in response.get_data(as_text=True)


def raw_upload(client, content: bytes):
    """A multipart upload sent as raw bytes (the test client spools large files to disk)."""
    body = (
        b'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + csrf_token(client).encode()
        + b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="gross.csv"\r\n'
        + b"Content-Type: text/csv\r\n\r\n"
        + content
        + b"\r\n--B--\r\n"
    )
    return client.post("/agentur/import", data=body, content_type="multipart/form-data; boundary=B")


def test_a_file_over_the_size_limit_is_refused_with_the_limit(app, client, auth):
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    big = b"name\n" + b"x" * (3 * 1024 * 1024)
    auth.login("curator")
    response = raw_upload(client, big)
    assert response.status_code == 413
    assert "Die Datei ist zu groß: höchstens 2 MB." in response.get_data(as_text=True)
    auth.logout()
    anonymous = raw_upload(client, big)
    assert anonymous.status_code == 413
    assert "Datei importieren" not in anonymous.get_data(as_text=True)


def test_a_mapping_without_a_name_is_refused(app, client, auth):
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    response = auth.post(f"/agentur/import/{number}/pruefen", {"map-town": "Ort"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Bitte ordnen Sie dem Namen des Betriebs eine Spalte zu." in html
    assert selected_mapping(html) == {"town": "Ort"}  # the choice is kept
    unknown = auth.post(f"/agentur/import/{number}/pruefen", {"map-name": "Gibt es nicht"})
    assert unknown.status_code == 422


def test_anonymous_visitors_reach_no_import_page(app, client, auth):
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    auth.logout()
    assert client.get("/agentur/import").status_code == 403
    assert client.get(f"/agentur/import/{number}").status_code == 403
    assert upload(auth, GOOD_AND_BAD.encode()).status_code == 403
    for action in ("pruefen", "importieren"):
        response = auth.post(f"/agentur/import/{number}/{action}", {"map-name": "Firma"})
        assert response.status_code == 403
    assert imported(app) == {}


def no_uploads(app) -> bool:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ImportUpload)) == 0


def features(*items) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(items)}).encode()


POINT = {"type": "Point", "coordinates": [7.1975, 51.6146]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'{"type": "FeatureCollection", "features": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "Die GeoJSON-Datei ist zu tief verschachtelt",
        ),
        (
            features({"type": "Feature", "properties": ["Firma", "Bäckerei"], "geometry": POINT}),
            "In der GeoJSON-Datei hat Feature 1 als „properties“ kein JSON-Objekt",
        ),
        (
            features({"type": "Feature", "properties": "Bäckerei", "geometry": POINT}),
            "In der GeoJSON-Datei hat Feature 1 als „properties“ kein JSON-Objekt",
        ),
        (
            json.dumps({"type": "FeatureCollection", "features": "keine"}).encode(),
            "In der GeoJSON-Datei ist „features“ keine Liste von Features.",
        ),
        (
            features({"type": "Feature", "properties": {}, "geometry": None}, 7),
            "In der GeoJSON-Datei ist Feature 2 kein JSON-Objekt.",
        ),
        (b"Firma;PLZ\nB\x00ckerei;45657\n", "Die Datei enthält Null-Zeichen"),
        (b"Firma;PLZ\nB\x81\x8dckerei;45657\n", "Diese Datei können wir nicht als Tabelle lesen."),
        (b"", "Die Datei enthält keine Daten"),
        (b"SQLite format 3\x00" + bytes(500), "Das ist eine GeoPackage- oder andere SQLite-Datei"),
        (b"Firma" + b";" * 300 + b"x\nA\n", "Die Tabelle ist zu groß: Wir lesen höchstens 20000"),
    ],
    ids=[
        "deep nesting",
        "properties list",
        "properties text",
        "features text",
        "feature number",
        "NUL byte",
        "not UTF-8",
        "empty",
        "not a GeoPackage",
        "too many columns",
    ],
)
def test_malformed_files_get_the_upload_form_with_a_clear_message(
    app, client, auth, content, message
):
    auth.login("curator")
    response = upload(auth, content, "firmen.geojson")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'id="import-file"' in html  # the upload form again, to try another file
    assert no_uploads(app)


def test_a_broken_geometry_is_the_rows_error_not_a_500(app, client, auth):
    unclosed = {"type": "Polygon", "coordinates": [[[7.1, 51.6], [7.2, 51.6], [7.2, 51.7]]]}
    content = features(
        {"type": "Feature", "properties": {"name": "Offener Ring"}, "geometry": unclosed},
        {"type": "Feature", "properties": {"name": "Punkt GmbH"}, "geometry": POINT},
    )
    auth.login("curator")
    number = upload_id(upload(auth, content, "firmen.geojson"))
    report = auth.post(f"/agentur/import/{number}/pruefen", {"map-name": "name"})
    assert report.status_code == 200
    assert ("1", "Lage (Koordinaten)", "Die Geometrie hat keinen gültigen Punkt.") in (
        rows_with_errors(report.get_data(as_text=True))
    )
    done = auth.post(
        f"/agentur/import/{number}/importieren", {"map-name": "name"}, follow_redirects=True
    )
    assert done.status_code == 200
    assert set(imported(app)) == {"Punkt GmbH"}


def test_an_xlsx_bomb_is_refused_without_reading_a_million_rows(app, client, auth, monkeypatch):
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    handed_out = []
    original = ReadOnlyWorksheet._cells_by_row

    def counting(self, *args, **kwargs):
        for row in original(self, *args, **kwargs):
            handed_out.append(len(row))
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counting)
    cells = {"A1": "Firma", "XFD1": "Bombe"} | {f"A{n}": "x" for n in range(2, 1_048_576, 5000)}
    auth.login("curator")
    response = upload(auth, forged_xlsx(cells), "firmen.xlsx")
    assert response.status_code == 422
    assert "Die Tabelle ist zu groß" in response.get_data(as_text=True)
    assert len(handed_out) <= tables.MAX_SHEET_ROWS + 1
    assert max(handed_out) <= tables.MAX_COLUMNS + 1
    assert no_uploads(app)


def test_an_upload_is_read_once_for_preview_check_and_import(app, client, auth, monkeypatch):
    reads = []

    def counting_read(content):
        reads.append(len(content))
        return read_table(content)

    monkeypatch.setattr(importer, "read_table", counting_read)
    auth.login("curator")
    number = upload_id(upload(auth, GOOD_AND_BAD.encode()))
    html = client.get(f"/agentur/import/{number}").get_data(as_text=True)
    form = form_of(selected_mapping(html))
    assert auth.post(f"/agentur/import/{number}/pruefen", form).status_code == 200
    assert client.get(f"/agentur/import/{number}").status_code == 200
    assert (
        auth.post(f"/agentur/import/{number}/importieren", form, follow_redirects=True).status_code
        == 200
    )
    assert set(imported(app)) == GOOD_NAMES
    assert len(reads) == 1
