"""The review workflow end to end: queue, decisions, edits, change requests, staff entry.

Every decision is checked for its effect, its audit record (in the same transaction) and the
e-mail to the business.
"""

import re

import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, ChangeRequest, Company, CompanyStatus, QuestionnaireDraft
from app.services import curation
from app.services import questionnaire as questionnaire_service
from tests.integration.test_questionnaire import STEPS
from tests.staff_helpers import audit_actions, company, entry_form, mails, version_in

OWNER = "owner@betrieb.example"


@pytest.fixture
def pending(make_company):
    return make_company(
        "Dachdeckerei Sturm",
        status=CompanyStatus.PENDING,
        contact_email=OWNER,
        contact_name="Ina Sturm",
    )


def test_queue_lists_pending_entries_and_change_requests_oldest_first(
    app, client, auth, make_company
):
    newer = make_company("Neuer Betrieb", status=CompanyStatus.PENDING)
    older = make_company("Alter Betrieb", status=CompanyStatus.PENDING)
    published = make_company("Veröffentlicht", contact_email=OWNER)
    make_company("Abgelehnt", status=CompanyStatus.REJECTED)
    with app.app_context():
        db.session.execute(
            db.text("UPDATE companies SET created_at = now() - interval '3 days' WHERE id = :i"),
            {"i": older},
        )
        db.session.add(ChangeRequest(company_id=published, values={"name": "Veröffentlicht neu"}))
        db.session.commit()
    auth.login()
    html = client.get("/agentur/pruefen").get_data(as_text=True)
    names = re.findall(r'<a href="/agentur/(?:eintraege|aenderungen)/\d+">([^<]+)</a>', html)
    assert names == ["Alter Betrieb", "Neuer Betrieb", "Veröffentlicht"]
    assert "Abgelehnt" not in html
    assert newer


def test_approve_publishes_records_audit_and_tells_the_business(app, client, auth, pending):
    auth.login()
    html = client.get(f"/agentur/eintraege/{pending}").get_data(as_text=True)
    response = auth.post(f"/agentur/eintraege/{pending}/freigeben", {"version": version_in(html)})
    assert response.status_code == 303
    entry = company(app, pending)
    assert entry.status is CompanyStatus.PUBLISHED
    assert entry.published_at is not None and entry.confirmed_at is not None
    assert client.get(f"/arbeitgeber/{entry.slug}").status_code == 200
    assert audit_actions(app, pending) == ["approve"]
    with app.app_context():
        record = db.session.scalar(select(AuditEntry))
        assert record.actor_label == "curator@agentur.test"
        assert (record.before["status"], record.after["status"]) == ("pending", "published")
    [mail] = mails(app)
    assert mail.recipient == OWNER
    assert "freigeschaltet" in mail.subject
    assert f"/arbeitgeber/{entry.slug}" in mail.body
    assert "/mitmachen/aendern/" in mail.body


def test_reject_needs_a_reason_which_the_business_is_told(app, client, auth, pending):
    auth.login()
    html = client.get(f"/agentur/eintraege/{pending}").get_data(as_text=True)
    version = version_in(html)
    refused = auth.post(
        f"/agentur/eintraege/{pending}/ablehnen", {"version": version, "reason": "  "}
    )
    assert refused.status_code == 303
    follow = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Bitte geben Sie einen Grund für die Ablehnung an." in follow
    assert company(app, pending).status is CompanyStatus.PENDING
    assert mails(app) == []

    auth.post(
        f"/agentur/eintraege/{pending}/ablehnen",
        {"version": version, "reason": "Kein Betrieb in der Region."},
    )
    assert company(app, pending).status is CompanyStatus.REJECTED
    assert audit_actions(app, pending) == ["reject"]
    [mail] = mails(app)
    assert "Kein Betrieb in der Region." in mail.body
    assert "/mitmachen/aendern/" not in mail.body


def test_archive_and_restore_round_trip(app, client, auth, make_company):
    published = make_company("Bäckerei Korn", contact_email=OWNER)
    with app.app_context():
        db.session.execute(db.text("UPDATE companies SET published_at = now()"))
        db.session.commit()
    slug = company(app, published).slug
    auth.login()
    version = version_in(client.get(f"/agentur/eintraege/{published}").get_data(as_text=True))
    auth.post(f"/agentur/eintraege/{published}/archivieren", {"version": version, "reason": "Zu."})
    assert company(app, published).status is CompanyStatus.ARCHIVED
    assert client.get(f"/arbeitgeber/{slug}").status_code == 404
    version = version_in(client.get(f"/agentur/eintraege/{published}").get_data(as_text=True))
    auth.post(f"/agentur/eintraege/{published}/zurueckholen", {"version": version})
    assert company(app, published).status is CompanyStatus.PUBLISHED
    assert client.get(f"/arbeitgeber/{slug}").status_code == 200
    assert audit_actions(app, published) == ["archive", "restore"]
    assert [m.subject for m in mails(app)] == ["Ihr Eintrag im KMU-Atlas wurde archiviert"]


