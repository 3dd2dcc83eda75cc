"""The events workspace (issue 13): partners and agency staff create, change, cancel and
review events through the form; organisations, partner accounts, the feed settings, the
dashboard line and the audit log."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEntry,
    Company,
    Event,
    EventRegistration,
    EventStatus,
    Organisation,
    RegistrationStatus,
    StaffUser,
)
from app.services import events as events_service
from tests.conftest import AuthActions, default_start
from tests.integration.test_questionnaire import STEPS

BERLIN = ZoneInfo("Europe/Berlin")


def event_form(day: date | None = None, **changes) -> dict:
    """The event form as a browser would post it (a 10:00–12:00 info event in Marl)."""
    day = day or default_start().date()
    form = {
        "title": "Jobcafé Marl",
        "kind": "info_event",
        "description": "Offene Sprechstunde.",
        "start_date": day.isoformat(),
        "start_time": "10:00",
        "end_date": "",
        "end_time": "12:00",
        "repeat": "none",
        "repeat_until": "",
        "attendance": "on_site",
        "venue": "Stadtbibliothek",
        "street": "Creiler Platz 1",
        "postal_code": "45768",
        "town": "Marl",
        "online_url": "",
        "free_of_charge": "y",
        "price_note": "",
        "target_groups": ["jobseekers", "returners"],
        "accessibility": "Stufenloser Zugang.",
        "capacity": "",
        "contact_email": "info@jobcenter.example",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def only_event(app, title="Jobcafé Marl") -> Event:
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.title == title))
        assert event is not None, title
        db.session.expunge_all()
        return event


def event_by_id(app, event_id: int) -> Event:
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.organisation  # noqa: B018 (loaded before leaving the session)
        db.session.expunge_all()
        return event


def event_audit(app, event_id: int) -> list[tuple[str, str]]:
    """(action, actor label) of an event's audit entries, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(AuditEntry.action, AuditEntry.actor_label)
            .where(AuditEntry.event_id == event_id)
            .order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def partner(app, client, make_staff, make_organisation):
    """A signed-in partner of "Jobcenter Marl" (published directly, no review)."""
    organisation_id = make_organisation("Jobcenter Marl", review_required=False)
    auth = AuthActions(client, make_staff)
    auth.login("partner", email="p@jobcenter.example", organisation_id=organisation_id)
    return auth, organisation_id


@pytest.fixture
def reviewed_partner(app, client, make_staff, make_organisation):
    """A signed-in partner of "Kammer Test", whose events the agency reviews."""
    organisation_id = make_organisation("Kammer Test", review_required=True, kind="chamber")
    auth = AuthActions(client, make_staff)
    auth.login("partner", email="k@kammer.example", organisation_id=organisation_id)
    return auth, organisation_id


def sign_in_as(app, role, make_staff, **options):
    client = app.test_client()
    auth = AuthActions(client, make_staff)
    assert auth.login(role, **options).status_code == 302
    return client, auth


def test_partner_without_review_publishes_directly(app, client, partner):
    auth, organisation_id = partner
    assert client.get("/agentur/veranstaltungen/neu").status_code == 200
    response = auth.post("/agentur/veranstaltungen/neu", event_form())
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    event = only_event(app)
    assert response.headers["Location"] == f"/agentur/veranstaltungen/{event.id}"
    assert event.status is EventStatus.PUBLISHED
    assert event.organisation_id == organisation_id
    assert event.target_groups == ["jobseekers", "returners"]
    assert event.municipality_ags is not None and event.location is not None
    assert event_audit(app, event.id) == [("event_created", "p@jobcenter.example (Jobcenter Marl)")]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "veröffentlicht" in html and "Jobcafé Marl" in html
    listing = client.get("/agentur/veranstaltungen/").get_data(as_text=True)
    assert "Jobcafé Marl" in listing and "Jobcenter Marl" in listing


