"""Regression tests for the smaller defects of issue 11 (part 3): the consent message, the
summary in words, an old resume link after submitting, the audit log in words and with the
business's own submission, "CSV für Excel", the favicon and the English OSM credit."""

import csv
import io
import re

import pytest
from sqlalchemy import select

from app import create_app
from app.config import DEFAULT_TILE_ATTRIBUTION
from app.extensions import db
from app.map import configured_map, tile_attribution
from app.models import AuditEntry, ChangeRequest, Company
from tests.conftest import test_config
from tests.integration.test_questionnaire import STEPS, post_step, resume_link, walk
from tests.staff_helpers import version_in

CONSENT_MESSAGE = "Bitte stimmen Sie zu, damit wir Ihren Eintrag veröffentlichen dürfen."


@pytest.fixture
def app(database_url):
    """The app without CSRF checks (the questionnaire is posted directly)."""
    app = create_app(test_config(database_url, WTF_CSRF_ENABLED=False))
    yield app
    with app.app_context():
        db.session.execute(
            db.text(
                "TRUNCATE companies, questionnaire_drafts, outbox_messages, staff_users,"
                " audit_entries RESTART IDENTITY CASCADE"
            )
        )
        db.session.commit()
        db.engine.dispose()


# 1. The consent error -------------------------------------------------------------------


def test_a_missing_consent_asks_for_agreement_not_to_fill_in_a_field(client):
    walk(client, until="summary")
    response = post_step(client, "summary", {}, "submit")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert CONSENT_MESSAGE in html
    assert "veröffentlicht werden.:" not in html
    assert "Bitte füllen Sie dieses Feld aus." not in html


def test_the_consent_message_in_english(client):
    walk(client, until="summary")
    html = client.post("/mitmachen/schritt/summary?lang=en", data={"action": "submit"}).get_data(
        as_text=True
    )
    assert "Please agree so that we may publish your entry." in html


# 2. The summary in words ------------------------------------------------------------------


def summary_part(html: str) -> str:
    """The summary list of the last step (without the form and its hidden fields)."""
    return html.split('<div class="summary">', 1)[1].split("<form", 1)[0]


def test_the_summary_describes_the_point_and_leaves_out_empty_answers(client):
    steps = {**STEPS, "family": {"family": ["part_time"]}}  # no certificate
    walk(client, steps, until="summary")
    summary = summary_part(client.get("/mitmachen/schritt/summary").get_data(as_text=True))
    assert "Punkt auf der Karte gesetzt" in summary
    assert not re.search(r"\d+\.\d{4,}", summary), "no raw coordinates"
    assert "Name des Zertifikats" not in summary
    assert "Teilzeit möglich" in summary


def test_the_pin_step_says_in_words_whether_a_point_is_set(client):
    walk(client, until="classification")
    html = client.get("/mitmachen/schritt/location").get_data(as_text=True)
    status = re.search(r'<p class="pin-status"[^>]*>([^<]*)</p>', html)
    assert status and status.group(1) == "Punkt auf der Karte gesetzt"


# 3. An old resume link after submitting ------------------------------------------------------


def test_the_resume_link_of_a_submitted_entry_says_what_happens_next(app, client):
    walk(client, until="summary")
    post_step(client, "summary", {}, "later")
    link = resume_link(client.get("/mitmachen/gespeichert").get_data(as_text=True))
    assert post_step(client, "summary", {"consent": "y"}, "submit").status_code == 302
    response = app.test_client().get(link)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ihr Eintrag ist schon abgeschickt" in html
    assert "Die Agentur prüft ihn" in html
    assert "unvollständig kopiert" not in html


def test_a_broken_resume_link_still_says_so(client):
    response = client.get("/mitmachen/weiter/kaputt")
    assert response.status_code == 404
    assert "unvollständig kopiert" in response.get_data(as_text=True)


# 5. The audit log ------------------------------------------------------------------------


def test_a_submission_is_in_the_audit_log_by_the_owner(app, client):
    walk(client)
    with app.app_context():
        company = db.session.scalars(select(Company)).one()
        record = db.session.scalars(select(AuditEntry)).one()
        assert (record.action, record.actor_label, record.actor_id) == ("submit", "owner", None)
        assert record.company_id == company.id
        assert record.after["name"] == "Tischlerei Holzwurm"
        assert record.after["status"] == "pending"


