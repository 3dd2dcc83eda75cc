"""Apprenticeship occupations end to end (issue 11): the write model, the questionnaire, the
staff edit, the `apprenticeship` filter (alone and with others, in the URL, list, map data,
exports and API) and the public pages. The occupations come from the test's own list."""

import io
import json

import pandas as pd
import pytest
from werkzeug.datastructures import MultiDict

from app import create_app
from app.extensions import db
from app.features.employers import EMPLOYERS, public_properties
from app.models import Company, CompanyStatus
from app.services import apprenticeships, entries
from app.services import questionnaire as questionnaire_service
from questionnaire import build_form, clean_answers
from tests.conftest import test_config
from tests.staff_helpers import entry_form

OCCUPATIONS = [
    {"code": "baecker", "kldb": "29222", "de": "Bäcker/in", "en": "Baker"},
    {"code": "koch", "kldb": "29302", "de": "Koch/Köchin", "en": "Cook"},
    {"code": "elektroniker", "kldb": "26212", "de": "Elektroniker/in", "en": "Electrician"},
    {
        "code": "kaufmann-bueromanagement",
        "kldb": "71402",
        "de": "Kaufmann/-frau für Büromanagement",
        "en": "Office management assistant",
    },
]


@pytest.fixture(autouse=True)
def occupation_list(tmp_path, monkeypatch):
    """The test's own list of apprenticeship occupations, in the shipped file's shape."""
    path = tmp_path / "apprenticeships.json"
    path.write_text(json.dumps(OCCUPATIONS, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(apprenticeships, "DATA_FILE", path)
    return path


@pytest.fixture
def trainers(make_company):
    """A bakery (baecker, 2 places) in Recklinghausen, a restaurant (koch, and baecker without
    places) in Marl, an electrician (sector 43) and a business that names none."""
    return {
        "baeckerei": make_company(
            "Bäckerei Korn",
            slug="baeckerei",
            sectors=("10",),
            apprenticeships=[{"code": "baecker", "places": 2}],
        ),
        "gasthaus": make_company(
            "Gasthaus Linde",
            slug="gasthaus",
            lon=7.0903,
            lat=51.6561,
            municipality_ags="05562024",
            sectors=("56",),
            apprenticeships=[{"code": "koch", "places": 1}, {"code": "baecker", "places": None}],
        ),
        "elektro": make_company(
            "Elektro Funke",
            slug="elektro",
            sectors=("43",),
            apprenticeships=[{"code": "elektroniker", "places": 3}],
        ),
        "ohne": make_company("Ohne Angabe", slug="ohne", offers_apprenticeships=True),
    }


def slugs(response) -> list[str]:
    """The slugs of a list or map-data response."""
    body = response.get_json()
    items = body["items"] if "items" in body else [f["properties"] for f in body["features"]]
    return sorted(item["slug"] for item in items)


# --- the write model ---------------------------------------------------------------------


def test_the_write_model_keeps_known_codes_with_places_and_implies_offering(app):
    with app.app_context():
        built = entries.build(
            {
                "name": "Backstube",
                "offers_apprenticeships": False,
                "apprenticeships": [
                    {"code": "koch", "places": "3"},
                    {"code": "unbekannt", "places": 1},
                    "baecker",
                    {"code": "koch", "places": 9},  # named twice: the first counts
                    {"code": "elektroniker", "places": -1},  # no negative places
                ],
            },
            status=CompanyStatus.PENDING,
        )
        db.session.add(built)
        db.session.commit()
        assert built.offers_apprenticeships is True
        values = entries.current_values(built)
        assert values["apprenticeships"] == [
            {"code": "baecker", "places": None},
            {"code": "elektroniker", "places": None},
            {"code": "koch", "places": 3},
        ]
        entries.apply(built, {"apprenticeships": [{"code": "koch", "places": 4}]})
        db.session.commit()
        assert [(a.code, a.places) for a in built.apprenticeships] == [("koch", 4)]
        entries.apply(built, {"apprenticeships": []})
        db.session.commit()
        assert built.apprenticeships == [] and built.offers_apprenticeships is True


def test_entries_without_apprenticeships_keep_working(app, client, make_company):
    plain = make_company("Altbetrieb", slug="altbetrieb", offers_apprenticeships=True)
    with app.app_context():
        entry = db.session.get(Company, plain)
        assert entries.current_values(entry)["apprenticeships"] == []
        assert public_properties(entry)["apprenticeships"] == []
    html = client.get("/arbeitgeber/altbetrieb").get_data(as_text=True)
    assert "Ausbildungsplätze" in html
    assert client.get("/api/employers?offers=apprenticeship").get_json()["total"] == 1


# --- the filter ---------------------------------------------------------------------------


def test_the_filter_alone_any_of_several_codes(client, trainers):
    assert slugs(client.get("/api/employers/list?apprenticeship=baecker")) == [
        "baeckerei",
        "gasthaus",
    ]
    assert slugs(client.get("/api/employers/list?apprenticeship=koch,elektroniker")) == [
        "elektro",
        "gasthaus",
    ]
    repeated = client.get("/api/employers/list?apprenticeship=koch&apprenticeship=elektroniker")
    assert slugs(repeated) == ["elektro", "gasthaus"]
    assert (
        client.get("/api/employers/list?apprenticeship=kaufmann-bueromanagement").get_json()[
            "total"
        ]
        == 0
    )


def test_the_filter_combines_with_the_other_filters(client, trainers):
    assert slugs(client.get("/api/employers/list?apprenticeship=baecker&sector=10")) == [
        "baeckerei"
    ]
    assert slugs(
        client.get("/api/employers/list?apprenticeship=baecker&municipality=05562024")
    ) == ["gasthaus"]
    assert slugs(
        client.get("/api/employers/list?apprenticeship=baecker,elektroniker&q=Elektro")
    ) == ["elektro"]
    near = "/api/employers/list?apprenticeship=baecker&near=51.6146,7.1975&radius_km=2"
    assert slugs(client.get(near)) == ["baeckerei"]
    offers = "/api/employers/list?apprenticeship=elektroniker&offers=apprenticeship"
    assert slugs(client.get(offers)) == ["elektro"]


def test_map_data_counts_and_properties(client, trainers):
    body = client.get("/api/employers?apprenticeship=baecker").get_json()
    assert body["total"] == body["matched"] == 2
    gasthaus = next(f for f in body["features"] if f["properties"]["slug"] == "gasthaus")
    assert gasthaus["properties"]["apprenticeships"] == [
        {
            "code": "baecker",
            "name": "Bäcker/in",
            "places": None,
            "label": "Bäcker/in",
            "lang": "de",
        },
        {
            "code": "koch",
            "name": "Koch/Köchin",
            "places": 1,
            "label": "Koch/Köchin (1 Platz)",
            "lang": "de",
        },
    ]
    english = client.get("/api/employers?apprenticeship=koch&lang=en").get_json()
    names = [a["name"] for a in english["features"][0]["properties"]["apprenticeships"]]
    assert names == ["Baker", "Cook"]


def test_an_unknown_code_is_refused_with_the_parameter_named(client, trainers):
    response = client.get("/api/employers?apprenticeship=zauberer")
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == "apprenticeship"
    assert "zauberer" in body["message"]
    english = client.get("/api/employers?apprenticeship=zauberer&lang=en").get_json()
    assert english["parameter"] == "apprenticeship"


def test_the_filter_is_declared_for_the_browser(app):
    declared = {p.name: p.declaration() for p in EMPLOYERS.parameters}
    assert declared["apprenticeship"]["type"] == "choice"
    assert declared["apprenticeship"]["multiple"] is True
    assert declared["apprenticeship"]["countsAsFilter"] is True


def test_the_permalink_round_trip(app, client, trainers):
    from app.blueprints.filtering import request_filter

    with app.test_request_context("/?apprenticeship=koch,baecker&sector=56"):
        first = request_filter()
        args = first.query_args()
    assert args == {"sector": "56", "apprenticeship": "koch,baecker"}
    with app.test_request_context("/", query_string=args):
        again = request_filter()
    assert again == first and again.apprenticeships == {"koch", "baecker"}
    assert first.active_count == 2
    page = client.get("/?apprenticeship=koch").get_data(as_text=True)
    assert '<option value="koch" selected>' in page
    assert "Gasthaus Linde" in page and "Bäckerei Korn" not in page
    # the list item names the occupations (each name in its language: German here)
    assert '<bdi lang="de">Koch/Köchin</bdi> (1 Platz)' in page
    detail = client.get("/arbeitgeber/gasthaus?apprenticeship=koch").get_data(as_text=True)
    assert "apprenticeship=koch" in detail  # the way back keeps the filter


def test_the_export_has_an_apprenticeships_column_and_follows_the_filter(client, auth, trainers):
    auth.login("curator")
    content = client.get("/agentur/export/datei?format=csv&apprenticeship=baecker").data
    table = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", dtype=str).fillna("")
    assert dict(zip(table["slug"], table["apprenticeships"], strict=True)) == {
        "baeckerei": "baecker",
        "gasthaus": "baecker;koch",
    }
    everything = client.get("/agentur/export/datei?format=csv").data
    table = pd.read_csv(io.BytesIO(everything), encoding="utf-8-sig", dtype=str).fillna("")
    assert dict(zip(table["slug"], table["apprenticeships"], strict=True))["ohne"] == ""


# --- pages --------------------------------------------------------------------------------


def test_the_detail_page_names_the_occupations_with_places(client, trainers):
    html = client.get("/arbeitgeber/gasthaus").get_data(as_text=True)
    assert "Bäcker/in" in html and '<bdi lang="de">Koch/Köchin</bdi> (1 Platz)' in html
    english = client.get("/arbeitgeber/gasthaus?lang=en").get_data(as_text=True)
    assert "Cook (1 place)" in english or "Cook" in english


# --- the questionnaire and the staff edit -------------------------------------------------


def test_the_questionnaire_form_takes_occupations_with_places(app):
    with app.test_request_context():
        step = questionnaire_service.definition().step("offers")
        context = questionnaire_service.engine_context("de")
        form_class = build_form(step, language="de", context=context)
        formdata = MultiDict(
            [
                ("apprenticeships", "baecker"),
                ("apprenticeships-places-baecker", "2"),
                ("apprenticeships", "koch"),
                ("apprenticeships-places-koch", ""),
                ("apprenticeships-places-elektroniker", "5"),  # not ticked: ignored
            ]
        )
        form = form_class(formdata=formdata)
        assert form.validate(), form.errors
        answers = clean_answers(step, form)
        assert answers["apprenticeships"] == [
            {"code": "baecker", "places": 2},
            {"code": "koch", "places": None},
        ]
        bad = form_class(
            formdata=MultiDict(
                [("apprenticeships", "baecker"), ("apprenticeships-places-baecker", "zwei")]
            )
        )
        assert not bad.validate()
        assert "ganze Zahl" in bad.apprenticeships.errors[0]
        unknown = form_class(formdata=MultiDict([("apprenticeships", "zauberer")]))
        assert not unknown.validate()


@pytest.fixture
def form_client(app, database_url):
    """A client of the app without CSRF checks (as in test_questionnaire); ``app`` cleans up."""
    plain = create_app(test_config(database_url, WTF_CSRF_ENABLED=False))
    yield plain.test_client()
    with plain.app_context():
        db.session.execute(db.text("TRUNCATE questionnaire_drafts RESTART IDENTITY CASCADE"))
        db.session.commit()
        db.engine.dispose()


def test_a_questionnaire_submission_with_apprenticeships(app, form_client):
    from tests.integration.test_questionnaire import STEPS, walk

    client = form_client

    steps = {key: dict(data) for key, data in STEPS.items()}
    steps["offers"] = {
        **steps["offers"],
        "offers_apprenticeships": "",
        "apprenticeships": ["baecker", "koch"],
        "apprenticeships-places-baecker": "2",
    }
    walk(client, steps, until="summary")
    summary = client.get("/mitmachen/schritt/summary").get_data(as_text=True)
    assert "Bäcker/in (2 Plätze)" in summary and "Koch/Köchin" in summary
    response = client.post("/mitmachen/schritt/summary", data={"consent": "y", "action": "submit"})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalars(db.select(Company)).one()
        assert entry.status == CompanyStatus.PENDING
        assert [(a.code, a.places) for a in entry.apprenticeships] == [
            ("baecker", 2),
            ("koch", None),
        ]
        assert entry.offers_apprenticeships is True  # naming one means it trains


def test_the_staff_edit_shows_and_changes_the_occupations(app, client, auth, make_company):
    pending = make_company(
        "Backhaus Sturm",
        status=CompanyStatus.PENDING,
        contact_name="Ina Sturm",
        contact_email="ina@backhaus.example",
        description="Brot und Brötchen.",
        street="Ring",
        house_number="1",
        apprenticeships=[{"code": "baecker", "places": 2}],
    )
    auth.login()
    page = client.get(f"/agentur/eintraege/{pending}/bearbeiten").get_data(as_text=True)
    assert 'value="baecker" checked' in page
    assert 'name="apprenticeships-places-baecker" value="2"' in page
    entry_page = client.get(f"/agentur/eintraege/{pending}").get_data(as_text=True)
    assert "Bäcker/in (2 Plätze)" in entry_page
    form = entry_form(
        app,
        pending,
        apprenticeships=["baecker", "elektroniker"],
        **{"apprenticeships-places-baecker": "3", "apprenticeships-places-elektroniker": "1"},
    )
    response = auth.post(f"/agentur/eintraege/{pending}/bearbeiten", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        entry = db.session.get(Company, pending)
        assert [(a.code, a.places) for a in entry.apprenticeships] == [
            ("baecker", 3),
            ("elektroniker", 1),
        ]


def test_an_import_column_names_occupations_with_places(app):
    from app.services import importer
    from geodata.tables import read_table

    table = read_table(
        "Firma;PLZ;Ort;Ausbildungsberufe\n"
        "Backhaus;45657;Recklinghausen;Bäcker/in:2, koch\n"
        "Zauberei;45657;Recklinghausen;Zauberer\n".encode()
    )
    with app.test_request_context():
        mapping = importer.suggest_mapping(table.columns)
        assert mapping["apprenticeships"] == "Ausbildungsberufe"
        report = importer.validate(table.rows, mapping, "de")
    backhaus, zauberei = report.rows
    assert backhaus.answers["apprenticeships"] == [
        {"code": "baecker", "places": 2},
        {"code": "koch", "places": None},
    ]
    assert [tuple(p) for p in zauberei.errors] == [
        ("apprenticeships", "Unbekannter Ausbildungsberuf „Zauberer“.")
    ]
