"""Registering for an event without an account: places, the waiting list, the cancellation
link, reminders and the deletion of personal data.

- :func:`register` takes a name, an e-mail address, an optional note and the consent (with the
  version of the privacy text, :data:`REGISTRATION_CONSENT_VERSION`). Under a lock on the
  event's row it counts the confirmed registrations: below the capacity (or without one) the
  new registration is confirmed, otherwise it waits (the waiting list's order is that of
  ``created_at``, then ``id``). An address already registered gets a note with its existing
  cancellation link instead of a second registration; the page says the same either way
  ("check your e-mail"), so nobody learns who is registered.
- :func:`cancel` (by the person's link, or by staff with ``actor=``) frees the place and moves
  the first waiting registration up, in the same transaction, with a mail.
- :func:`send_reminders` (``flask events remind``) mails confirmed registrations of events that
  start within the next 24 hours, once; :func:`purge` (``flask events purge-registrations``)
  empties the personal data of registrations (and of the outbox copies of their mails)
  :data:`app.services.events.KEEP_PAST_DAYS` days after the event. Both are idempotent.

Every mail about a registration is recorded in the outbox with the purpose
:func:`mail_purpose` (``"registration:<event id>"``): the mails anyone can trigger are limited
per address and event by counting them (:data:`REGISTRATION_MAIL_LIMITS`), and the deletion
job finds the copies to empty by it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import format_date, format_time
from flask_babel import gettext as _
from sqlalchemy import case, func, select, update

from app.extensions import db
from app.i18n import LANGUAGES, current_language
from app.models import (
    Event,
    EventRegistration,
    EventStatus,
    OutboxMessage,
    RegistrationStatus,
    StaffUser,
)
from app.services import audit, events, ical, mail, tokens
from app.services.mail import MailLimit
from app.services.spreadsheets import safe_cell
from questionnaire.engine import is_email

#: The version of the privacy text a registration agrees to (:func:`consent_text`); raise it
#: whenever that text changes in substance. Recorded on every registration.
REGISTRATION_CONSENT_VERSION = "2026-01"
#: How long the fields may be.
MAX_NAME_LENGTH = 200
MAX_NOTE_LENGTH = 1000
#: Registration mails anyone can trigger (by registering an address): at most 5 an hour and
#: 10 a day to one address about one event.
REGISTRATION_MAIL_LIMITS = (
    MailLimit(5, timedelta(hours=1), "recent"),
    MailLimit(10, timedelta(days=1), "daily"),
)
#: The purpose of the cancellation links (app/services/tokens.py).
CANCEL_LINK_PURPOSE = "registration"
#: The start of the outbox purpose of registration mails (:func:`mail_purpose`).
PURPOSE_PREFIX = "registration:"
#: Reminders go out for events starting within this time.
REMIND_AHEAD = timedelta(hours=24)

#: The states of an event's registration (see :func:`availability`).
OPEN = "open"  # places free, or no capacity
WAITING_LIST = "waiting_list"  # full: new registrations go on the waiting list
NONE = "none"  # the event takes no registrations (or is a series)
CANCELLED = "cancelled"  # the event is cancelled
STARTED = "started"  # the event has begun or is over
UNAVAILABLE = "unavailable"  # not published
#: The states in which one can register.
REGISTERABLE = (OPEN, WAITING_LIST)


def consent_text() -> str:
    """The privacy text (version :data:`REGISTRATION_CONSENT_VERSION`) shown next to the
    consent checkbox, in the interface language."""
    return _(
        "Ich bin einverstanden, dass der KMU-Atlas meinen Namen, meine E-Mail-Adresse und meine "
        "Anmerkung speichert, um meine Anmeldung zu verwalten, mir eine Bestätigung, eine "
        "Erinnerung und Nachrichten zu dieser Veranstaltung zu schicken, und dass der "
        "Veranstalter sie für die Teilnehmerliste erhält. Die Angaben werden 30 Tage nach der "
        "Veranstaltung gelöscht. Ich kann mich jederzeit über den Link in der "
        "Bestätigungs-E-Mail abmelden."
    )


class RegistrationInvalid(ValueError):
    """Values that cannot be registered; ``errors`` maps field names (name, email, note,
    consent) to translated messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class RegistrationClosed(Exception):
    """The event takes no registrations (now); ``state`` says why (see :func:`availability`)."""

    def __init__(self, state: str):
        super().__init__(state)
        self.state = state


class RegistrationLimited(Exception):
    """Too many registration mails went to this address for this event lately."""


