"""The write model of events and partner organisations: the one place that creates, changes,
cancels and reviews an event. The workspace, the feed import, the demo data and the tests all
use it; each public function commits its own transaction with the change's audit entry.

Values are a plain mapping of :data:`FIELDS` to Python values:

- ``starts_at`` and ``ends_at`` as aware datetimes (any zone; all-day events: the first day's
  and the day after the last day's local midnight, or dates, which are read as such);
- ``rrule`` as an RFC 5545 RRULE value ("FREQ=WEEKLY;BYDAY=WE;COUNT=10") or "";
- ``exdates`` as the starts of a series' occurrences that do not take place (EXDATE: aware
  datetimes, or dates for an all-day series), at most :data:`MAX_EXDATES`;
- ``location`` as ``(lon, lat)`` or None; ``target_groups`` as a list of keys;
  ``company_ids`` as the ids of the published employers taking part.

:func:`check` refuses bad values with :class:`EventValuesInvalid`, one translated message
per field. Who publishes: staff who manage all events publish directly; a partner's (or its
feed's) events are published directly unless the agency reviews that organisation's events,
and a reviewed partner's change of a published event sends it back to review.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import (
    ATTENDANCE_MODES,
    EVENT_KINDS,
    ORGANISATION_KINDS,
    TARGET_GROUPS,
    Company,
    CompanyStatus,
    Event,
    EventStatus,
    Organisation,
    Permission,
    PostalCode,
    StaffUser,
)
from app.services import audit, ical
from app.services.slugs import unique_slug
from questionnaire.engine import is_email

#: Text columns (None is stored as "").
TEXT_FIELDS = (
    "title",
    "description",
    "accessibility",
    "venue",
    "street",
    "postal_code",
    "town",
    "online_url",
    "price_note",
    "contact_email",
)
#: Every field the values may name.
FIELDS = (
    *TEXT_FIELDS,
    "kind",
    "target_groups",
    "starts_at",
    "ends_at",
    "all_day",
    "rrule",
    "exdates",
    "attendance",
    "municipality_ags",
    "location",
    "free_of_charge",
    "registration_open",
    "capacity",
    "company_ids",
)
#: Fields whose change calendars must see (SEQUENCE is raised).
CALENDAR_FIELDS = frozenset(FIELDS) - {"company_ids", "registration_open", "capacity"}
#: How long text fields may be.
MAX_LENGTHS = {
    "title": 200,
    "description": 5000,
    "accessibility": 1000,
    "venue": 200,
    "street": 200,
    "postal_code": 5,
    "town": 100,
    "online_url": 500,
    "price_note": 200,
    "contact_email": 254,
}
#: How many excluded dates a series may have.
MAX_EXDATES = 500
#: Past events stay in feeds (and their registrations' personal data) this long.
KEEP_PAST_DAYS = 30


class EventValuesInvalid(ValueError):
    """Values that cannot be stored; ``errors`` maps field names to translated messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class EventNotAllowed(PermissionError):
    """The account may not do this to this event or organisation."""


def now() -> datetime:
    """The current time (UTC, aware)."""
    return datetime.now(UTC)


# --- reading --------------------------------------------------------------------------------


def get(event_id: int) -> Event | None:
    """The event with this id (any status)."""
    return db.session.get(Event, event_id)


def by_slug(slug: str) -> Event | None:
    """The event with this slug (any status)."""
    return db.session.scalar(select(Event).where(Event.slug == slug))


def public_condition(*, keep_past_days: int = 0):
    """SQL: published, and not over (or over for less than ``keep_past_days`` days)."""
    cutoff = now() - timedelta(days=keep_past_days)
    return (Event.status == EventStatus.PUBLISHED) & or_(
        Event.last_ends_at.is_(None), Event.last_ends_at >= cutoff
    )


def public_by_slug(slug: str) -> Event | None:
    """The published event with this slug (past ones too: a shared link keeps working)."""
    return db.session.scalar(
        select(Event).where(Event.slug == slug, Event.status == EventStatus.PUBLISHED)
    )


