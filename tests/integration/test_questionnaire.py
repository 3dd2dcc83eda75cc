"""The questionnaire end to end on PostGIS: steps, drafts, links, submission and edits."""

import re

import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import (
    ChangeRequest,
    Company,
    CompanyStatus,
    ConsentRecord,
    OutboxMessage,
    QuestionnaireDraft,
)
from app.services import questionnaire as service
from tests.conftest import test_config

STEPS = {
    "business": {"name": "Tischlerei Holzwurm", "description": "Möbel nach Maß aus Marl."},
    "location": {
        "street": "Hauptstraße",
        "house_number": "5a",
        "postal_code": "45768",
        "town": "Marl",
        "location": "51.6561,7.0903",
    },
    "classification": {"sectors": ["16", "31"], "occupations": ["22", "93"]},
    "size": {"employees": "12"},
    "offers": {
        "offers_apprenticeships": "y",
        "has_open_positions": "y",
        "open_positions": "2",
        "languages": ["de", "tr"],
    },
    "family": {
        "family": ["part_time", "certificate"],
        "certificate_name": "audit berufundfamilie",
        "certificate_valid_until": "2027-12-31",
    },
    "contact": {
        "phone": "02365 12345",
        "email": "info@holzwurm.example",
        "website": "https://holzwurm.example",
        "contact_name": "Erika Muster",
        "contact_email": "erika@holzwurm.example",
    },
    "summary": {"consent": "y"},
}


@pytest.fixture
def app(database_url):
    app = create_app(test_config(database_url, WTF_CSRF_ENABLED=False))
    yield app
    with app.app_context():
        db.session.execute(
            db.text(
                "TRUNCATE companies, questionnaire_drafts, outbox_messages RESTART IDENTITY CASCADE"
            )
        )
        db.session.commit()
        db.engine.dispose()


def post_step(client, key, data, action="next"):
    return client.post(f"/mitmachen/schritt/{key}", data={**data, "action": action})


def walk(client, steps=STEPS, until=None):
    """Start and answer every step in order (up to ``until``); return the last response."""
    response = client.post("/mitmachen/start")
    assert response.status_code == 302
    for key, data in steps.items():
        if key == until:
            return response
        response = post_step(client, key, data, "submit" if key == "summary" else "next")
        assert response.status_code == 302, (key, response.get_data(as_text=True)[:2000])
    return response


def test_start_page_explains_and_offers_to_start(client):
    html = client.get("/mitmachen/").get_data(as_text=True)
    assert "Ihr Unternehmen auf die Karte" in html
    assert "Zusammenfassung und Einwilligung" in html


def test_full_walk_creates_exactly_one_pending_entry_with_every_field_mapped(app, client):
    response = walk(client)
    assert response.headers["Location"] == "/mitmachen/danke"
    with app.app_context():
        [company] = db.session.scalars(select(Company)).all()
        assert company.status is CompanyStatus.PENDING
        assert company.source == "questionnaire"
        assert (company.name, company.description) == (
            "Tischlerei Holzwurm",
            "Möbel nach Maß aus Marl.",
        )
        assert (company.street, company.house_number, company.postal_code, company.town) == (
            "Hauptstraße",
            "5a",
            "45768",
            "Marl",
        )
        assert company.municipality_ags == "05562024"
        point = to_shape(company.location)
        assert (round(point.x, 4), round(point.y, 4)) == (7.0903, 51.6561)
        assert [d.code for d in company.sectors] == ["16", "31"]
        assert [g.code for g in company.occupations] == ["22", "93"]
        assert (company.employees, company.size_class) == (12, "small")
        assert company.offers_apprenticeships is True
        assert company.offers_internships is False
        assert company.open_positions == 2
        assert company.languages == ["de", "tr"]
        assert [c.key for c in company.family_criteria] == ["part_time", "certificate"]
        assert [(c.name, c.valid_until.isoformat()) for c in company.certificates] == [
            ("audit berufundfamilie", "2027-12-31")
        ]
        assert (company.phone, company.email, company.website) == (
            "02365 12345",
            "info@holzwurm.example",
            "https://holzwurm.example",
        )
        assert (company.contact_name, company.contact_email) == (
            "Erika Muster",
            "erika@holzwurm.example",
        )
        assert company.slug == "tischlerei-holzwurm-marl"
        mail = db.session.scalars(select(OutboxMessage)).one()
        assert mail.recipient == "erika@holzwurm.example"


def test_consent_record_keeps_text_version_time_and_entry(app, client):
    walk(client)
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        company = db.session.scalars(select(Company)).one()
        assert record.company_id == company.id
        assert record.text_version == service.definition().consent.version
        assert record.text.startswith("Ich willige ein")
        assert record.given_at is not None