@dataclass(frozen=True)
class RegistrationResult:
    """What :func:`register` did. The page shows the same for every result ("check your
    e-mail"): ``created`` is False when the address was registered already (it was mailed
    its existing link instead; ``mailed`` False if the mail limit held that note back)."""

    registration: EventRegistration
    created: bool
    mailed: bool

    @property
    def status(self) -> RegistrationStatus:
        return self.registration.status


def mail_purpose(event_id: int) -> str:
    """The outbox purpose of every mail about a registration for this event."""
    return f"{PURPOSE_PREFIX}{event_id}"


def now() -> datetime:
    """The current time (UTC, aware)."""
    return events.now()


# --- reading ----------------------------------------------------------------------------------


def availability(event: Event | None, at: datetime | None = None) -> str:
    """Whether one can register for ``event`` now: :data:`OPEN`, :data:`WAITING_LIST`, or why
    not (:data:`NONE`, :data:`CANCELLED`, :data:`STARTED`, :data:`UNAVAILABLE`)."""
    if event is None or event.status is not EventStatus.PUBLISHED:
        return UNAVAILABLE
    if event.cancelled_at is not None:
        return CANCELLED
    if not event.registration_open or event.rrule:
        return NONE
    if event.starts_at <= (at or now()):
        return STARTED
    if event.capacity is not None and _confirmed_count(event.id) >= event.capacity:
        return WAITING_LIST
    return OPEN


def _confirmed_count(event_id: int) -> int:
    return db.session.scalar(
        select(func.count(EventRegistration.id)).where(
            EventRegistration.event_id == event_id,
            EventRegistration.status == RegistrationStatus.CONFIRMED,
        )
    )


def counts(event: Event) -> tuple[int, int, int | None]:
    """(confirmed, waiting, free places or None without a capacity)."""
    rows = dict(
        db.session.execute(
            select(EventRegistration.status, func.count(EventRegistration.id))
            .where(
                EventRegistration.event_id == event.id,
                EventRegistration.status != RegistrationStatus.CANCELLED,
            )
            .group_by(EventRegistration.status)
        ).all()
    )
    confirmed = rows.get(RegistrationStatus.CONFIRMED, 0)
    waiting = rows.get(RegistrationStatus.WAITING, 0)
    free = None if event.capacity is None else max(event.capacity - confirmed, 0)
    return confirmed, waiting, free


_STATUS_ORDER = case(
    (EventRegistration.status == RegistrationStatus.CONFIRMED, 0),
    (EventRegistration.status == RegistrationStatus.WAITING, 1),
    else_=2,
)


def registrations_for(event: Event) -> list[EventRegistration]:
    """The event's registrations: confirmed, then waiting in the list's order, then cancelled
    (each in the order they came)."""
    return list(
        db.session.scalars(
            select(EventRegistration)
            .where(EventRegistration.event_id == event.id)
            .order_by(_STATUS_ORDER, EventRegistration.created_at, EventRegistration.id)
        )
    )


def status_name(status: RegistrationStatus) -> str:
    """The status in words, in the interface language."""
    return {
        RegistrationStatus.CONFIRMED: _("bestätigt"),
        RegistrationStatus.WAITING: _("Warteliste"),
        RegistrationStatus.CANCELLED: _("abgemeldet"),
    }[status]


def csv_for(event: Event) -> str:
    """The event's registrations as CSV (UTF-8 text with a byte-order mark for Excel; cells
    that a spreadsheet would take for a formula are neutralised), in :func:`registrations_for`
    order: status, name, e-mail, note, registered at (local time)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("Status"), _("Name"), _("E-Mail"), _("Anmerkung"), _("angemeldet am")])
    for registration in registrations_for(event):
        registered = ical.local(registration.created_at).strftime("%Y-%m-%d %H:%M")
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    status_name(registration.status),
                    registration.name,
                    registration.email,
                    registration.note,
                    registered,
                )
            ]
        )
    return "\ufeff" + buffer.getvalue()


def waiting_position(registration: EventRegistration) -> int | None:
    """The registration's place on the waiting list (1 = next to move up), or None."""
    if registration.status is not RegistrationStatus.WAITING:
        return None
    return db.session.scalar(
        select(func.count(EventRegistration.id)).where(
            EventRegistration.event_id == registration.event_id,
            EventRegistration.status == RegistrationStatus.WAITING,
            func.row(EventRegistration.created_at, EventRegistration.id)
            <= func.row(registration.created_at, registration.id),
        )
    )