def test_reviewed_partner_waits_for_approval_and_edit_sends_back(
    app, client, reviewed_partner, make_staff
):
    auth, _organisation_id = reviewed_partner
    auth.post("/agentur/veranstaltungen/neu", event_form())
    event = only_event(app)
    assert event.status is EventStatus.PENDING
    assert "wartet auf Prüfung" in client.get("/agentur/veranstaltungen/").get_data(as_text=True)
    # a partner may not review its own event
    assert auth.post(f"/agentur/veranstaltungen/{event.id}/freigeben").status_code == 403
    assert event_by_id(app, event.id).status is EventStatus.PENDING

    curator, curator_auth = sign_in_as(app, "curator", make_staff)
    waiting = curator.get("/agentur/veranstaltungen/?pruefen=1").get_data(as_text=True)
    assert "Jobcafé Marl" in waiting
    response = curator_auth.post(f"/agentur/veranstaltungen/{event.id}/freigeben")
    assert response.status_code == 303
    approved = event_by_id(app, event.id)
    assert approved.status is EventStatus.PUBLISHED and approved.published_at is not None
    assert "Jobcafé Marl" not in curator.get("/agentur/veranstaltungen/?pruefen=1").get_data(
        as_text=True
    )

    # the reviewed partner's change of the published event goes back to review, SEQUENCE up
    response = auth.post(
        f"/agentur/veranstaltungen/{event.id}", event_form(title="Jobcafé Marl am Abend")
    )
    assert response.status_code == 303
    changed = event_by_id(app, event.id)
    assert changed.status is EventStatus.PENDING
    assert changed.sequence == approved.sequence + 1
    assert changed.uid == approved.uid
    assert [action for action, _label in event_audit(app, event.id)] == [
        "event_created",
        "event_approved",
        "event_changed",
    ]


def test_staff_reject_and_the_audit_log_shows_event_entries(
    app, client, reviewed_partner, make_staff
):
    auth, _organisation_id = reviewed_partner
    auth.post("/agentur/veranstaltungen/neu", event_form())
    event = only_event(app)
    curator, curator_auth = sign_in_as(app, "curator", make_staff)
    curator_auth.post(f"/agentur/veranstaltungen/{event.id}/ablehnen", {"note": "Kein Bezug."})
    assert event_by_id(app, event.id).status is EventStatus.REJECTED
    assert "abgelehnt" in client.get("/agentur/veranstaltungen/").get_data(as_text=True)
    log = curator.get("/agentur/protokoll").get_data(as_text=True)
    assert f'href="/agentur/veranstaltungen/{event.id}"' in log
    assert "Veranstaltung angelegt" in log and "Veranstaltung abgelehnt" in log
    assert "Kein Bezug." in log
    assert "event_created" not in log and "event_rejected" not in log


def test_edit_raises_sequence_and_non_reviewed_partner_stays_published(app, client, partner):
    auth, _organisation_id = partner
    auth.post("/agentur/veranstaltungen/neu", event_form())
    event = only_event(app)
    html = client.get(f"/agentur/veranstaltungen/{event.id}").get_data(as_text=True)
    assert 'value="Jobcafé Marl"' in html and 'value="10:00"' in html
    response = auth.post(
        f"/agentur/veranstaltungen/{event.id}", event_form(start_time="11:00", end_time="13:00")
    )
    assert response.status_code == 303
    changed = event_by_id(app, event.id)
    assert changed.status is EventStatus.PUBLISHED
    assert changed.sequence == event.sequence + 1
    assert changed.starts_at.astimezone(BERLIN).time() == time(11, 0)
    # saving the same values again changes nothing and does not raise SEQUENCE
    auth.post(
        f"/agentur/veranstaltungen/{event.id}", event_form(start_time="11:00", end_time="13:00")
    )
    assert event_by_id(app, event.id).sequence == changed.sequence