def test_consent_is_required(client):
    walk(client, until="summary")
    response = post_step(client, "summary", {}, "submit")
    assert response.status_code == 422
    assert "Bitte stimmen Sie zu, damit wir Ihren Eintrag veröffentlichen dürfen." in (
        response.get_data(as_text=True)
    )


def test_pending_entry_is_absent_from_every_public_endpoint(app, client):
    walk(client)
    with app.app_context():
        slug = db.session.scalar(select(Company.slug))
    for path in (
        "/",
        "/api/employers",
        "/api/employers/list",
        "/api/employers?q=Holzwurm",
        f"/arbeitgeber/{slug}",
    ):
        assert "Holzwurm" not in client.get(path).get_data(as_text=True), path


def test_progress_and_summary(client):
    walk(client, until="summary")
    html = client.get("/mitmachen/schritt/summary").get_data(as_text=True)
    assert "Schritt 8 von 8" in html
    assert "Tischlerei Holzwurm" in html
    assert "Herstellung von Holz-, Flecht-, Korb- und Korkwaren (ohne Möbel)" in html
    assert "Ja" in html and "Deutsch, Türkisch" in html
    assert service_consent_in(html)


def service_consent_in(html):
    return "Ich willige ein, dass die als öffentlich gekennzeichneten Angaben" in html


def test_steps_must_be_done_in_order(client):
    client.post("/mitmachen/start")
    post_step(client, "business", STEPS["business"])
    response = client.get("/mitmachen/schritt/size")
    assert response.status_code == 302
    assert response.headers["Location"] == "/mitmachen/schritt/location"
    response = post_step(client, "contact", STEPS["contact"])
    assert response.headers["Location"] == "/mitmachen/schritt/location"
    assert "der Reihe nach" in client.get("/mitmachen/schritt/location").get_data(as_text=True)


def test_without_a_draft_the_steps_send_you_to_the_start(client):
    response = client.get("/mitmachen/schritt/business")
    assert response.headers["Location"] == "/mitmachen/"