def when_text(event: Event) -> str:
    """The event's date and time in Europe/Berlin, in words of the interface language (e.g.
    "Dienstag, 14. Januar 2027, 10:00–12:00 Uhr")."""
    language = current_language()
    start, end = ical.local(event.starts_at), ical.local(event.ends_at)

    def day(moment: datetime) -> str:
        return format_date(moment.date(), format="full", locale=language)

    def clock(moment: datetime) -> str:
        return format_time(moment, "HH:mm", locale=language)

    if event.all_day:
        last = (end - timedelta(days=1)).date()
        if last <= start.date():
            return day(start)
        return f"{day(start)} – {format_date(last, format='full', locale=language)}"
    if start.date() == end.date():
        return _(
            "%(day)s, %(start)s–%(end)s Uhr", day=day(start), start=clock(start), end=clock(end)
        )
    return _(
        "%(start_day)s, %(start)s Uhr – %(end_day)s, %(end)s Uhr",
        start_day=day(start),
        start=clock(start),
        end_day=day(end),
        end=clock(end),
    )


def place_text(event: Event) -> str:
    """Where the event takes place (venue, street, town), "" for an online event."""
    if event.attendance == "online":
        return ""
    town = " ".join(part for part in (event.postal_code, event.town) if part)
    return ", ".join(part for part in (event.venue, event.street, town) if part)


# --- the cancellation link ---------------------------------------------------------------------


def cancel_token(registration: EventRegistration) -> str:
    """The token of the registration's personal cancellation link."""
    return tokens.make_token(CANCEL_LINK_PURPOSE, registration.id, registration.token_generation)


def from_token(token: str) -> EventRegistration:
    """The registration a cancellation link names; TokenExpired or TokenInvalid if the link is
    not good (also once the registration's personal data are deleted)."""
    registration_id, generation = tokens.read_token(CANCEL_LINK_PURPOSE, token)
    registration = db.session.get(EventRegistration, registration_id)
    if (
        registration is None
        or registration.token_generation != generation
        or registration.anonymised_at is not None
    ):
        raise tokens.TokenInvalid
    return registration


# --- registering -------------------------------------------------------------------------------


def _has_control_characters(text: str, allowed: str = "") -> bool:
    return any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in text)


def check(name: str, email: str, note: str, consent_version: str | None) -> dict:
    """The values made ready for storing; RegistrationInvalid with every problem found."""
    name = (name or "").strip()
    email = (email or "").strip()
    note = (note or "").strip().replace("\r\n", "\n")
    errors: dict[str, str] = {}
    if _has_control_characters(name):
        errors["name"] = _("Bitte entfernen Sie die Steuerzeichen aus dem Text.")
    elif not name:
        errors["name"] = _("Bitte geben Sie Ihren Namen an.")
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = _(
            "Bitte kürzen Sie den Text auf %(count)d Zeichen.", count=MAX_NAME_LENGTH
        )
    if not email:
        errors["email"] = _("Bitte geben Sie Ihre E-Mail-Adresse an.")
    elif _has_control_characters(email) or not is_email(email):
        errors["email"] = _("Das ist keine gültige E-Mail-Adresse.")
    if _has_control_characters(note, "\n\t"):
        errors["note"] = _("Bitte entfernen Sie die Steuerzeichen aus dem Text.")
    elif len(note) > MAX_NOTE_LENGTH:
        errors["note"] = _(
            "Bitte kürzen Sie den Text auf %(count)d Zeichen.", count=MAX_NOTE_LENGTH
        )
    if consent_version != REGISTRATION_CONSENT_VERSION:
        errors["consent"] = _(
            "Bitte stimmen Sie zu, dass wir Ihre Angaben für die Anmeldung speichern."
        )
    if errors:
        raise RegistrationInvalid(errors)
    return {"name": name, "email": email, "note": note}


def _lock_event(event_id: int) -> Event:
    """The event's row, locked until the transaction ends, with its current values."""
    return db.session.scalars(
        select(Event).where(Event.id == event_id).with_for_update(),
        execution_options={"populate_existing": True},
    ).one()


def _active_registration(event_id: int, email: str) -> EventRegistration | None:
    return db.session.scalar(
        select(EventRegistration).where(
            EventRegistration.event_id == event_id,
            func.lower(EventRegistration.email) == email.lower(),
            EventRegistration.status != RegistrationStatus.CANCELLED,
            EventRegistration.anonymised_at.is_(None),
        )
    )