def test_form_errors_keep_everything_typed(app, client, partner):
    auth, _organisation_id = partner
    response = auth.post(
        "/agentur/veranstaltungen/neu",
        event_form(
            title="",
            description="Mein langer Text, der bleibt.",
            start_time="25:00",
            contact_email="keine-adresse",
            capacity="viele",
        ),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Bitte geben Sie die Uhrzeit des Beginns an" in html
    assert 'id="e-start_time"' in html
    assert "Bitte geben Sie eine ganze Zahl ab 1 an." in html
    assert 'value="25:00"' in html and 'value="viele"' in html
    assert "Mein langer Text, der bleibt." in html
    assert 'value="keine-adresse"' in html
    with app.app_context():
        assert db.session.scalar(select(Event.id)) is None

    # the write model's errors appear next to their fields, typed values kept
    response = auth.post(
        "/agentur/veranstaltungen/neu",
        event_form(title="", contact_email="keine-adresse", end_time="09:00"),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="e-title"' in html and "Bitte geben Sie einen Titel an." in html
    assert 'id="e-contact_email"' in html and "Das ist keine gültige E-Mail-Adresse." in html
    assert 'value="keine-adresse"' in html and 'value="Stadtbibliothek"' in html
    assert 'aria-invalid="true"' in html

    response = auth.post("/agentur/veranstaltungen/neu", event_form(end_time="09:00"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="e-end_date"' in html and "Das Ende muss nach dem Beginn liegen." in html
    assert 'value="09:00"' in html

    response = auth.post("/agentur/veranstaltungen/neu", event_form(postal_code="99999"))
    assert response.status_code == 422
    assert 'id="e-postal_code"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Event.id)) is None


def test_edit_errors_keep_values_and_leave_the_event_as_it_was(app, client, partner):
    auth, _organisation_id = partner
    auth.post("/agentur/veranstaltungen/neu", event_form())
    event = only_event(app)
    response = auth.post(
        f"/agentur/veranstaltungen/{event.id}",
        event_form(title="Neuer Titel", end_time="08:00"),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Neuer Titel"' in html and "Das Ende muss nach dem Beginn liegen." in html
    assert event_by_id(app, event.id).title == "Jobcafé Marl"


def test_times_are_local_berlin_time_across_the_dst_change(app, client, partner):
    auth, _organisation_id = partner
    year = date.today().year + 1
    summer, winter = date(year, 7, 1), date(year, 11, 3)
    auth.post("/agentur/veranstaltungen/neu", event_form(summer, title="Sommertermin"))
    auth.post("/agentur/veranstaltungen/neu", event_form(winter, title="Wintertermin"))
    summer_event = only_event(app, "Sommertermin")
    winter_event = only_event(app, "Wintertermin")
    assert summer_event.starts_at.astimezone(UTC) == datetime(year, 7, 1, 8, 0, tzinfo=UTC)
    assert winter_event.starts_at.astimezone(UTC) == datetime(year, 11, 3, 9, 0, tzinfo=UTC)
    assert winter_event.ends_at.astimezone(UTC) == datetime(year, 11, 3, 11, 0, tzinfo=UTC)
    html = client.get(f"/agentur/veranstaltungen/{winter_event.id}").get_data(as_text=True)
    assert 'value="10:00"' in html and 'value="12:00"' in html
    assert f'value="{winter.isoformat()}"' in html


def test_all_day_multi_day_event(app, client, partner):
    auth, _organisation_id = partner
    day = default_start().date()
    auth.post(
        "/agentur/veranstaltungen/neu",
        event_form(
            day,
            title="Ausbildungsmesse",
            all_day="y",
            start_time="",
            end_time="",
            end_date=(day + timedelta(days=1)).isoformat(),
        ),
    )
    event = only_event(app, "Ausbildungsmesse")
    assert event.all_day
    assert event.starts_at.astimezone(BERLIN) == datetime.combine(day, time(0), tzinfo=BERLIN)
    assert event.ends_at.astimezone(BERLIN) == datetime.combine(
        day + timedelta(days=2), time(0), tzinfo=BERLIN
    )
    html = client.get(f"/agentur/veranstaltungen/{event.id}").get_data(as_text=True)
    assert f'value="{(day + timedelta(days=1)).isoformat()}"' in html  # the last day again


def test_weekly_repetition_until_a_date_is_an_rrule(app, client, partner):
    auth, _organisation_id = partner
    year = date.today().year + 1
    start, until = date(year, 10, 6), date(year, 11, 24)
    auth.post(
        "/agentur/veranstaltungen/neu",
        event_form(start, repeat="weekly", repeat_until=until.isoformat()),
    )
    event = only_event(app)
    # the end of the last day, Berlin time (winter: UTC+1), in UTC
    assert event.rrule == f"FREQ=WEEKLY;UNTIL={year}1124T225959Z"
    assert event.last_ends_at.astimezone(BERLIN) == datetime(year, 11, 24, 12, 0, tzinfo=BERLIN)
    html = client.get(f"/agentur/veranstaltungen/{event.id}").get_data(as_text=True)
    assert re.search(r'<option selected value="weekly">|<option value="weekly" selected', html)
    assert f'value="{until.isoformat()}"' in html

    auth.post(
        f"/agentur/veranstaltungen/{event.id}",
        event_form(start, repeat="biweekly", repeat_until=""),
    )
    changed = event_by_id(app, event.id)
    assert changed.rrule == "FREQ=WEEKLY;INTERVAL=2"
    assert changed.last_ends_at is None
    response = auth.post(
        f"/agentur/veranstaltungen/{event.id}",
        event_form(start, repeat="monthly", repeat_until=(start - timedelta(days=1)).isoformat()),
    )
    assert response.status_code == 422
    assert "Das Ende der Wiederholung liegt vor dem Beginn." in response.get_data(as_text=True)


def test_cancel_needs_confirmation_and_is_audited(app, client, partner):
    auth, _organisation_id = partner
    auth.post("/agentur/veranstaltungen/neu", event_form())
    event = only_event(app)
    response = auth.post(
        f"/agentur/veranstaltungen/{event.id}/absagen", {"note": "Referentin krank"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Bitte bestätigen Sie" in html and "Referentin krank" in html
    assert event_by_id(app, event.id).cancelled_at is None
    response = auth.post(
        f"/agentur/veranstaltungen/{event.id}/absagen",
        {"note": "Referentin krank", "confirm": "1"},
    )
    assert response.status_code == 303
    cancelled = event_by_id(app, event.id)
    assert cancelled.cancelled_at is not None
    assert cancelled.sequence == event.sequence + 1
    assert [action for action, _label in event_audit(app, event.id)][-1] == "event_cancelled"
    assert "abgesagt" in client.get("/agentur/veranstaltungen/").get_data(as_text=True)


def test_partner_organisation_comes_from_the_account_never_the_form(
    app, client, partner, make_organisation
):
    auth, organisation_id = partner
    other = make_organisation("Fremde Organisation")
    html = client.get("/agentur/veranstaltungen/neu").get_data(as_text=True)
    assert 'name="organisation_id"' not in html
    auth.post("/agentur/veranstaltungen/neu", event_form(organisation_id=str(other)))
    event = only_event(app)
    assert event.organisation_id == organisation_id
    auth.post(f"/agentur/veranstaltungen/{event.id}", event_form(organisation_id=str(other)))
    assert event_by_id(app, event.id).organisation_id == organisation_id


def test_staff_choose_the_organisation(app, client, auth, make_organisation):
    organisation_id = make_organisation("Schule am Markt", review_required=True)
    auth.login("curator")
    html = client.get("/agentur/veranstaltungen/neu").get_data(as_text=True)
    assert "Schule am Markt" in html
    response = auth.post("/agentur/veranstaltungen/neu", event_form())
    assert response.status_code == 422
    assert "Bitte wählen Sie die Organisation." in response.get_data(as_text=True)
    response = auth.post(
        "/agentur/veranstaltungen/neu", event_form(organisation_id=str(organisation_id))
    )
    assert response.status_code == 303
    event = only_event(app)
    assert event.organisation_id == organisation_id
    assert event.status is EventStatus.PUBLISHED  # staff publish directly


def test_participating_employers_are_published_ones(app, client, partner, make_company):
    auth, _organisation_id = partner
    published = make_company("Elektro Funke")
    html = client.get("/agentur/veranstaltungen/neu").get_data(as_text=True)
    assert "Elektro Funke" in html
    auth.post("/agentur/veranstaltungen/neu", event_form(company_ids=[str(published)]))
    event = only_event(app)
    with app.app_context():
        stored = db.session.get(Event, event.id)
        assert [c.id for c in stored.companies] == [published]


def test_registrations_page_and_csv_for_own_event(app, client, partner):
    auth, _organisation_id = partner
    auth.post("/agentur/veranstaltungen/neu", event_form(capacity="10", registration_open="y"))
    event = only_event(app)
    with app.app_context():
        db.session.add(
            EventRegistration(
                event_id=event.id,
                name="Erika Muster",
                email="erika@example.org",
                note="=SUMME(A1)",
                consent_version="test",
                status=RegistrationStatus.CONFIRMED,
            )
        )
        db.session.commit()
    html = client.get(f"/agentur/veranstaltungen/{event.id}/anmeldungen").get_data(as_text=True)
    assert "Erika Muster" in html and "erika@example.org" in html
    assert "9 Plätze frei" in html
    response = client.get(f"/agentur/veranstaltungen/{event.id}/anmeldungen.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][1:3] == ["Erika Muster", "erika@example.org"]
    assert not rows[1][3].startswith("=")


def test_organisation_crud(app, client, auth):
    auth.login("admin")
    assert client.get("/agentur/organisationen/").status_code == 200
    response = auth.post(
        "/agentur/organisationen/neu",
        {"name": "IHK Nord Westfalen", "kind": "chamber", "website": "https://ihk.example"},
    )
    assert response.status_code == 303
    with app.app_context():
        organisation = db.session.scalar(
            select(Organisation).where(Organisation.name == "IHK Nord Westfalen")
        )
        assert organisation.kind == "chamber"
        assert organisation.review_required is False  # the box was not ticked
        organisation_id = organisation.id
    # a duplicate name and a bad website are refused with what was typed kept
    response = auth.post(
        "/agentur/organisationen/neu",
        {"name": "ihk nord westfalen", "kind": "chamber", "website": "ftp://x"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Eine Organisation mit diesem Namen gibt es schon." in html
    assert 'value="ihk nord westfalen"' in html and 'value="ftp://x"' in html
    response = auth.post(
        f"/agentur/organisationen/{organisation_id}",
        {"name": "IHK Nord Westfalen", "kind": "chamber", "review_required": "1"},
    )
    assert response.status_code == 303
    response = auth.post(
        f"/agentur/organisationen/{organisation_id}",
        {"name": "IHK Nord Westfalen", "kind": "chamber", "feed_url": "http://127.0.0.1/cal.ics"},
    )
    assert response.status_code == 422
    with app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        assert organisation.review_required is True and organisation.feed_url == ""
    listing = client.get("/agentur/organisationen/").get_data(as_text=True)
    assert "IHK Nord Westfalen" in listing and "nach Prüfung" in listing
    assert client.get("/agentur/organisationen/999999").status_code == 404


def test_partner_account_created_on_the_accounts_page(app, client, auth, make_organisation):
    organisation_id = make_organisation("Jobcenter Recklinghausen")
    auth.login("admin")
    page = client.get(f"/agentur/organisationen/{organisation_id}").get_data(as_text=True)
    assert f"/agentur/konten/?organisation={organisation_id}" in page
    form = client.get(f"/agentur/konten/?organisation={organisation_id}").get_data(as_text=True)
    assert re.search(rf'<option value="{organisation_id}" selected', form)
    data = {
        "name": "Paula Partner",
        "email": "paula@jobcenter.example",
        "password": "ein sicheres Passwort 2026",
        "role": "partner",
    }
    response = auth.post("/agentur/konten/", data)
    assert response.status_code == 422
    assert "Bitte wählen Sie die Partnerorganisation des Kontos." in response.get_data(as_text=True)
    response = auth.post("/agentur/konten/", {**data, "organisation_id": str(organisation_id)})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(
            select(StaffUser).where(StaffUser.email == "paula@jobcenter.example")
        )
        assert user.is_partner and user.organisation_id == organisation_id
    listing = client.get("/agentur/konten/").get_data(as_text=True)
    assert "Jobcenter Recklinghausen" in listing
    page = client.get(f"/agentur/organisationen/{organisation_id}").get_data(as_text=True)
    assert "paula@jobcenter.example" in page


def test_feed_settings_refuse_a_loopback_address(app, client, partner):
    auth, organisation_id = partner
    page = client.get("/agentur/veranstaltungen/feed")
    assert page.status_code == 200
    assert "Es ist noch kein Kalender verbunden." in page.get_data(as_text=True)
    response = auth.post("/agentur/veranstaltungen/feed", {"feed_url": "http://127.0.0.1/x.ics"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="e-feed_url"' in html and 'value="http://127.0.0.1/x.ics"' in html
    with app.test_request_context():
        from app.services import safe_fetch

        try:
            safe_fetch.check_url("http://127.0.0.1/x.ics")
        except safe_fetch.FetchRefused as error:
            message = str(error)
    assert message and message in html
    with app.app_context():
        assert db.session.get(Organisation, organisation_id).feed_url == ""


def test_feed_state_is_shown_in_plain_words(app, client, partner):
    _auth, organisation_id = partner
    with app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        organisation.feed_url = "https://kalender.example/jobcenter.ics"
        organisation.feed_checked_at = datetime.now(UTC)
        organisation.feed_error = "Der Server antwortete mit dem Status 500."
        db.session.commit()
    html = client.get("/agentur/veranstaltungen/feed").get_data(as_text=True)
    assert "Beim letzten Abruf ging etwas schief:" in html
    assert "Der Server antwortete mit dem Status 500." in html
    assert "Jetzt abrufen" in html
    assert 'value="https://kalender.example/jobcenter.ics"' in html


def test_dashboard_counts_events_this_month(app, client, auth, make_event):
    today = datetime.now(BERLIN).date()
    first = datetime.combine(today.replace(day=1), time(10), tzinfo=BERLIN)
    next_month = datetime.combine(
        (today.replace(day=28) + timedelta(days=4)).replace(day=1) + timedelta(days=2),
        time(10),
        tzinfo=BERLIN,
    )
    with_registrations = make_event("Diesen Monat A", starts_at=first, capacity=5)
    make_event("Diesen Monat B", starts_at=first + timedelta(hours=3))
    make_event("Nächsten Monat", starts_at=next_month)
    make_event("Wartet", starts_at=first, status="pending")
    with app.app_context():
        for number, status in enumerate(
            (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING, RegistrationStatus.CANCELLED)
        ):
            db.session.add(
                EventRegistration(
                    event_id=with_registrations,
                    name=f"Person {number}",
                    email=f"person{number}@example.org",
                    consent_version="test",
                    status=status,
                )
            )
        db.session.commit()
    auth.login("curator")
    html = client.get("/agentur/").get_data(as_text=True)
    assert "Diesen Monat: 2 Veranstaltungen, 2 Anmeldungen" in html
    assert "1 Veranstaltung wartet auf Prüfung" in html
    assert 'href="/agentur/veranstaltungen/?pruefen=1"' in html


def workspace_nav(html: str) -> str:
    """The workspace's navigation bar of a page."""
    start = html.index('class="workspace-nav"')
    return html[start : html.index("</nav>", start)]


def test_navigation_shows_what_the_account_may_use(app, make_staff):
    partner_client, _ = sign_in_as(app, "partner", make_staff)
    html = partner_client.get("/agentur/veranstaltungen/").get_data(as_text=True)
    nav = workspace_nav(html)
    assert "Veranstaltungen" in nav and "Betrieb eintragen" in nav
    for hidden in ("Übersicht", "Prüfen", "Protokoll", "Organisationen", "Konten"):
        assert hidden not in nav, hidden
    curator_client, _ = sign_in_as(app, "curator", make_staff)
    html = curator_client.get("/agentur/").get_data(as_text=True)
    nav = workspace_nav(html)
    assert "Organisationen" in nav and "Protokoll" in nav and "Veranstaltungen" in nav
    assert "Konten" not in nav and "Betrieb eintragen" not in nav


def test_partner_enters_a_business_recorded_with_the_organisation(app, make_staff):
    _client, auth = sign_in_as(app, "partner", make_staff, email="eva@jobcenter.example")
    response = auth.post("/agentur/erfassen")
    assert response.status_code == 302
    assert response.headers["Location"] == "/mitmachen/schritt/business"
    for key, data in STEPS.items():
        action = "submit" if key == "summary" else "next"
        response = auth.post(f"/mitmachen/schritt/{key}", {**data, "action": action})
        assert response.status_code == 302, (key, response.get_data(as_text=True)[:2000])
    with app.app_context():
        entry = db.session.scalar(select(Company).where(Company.name == "Tischlerei Holzwurm"))
        assert entry.source == "staff"
        [record] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.company_id == entry.id)
        ).all()
        assert record.action == "submit"
        assert record.actor_label == "eva@jobcenter.example (Jobcenter Test)"


def test_events_service_keeps_the_organisation_of_an_event(app, make_event, make_staff):
    """The write model refuses a partner acting on another organisation's event."""
    event_id = make_event("Fremd", organisation="Andere Organisation")
    email = make_staff("partner")
    with app.test_request_context():
        from app.services.accounts import by_email

        event = db.session.get(Event, event_id)
        with pytest.raises(events_service.EventNotAllowed):
            events_service.update(event, {"title": "Meins"}, actor=by_email(email))


def test_fetch_now_imports_the_partner_feed_and_says_what_it_found(
    database_url, make_staff, make_organisation
):
    from tests.conftest import temporary_app
    from tests.integration.test_feed_import import PLACE, FeedServer, feed, soon, vevent

    server = FeedServer()
    try:
        with temporary_app(database_url, FETCH_ALLOWED_NETWORKS="127.0.0.1/32") as allowed:
            organisation_id = make_organisation("Jobcenter mit Kalender")
            server.feeds["/cal.ics"] = feed(
                vevent("a@partner", "Sprechstunde aus dem Kalender", soon(), soon(hour=12),
                       location=PLACE)
            )  # fmt: skip
            client = allowed.test_client()
            auth = AuthActions(client, make_staff)
            auth.login("partner", email="kal@jobcenter.example", organisation_id=organisation_id)
            response = auth.post(
                "/agentur/veranstaltungen/feed", {"feed_url": server.url("/cal.ics")}
            )
            assert response.status_code == 303
            html = auth.post(
                "/agentur/veranstaltungen/feed/abrufen", follow_redirects=True
            ).get_data(as_text=True)
            assert "Kalender abgerufen: 1 neu, 0 geändert" in html
            assert "in Ordnung" in html
            with allowed.app_context():
                event = db.session.scalar(
                    select(Event).where(Event.title == "Sprechstunde aus dem Kalender")
                )
                assert (event.organisation_id, event.source) == (organisation_id, "feed")
                event_id = event.id
            page = client.get(f"/agentur/veranstaltungen/{event_id}").get_data(as_text=True)
            assert "aus dem Kalender-Abo der Organisation" in page
            html = auth.post(
                "/agentur/veranstaltungen/feed/abrufen", follow_redirects=True
            ).get_data(as_text=True)
            assert "nicht geändert" in html
            server.responses["/cal.ics"] = (500, "text/plain", b"kaputt")
            html = auth.post(
                "/agentur/veranstaltungen/feed/abrufen", follow_redirects=True
            ).get_data(as_text=True)
            assert "Der Kalender konnte nicht abgerufen werden:" in html
            assert "Beim letzten Abruf ging etwas schief:" in html
    finally:
        server.close()


def test_a_rule_from_a_feed_the_form_cannot_show_is_kept(app, client, partner, make_event):
    auth, _organisation_id = partner
    rule = "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6"
    dropped = [default_start() + timedelta(days=7)]
    event_id = make_event(
        "Reihe aus dem Kalender", organisation="Jobcenter Marl", rrule=rule, exdates=dropped
    )
    html = client.get(f"/agentur/veranstaltungen/{event_id}").get_data(as_text=True)
    assert re.search(r'<option selected value="keep">|<option value="keep" selected', html)
    start = default_start().date()
    response = auth.post(
        f"/agentur/veranstaltungen/{event_id}",
        event_form(start, title="Reihe aus dem Kalender", repeat="keep", postal_code="45657"),
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert event_by_id(app, event_id).rrule == rule
    assert event_by_id(app, event_id).exdates == dropped  # the feed's dropped dates too


def test_a_series_refuses_excluded_dates_that_are_no_dates(app):
    with app.test_request_context():
        with pytest.raises(events_service.EventValuesInvalid) as refused:
            events_service.check({"exdates": ["nächsten Dienstag"]})
        assert refused.value.errors == {"exdates": "Bitte geben Sie Datum und Uhrzeit an."}
        many = [date(2027, 1, 1) + timedelta(days=n) for n in range(events_service.MAX_EXDATES + 1)]
        with pytest.raises(events_service.EventValuesInvalid) as refused:
            events_service.check({"exdates": many})
        assert "höchstens 500" in refused.value.errors["exdates"]
        clean = events_service.check({"exdates": [date(2027, 1, 5), date(2027, 1, 5)]})
        assert clean["exdates"] == [datetime(2027, 1, 5, tzinfo=ZoneInfo("Europe/Berlin"))]


def test_list_shows_upcoming_events_first_then_past_ones(app, client, partner, make_event):
    make_event("Vergangen", organisation="Jobcenter Marl", starts_at=default_start(-10))
    make_event("Später", organisation="Jobcenter Marl", starts_at=default_start(30))
    make_event("Bald", organisation="Jobcenter Marl", starts_at=default_start(3))
    make_event("Anderswo", organisation="Andere Organisation")
    html = client.get("/agentur/veranstaltungen/").get_data(as_text=True)
    positions = [html.index(title) for title in ("Bald", "Später", "Vergangen")]
    assert positions == sorted(positions)
    assert "Anderswo" not in html
    # the review filter is the agency's: a partner's list stays whole
    assert "Vergangen" in client.get("/agentur/veranstaltungen/?pruefen=1").get_data(as_text=True)
