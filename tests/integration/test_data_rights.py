"""A business's data rights through its edit link (GDPR Art. 15, 17, 20) on PostGIS: the JSON
export and the erasure, which leaves no text anywhere in the database that names it."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import func, insert, select, text, update

from app.extensions import db
from app.models import (
    AuditEntry,
    ChangeRequest,
    Company,
    CompanyStatus,
    ConsentRecord,
    Event,
    EventRegistration,
    GeocodeCache,
    JobAlert,
    OutboxMessage,
    QuestionnaireDraft,
    RegistrationStatus,
    event_companies,
)
from app.services import audit, data_rights, geocoding, owner_links, tokens
from app.services import questionnaire as questionnaire_service
from tests.conftest import csrf_token

#: Distinctive values of the business whose entry is erased: none may be left anywhere.
NAME = "Quantelbau Zyxwerk GmbH"
EMAIL = "info@quantelbau-zyx.example"
CONTACT_EMAIL = "inhaberin@quantelbau-zyx.example"
PHONE = "+49 2361 9753186420"
CONTACT_NAME = "Quirina Zyxmann"
STREET = "Xylophonweg"
TRACES = (NAME, EMAIL, CONTACT_EMAIL, PHONE, CONTACT_NAME, "quantelbau", "zyxmann")

OTHER_NAME = "Andere Bäckerei Beispiel"
OTHER_EMAIL = "backstube@andere.example"


@pytest.fixture
def business(app, make_company, make_event, make_staff):
    """A published entry with everything that can hang off it, an archived duplicate merged
    into it, and another business; returns (entry id, other entry id, edit token)."""
    make_staff("curator", email="kurator@agentur.test")
    entry_id = make_company(
        NAME,
        slug="quantelbau-zyxwerk",
        description=f"{NAME}: Feinmechanik. Rufen Sie {CONTACT_NAME} an.",
        street=STREET,
        house_number="7",
        email=EMAIL,
        contact_email=CONTACT_EMAIL,
        phone=PHONE,
        contact_name=CONTACT_NAME,
        website="https://quantelbau-zyx.example",
        apprenticeships=[{"code": next(iter(_apprenticeship_codes())), "places": 2}],
    )
    duplicate_id = make_company(
        NAME, status=CompanyStatus.ARCHIVED, phone=PHONE, email=EMAIL, slug="quantelbau-alt"
    )
    other_id = make_company(OTHER_NAME, email=OTHER_EMAIL, contact_email=OTHER_EMAIL)
    event_id = make_event("Infoabend Feinmechanik", contact_email=EMAIL)
    other_event_id = make_event("Sprechstunde Ausbildung", contact_email="info@jobcenter.example")
    with app.test_request_context():
        db.session.execute(
            update(Company).where(Company.id == duplicate_id).values(merged_into_id=entry_id)
        )
        company = db.session.get(Company, entry_id)
        other = db.session.get(Company, other_id)
        db.session.add_all(
            [
                ConsentRecord(company_id=entry_id, text_version="v1", text="Ich stimme zu."),
                ConsentRecord(company_id=other_id, text_version="v1", text="Ich stimme zu."),
            ]
        )
        db.session.execute(
            insert(event_companies),
            [
                {"event_id": event_id, "company_id": entry_id},
                {"event_id": event_id, "company_id": other_id},
            ],
        )
        db.session.add_all(
            [
                EventRegistration(
                    event_id=other_event_id,
                    name=CONTACT_NAME,
                    email=CONTACT_EMAIL,
                    note=f"Für {NAME}",
                    consent_version="v1",
                ),
                EventRegistration(
                    event_id=other_event_id,
                    name="Otto Andere",
                    email=OTHER_EMAIL,
                    consent_version="v1",
                ),
            ]
        )
        # A job alert of the business's address, and another one's.
        db.session.add_all(
            [
                JobAlert(
                    email=CONTACT_EMAIL,
                    filter_query="sector=C",
                    filter_key="c",
                    consent_version="v1",
                ),
                JobAlert(
                    email=OTHER_EMAIL, filter_query="sector=F", filter_key="f", consent_version="v1"
                ),
            ]
        )
        audit.record("edit", company, actor=None, after=audit.snapshot(company), note=EMAIL)
        audit.record("confirm", company, actor=None, note=CONTACT_EMAIL)
        audit.record("edit", other, actor=None, after=audit.snapshot(other))
        # Another entry's line that names the business (a merge note, say).
        audit.record("merge", other, actor=None, note=f"#{entry_id} {NAME}")
        db.session.merge(
            GeocodeCache(
                query=geocoding.cache_key(STREET, "7", "45657", "Recklinghausen"), lon=7.2, lat=51.6
            )
        )
        # A third party's mail that names the business (a job alert digest, say).
        db.session.add(
            OutboxMessage(
                recipient="leserin@example.org",
                subject="Neue Angebote",
                body=f"Neu: {NAME}, Telefon {PHONE}",
                transport="log",
            )
        )
        db.session.commit()
        owner_links.send_new_links(CONTACT_EMAIL)  # the edit link mail (outbox)
        company = db.session.get(Company, entry_id)
        draft = questionnaire_service.start_edit(company, "de")
        draft.answers = {**draft.answers, "description": f"Neu bei {NAME}"}
        db.session.add(
            ChangeRequest(company_id=entry_id, values={"name": f"{NAME} & Co.", "phone": PHONE})
        )
        db.session.commit()
        token = questionnaire_service.edit_token(company)
    return entry_id, other_id, token


def _apprenticeship_codes():
    from app.services import apprenticeships

    return sorted(apprenticeships.codes())


def _erase(client, token, confirm=True):
    data = {"csrf_token": csrf_token(client)}
    if confirm:
        data["confirm"] = "yes"
    return client.post(f"/mitmachen/ihre-daten/{token}/loeschen", data=data)


def text_columns() -> list[tuple[str, str, str]]:
    """Every column of a text, JSON, text array or full-text type in every table of the
    database (from information_schema, not a hand-made list)."""
    return [
        tuple(row)
        for row in db.session.execute(
            text(
                "SELECT c.table_schema, c.table_name, c.column_name"
                " FROM information_schema.columns c"
                " JOIN information_schema.tables t"
                "   ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
                " WHERE t.table_type = 'BASE TABLE'"
                "   AND c.table_schema NOT IN ('pg_catalog', 'information_schema')"
                "   AND (c.data_type IN ('text', 'character varying', 'character', 'json',"
                "        'jsonb', 'tsvector')"
                "        OR c.udt_name IN ('_text', '_varchar'))"
                " ORDER BY 1, 2, 3"
            )
        )
    ]


def rows_naming(values) -> dict[str, int]:
    """{"schema.table.column": rows} of every text column holding any of ``values``
    (case-insensitive)."""
    found = {}
    for schema, table, column in text_columns():
        for value in values:
            count = db.session.scalar(
                text(
                    f'SELECT count(*) FROM "{schema}"."{table}"'
                    f' WHERE strpos(lower("{column}"::text), lower(:value)) > 0'
                ),
                {"value": value},
            )
            if count:
                key = f"{schema}.{table}.{column}"
                found[key] = found.get(key, 0) + count
    return found


# --- the edit page and access -----------------------------------------------------------------


def test_the_edit_page_offers_download_and_erasure(app, client, business):
    _entry_id, _other_id, token = business
    response = client.get(f"/mitmachen/aendern/{token}", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Ihre Daten" in page
    assert "Alle Daten herunterladen (JSON)" in page
    assert "Eintrag und Daten löschen" in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    links = re.findall(r'href="(/mitmachen/ihre-daten/[^"]+)"', page)
    assert any(link.endswith("/export") for link in links)
    assert any(link.endswith("/loeschen") for link in links)
    # The links carry a valid edit link of this entry.
    link_token = links[0].split("/")[3]
    with app.app_context():
        assert questionnaire_service.company_from_edit_token(link_token).name == NAME


def test_a_new_entrys_questionnaire_has_no_data_rights_section(client):
    client.post("/mitmachen/start", data={"csrf_token": csrf_token(client)})
    page = client.get("/mitmachen/schritt/business").get_data(as_text=True)
    assert "Ihre Daten" not in page


# --- export -----------------------------------------------------------------------------------


def test_export_holds_the_entrys_data_and_nothing_of_another(app, client, business):
    entry_id, other_id, token = business
    response = client.get(f"/mitmachen/ihre-daten/{token}/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"kmu-atlas-quantelbau-zyxwerk-{date.today().isoformat()}.json" in disposition
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "no-referrer"

    data = json.loads(response.get_data(as_text=True))
    assert data["format"] == data_rights.FORMAT and data["version"] == 1
    entry = data["entry"]
    assert entry["id"] == entry_id and entry["name"] == NAME
    assert entry["contact"] == {
        "website": "https://quantelbau-zyx.example",
        "phone": PHONE,
        "email": EMAIL,
        "contact_name": CONTACT_NAME,
        "contact_email": CONTACT_EMAIL,
    }
    assert entry["address"]["street"] == STREET
    assert entry["address"]["municipality"]["ags"] == "05562032"
    assert entry["location"] == {"lon": pytest.approx(7.1975), "lat": pytest.approx(51.6146)}
    assert entry["sectors"][0]["code"] == "43" and entry["sectors"][0]["label"]
    assert entry["occupations"][0]["code"] == "26" and entry["occupations"][0]["label"]
    assert entry["apprenticeships"][0]["places"] == 2 and entry["apprenticeships"][0]["label"]
    assert [row["slug"] for row in data["merged_entries"]] == ["quantelbau-alt"]
    assert [row["text_version"] for row in data["consent_records"]] == ["v1"]
    assert [row["kind"] for row in data["drafts"]] == ["edit"]
    assert data["drafts"][0]["answers"]["description"] == f"Neu bei {NAME}"
    assert data["change_requests"][0]["values"]["name"] == f"{NAME} & Co."
    assert [row["title"] for row in data["events"]] == ["Infoabend Feinmechanik"]
    assert [row["email"] for row in data["event_registrations"]] == [CONTACT_EMAIL]
    assert [(row["email"], row["search"]) for row in data["job_alerts"]] == [
        (CONTACT_EMAIL, "sector=C")
    ]
    assert {row["action"] for row in data["audit_log"]} == {"edit", "confirm"}
    assert all(row["actor"] in ("owner", "system", "agency") for row in data["audit_log"])
    assert [(m["recipient"], m["purpose"]) for m in data["mails"]] == [(CONTACT_EMAIL, "")]
    assert "body" not in data["mails"][0]  # the text carries personal links: left out

    body = response.get_data(as_text=True)
    for foreign in (OTHER_NAME, OTHER_EMAIL, "Otto Andere", "leserin@example.org"):
        assert foreign not in body
    assert f'"id": {other_id}' not in body
    assert "kurator@agentur.test" not in body  # staff are not named


def test_export_changes_nothing(app, client, business):
    _entry_id, _other_id, token = business
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert client.get(f"/mitmachen/ihre-daten/{token}/export").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
        assert db.session.scalar(select(func.count()).select_from(Company)) == 3


def test_export_and_erasure_need_a_valid_edit_link(app, client, business, monkeypatch):
    entry_id, _other_id, token = business
    tampered = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    with app.app_context():
        confirm_token = tokens.make_token("confirm", entry_id, 2)  # another purpose
    for bad in (tampered, confirm_token, "kein-token"):
        for path in ("", "/export", "/loeschen"):
            response = client.get(f"/mitmachen/ihre-daten/{bad}{path}")
            assert response.status_code == 404
            assert "nicht (mehr) gültig" in response.get_data(as_text=True)
            assert NAME not in response.get_data(as_text=True)
        assert _erase(client, bad).status_code == 404

    # Revoked: a new link was requested (the old one stops working).
    with app.test_request_context():
        owner_links.send_new_links(CONTACT_EMAIL)
    assert client.get(f"/mitmachen/ihre-daten/{token}/export").status_code == 404
    assert _erase(client, token).status_code == 404
    with app.app_context():
        company = db.session.get(Company, entry_id)
        assert company is not None
        fresh = questionnaire_service.edit_token(company)

    monkeypatch.setitem(tokens.PURPOSES, "edit", -1)
    expired = client.get(f"/mitmachen/ihre-daten/{fresh}/export")
    assert expired.status_code == 410
    assert "abgelaufen" in expired.get_data(as_text=True)
    assert _erase(client, fresh).status_code == 410
    monkeypatch.undo()
    with app.app_context():
        assert db.session.get(Company, entry_id) is not None


def test_an_unpublished_entry_has_no_data_rights_link(app, client, make_company):
    entry_id = make_company("Archiviert", status=CompanyStatus.ARCHIVED)
    with app.app_context():
        token = questionnaire_service.edit_token(db.session.get(Company, entry_id))
    assert client.get(f"/mitmachen/ihre-daten/{token}/export").status_code == 404


# --- erasure ----------------------------------------------------------------------------------


def test_erasure_needs_csrf_and_the_ticked_confirmation(app, client, business):
    entry_id, _other_id, token = business
    page = client.get(f"/mitmachen/ihre-daten/{token}/loeschen")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "nicht rückgängig" in html and 'name="csrf_token"' in html
    assert page.headers["Referrer-Policy"] == "no-referrer"

    no_csrf = client.post(f"/mitmachen/ihre-daten/{token}/loeschen", data={"confirm": "yes"})
    assert no_csrf.status_code == 400
    unticked = _erase(client, token, confirm=False)
    assert unticked.status_code == 422
    assert "Bitte bestätigen Sie mit dem Häkchen" in unticked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Company, entry_id) is not None


def test_erasure_leaves_no_trace_of_the_business(app, client, auth, business):
    entry_id, other_id, token = business
    with app.app_context():
        assert rows_naming(TRACES), "the fixture must put the values somewhere"
        consent_ids = set(
            db.session.scalars(select(ConsentRecord.id).where(ConsentRecord.company_id == entry_id))
        )
        generation = db.session.scalar(text("SELECT generation FROM map_generation"))
    assert client.get("/arbeitgeber/quantelbau-zyxwerk").status_code == 200

    response = _erase(client, token)
    assert response.status_code == 302
    done = client.get(response.headers["Location"])
    assert done.status_code == 200
    assert "Ihr Eintrag ist gelöscht" in done.get_data(as_text=True)
    assert NAME not in done.get_data(as_text=True)

    with app.app_context():
        # No row of any table holds the name, e-mail or phone (every text column scanned).
        assert rows_naming(TRACES) == {}
        assert db.session.get(Company, entry_id) is None
        assert db.session.scalars(select(Company.id)).all() == [other_id]
        assert db.session.scalar(select(func.count()).select_from(QuestionnaireDraft)) == 0
        assert db.session.scalar(select(func.count()).select_from(ChangeRequest)) == 0
        # The consent stays as proof, without the entry.
        kept = db.session.scalars(
            select(ConsentRecord).where(ConsentRecord.id.in_(consent_ids))
        ).all()
        assert [(c.company_id, c.erased_entry_id, c.text_version) for c in kept] == [
            (None, entry_id, "v1")
        ]
        assert kept[0].erased_at is not None and kept[0].given_at is not None
        # The registration is cancelled and without personal data; the other one stays.
        registrations = db.session.scalars(
            select(EventRegistration).order_by(EventRegistration.id)
        ).all()
        assert registrations[0].status is RegistrationStatus.CANCELLED
        assert registrations[0].anonymised_at is not None
        assert registrations[1].email == OTHER_EMAIL
        # The anonymous audit line, and the earlier lines without their details.
        line = data_rights.erased_audit_line(entry_id)
        assert line is not None and line.actor_label == "owner" and line.company_id is None
        assert line.company_name == f"#{entry_id}" and line.note == ""
        assert line.before is None and line.after is None
        old = db.session.scalars(
            select(AuditEntry).where(AuditEntry.company_name == f"#{entry_id}")
        )
        assert {row.action for row in old} == {"edit", "confirm", "erase"}
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(GeocodeCache)
                .where(GeocodeCache.query.contains(STREET))
            )
            == 0
        )
        # The other business is untouched.
        other = db.session.get(Company, other_id)
        assert other.email == OTHER_EMAIL
        assert db.session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.company_id == other_id)
        )
        # The map generation was raised: no cached map answer predates the erasure.
        assert db.session.scalar(text("SELECT generation FROM map_generation")) > generation
        # The agency is told, without personal data.
        agency = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == data_rights.MAIL_KIND)
        ).all()
        assert [m.recipient for m in agency] == ["kurator@agentur.test"]
        assert f"Nr. {entry_id}" in agency[0].body

    # Public pages and API no longer show it.
    assert client.get("/arbeitgeber/quantelbau-zyxwerk").status_code == 404
    assert client.get(f"/api/employers/{entry_id}").status_code == 404
    features = client.get("/api/employers").get_json()["features"]
    assert [f["properties"]["name"] for f in features] == [OTHER_NAME]
    listed = client.get("/api/employers/list").get_data(as_text=True)
    assert NAME not in listed

    # The edit link is invalid now, and a second POST is harmless.
    assert client.get(f"/mitmachen/aendern/{token}").status_code == 404
    assert client.get(f"/mitmachen/ihre-daten/{token}/export").status_code == 404
    again = _erase(client, token)
    assert again.status_code == 404
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == data_rights.ERASE_ACTION)
            )
            == 1
        )
    # The agency's log shows the erasure by number only.
    auth.login("curator", email="kurator@agentur.test")
    log = client.get("/agentur/protokoll").get_data(as_text=True)
    assert "auf Wunsch des Betriebs gelöscht" in log and f"#{entry_id}" in log
    assert NAME not in log and EMAIL not in log


def test_the_erased_page_needs_an_erasure(client):
    response = client.get("/mitmachen/ihre-daten/geloescht")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/mitmachen/aendern")


def test_an_erasure_waiting_for_another_finds_the_entry_gone(app, business):
    entry_id, _other_id, _token = business
    with app.test_request_context():
        data_rights.erase(entry_id)
        with pytest.raises(data_rights.EntryGone):
            data_rights.erase(entry_id)


def test_the_overview_page_shows_the_entrys_rights(client, business):
    _entry_id, _other_id, token = business
    page = client.get(f"/mitmachen/ihre-daten/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert NAME in html and f"/mitmachen/ihre-daten/{token}/export" in html
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_privacy_page_says_how_businesses_use_their_rights(client):
    html = client.get("/datenschutz").get_data(as_text=True)
    assert 'id="privacy-business-rights"' in html
    assert "Art. 17 DSGVO" in html and 'href="/mitmachen/aendern"' in html
    english = client.get("/datenschutz?lang=en").get_data(as_text=True)
    assert "Your data" in english and "Art. 17 GDPR" in english


def test_erasure_leaves_the_contact_data_another_entry_shares(
    app, client, make_company, make_event
):
    """A consultant's address and an office phone that two businesses give: erasing one
    keeps what belongs to the other (its entry, registrations, job alerts and mails)."""
    shared_email, shared_phone = "buero@gemeinsam.example", "+49 209 1234567"
    entry_id = make_company(
        NAME, email=EMAIL, contact_email=shared_email, phone=shared_phone, slug="quantelbau-a"
    )
    other_id = make_company(OTHER_NAME, contact_email=shared_email, phone=shared_phone)
    event_id = make_event("Azubi-Speeddating", contact_email=shared_email)
    with app.test_request_context():
        db.session.add_all(
            [
                EventRegistration(
                    event_id=event_id,
                    name="Gemeinsames Büro",
                    email=shared_email,
                    consent_version="v1",
                ),
                EventRegistration(
                    event_id=event_id, name=CONTACT_NAME, email=EMAIL, consent_version="v1"
                ),
                JobAlert(
                    email=shared_email, filter_query="", filter_key="all", consent_version="v1"
                ),
                OutboxMessage(
                    recipient=shared_email,
                    subject="Ihr Link",
                    body=f"Für {OTHER_NAME}",
                    transport="log",
                ),
                OutboxMessage(
                    recipient=shared_email,
                    subject="Ihr Link",
                    body=f"Für {NAME}",
                    transport="log",
                ),
            ]
        )
        db.session.commit()
        token = questionnaire_service.edit_token(db.session.get(Company, entry_id))

    assert _erase(client, token).status_code == 302
    with app.app_context():
        assert db.session.get(Company, entry_id) is None
        other = db.session.get(Company, other_id)
        assert (other.contact_email, other.phone) == (shared_email, shared_phone)
        kept = db.session.scalars(
            select(EventRegistration.email).order_by(EventRegistration.id)
        ).all()
        assert kept == [shared_email, ""]  # the business's own address is erased
        assert db.session.scalars(select(JobAlert.email)).all() == [shared_email]
        assert db.session.scalar(select(Event.contact_email).where(Event.id == event_id)) == (
            shared_email
        )
        mails = db.session.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.purpose != data_rights.MAIL_KIND)
            .order_by(OutboxMessage.id)
        ).all()
        # The other business's mail stays; the one naming the erased business is emptied.
        assert mails == [f"Für {OTHER_NAME}", ""]
        assert rows_naming((NAME, EMAIL, CONTACT_NAME)) == {}


def test_the_curators_are_told_of_events_whose_text_names_the_business(
    app, client, make_company, make_event, make_staff
):
    make_staff("curator", email="kurator@agentur.test")
    entry_id = make_company(NAME, email=EMAIL)
    naming = make_event("Betriebsbesuch", description=f"Wir besuchen {NAME}.")
    make_event("Infoabend Ausbildung", description="Alle Betriebe der Region.")
    with app.test_request_context():
        token = questionnaire_service.edit_token(db.session.get(Company, entry_id))
    assert _erase(client, token).status_code == 302
    with app.app_context():
        [body] = db.session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.purpose == data_rights.MAIL_KIND)
        ).all()
        assert re.findall(r"/agentur/veranstaltungen/(\d+)", body) == [str(naming)]
        assert "Sie müssen nichts tun" not in body
        assert NAME not in body
        # The agency's own text is not changed by the erasure.
        assert NAME in db.session.get(Event, naming).description


def test_an_erased_registration_frees_its_place_for_the_waiting_list(
    app, client, make_company, make_event
):
    entry_id = make_company(NAME, contact_email=CONTACT_EMAIL)
    event_id = make_event("Azubi-Speeddating", registration_open=True, capacity=1)
    with app.test_request_context():
        db.session.add_all(
            [
                EventRegistration(
                    event_id=event_id, name=CONTACT_NAME, email=CONTACT_EMAIL, consent_version="v1"
                ),
                EventRegistration(
                    event_id=event_id,
                    name="Wartende Person",
                    email="wartet@example.org",
                    consent_version="v1",
                    status=RegistrationStatus.WAITING,
                ),
            ]
        )
        db.session.commit()
        token = questionnaire_service.edit_token(db.session.get(Company, entry_id))
    assert _erase(client, token).status_code == 302
    with app.app_context():
        waiting = db.session.scalar(
            select(EventRegistration).where(EventRegistration.email == "wartet@example.org")
        )
        assert waiting.status is RegistrationStatus.CONFIRMED
        moved_up = db.session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.recipient == "wartet@example.org")
        ).all()
        assert moved_up == ["wartet@example.org"]
        assert rows_naming((CONTACT_EMAIL, CONTACT_NAME)) == {}