def test_validation_messages_sit_next_to_fields_and_keep_input(client):
    walk(client, until="location")
    response = post_step(
        client,
        "location",
        {"street": "Hauptstraße", "house_number": "1", "postal_code": "10115", "town": "Berlin"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Die Postleitzahl 10115 liegt nicht in unserer Region." in html
    assert 'value="Hauptstraße"' in html and 'value="Berlin"' in html
    post_step(client, "location", STEPS["location"])
    post_step(client, "classification", STEPS["classification"])
    for value in ("0", "2,5", "zwölf"):
        html = post_step(client, "size", {"employees": value}).get_data(as_text=True)
        assert "Bitte geben Sie eine ganze Zahl ab 1 ein." in html
        assert f'value="{value}"' in html
    post_step(client, "size", STEPS["size"])
    post_step(client, "offers", STEPS["offers"])
    post_step(client, "family", STEPS["family"])
    response = post_step(
        client,
        "contact",
        {
            **STEPS["contact"],
            "email": "info@",
            "website": "www.holzwurm.de",
            "contact_name": "x" * 201,
        },
    )
    html = response.get_data(as_text=True)
    assert "Das ist keine gültige E-Mail-Adresse" in html
    assert "Die Website muss mit https:// oder http:// beginnen" in html
    assert "Bitte höchstens 200 Zeichen (jetzt 201)." in html
    assert 'value="02365 12345"' in html  # the valid input is kept


def test_english_messages(client):
    client.get("/?lang=en")
    walk(client, until="size")
    html = post_step(client, "size", {"employees": "-3"}).get_data(as_text=True)
    assert "Please enter a whole number from 1." in html
    assert "Step 4 of 8" in html


def test_going_back_keeps_typed_input_even_if_not_yet_valid(client):
    walk(client, until="size")
    response = post_step(client, "size", {"employees": "zwölf"}, "back")
    assert response.headers["Location"] == "/mitmachen/schritt/classification"
    html = client.get("/mitmachen/schritt/classification").get_data(as_text=True)
    assert 'value="16" checked' in html
    assert 'value="zwölf"' in client.get("/mitmachen/schritt/size").get_data(as_text=True)


def resume_link(html):
    return re.search(r'id="resume-link">([^<]+)<', html).group(1)


def test_resume_link_restores_the_draft_on_another_device(app, client):
    walk(client, until="size")
    response = post_step(client, "size", {"employees": "7"}, "later")
    assert response.headers["Location"] == "/mitmachen/gespeichert"
    link = resume_link(client.get("/mitmachen/gespeichert").get_data(as_text=True))
    other_device = app.test_client()
    response = other_device.get(link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/mitmachen/schritt/size"  # the token is gone
    html = other_device.get("/mitmachen/schritt/size").get_data(as_text=True)
    assert 'value="7"' in html
    assert "Tischlerei Holzwurm" in other_device.get("/mitmachen/schritt/business").get_data(
        as_text=True
    )


def test_resume_link_by_email(app, client):
    walk(client, until="size")
    post_step(client, "size", {}, "later")
    response = client.post("/mitmachen/gespeichert", data={"email": "kein-mail"})
    assert response.status_code == 422
    assert "keine gültige E-Mail-Adresse" in response.get_data(as_text=True)
    response = client.post("/mitmachen/gespeichert", data={"email": "chef@holzwurm.example"})
    assert "Wir haben den Link an chef@holzwurm.example geschickt." in response.get_data(
        as_text=True
    )
    with app.app_context():
        mail = db.session.scalars(select(OutboxMessage)).one()
        assert mail.recipient == "chef@holzwurm.example"
        assert "/mitmachen/weiter/" in mail.body
        assert mail.transport == "log" and mail.sent_at is not None


def test_resume_link_goes_to_the_contact_address_once_it_is_known(app, client):
    walk(client, until="summary")
    response = client.post(
        "/mitmachen/schritt/summary", data={"action": "later"}, follow_redirects=True
    )
    assert "Wir haben den Link an erika@holzwurm.example geschickt." in response.get_data(
        as_text=True
    )
    with app.app_context():
        mail = db.session.scalars(select(OutboxMessage)).one()
        assert mail.recipient == "erika@holzwurm.example"
        assert "/mitmachen/weiter/" in mail.body


def test_tampered_expired_and_revoked_links_get_a_friendly_page(app, client, monkeypatch):
    walk(client, until="size")
    post_step(client, "size", {}, "later")
    link = resume_link(client.get("/mitmachen/gespeichert").get_data(as_text=True))
    token = link.rsplit("/", 1)[1]

    tampered = client.get(f"/mitmachen/weiter/{token[:-2]}xx")
    assert tampered.status_code == 404
    assert "nicht (mehr) gültig" in tampered.get_data(as_text=True)
    assert "Fragebogen neu beginnen" in tampered.get_data(as_text=True)

    with app.app_context():
        draft = db.session.scalars(select(QuestionnaireDraft)).one()
        edit_purpose = service.tokens.make_token("edit", draft.id, draft.token_generation)
    assert client.get(f"/mitmachen/weiter/{edit_purpose}").status_code == 404  # wrong purpose

    import itsdangerous.timed

    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + 31 * 24 * 3600)
    expired = client.get(link)
    assert expired.status_code == 410
    assert "abgelaufen" in expired.get_data(as_text=True)
    monkeypatch.undo()

    with app.app_context():
        service.revoke_links(db.session.scalars(select(QuestionnaireDraft)).one())
    assert client.get(link).status_code == 404


def test_edit_link_makes_a_change_request_and_leaves_the_public_entry(app, client, make_company):
    company_id = make_company(
        "Alter Name",
        contact_email="owner@firma.example",
        employees=4,
        sectors=("43",),
        occupations=("26",),
        postal_code="45657",
        town="Recklinghausen",
        street="Markt",
        house_number="1",
        description="Alt.",
    )
    response = client.post("/mitmachen/aendern", data={"email": "OWNER@firma.example"})
    assert "haben wir einen Link zum Ändern dorthin geschickt" in response.get_data(as_text=True)
    with app.app_context():
        mail = db.session.scalars(select(OutboxMessage)).one()
        assert mail.recipient == "owner@firma.example"
    link = re.search(r"(http://\S+/mitmachen/aendern/\S+)", mail.body).group(1)
    response = client.get(link)
    assert response.headers["Location"] == "/mitmachen/schritt/business"
    html = client.get("/mitmachen/schritt/business").get_data(as_text=True)
    assert 'value="Alter Name"' in html
    post_step(client, "business", {"name": "Neuer Name", "description": "Neu."})
    response = client.get("/mitmachen/schritt/summary")  # later steps are open: all answered
    assert response.status_code == 200
    for key in ("location", "classification", "size", "offers", "family", "contact"):
        page = client.get(f"/mitmachen/schritt/{key}").get_data(as_text=True)
        assert page
    response = post_step(client, "summary", {"consent": "y"}, "submit")
    assert response.headers["Location"] == "/mitmachen/danke"
    assert "bleibt Ihr Eintrag so sichtbar" in client.get("/mitmachen/danke").get_data(as_text=True)
    with app.app_context():
        request = db.session.scalars(select(ChangeRequest)).one()
        assert request.company_id == company_id
        assert request.values["name"] == "Neuer Name"
        assert request.status == "pending"
        company = db.session.get(Company, company_id)
        assert company.name == "Alter Name"
        assert company.status is CompanyStatus.PUBLISHED
    names = [f["properties"]["name"] for f in client.get("/api/employers").get_json()["features"]]
    assert names == ["Alter Name"]


def test_edit_links_are_refused_for_unpublished_or_revoked_entries(app, client, make_company):
    company_id = make_company("Wartet", status=CompanyStatus.PENDING, contact_email="a@b.example")
    with app.app_context():
        company = db.session.get(Company, company_id)
        token = service.edit_token(company)
    response = client.get(f"/mitmachen/aendern/{token}")
    assert response.status_code == 404
    assert "Neuen Link zum Ändern anfordern" in response.get_data(as_text=True)
    client.post("/mitmachen/aendern", data={"email": "a@b.example"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_without_a_point_the_postal_code_point_is_used(app, client):
    steps = {**STEPS, "location": {**STEPS["location"], "location": ""}}
    walk(client, steps)
    with app.app_context():
        company = db.session.scalars(select(Company)).one()
        lon, lat = service.suggest_point("45768")
        point = to_shape(company.location)
        assert (point.x, point.y) == (lon, lat)


def test_a_point_outside_the_region_is_refused(client):
    walk(client, until="location")
    response = post_step(client, "location", {**STEPS["location"], "location": "52.52,13.40"})
    assert "Der Punkt liegt außerhalb der Region" in response.get_data(as_text=True)


def test_honeypot_submission_creates_nothing(app, client):
    walk(client, until="summary")
    response = post_step(
        client, "summary", {"consent": "y", "firmensitz_url": "http://spam"}, "submit"
    )
    assert response.headers["Location"] == "/mitmachen/danke"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Company)) == 0


def test_suggestion_endpoint(client):
    assert client.get("/mitmachen/vorschlag?postal_code=45768").get_json()["lat"] > 51
    assert client.get("/mitmachen/vorschlag?postal_code=10115").status_code == 404


@pytest.fixture
def csrf_app(database_url):
    """The app with CSRF protection on, as in production."""
    app = create_app(test_config(database_url))
    yield app
    with app.app_context():
        db.session.execute(db.text("TRUNCATE questionnaire_drafts CASCADE"))
        db.session.commit()
        db.engine.dispose()


def csrf_token(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def business(csrf, draft=None):
    data = {
        "csrf_token": csrf,
        "name": "Mein Betrieb",
        "description": "Viel Text",
        "action": "next",
    }
    return {**data, "draft": draft} if draft else data


def test_expired_form_keeps_the_typed_input(csrf_app):
    client = csrf_app.test_client()
    client.post(
        "/mitmachen/start",
        data={"csrf_token": csrf_token(client.get("/mitmachen/").get_data(as_text=True))},
    )
    response = client.post("/mitmachen/schritt/business", data=business("expired"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Das Formular war zu lange geöffnet" in html
    assert 'value="Mein Betrieb"' in html and "Viel Text" in html
    response = client.post("/mitmachen/schritt/business", data=business(csrf_token(html)))
    assert response.headers["Location"] == "/mitmachen/schritt/location"


def test_an_expired_session_keeps_the_typed_input_too(csrf_app):
    client = csrf_app.test_client()
    token = csrf_token(client.get("/mitmachen/").get_data(as_text=True))
    client.post("/mitmachen/start", data={"csrf_token": token})
    step_page = client.get("/mitmachen/schritt/business").get_data(as_text=True)
    draft_token = re.search(r'name="draft" value="([^"]+)"', step_page).group(1)

    after_a_long_break = csrf_app.test_client()  # the session cookie is gone
    response = after_a_long_break.post(
        "/mitmachen/schritt/business", data=business(token, draft_token)
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Das Formular war zu lange geöffnet" in html
    assert 'value="Mein Betrieb"' in html
    response = after_a_long_break.post(
        "/mitmachen/schritt/business", data=business(csrf_token(html), draft_token)
    )
    assert response.headers["Location"] == "/mitmachen/schritt/location"
    forged = csrf_app.test_client().post(
        "/mitmachen/schritt/business", data=business("x", "forged")
    )
    assert forged.status_code == 400  # the start page, saying why; the session is untouched
    assert "Ihre Sitzung war abgelaufen" in forged.get_data(as_text=True)


def test_starting_and_submitting_are_rate_limited(database_url):
    app = create_app(test_config(database_url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=True))
    client = app.test_client()
    statuses = [client.post("/mitmachen/start").status_code for _ in range(21)]
    assert statuses[:20] == [302] * 20
    assert statuses[20] == 429
    with app.app_context():
        db.session.execute(db.text("TRUNCATE questionnaire_drafts CASCADE"))
        db.session.commit()
        db.engine.dispose()
