"""Registering for an event without an account (issue 13): capacity and waiting list, moving
up after a cancellation, closed registrations, duplicates that reveal nothing, the form's
errors, CSRF and honeypot, consent, the reminder and deletion jobs, the CSV export, the
cancellation link end to end, and 20 simultaneous registrations for the last 5 places."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import (
    AuditEntry,
    Event,
    EventRegistration,
    OutboxMessage,
    RegistrationStatus,
    StaffUser,
)
from app.services import events, registrations, tokens
from tests.conftest import csrf_token, default_start, temporary_app, without_nonce

CANCEL_PATH = re.compile(r"https?://[^/\s]+(/veranstaltungen/abmelden/[^\s?]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = registrations.REGISTRATION_CONSENT_VERSION
CONFIRMED = RegistrationStatus.CONFIRMED
WAITING = RegistrationStatus.WAITING
CANCELLED = RegistrationStatus.CANCELLED


@pytest.fixture
def open_event(make_event):
    """Create an event that takes registrations (``capacity`` places; None: unlimited)."""

    def make(capacity: int | None = 2, title: str = "Bewerbungstraining", **values) -> int:
        return make_event(title, registration_open=True, capacity=capacity, **values)

    return make


def register(app, event_id: int, email: str, name: str = "Alex Muster", **options):
    """Register through the service: (registration id, status, created)."""
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        result = registrations.register(
            event,
            name,
            email,
            options.get("note", ""),
            options.get("language", "de"),
            options.get("consent", VERSION),
        )
        return result.registration.id, result.status, result.created


def statuses(app, event_id: int) -> dict[str, RegistrationStatus]:
    with app.app_context():
        rows = db.session.scalars(
            select(EventRegistration).where(EventRegistration.event_id == event_id)
        )
        return {row.email: row.status for row in rows}


def registration(app, registration_id: int) -> EventRegistration:
    with app.app_context():
        return db.session.get(EventRegistration, registration_id)


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def cancel(app, registration_id: int, actor_email: str | None = None) -> bool:
    with app.test_request_context():
        actor = (
            db.session.scalar(select(StaffUser).where(StaffUser.email == actor_email))
            if actor_email
            else None
        )
        return registrations.cancel(db.session.get(EventRegistration, registration_id), actor=actor)


def form_page(client, slug: str):
    """GET the registration form; (response, CSRF token)."""
    page = client.get(f"/veranstaltungen/{slug}/anmelden")
    return page, CSRF.search(page.get_data(as_text=True)).group(1)


def slug_of(app, event_id: int) -> str:
    with app.app_context():
        return db.session.get(Event, event_id).slug


def post_form(client, slug: str, **fields):
    _, token = form_page(client, slug)
    data = {
        "csrf_token": token,
        "name": "Alex Muster",
        "email": "alex@example.org",
        "note": "",
        "consent": "y",
        "consent_version": VERSION,
        **fields,
    }
    return client.post(f"/veranstaltungen/{slug}/anmelden", data=data)


# --- places and the waiting list ---------------------------------------------------------------


def test_capacity_fills_then_the_waiting_list_takes_over(app, open_event):
    event_id = open_event(capacity=2)
    assert register(app, event_id, "a@example.org")[1:] == (CONFIRMED, True)
    assert register(app, event_id, "b@example.org")[1:] == (CONFIRMED, True)
    assert register(app, event_id, "c@example.org")[1:] == (WAITING, True)
    assert register(app, event_id, "d@example.org")[1:] == (WAITING, True)
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        assert registrations.counts(event) == (2, 2, 0)
        assert registrations.availability(event) == registrations.WAITING_LIST
    mails = outbox(app)
    assert [m.recipient for m in mails] == [f"{x}@example.org" for x in "abcd"]
    assert all(m.purpose == f"registration:{event_id}" for m in mails)
    assert mails[0].subject.startswith("Anmeldung bestätigt")
    assert mails[2].subject.startswith("Warteliste")
    assert "Platz 1" in mails[2].body and "Platz 2" in mails[3].body


def test_confirmation_mail_has_time_place_calendar_and_cancel_link(app, open_event):
    start = default_start(days=20, hour=18)
    event_id = open_event(starts_at=start, venue="Kulturhaus", street="Hauptstraße 1")
    register(app, event_id, "a@example.org", name="Alex")
    body = outbox(app)[0].body
    slug = slug_of(app, event_id)
    assert "Guten Tag Alex," in body
    assert "18:00–20:00 Uhr" in body  # Europe/Berlin, whatever the server's zone
    assert f"{start.day}." in body
    assert "Kulturhaus, Hauptstraße 1, 45657 Recklinghausen" in body
    assert f"/veranstaltungen/{slug}.ics" in body
    assert CANCEL_PATH.search(body)


def test_no_capacity_means_everyone_is_confirmed(app, open_event):
    event_id = open_event(capacity=None)
    for number in range(4):
        assert register(app, event_id, f"p{number}@example.org")[1] == CONFIRMED
    with app.app_context():
        assert registrations.counts(db.session.get(Event, event_id)) == (4, 0, None)


def test_cancelling_moves_the_first_waiting_person_up_with_a_mail(app, open_event):
    event_id = open_event(capacity=1)
    first = register(app, event_id, "a@example.org")[0]
    register(app, event_id, "b@example.org")
    register(app, event_id, "c@example.org")
    before = len(outbox(app))

    assert cancel(app, first) is True
    assert statuses(app, event_id) == {
        "a@example.org": CANCELLED,
        "b@example.org": CONFIRMED,
        "c@example.org": WAITING,
    }
    new = outbox(app)[before:]
    assert [(m.recipient, m.subject.split(":")[0]) for m in new] == [
        ("b@example.org", "Ein Platz ist frei")
    ]
    assert registration(app, first).cancelled_at is not None


def test_cancelling_twice_is_harmless(app, open_event):
    event_id = open_event(capacity=1)
    first = register(app, event_id, "a@example.org")[0]
    register(app, event_id, "b@example.org")
    register(app, event_id, "c@example.org")
    assert cancel(app, first) is True
    mails = len(outbox(app))
    assert cancel(app, first) is False
    assert statuses(app, event_id)["c@example.org"] == WAITING  # nobody else moved up
    assert len(outbox(app)) == mails


def test_cancelling_a_waiting_registration_moves_nobody(app, open_event):
    event_id = open_event(capacity=1)
    register(app, event_id, "a@example.org")
    waiting = register(app, event_id, "b@example.org")[0]
    register(app, event_id, "c@example.org")
    assert cancel(app, waiting) is True
    assert statuses(app, event_id) == {
        "a@example.org": CONFIRMED,
        "b@example.org": CANCELLED,
        "c@example.org": WAITING,
    }


def test_raising_the_capacity_moves_waiting_people_up(app, open_event):
    event_id = open_event(capacity=1)
    for letter in "abcd":
        register(app, event_id, f"{letter}@example.org")
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        events.apply_changes(event, {"capacity": 3}, actor=None)
        db.session.commit()
        assert registrations.fill_places(event) == 2
        assert registrations.fill_places(event) == 0
    assert statuses(app, event_id) == {
        "a@example.org": CONFIRMED,
        "b@example.org": CONFIRMED,
        "c@example.org": CONFIRMED,
        "d@example.org": WAITING,
    }


def test_a_place_freed_again_can_be_taken_by_a_new_registration(app, open_event):
    event_id = open_event(capacity=1)
    first = register(app, event_id, "a@example.org")[0]
    cancel(app, first)
    assert register(app, event_id, "b@example.org")[1] == CONFIRMED
    # the address that cancelled may register again
    assert register(app, event_id, "a@example.org")[1:] == (WAITING, True)


def test_staff_cancel_is_audited_tells_the_person_and_is_refused_to_others(
    app, open_event, make_staff, make_organisation
):
    event_id = open_event(capacity=1)
    first = register(app, event_id, "a@example.org")[0]
    register(app, event_id, "b@example.org")
    other = make_organisation("Kammer Test")
    stranger = make_staff("partner", email="b@kammer.test", organisation_id=other)
    with pytest.raises(events.EventNotAllowed):
        cancel(app, first, stranger)
    assert statuses(app, event_id)["a@example.org"] == CONFIRMED

    own = make_staff("partner", email="p@jobcenter.test")
    before = len(outbox(app))
    assert cancel(app, first, own) is True
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.event_id == event_id, AuditEntry.action == "registration_cancelled"
            )
        ).one()
        assert entry.actor_id is not None
        assert "a@example.org" not in entry.note
    new = {m.recipient: m.subject for m in outbox(app)[before:]}
    assert new["a@example.org"].startswith("Anmeldung storniert")
    assert new["b@example.org"].startswith("Ein Platz ist frei")


def test_cancelling_the_event_mails_everyone_still_registered(app, open_event, make_staff):
    event_id = open_event(capacity=1)
    register(app, event_id, "a@example.org")
    register(app, event_id, "b@example.org")
    gone = register(app, event_id, "c@example.org")[0]
    cancel(app, gone)
    before = len(outbox(app))
    make_staff("admin")
    with app.test_request_context():
        admin = db.session.scalar(select(StaffUser).where(StaffUser.email == "admin@agentur.test"))
        events.cancel(db.session.get(Event, event_id), actor=admin)
    new = outbox(app)[before:]
    assert sorted(m.recipient for m in new) == ["a@example.org", "b@example.org"]
    assert all(m.subject.startswith("Veranstaltung abgesagt") for m in new)


# --- when one cannot register ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "state"),
    [
        ("past", registrations.STARTED),
        ("cancelled", registrations.CANCELLED),
        ("pending", registrations.UNAVAILABLE),
        ("closed", registrations.NONE),
        ("series", registrations.NONE),
    ],
)
def test_registration_is_closed(app, client, make_event, case, state):
    if case == "past":
        event_id = make_event("Vorbei", registration_open=True, starts_at=default_start(days=-1))
    elif case == "pending":
        event_id = make_event("Ungeprüft", registration_open=True, status="pending")
    elif case == "closed":
        event_id = make_event("Ohne Anmeldung", registration_open=False)
    elif case == "series":
        event_id = make_event("Jobcafé", rrule="FREQ=WEEKLY;COUNT=5")
        with app.app_context():  # the write model refuses this; the service must too
            db.session.execute(
                text("UPDATE events SET registration_open = true WHERE id = :id"), {"id": event_id}
            )
            db.session.commit()
    else:
        event_id = make_event("Abgesagt", registration_open=True)
        with app.test_request_context():
            events.mark_cancelled(db.session.get(Event, event_id), actor=None)
            db.session.commit()
    with pytest.raises(registrations.RegistrationClosed) as refused:
        register(app, event_id, "a@example.org")
    assert refused.value.state == state
    slug = slug_of(app, event_id)
    if case == "pending":
        assert client.get(f"/veranstaltungen/{slug}/anmelden").status_code == 404
    else:
        page = client.get(f"/veranstaltungen/{slug}/anmelden")
        token = csrf_token(client)
        assert page.status_code == 200
        assert 'name="email"' not in page.get_data(as_text=True)  # no form
        response = client.post(
            f"/veranstaltungen/{slug}/anmelden",
            data={
                "csrf_token": token,
                "name": "A",
                "email": "a@example.org",
                "consent": "y",
                "consent_version": VERSION,
            },
        )
        assert response.status_code == 409
    assert statuses(app, event_id) == {}
    assert outbox(app) == []


# --- duplicates --------------------------------------------------------------------------------


def test_a_registered_address_is_mailed_its_link_and_the_page_says_the_same(
    app, client, open_event
):
    event_id = open_event(capacity=5)
    slug = slug_of(app, event_id)
    first = post_form(client, slug, email="alex@example.org")
    again = post_form(client, slug, email="  ALEX@example.org ", name="Jemand anderes")
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert without_nonce(client.get(first.headers["Location"])) == without_nonce(
        client.get(again.headers["Location"])
    )

    with app.app_context():
        rows = list(db.session.scalars(select(EventRegistration)))
    assert len(rows) == 1 and rows[0].name == "Alex Muster"
    confirmation, note = outbox(app)
    assert note.recipient.strip().lower() == "alex@example.org"
    assert note.subject.startswith("Sie sind schon angemeldet")
    assert "Jemand anderes" not in note.body
    # Both links name the same registration at the same generation (the signed strings carry
    # their creation time, so they differ when the mails are a second apart).
    with app.app_context():
        links = [
            tokens.read_token("registration", CANCEL_PATH.search(m.body).group(1).split("/")[-1])
            for m in (note, confirmation)
        ]
    assert links[0] == links[1] == (rows[0].id, rows[0].token_generation)


def test_notes_to_a_registered_address_are_limited_without_telling(app, open_event):
    event_id = open_event(capacity=5)
    register(app, event_id, "a@example.org")
    for _ in range(8):
        assert register(app, event_id, "a@example.org")[1:] == (CONFIRMED, False)
    limit = registrations.REGISTRATION_MAIL_LIMITS[0].count
    assert len(outbox(app)) == limit
    assert len(statuses(app, event_id)) == 1


# --- the form ----------------------------------------------------------------------------------


def test_bad_input_shows_the_form_again_with_the_values_and_errors(app, client, open_event):
    slug = slug_of(app, open_event())
    response = post_form(
        client,
        slug,
        name="",
        email="keine-adresse",
        note="x" * 1001,
        consent="",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="registration-errors"' in page
    assert "Bitte prüfen Sie 4 Angaben." in page
    assert 'value="keine-adresse"' in page
    assert "x" * 1001 in page
    assert page.count('aria-invalid="true"') == 4
    assert 'aria-describedby="r-name-error"' in page
    assert 'href="#r-consent"' in page
    assert "Bitte geben Sie Ihren Namen an." in page
    assert "Das ist keine gültige E-Mail-Adresse." in page
    assert "1000 Zeichen" in page
    with app.app_context():
        assert db.session.scalar(select(EventRegistration)) is None
    assert outbox(app) == []


def test_control_characters_and_long_names_are_refused(app, open_event):
    event_id = open_event()
    with pytest.raises(registrations.RegistrationInvalid) as refused:
        register(app, event_id, "a@example.org", name="Alex\x07")
    assert set(refused.value.errors) == {"name"}
    with pytest.raises(registrations.RegistrationInvalid) as refused:
        register(app, event_id, "a@example.org", name="A" * 201, note="ok\x00")
    assert set(refused.value.errors) == {"name", "note"}
    with pytest.raises(registrations.RegistrationInvalid) as refused:
        register(app, event_id, "a@exam\nple.org")
    assert set(refused.value.errors) == {"email"}


def test_the_form_page_works_alone_and_is_accessible_by_construction(app, client, open_event):
    slug = slug_of(app, open_event(capacity=3))
    page, _ = form_page(client, slug)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for field in ("r-name", "r-email", "r-note"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert re.search(r'<label class="check"><input type="checkbox" id="r-consent"', html)
    assert "<fieldset" in html and "<legend>Einwilligung" in html
    assert 'aria-describedby="r-consent-text"' in html
    assert "30 Tage nach der Veranstaltung gelöscht" in html
    assert "Noch 3 Plätze frei." in html
    assert 'tabindex="-1"' in html  # the honeypot only
    detail = client.get(f"/veranstaltungen/{slug}").get_data(as_text=True)
    assert 'id="r-email"' in detail and f'action="/veranstaltungen/{slug}/anmelden"' in detail


def test_csrf_token_is_required(app, client, open_event):
    slug = slug_of(app, open_event())
    response = client.post(
        f"/veranstaltungen/{slug}/anmelden",
        data={"name": "A", "email": "a@example.org", "consent": "y", "consent_version": VERSION},
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(EventRegistration)) is None


def test_a_filled_honeypot_stores_and_mails_nothing(app, client, open_event):
    slug = slug_of(app, open_event())
    response = post_form(client, slug, webseite="http://spam.example")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/veranstaltungen/{slug}/angemeldet")
    with app.app_context():
        assert db.session.scalar(select(EventRegistration)) is None
    assert outbox(app) == []


def test_registering_is_rate_limited_per_client(database_url, app, open_event):
    slug = slug_of(app, open_event())
    with temporary_app(database_url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=True) as limited:
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = "192.0.2.31"
        for _ in range(10):  # refused (no name), but each one counts
            assert client.post(f"/veranstaltungen/{slug}/anmelden", data={}).status_code == 422
        data = {"name": "A", "email": "a@example.org", "consent": "y", "consent_version": VERSION}
        assert client.post(f"/veranstaltungen/{slug}/anmelden", data=data).status_code == 429
        assert client.get(f"/veranstaltungen/{slug}/anmelden").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(EventRegistration)) is None


def test_consent_is_required_and_its_version_recorded(app, client, open_event):
    event_id = open_event()
    slug = slug_of(app, event_id)
    refused = post_form(client, slug, consent="")
    assert refused.status_code == 422
    assert "Bitte stimmen Sie zu" in refused.get_data(as_text=True)
    outdated = post_form(client, slug, consent_version="1999-01")
    assert outdated.status_code == 422
    assert post_form(client, slug).status_code == 303
    with app.app_context():
        stored = db.session.scalars(select(EventRegistration)).one()
        assert stored.consent_version == VERSION and stored.consent_at is not None
    with pytest.raises(registrations.RegistrationInvalid) as error:
        register(app, event_id, "b@example.org", consent=None)
    assert set(error.value.errors) == {"consent"}


def test_registering_in_english_mails_in_english(app, client, open_event):
    slug = slug_of(app, open_event())
    client.get("/?lang=en")
    assert post_form(client, slug).status_code == 303
    with app.app_context():
        assert db.session.scalars(select(EventRegistration)).one().language == "en"
    mail = outbox(app)[0]
    assert "Mit freundlichen Grüßen" not in mail.body  # a text that is translated already
    day = default_start().strftime("%A")  # the C locale's English weekday
    assert day in mail.body
    assert re.search(r"/veranstaltungen/abmelden/\S+\?lang=en", mail.body)


# --- the cancellation link ---------------------------------------------------------------------


def test_the_mailed_cancellation_link_works_end_to_end(app, client, open_event):
    event_id = open_event(capacity=1)
    slug = slug_of(app, event_id)
    assert (
        post_form(client, slug, email="first@example.org", name="Erste Person").status_code == 303
    )
    assert post_form(client, slug, email="second@example.org").status_code == 303
    path = CANCEL_PATH.search(outbox(app)[0].body).group(1)

    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Erste Person" in html and "Jetzt abmelden" in html
    assert statuses(app, event_id)["first@example.org"] == CONFIRMED  # a GET changes nothing

    token = CSRF.search(html).group(1)
    done = client.post(path, data={"csrf_token": token})
    assert done.status_code == 200
    assert "Sie sind abgemeldet" in done.get_data(as_text=True)
    assert statuses(app, event_id) == {
        "first@example.org": CANCELLED,
        "second@example.org": CONFIRMED,
    }
    assert outbox(app)[-1].recipient == "second@example.org"

    again = client.post(path, data={"csrf_token": token})
    assert again.status_code == 200
    assert "Sie sind abgemeldet" in again.get_data(as_text=True)
    later = client.get(path).get_data(as_text=True)
    assert "bereits storniert" in later and "Jetzt abmelden" not in later


def test_bad_and_expired_cancellation_links_get_a_clear_page(app, client, open_event, monkeypatch):
    event_id = open_event()
    register(app, event_id, "a@example.org")
    path = CANCEL_PATH.search(outbox(app)[0].body).group(1)
    broken = client.get(path[:-3] + "xyz")
    assert broken.status_code == 404
    assert "nicht (mehr) gültig" in broken.get_data(as_text=True)
    monkeypatch.setitem(tokens.PURPOSES, "registration", -1)
    expired = client.get(path + "?lang=en")
    assert expired.status_code == 410
    assert "This link has expired" in expired.get_data(as_text=True)  # the visitor's language


# --- reminders ---------------------------------------------------------------------------------


def remind(app, now) -> int:
    with app.test_request_context():
        return registrations.send_reminders(now=now)


def test_reminders_go_once_to_confirmed_people_within_24_hours(app, open_event, make_staff):
    soon_start = default_start(days=10)
    soon = open_event(capacity=1, title="Morgen", starts_at=soon_start)
    later = open_event(capacity=5, title="Übermorgen", starts_at=soon_start + timedelta(hours=30))
    called_off = open_event(capacity=5, title="Abgesagt", starts_at=soon_start)
    register(app, soon, "confirmed@example.org")
    register(app, soon, "waiting@example.org")
    gone = register(app, soon, "gone@example.org")[0]
    cancel(app, gone)
    register(app, later, "later@example.org")
    register(app, called_off, "off@example.org")
    with app.test_request_context():
        events.mark_cancelled(db.session.get(Event, called_off), actor=None)
        db.session.commit()
    before = len(outbox(app))

    assert remind(app, soon_start - timedelta(hours=30)) == 0  # more than a day ahead
    assert remind(app, soon_start - timedelta(hours=10)) == 1
    new = outbox(app)[before:]
    assert [(m.recipient, m.subject.split(":")[0]) for m in new] == [
        ("confirmed@example.org", "Erinnerung")
    ]
    assert CANCEL_PATH.search(new[0].body)
    assert remind(app, soon_start - timedelta(hours=9)) == 0  # idempotent
    assert remind(app, soon_start + timedelta(minutes=1)) == 0  # started: no reminders
    assert len(outbox(app)) == before + 1
    with app.app_context():
        reminded = db.session.scalars(
            select(EventRegistration).where(EventRegistration.reminded_at.is_not(None))
        ).all()
    assert [r.email for r in reminded] == ["confirmed@example.org"]


def test_cli_remind_and_purge_print_counts(app, runner):
    result = runner.invoke(args=["events", "remind"])
    assert result.exit_code == 0 and "Reminders sent: 0." in result.output
    result = runner.invoke(args=["events", "purge-registrations"])
    assert result.exit_code == 0 and "Registrations anonymised: 0." in result.output


# --- deleting personal data --------------------------------------------------------------------


def purge(app, now) -> int:
    with app.app_context():
        return registrations.purge(now=now)


def test_personal_data_go_30_days_after_the_event_with_the_mail_copies(app, client, open_event):
    start = default_start(days=5)
    old = open_event(capacity=1, title="Bald vorbei", starts_at=start)
    other = open_event(capacity=5, title="Später", starts_at=start + timedelta(days=40))
    kept = register(app, old, "a@example.org", name="Alex", note="Rollstuhl")[0]
    register(app, old, "b@example.org", name="Bea")
    register(app, other, "a@example.org", name="Alex")
    end = start + timedelta(hours=2)

    assert purge(app, end + timedelta(days=29)) == 0
    assert all(m.recipient for m in outbox(app))

    assert purge(app, end + timedelta(days=31)) == 2
    with app.app_context():
        rows = db.session.scalars(select(EventRegistration).order_by(EventRegistration.id)).all()
        assert [(r.name, r.email, r.note) for r in rows[:2]] == [("", "", ""), ("", "", "")]
        assert all(r.anonymised_at is not None for r in rows[:2])
        assert (rows[2].name, rows[2].email) == ("Alex", "a@example.org")
        assert registrations.counts(db.session.get(Event, old)) == (1, 1, 0)  # counts stay
    mails = outbox(app)
    purged = [m for m in mails if m.purpose == f"registration:{old}"]
    assert purged and all(m.recipient == "" and m.body == "" for m in purged)
    assert all("Alex" not in m.subject and "Bea" not in m.subject for m in purged)
    untouched = [m for m in mails if m.purpose == f"registration:{other}"]
    assert [m.recipient for m in untouched] == ["a@example.org"] and untouched[0].body

    assert purge(app, end + timedelta(days=32)) == 0  # idempotent
    with app.test_request_context():
        token = registrations.cancel_token(registration(app, kept))
    assert client.get(f"/veranstaltungen/abmelden/{token}").status_code == 404


# --- the list for the organiser ----------------------------------------------------------------


def test_csv_lists_confirmed_waiting_cancelled_and_neutralises_formulas(app, open_event):
    event_id = open_event(capacity=1)
    register(app, event_id, "a@example.org", name='=HYPERLINK("http://x")', note="+49 123")
    register(app, event_id, "b@example.org", name="Bea", note="-")
    gone = register(app, event_id, "c@example.org", name="@Cem")[0]
    register(app, event_id, "d@example.org", name="Dana")
    cancel(app, gone)
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        assert [r.email for r in registrations.registrations_for(event)] == [
            "a@example.org",
            "b@example.org",
            "d@example.org",
            "c@example.org",
        ]
        text_ = registrations.csv_for(event)
    assert text_.startswith("\ufeffStatus,Name,E-Mail,Anmerkung,angemeldet am\r\n")
    lines = text_.lstrip("\ufeff").splitlines()
    assert lines[1].startswith('bestätigt,"\'=HYPERLINK(""http://x"")",a@example.org,\'+49 123,')
    assert lines[2].startswith("Warteliste,Bea,b@example.org,'-,")
    assert lines[4].startswith("abgemeldet,'@Cem,c@example.org,,")
    assert re.search(r",\d{4}-\d\d-\d\d \d\d:\d\d$", lines[1])


# --- simultaneous registrations ----------------------------------------------------------------


def test_twenty_simultaneous_registrations_for_the_last_five_places(app, open_event):
    event_id = open_event(capacity=10)
    for number in range(5):
        register(app, event_id, f"early{number}@example.org")
    barrier = threading.Barrier(20)
    outcomes: list = []
    failures: list = []

    def attempt(number: int) -> None:
        try:
            barrier.wait(timeout=60)  # all start together (20 sessions, a pool of 15)
            with app.test_request_context():
                event = db.session.get(Event, event_id)
                result = registrations.register(
                    event, f"Person {number}", f"late{number}@example.org", "", "de", VERSION
                )
                outcomes.append(result.status)
        except Exception as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sorted(outcomes).count(CONFIRMED) == 5
    assert outcomes.count(WAITING) == 15
    with app.app_context():
        assert registrations.counts(db.session.get(Event, event_id)) == (10, 15, 0)
    assert len(outbox(app)) == 25