def visible_to(actor: StaffUser):
    """SQL: the events ``actor`` may manage (a partner: its organisation's)."""
    if actor.can(Permission.MANAGE_ALL_EVENTS):
        return Event.id.is_not(None)
    return Event.organisation_id == actor.organisation_id


def may_manage(actor: StaffUser, event: Event) -> bool:
    """Whether ``actor`` may change ``event``."""
    if actor.can(Permission.MANAGE_ALL_EVENTS):
        return True
    return (
        actor.can(Permission.MANAGE_EVENTS)
        and actor.organisation_id is not None
        and event.organisation_id == actor.organisation_id
    )


def upcoming_for_company(company: Company, limit: int = 10) -> list[Event]:
    """Published, not yet over events the employer takes part in, soonest first."""
    query = (
        select(Event)
        .join(Event.companies)
        .where(Company.id == company.id, public_condition(), Event.cancelled_at.is_(None))
        .order_by(Event.starts_at)
        .limit(limit)
    )
    return list(db.session.scalars(query))


# --- checking values ------------------------------------------------------------------------


def _as_moment(value, field: str, errors: dict) -> datetime | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=ical.zone())
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=ical.zone())
    errors[field] = _("Bitte geben Sie Datum und Uhrzeit an.")
    return None


def check(values: Mapping) -> dict:
    """The values made ready for storing; EventValuesInvalid with every problem found."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown event fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    clean: dict = {}
    for field in TEXT_FIELDS:
        if field in values:
            text = (values[field] or "").strip()
            if any(ord(c) < 32 and c not in "\n\r\t" for c in text):
                errors[field] = _("Bitte entfernen Sie die Steuerzeichen aus dem Text.")
            elif len(text) > MAX_LENGTHS[field]:
                errors[field] = _(
                    "Bitte kürzen Sie den Text auf %(count)d Zeichen.", count=MAX_LENGTHS[field]
                )
            clean[field] = text
    if "title" in values and not clean.get("title"):
        errors["title"] = _("Bitte geben Sie einen Titel an.")
    if clean.get("contact_email") and not is_email(clean["contact_email"]):
        errors["contact_email"] = _("Das ist keine gültige E-Mail-Adresse.")
    if clean.get("postal_code") and not (
        len(clean["postal_code"]) == 5 and clean["postal_code"].isdigit()
    ):
        errors["postal_code"] = _("Bitte geben Sie eine fünfstellige Postleitzahl an.")
    if clean.get("online_url") and not clean["online_url"].startswith(("https://", "http://")):
        errors["online_url"] = _("Bitte geben Sie eine Adresse an, die mit https:// beginnt.")
    if "kind" in values:
        if values["kind"] not in EVENT_KINDS:
            errors["kind"] = _("Bitte wählen Sie eine Art der Veranstaltung.")
        clean["kind"] = values["kind"]
    if "attendance" in values:
        if values["attendance"] not in ATTENDANCE_MODES:
            errors["attendance"] = _("Bitte wählen Sie, ob vor Ort oder online.")
        clean["attendance"] = values["attendance"]
    if "target_groups" in values:
        groups = list(dict.fromkeys(values["target_groups"] or []))
        if any(group not in TARGET_GROUPS for group in groups):
            errors["target_groups"] = _("Bitte wählen Sie nur Zielgruppen aus der Liste.")
        clean["target_groups"] = groups
    for flag in ("all_day", "free_of_charge", "registration_open"):
        if flag in values:
            clean[flag] = bool(values[flag])
    if "capacity" in values:
        capacity = values["capacity"]
        if capacity in (None, ""):
            clean["capacity"] = None
        elif not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            errors["capacity"] = _("Bitte geben Sie eine ganze Zahl ab 1 an.")
        elif capacity > 100_000:
            errors["capacity"] = _("Bitte geben Sie höchstens 100000 Plätze an.")
        else:
            clean["capacity"] = capacity
    for field in ("starts_at", "ends_at"):
        if field in values:
            clean[field] = _as_moment(values[field], field, errors)
    if "rrule" in values:
        rule = (values["rrule"] or "").strip().removeprefix("RRULE:")
        if rule:
            try:
                ical.parse_rrule(rule)
            except ValueError:
                errors["rrule"] = _("Diese Wiederholungsregel ist nicht gültig.")
        clean["rrule"] = rule
    if "exdates" in values:
        clean["exdates"] = _exdates(values["exdates"], errors)
    if "municipality_ags" in values:
        clean["municipality_ags"] = values["municipality_ags"] or None
    if "location" in values:
        location = values["location"]
        if location is not None:
            try:
                lon, lat = (float(v) for v in location)
            except (TypeError, ValueError):
                errors["location"] = _("Der Ort ist keine gültige Koordinate.")
            else:
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    errors["location"] = _("Der Ort ist keine gültige Koordinate.")
                location = (lon, lat)
        clean["location"] = location
    if "company_ids" in values:
        clean["company_ids"] = [int(i) for i in values["company_ids"] or []]
    if errors:
        raise EventValuesInvalid(errors)
    return clean


def _exdates(values, errors: dict) -> list[datetime]:
    """Excluded dates as sorted, distinct aware datetimes (a date: its local midnight)."""
    found = set()
    for value in values or []:
        moment = _as_moment(value, "exdates", errors)
        if moment is None:
            return []
        found.add(moment)
    if len(found) > MAX_EXDATES:
        errors["exdates"] = _(
            "Eine Reihe kann höchstens %(count)d ausfallende Termine haben.", count=MAX_EXDATES
        )
    return sorted(found)


def _check_whole(event: Event) -> None:
    """Rules across fields, on the event as it would be stored."""
    errors: dict[str, str] = {}
    if event.all_day:
        start = ical.local(event.starts_at)
        end = ical.local(event.ends_at)
        event.starts_at = datetime.combine(start.date(), time(0), tzinfo=ical.zone())
        end_day = end.date() if end.time() == time(0) else end.date() + timedelta(days=1)
        event.ends_at = datetime.combine(end_day, time(0), tzinfo=ical.zone())
    if event.ends_at <= event.starts_at:
        errors["ends_at"] = _("Das Ende muss nach dem Beginn liegen.")
    if event.rrule and event.registration_open:
        errors["registration_open"] = _(
            "Für eine Veranstaltungsreihe ist keine Anmeldung möglich. Legen Sie bitte einzelne "
            "Termine an, wenn Sie Anmeldungen brauchen."
        )
    if event.attendance != "online" and event.location is None:
        errors["location"] = _(
            "Bitte geben Sie den Ort an: eine Postleitzahl der Region oder einen Punkt auf der "
            "Karte."
        )
    if event.attendance != "on_site" and not event.online_url:
        errors["online_url"] = _("Bitte geben Sie die Adresse der Online-Veranstaltung an.")
    if errors:
        raise EventValuesInvalid(errors)


def _apply(event: Event, clean: dict) -> set[str]:
    """Set the clean values on ``event``; the names of the fields that changed."""
    changed = set()
    for field, value in clean.items():
        if field == "location":
            old = to_shape(event.location).coords[0] if event.location is not None else None
            new = tuple(round(v, 7) for v in value) if value is not None else None
            if old is None or new is None or tuple(round(v, 7) for v in old) != new:
                if old != new:
                    changed.add(field)
                event.location = from_shape(Point(*new), srid=4326) if new else None
            continue
        if field == "company_ids":
            companies = (
                list(
                    db.session.scalars(
                        select(Company).where(
                            Company.id.in_(value), Company.status == CompanyStatus.PUBLISHED
                        )
                    )
                )
                if value
                else []
            )
            if {c.id for c in companies} != {c.id for c in event.companies}:
                changed.add(field)
            event.companies = companies
            continue
        if getattr(event, field) != value:
            changed.add(field)
            setattr(event, field, value)
    derive_municipality = "postal_code" in changed or (
        event.postal_code and event.municipality_ags is None
    )
    if derive_municipality and not clean.get("municipality_ags"):
        event.municipality_ags = db.session.scalar(
            select(PostalCode.municipality_ags).where(PostalCode.code == event.postal_code)
        )
    if event.location is None and event.postal_code and event.attendance != "online":
        point = db.session.scalar(
            select(PostalCode.point).where(PostalCode.code == event.postal_code)
        )
        if point is not None:
            event.location = point
            changed.add("location")
    return changed


def snapshot(event: Event) -> dict:
    """The event's values as plain JSON (what the audit log keeps)."""
    values = {field: getattr(event, field) for field in TEXT_FIELDS}
    for field in ("kind", "all_day", "rrule", "attendance", "municipality_ags"):
        values[field] = getattr(event, field)
    values["exdates"] = [moment.isoformat() for moment in event.exdates or []]
    values["free_of_charge"] = event.free_of_charge
    values["registration_open"] = event.registration_open
    values["capacity"] = event.capacity
    values["target_groups"] = list(event.target_groups or [])
    values["starts_at"] = event.starts_at.isoformat() if event.starts_at else None
    values["ends_at"] = event.ends_at.isoformat() if event.ends_at else None
    values["status"] = str(event.status)
    values["cancelled"] = event.cancelled_at is not None
    values["company_ids"] = [c.id for c in event.companies]
    if event.location is not None:
        point = to_shape(event.location)
        values["location"] = [round(point.x, 7), round(point.y, 7)]
    else:
        values["location"] = None
    return values