def test_restoring_a_never_published_entry_puts_it_back_in_review(app, auth, make_company):
    rejected = make_company("Nie veröffentlicht", status=CompanyStatus.REJECTED)
    auth.login()
    auth.post(f"/agentur/eintraege/{rejected}/zurueckholen", {"version": "1"})
    assert company(app, rejected).status is CompanyStatus.PENDING


def test_decisions_that_do_not_fit_the_status_are_refused(app, client, auth, make_company):
    published = make_company("Schon veröffentlicht")
    auth.login()
    response = auth.post(f"/agentur/eintraege/{published}/freigeben", {"version": "1"})
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nur eingereichte Einträge können freigegeben werden." in follow
    assert audit_actions(app, published) == []


def test_staff_edit_changes_any_field_including_the_pin(app, client, auth, pending):
    auth.login()
    assert client.get(f"/agentur/eintraege/{pending}/bearbeiten").status_code == 200
    form = entry_form(
        app,
        pending,
        name="Dachdeckerei Sturm & Söhne",
        contact_email="neu@betrieb.example",
        location="51.6200,7.2100",
        employees="60",
        description="Dächer aller Art.",
        street="Ring",
        house_number="1",
        contact_name="Ina Sturm",
        occupations=["32"],
    )
    response = auth.post(f"/agentur/eintraege/{pending}/bearbeiten", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    entry = company(app, pending)
    assert entry.name == "Dachdeckerei Sturm & Söhne"
    assert entry.contact_email == "neu@betrieb.example"
    assert (entry.employees, entry.size_class) == (60, "medium")
    point = to_shape(entry.location)
    assert (round(point.x, 4), round(point.y, 4)) == (7.21, 51.62)
    assert [g.code for g in entry.occupations] == ["32"]
    with app.app_context():
        record = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "edit"))
        assert record.before["name"] == "Dachdeckerei Sturm"
        assert record.after["name"] == "Dachdeckerei Sturm & Söhne"
        assert record.after["location"] == [7.21, 51.62]