def register(
    event: Event,
    name: str,
    email: str,
    note: str,
    language: str,
    consent_version: str | None,
) -> RegistrationResult:
    """Register for ``event`` and mail the confirmation (or, for an address registered
    already, its existing cancellation link); commits.

    RegistrationInvalid for bad values, RegistrationClosed when the event takes no
    registrations now, RegistrationLimited when too many mails went to the address about this
    event lately (nothing is stored then).
    """
    clean = check(name, email, note, consent_version)
    language = language if language in LANGUAGES else "de"
    try:
        event = _lock_event(event.id)
        state = availability(event)
        if state not in REGISTERABLE:
            raise RegistrationClosed(state)
        existing = _active_registration(event.id, clean["email"])
        if existing is not None:
            note_mail = mail.compose("registration_exists", registration=existing)
            held_back = mail.queue_limited(
                note_mail, purpose=mail_purpose(event.id), limits=REGISTRATION_MAIL_LIMITS
            )
            db.session.commit()
            return RegistrationResult(existing, created=False, mailed=held_back is None)
        confirmed = state == OPEN
        registration = EventRegistration(
            event=event,
            event_id=event.id,
            status=RegistrationStatus.CONFIRMED if confirmed else RegistrationStatus.WAITING,
            language=language,
            consent_version=consent_version,
            consent_at=func.now(),
            token_generation=1,
            created_at=func.clock_timestamp(),
            confirmed_at=func.now() if confirmed else None,
            **clean,
        )
        db.session.add(registration)
        db.session.flush()
        kind = "registration_confirmed" if confirmed else "registration_waiting"
        held_back = mail.queue_limited(
            mail.compose(kind, registration=registration),
            purpose=mail_purpose(event.id),
            limits=REGISTRATION_MAIL_LIMITS,
        )
        if held_back is not None:
            raise RegistrationLimited
    except (RegistrationClosed, RegistrationLimited):
        db.session.rollback()
        raise
    db.session.commit()
    return RegistrationResult(registration, created=True, mailed=True)


# --- cancelling --------------------------------------------------------------------------------


def _fill_places(event: Event) -> list[EventRegistration]:
    """Move waiting registrations up while places are free (the event's row locked, not
    committed), each with the mail "registration_moved_up"; the ones moved up."""
    if availability(event) not in REGISTERABLE:
        return []
    free = None if event.capacity is None else event.capacity - _confirmed_count(event.id)
    query = (
        select(EventRegistration)
        .where(
            EventRegistration.event_id == event.id,
            EventRegistration.status == RegistrationStatus.WAITING,
        )
        .order_by(EventRegistration.created_at, EventRegistration.id)
        .with_for_update()
    )
    if free is not None:
        if free <= 0:
            return []
        query = query.limit(free)
    moved = list(db.session.scalars(query))
    for registration in moved:
        registration.status = RegistrationStatus.CONFIRMED
        registration.confirmed_at = now()
        mail.queue(
            mail.compose("registration_moved_up", registration=registration),
            purpose=mail_purpose(event.id),
        )
    return moved


def fill_places(event: Event) -> int:
    """Move waiting registrations up into free places (e.g. after the capacity was raised),
    with mails; commits. How many moved up."""
    event = _lock_event(event.id)
    moved = _fill_places(event)
    db.session.commit()
    return len(moved)


def cancel(registration: EventRegistration, *, actor: StaffUser | None = None) -> bool:
    """Cancel a registration (by its link, or by staff: ``actor``, audited, and the person is
    told) and, if it held a place, move the first waiting registration up; commits. False if
    it was cancelled already (nothing changes). EventNotAllowed for staff who may not manage
    the event."""
    if actor is not None and not events.may_manage(actor, registration.event):
        raise events.EventNotAllowed
    event = _lock_event(registration.event_id)
    registration = db.session.scalars(
        select(EventRegistration).where(EventRegistration.id == registration.id).with_for_update(),
        execution_options={"populate_existing": True},
    ).one()
    if registration.status is RegistrationStatus.CANCELLED:
        db.session.commit()
        return False
    held_place = registration.status is RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now()
    if actor is not None:
        audit.record_event("registration_cancelled", event, actor=actor, note=f"#{registration.id}")
        mail.queue(
            mail.compose("registration_cancelled", registration=registration),
            purpose=mail_purpose(event.id),
        )
    db.session.flush()
    if held_place:
        _fill_places(event)
    db.session.commit()
    return True