# --- writing --------------------------------------------------------------------------------


def _publishes_directly(organisation: Organisation, actor: StaffUser | None) -> bool:
    if actor is not None and actor.can(Permission.MANAGE_ALL_EVENTS):
        return True
    return not organisation.review_required


def _new_uid() -> str:
    return f"{secrets.token_hex(16)}@kmu-atlas"


def build(
    organisation: Organisation,
    values: Mapping,
    *,
    actor: StaffUser | None,
    source: str = "manual",
    source_uid: str | None = None,
) -> Event:
    """A new event of ``organisation`` from checked values, added to the session (not
    committed): published or waiting for review (see the module's docstring)."""
    clean = check(values)
    missing = {"title", "starts_at", "ends_at", "kind"} - set(clean)
    if missing:
        raise EventValuesInvalid(
            {field: _("Bitte füllen Sie dieses Feld aus.") for field in sorted(missing)}
        )
    event = Event(
        uid=_new_uid(),
        organisation=organisation,
        organisation_id=organisation.id,
        source=source,
        source_uid=source_uid,
        created_by_id=actor.id if actor else None,
        sequence=0,
        target_groups=[],
        companies=[],
        **{field: "" for field in TEXT_FIELDS},
        rrule="",
        exdates=[],
        attendance="on_site",
        all_day=False,
        free_of_charge=True,
        registration_open=False,
        created_at=now(),
        updated_at=now(),
    )
    _apply(event, clean)
    _check_whole(event)
    event.last_ends_at = ical.last_end(event)
    event.slug = unique_slug(event.title, ical.local(event.starts_at).strftime("%Y-%m-%d"), Event)
    if _publishes_directly(organisation, actor):
        event.status = EventStatus.PUBLISHED
        event.published_at = func.now()
    else:
        event.status = EventStatus.PENDING
    db.session.add(event)
    db.session.flush()
    audit.record_event(
        "event_created",
        event,
        actor=actor,
        after=snapshot(event),
        actor_label=f"feed:{organisation.name}" if source == "feed" else audit.SYSTEM,
    )
    return event