def test_staff_edit_with_bad_input_is_refused_and_keeps_what_was_typed(app, client, auth, pending):
    auth.login()
    form = entry_form(app, pending, name="Neuer Name", postal_code="10115", website="kein-link")
    response = auth.post(f"/agentur/eintraege/{pending}/bearbeiten", form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Die Postleitzahl 10115 liegt nicht in unserer Region." in html
    assert "Die Website muss mit https:// oder http:// beginnen" in html
    assert 'value="Neuer Name"' in html
    assert company(app, pending).name == "Dachdeckerei Sturm"
    assert audit_actions(app, pending) == []


def test_second_of_two_concurrent_edits_is_refused_with_both_versions_shown(
    app, auth, make_staff, pending
):
    first, second = app.test_client(), app.test_client()
    from tests.conftest import AuthActions

    first_auth = AuthActions(first, make_staff)
    second_auth = AuthActions(second, make_staff)
    first_auth.login("curator", email="anna@agentur.test")
    second_auth.login("curator", email="ben@agentur.test")
    form_a = entry_form(app, pending, name="Fassung Anna", description="Text A", street="A",
                        house_number="1", contact_name="A", occupations=["32"])  # fmt: skip
    form_b = entry_form(app, pending, name="Fassung Ben", description="Text B", street="B",
                        house_number="2", contact_name="B", occupations=["32"])  # fmt: skip
    assert first_auth.post(f"/agentur/eintraege/{pending}/bearbeiten", form_a).status_code == 302
    response = second_auth.post(f"/agentur/eintraege/{pending}/bearbeiten", form_b)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Nicht gespeichert" in html
    assert "Fassung Anna" in html and "Fassung Ben" in html
    assert company(app, pending).name == "Fassung Anna"
    assert audit_actions(app, pending) == ["edit"]
    # Saving again, now knowingly over the other version, works.
    form_b["version"] = version_in(html)
    assert second_auth.post(f"/agentur/eintraege/{pending}/bearbeiten", form_b).status_code == 302
    assert company(app, pending).name == "Fassung Ben"


def test_decision_on_a_stale_version_is_refused(app, client, auth, pending):
    auth.login()
    stale = version_in(client.get(f"/agentur/eintraege/{pending}").get_data(as_text=True))
    with app.app_context():
        entry = db.session.get(Company, pending)
        entry.description = "Inzwischen geändert"
        db.session.commit()
    response = auth.post(f"/agentur/eintraege/{pending}/freigeben", {"version": stale})
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Jemand anderes hat den Eintrag inzwischen geändert" in follow
    assert company(app, pending).status is CompanyStatus.PENDING
    assert mails(app) == []


def test_version_column_catches_a_race_the_form_check_cannot_see(app, make_staff, pending):
    make_staff()
    with app.test_request_context():
        from app.models import StaffUser

        actor = db.session.scalar(select(StaffUser))
        entry = db.session.get(Company, pending)
        version = entry.version
        # Another process publishes the entry between our read and our write.
        with db.engine.begin() as other:
            other.execute(
                db.text("UPDATE companies SET version = version + 1 WHERE id = :i"),
                {"i": pending},
            )
        with pytest.raises(curation.EditConflict):
            curation.approve(entry, actor, version)
        assert db.session.scalar(select(AuditEntry)) is None


def owner_change(app, company_id: int, **changes) -> int:
    """A change request as the owner's edit would store it; returns its id."""
    with app.test_request_context():
        entry = db.session.get(Company, company_id)
        answers = {**questionnaire_service.company_answers(entry), **changes}
        values = questionnaire_service.mapped_values(questionnaire_service.definition(), answers)
        request = ChangeRequest(company_id=company_id, values=values)
        db.session.add(request)
        db.session.commit()
        return request.id


def test_change_request_shows_a_diff_and_is_applied_with_audit_and_mail(
    app, client, auth, make_company
):
    published = make_company(
        "Elektro Funke", contact_email=OWNER, description="Alt", phone="02361 1"
    )
    change_id = owner_change(app, published, description="Neu und besser", phone="02361 2")
    auth.login()
    html = client.get(f"/agentur/aenderungen/{change_id}").get_data(as_text=True)
    changed_rows = re.findall(r'<tr class="diff-changed"><th scope="row">([^<]+)', html)
    assert [label.strip() for label in changed_rows] == ["Kurzbeschreibung", "Telefon (öffentlich)"]
    assert "Alt" in html and "Neu und besser" in html
    response = auth.post(
        f"/agentur/aenderungen/{change_id}/uebernehmen", {"version": version_in(html)}
    )
    assert response.status_code == 303
    entry = company(app, published)
    assert (entry.description, entry.phone, entry.name) == (
        "Neu und besser",
        "02361 2",
        "Elektro Funke",
    )
    assert entry.status is CompanyStatus.PUBLISHED
    assert audit_actions(app, published) == ["apply_change"]
    with app.app_context():
        assert db.session.get(ChangeRequest, change_id).status == "applied"
    [mail] = mails(app)
    assert "übernommen" in mail.subject


def test_change_request_can_be_declined_and_the_entry_stays(app, client, auth, make_company):
    published = make_company("Elektro Funke", contact_email=OWNER, description="Alt")
    change_id = owner_change(app, published, description="Werbung!!!")
    auth.login()
    auth.post(f"/agentur/aenderungen/{change_id}/ablehnen", {"reason": "Bitte sachlich."})
    assert company(app, published).description == "Alt"
    assert audit_actions(app, published) == ["reject_change"]
    [mail] = mails(app)
    assert "Bitte sachlich." in mail.body
    assert client.get("/agentur/pruefen").get_data(as_text=True).count("Elektro Funke") == 0


def test_staff_fill_in_the_questionnaire_for_a_business(app, client, auth):
    auth.login()
    response = auth.post("/agentur/erfassen")
    assert response.headers["Location"] == "/mitmachen/schritt/business"
    for key, data in STEPS.items():
        action = "submit" if key == "summary" else "next"
        response = auth.post(f"/mitmachen/schritt/{key}", {**data, "action": action})
        assert response.status_code == 302, (key, response.get_data(as_text=True)[:2000])
    with app.app_context():
        [entry] = db.session.scalars(select(Company)).all()
        draft = db.session.scalar(select(QuestionnaireDraft))
        assert (entry.status, entry.source) == (CompanyStatus.PENDING, "staff")
        assert draft.entered_by_staff is True
    html = client.get("/agentur/pruefen").get_data(as_text=True)
    assert "Tischlerei Holzwurm" in html
    assert "von der Agentur erfasst" in html


def test_entries_list_finds_entries_in_any_status(app, client, auth, make_company):
    make_company("Bäckerei Müller", status=CompanyStatus.ARCHIVED)
    make_company("Schlosserei Eisen", status=CompanyStatus.PENDING)
    auth.login()
    html = client.get("/agentur/eintraege?q=backerei").get_data(as_text=True)
    assert "Bäckerei Müller" in html and "Schlosserei Eisen" not in html
    html = client.get("/agentur/eintraege?status=pending").get_data(as_text=True)
    assert "Schlosserei Eisen" in html and "Bäckerei Müller" not in html
    assert client.get("/agentur/eintraege?status=unsinn").status_code == 200


def test_audit_log_page_shows_who_did_what_with_before_and_after(app, client, auth, pending):
    auth.login()
    version = version_in(client.get(f"/agentur/eintraege/{pending}").get_data(as_text=True))
    auth.post(f"/agentur/eintraege/{pending}/freigeben", {"version": version})
    html = client.get("/agentur/protokoll").get_data(as_text=True)
    assert "Dachdeckerei Sturm" in html
    assert "freigegeben" in html
    assert "eingereicht → veröffentlicht" in html  # the status labels, not the values
    assert "Test Staff" in html