def erase_by_addresses(addresses: set[str]) -> int:
    """Erase the registrations made with any of ``addresses`` (lower case), e.g. a business's
    when it has its entry erased: an active one is cancelled (a waiting registration moves
    up into the freed place, with its mail), and name, e-mail and note are emptied as by
    :func:`purge` (the row stays, so counts stay right). Not committed: part of the caller's
    transaction. How many were erased."""
    if not addresses:
        return 0
    found = list(
        db.session.scalars(
            select(EventRegistration)
            .where(
                func.lower(EventRegistration.email).in_(sorted(addresses)),
                EventRegistration.anonymised_at.is_(None),
            )
            .order_by(EventRegistration.event_id, EventRegistration.id)
        )
    )
    moment = now()
    freed = set()
    for registration in found:
        _lock_event(registration.event_id)
        if registration.status is RegistrationStatus.CONFIRMED:
            freed.add(registration.event_id)
        if registration.status is not RegistrationStatus.CANCELLED:
            registration.status = RegistrationStatus.CANCELLED
            registration.cancelled_at = moment
        registration.name = registration.email = registration.note = ""
        registration.anonymised_at = moment
    db.session.flush()
    for event_id in sorted(freed):
        _fill_places(db.session.get(Event, event_id))
    return len(found)


def queue_cancellation_mails(event: Event) -> int:
    """Tell everyone registered for ``event`` (confirmed or waiting) that it is cancelled:
    the mails are queued in the caller's transaction (not committed). How many."""
    active = db.session.scalars(
        select(EventRegistration)
        .where(
            EventRegistration.event_id == event.id,
            EventRegistration.status != RegistrationStatus.CANCELLED,
            EventRegistration.anonymised_at.is_(None),
        )
        .order_by(EventRegistration.id)
    )
    count = 0
    for registration in active:
        mail.queue(
            mail.compose("registration_event_cancelled", registration=registration),
            purpose=mail_purpose(event.id),
        )
        count += 1
    return count


# --- scheduled work ----------------------------------------------------------------------------


def send_reminders(now: datetime | None = None) -> int:
    """Remind every confirmed registration of a published, not cancelled event that starts
    within the next 24 hours (in practice: the day before), once (``reminded_at``); commits.
    How many were reminded. Two runs at once do not remind anyone twice (rows are locked)."""
    moment = now or events.now()
    due = db.session.scalars(
        select(EventRegistration)
        .join(Event, Event.id == EventRegistration.event_id)
        .where(
            EventRegistration.status == RegistrationStatus.CONFIRMED,
            EventRegistration.reminded_at.is_(None),
            EventRegistration.anonymised_at.is_(None),
            Event.status == EventStatus.PUBLISHED,
            Event.cancelled_at.is_(None),
            Event.starts_at > moment,
            Event.starts_at <= moment + REMIND_AHEAD,
        )
        .order_by(EventRegistration.id)
        .with_for_update(of=EventRegistration, skip_locked=True)
    ).all()
    for registration in due:
        registration.reminded_at = moment
        mail.queue(
            mail.compose("registration_reminder", registration=registration),
            purpose=mail_purpose(registration.event_id),
        )
    db.session.commit()
    return len(due)


def purge(now: datetime | None = None) -> int:
    """Delete the personal data of the registrations of events that ended more than
    ``KEEP_PAST_DAYS`` days ago: name, e-mail and note are emptied and ``anonymised_at`` set
    (the rows stay, so counts stay right), and the outbox copies of the mails about those
    registrations lose their recipient and text. Commits; how many registrations were
    anonymised (a second run finds none)."""
    moment = now or events.now()
    cutoff = moment - timedelta(days=events.KEEP_PAST_DAYS)
    past = select(Event.id).where(Event.last_ends_at.is_not(None), Event.last_ends_at < cutoff)
    anonymised = db.session.execute(
        update(EventRegistration)
        .where(
            EventRegistration.event_id.in_(past.scalar_subquery()),
            EventRegistration.anonymised_at.is_(None),
        )
        .values(name="", email="", note="", anonymised_at=moment)
        .execution_options(synchronize_session=False)
    ).rowcount
    purposes = select(func.concat(PURPOSE_PREFIX, Event.id)).where(
        Event.last_ends_at.is_not(None), Event.last_ends_at < cutoff
    )
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.purpose.like(f"{PURPOSE_PREFIX}%"),
            OutboxMessage.purpose.in_(purposes.scalar_subquery()),
            (OutboxMessage.recipient != "") | (OutboxMessage.body != ""),
        )
        .values(recipient="", body="")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return anonymised