def create(
    organisation: Organisation, values: Mapping, *, actor: StaffUser | None, **options
) -> Event:
    """Create an event (see :func:`build`) and commit it."""
    if actor is not None and not _may_use(actor, organisation):
        raise EventNotAllowed
    event = build(organisation, values, actor=actor, **options)
    db.session.commit()
    return event


def _may_use(actor: StaffUser, organisation: Organisation) -> bool:
    return actor.can(Permission.MANAGE_ALL_EVENTS) or (
        actor.can(Permission.MANAGE_EVENTS) and actor.organisation_id == organisation.id
    )


def apply_changes(event: Event, values: Mapping, *, actor: StaffUser | None) -> set[str]:
    """Change ``event`` (not committed): raises SEQUENCE when calendars must see it, sends a
    reviewed partner's change of a published event back to review; the changed fields."""
    before = snapshot(event)
    clean = check(values)
    changed = _apply(event, clean)
    _check_whole(event)
    if not changed:
        return changed
    event.last_ends_at = ical.last_end(event)
    if changed & CALENDAR_FIELDS:
        event.sequence += 1
    if event.status is EventStatus.PUBLISHED and not _publishes_directly(event.organisation, actor):
        # A reviewed organisation's change (by hand or through its feed) is reviewed again.
        event.status = EventStatus.PENDING
    event.updated_at = now()
    audit.record_event("event_changed", event, actor=actor, before=before, after=snapshot(event))
    return changed