def test_an_owners_change_request_is_in_the_audit_log(app, client, make_company):
    company_id = make_company("Alter Name", contact_email="owner@firma.example", description="A.")
    client.post("/mitmachen/aendern", data={"email": "owner@firma.example"})
    with app.app_context():
        from app.models import OutboxMessage

        body = db.session.scalars(select(OutboxMessage)).one().body
    client.get(re.search(r"(http://\S+/mitmachen/aendern/\S+)", body).group(1))
    post_step(client, "business", {"name": "Neuer Name", "description": "Neu."})
    post_step(client, "summary", {"consent": "y"}, "submit")
    with app.app_context():
        change = db.session.scalars(select(ChangeRequest)).one()
        record = db.session.scalars(select(AuditEntry)).one()
        assert (record.action, record.actor_label) == ("request_change", "owner")
        assert record.company_id == company_id and record.note == f"#{change.id}"


def test_the_audit_log_shows_labels_not_field_names_or_codes(app, client, auth):
    walk(client)
    with app.app_context():
        company_id = db.session.scalar(select(Company.id))
    auth.login("curator")
    html = client.get(f"/agentur/eintraege/{company_id}").get_data(as_text=True)
    auth.post(f"/agentur/eintraege/{company_id}/freigeben", {"version": version_in(html)})
    for page in (f"/agentur/eintraege/{company_id}", "/agentur/protokoll"):
        html = client.get(page).get_data(as_text=True)
        assert "eingereicht → veröffentlicht" in html, page
        assert "pending → published" not in html
        assert "über den Fragebogen eingereicht" in html
        assert "Name des Unternehmens" in html and "<code>name</code>" not in html
        assert "Teilzeit möglich" in html and "family_criteria" not in html
        assert "part_time" not in html
    english = client.get("/agentur/protokoll?lang=en").get_data(as_text=True)
    assert "Name of the business" in english and "Part-time possible" in english


# 6. CSV für Excel ------------------------------------------------------------------------


def test_csv_for_excel_uses_semicolons_bom_ja_nein_and_decimal_commas(client, auth, make_company):
    make_company(
        "=Bäckerei; Öztürk",
        slug="oeztuerk",
        description='Brot, "Simit"',
        offers_apprenticeships=True,
        lon=7.1975,
        lat=51.6146,
    )
    auth.login("curator")
    page = client.get("/agentur/export").get_data(as_text=True)
    assert 'value="csv-excel"' in page and "CSV für Excel" in page
    response = client.get("/agentur/export/datei?format=csv-excel")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    content = response.data
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert len(rows) == 1
    row = rows[0]
    assert row["name"] == "'=Bäckerei; Öztürk"  # neutralised, and the semicolon quoted
    assert row["description"] == 'Brot, "Simit"'
    assert row["offers_apprenticeships"] == "Ja" and row["offers_internships"] == "Nein"
    assert (row["lon"], row["lat"]) == ("7,1975", "51,6146")
    assert "True" not in content.decode("utf-8-sig") and "False" not in content.decode("utf-8-sig")


# 7. The favicon and the English OSM credit ---------------------------------------------------


def test_favicon_is_served_and_named_by_every_page(client):
    with client.get("/favicon.ico", follow_redirects=True) as response:
        assert response.status_code == 200
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200 and b"<svg" in svg.data
    html = client.get("/mitmachen/").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg?v=' in html
    assert 'rel="icon" href="/static/favicon.ico?v=' in html


def test_the_default_osm_credit_follows_the_interface_language(app):
    app.config["TILE_ATTRIBUTION"] = DEFAULT_TILE_ATTRIBUTION
    with app.test_request_context("/?lang=en"):
        assert tile_attribution("en").endswith("OpenStreetMap</a> contributors")
        script = str(configured_map().script)
        assert "contributors" in script and "Mitwirkende" not in script
    with app.test_request_context("/"):
        assert "Mitwirkende" in str(configured_map().script)


def test_a_configured_credit_stays_as_configured(app):
    with app.test_request_context("/?lang=en"):
        assert tile_attribution("en") == "Test tiles"