def update(event: Event, values: Mapping, *, actor: StaffUser) -> set[str]:
    """Change an event and commit; EventNotAllowed for someone else's event."""
    if not may_manage(actor, event):
        raise EventNotAllowed
    try:
        changed = apply_changes(event, values, actor=actor)
    except EventValuesInvalid:
        db.session.rollback()
        raise
    db.session.commit()
    return changed


def mark_cancelled(event: Event, *, actor: StaffUser | None, note: str = "") -> bool:
    """Cancel ``event`` (not committed): it stays, with STATUS:CANCELLED in feeds, and its
    SEQUENCE raised. False if it was cancelled already."""
    if event.cancelled_at is not None:
        return False
    before = snapshot(event)
    event.cancelled_at = now()
    event.sequence += 1
    event.updated_at = now()
    audit.record_event(
        "event_cancelled", event, actor=actor, before=before, after=snapshot(event), note=note
    )
    from app.services import registrations

    registrations.queue_cancellation_mails(event)
    return True


def mark_restored(event: Event, *, actor: StaffUser | None, note: str = "") -> bool:
    """Take back the cancellation of ``event`` (not committed; e.g. it is back in its
    organisation's feed), with its SEQUENCE raised. False if it was not cancelled."""
    if event.cancelled_at is None:
        return False
    before = snapshot(event)
    event.cancelled_at = None
    event.sequence += 1
    event.updated_at = now()
    audit.record_event(
        "event_restored", event, actor=actor, before=before, after=snapshot(event), note=note
    )
    return True


def cancel(event: Event, *, actor: StaffUser, note: str = "") -> bool:
    """Cancel an event and commit (registered people are told); see :func:`mark_cancelled`."""
    if not may_manage(actor, event):
        raise EventNotAllowed
    cancelled = mark_cancelled(event, actor=actor, note=note)
    db.session.commit()
    return cancelled


def review(event: Event, *, actor: StaffUser, approve: bool, note: str = "") -> None:
    """Publish or reject an event waiting for review (agency staff only)."""
    if not actor.can(Permission.MANAGE_ALL_EVENTS):
        raise EventNotAllowed
    before = snapshot(event)
    if approve:
        event.status = EventStatus.PUBLISHED
        event.published_at = event.published_at or now()
    else:
        event.status = EventStatus.REJECTED
    event.updated_at = now()
    audit.record_event(
        "event_approved" if approve else "event_rejected",
        event,
        actor=actor,
        before=before,
        after=snapshot(event),
        note=note,
    )
    db.session.commit()


# --- organisations --------------------------------------------------------------------------


def organisations() -> list[Organisation]:
    """Every partner organisation, by name."""
    return list(db.session.scalars(select(Organisation).order_by(func.lower(Organisation.name))))


def save_organisation(
    values: Mapping, *, actor: StaffUser | None, organisation: Organisation | None = None
) -> Organisation:
    """Create or change an organisation (name, kind, website, review_required, feed_url) and
    commit; EventValuesInvalid for bad values. Only staff who manage all events may."""
    if actor is not None and not actor.can(Permission.MANAGE_ALL_EVENTS):
        raise EventNotAllowed
    errors: dict[str, str] = {}
    name = (values.get("name") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = _("Bitte geben Sie den Namen der Organisation an (bis 200 Zeichen).")
    elif db.session.scalar(
        select(Organisation.id).where(
            func.lower(Organisation.name) == name.lower(),
            Organisation.id != (organisation.id if organisation else -1),
        )
    ):
        errors["name"] = _("Eine Organisation mit diesem Namen gibt es schon.")
    kind = values.get("kind") or "other"
    if kind not in ORGANISATION_KINDS:
        errors["kind"] = _("Bitte wählen Sie eine Art der Organisation.")
    website = (values.get("website") or "").strip()
    if website and (len(website) > 300 or not website.startswith(("https://", "http://"))):
        errors["website"] = _("Bitte geben Sie eine Adresse an, die mit https:// beginnt.")
    feed_url = (values.get("feed_url") or "").strip()
    if feed_url:
        from app.services import safe_fetch

        try:
            safe_fetch.check_url(feed_url)
        except safe_fetch.FetchRefused as error:
            errors["feed_url"] = str(error)
    if errors:
        raise EventValuesInvalid(errors)
    creating = organisation is None
    if creating:
        organisation = Organisation(name=name)
        db.session.add(organisation)
    if organisation.feed_url != feed_url:
        organisation.feed_etag = ""
        organisation.feed_last_modified = ""
        organisation.feed_error = ""
    organisation.name = name
    organisation.kind = kind
    organisation.website = website
    organisation.feed_url = feed_url
    if "review_required" in values:
        organisation.review_required = bool(values["review_required"])
    db.session.commit()
    return organisation


def set_feed_url(organisation: Organisation, feed_url: str, *, actor: StaffUser) -> None:
    """A partner connects (or, with "", disconnects) its calendar's iCal feed; commits.
    EventValuesInvalid if the address may not be fetched."""
    if not _may_use(actor, organisation):
        raise EventNotAllowed
    from app.services import safe_fetch

    feed_url = feed_url.strip()
    if feed_url:
        if len(feed_url) > 1000:
            raise EventValuesInvalid({"feed_url": _("Die Adresse ist zu lang.")})
        try:
            safe_fetch.check_url(feed_url)
        except safe_fetch.FetchRefused as error:
            raise EventValuesInvalid({"feed_url": str(error)}) from None
    if organisation.feed_url != feed_url:
        organisation.feed_url = feed_url
        organisation.feed_etag = ""
        organisation.feed_last_modified = ""
        organisation.feed_error = ""
    db.session.commit()


def events_this_month() -> tuple[int, int]:
    """(published events with an occurrence this month, active registrations for them)."""
    from app.models import EventRegistration, RegistrationStatus

    today = ical.local(now()).date()
    start = datetime.combine(today.replace(day=1), time(0), tzinfo=ical.zone())
    end = datetime.combine(
        (today.replace(day=28) + timedelta(days=4)).replace(day=1), time(0), tzinfo=ical.zone()
    )
    candidates = db.session.scalars(
        select(Event).where(
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at < end,
            or_(Event.last_ends_at.is_(None), Event.last_ends_at > start),
        )
    )
    ids = {o.event.id for o in ical.occurrences(candidates, start, end)}
    registrations = db.session.scalar(
        select(func.count(EventRegistration.id)).where(
            EventRegistration.event_id.in_(ids),
            EventRegistration.status != RegistrationStatus.CANCELLED,
        )
    )
    return len(ids), registrations or 0
