"""Events as iCalendar (RFC 5545) and series as their occurrences.

Everything iCalendar is done by the ``icalendar`` library (components, escaping, folding,
VTIMEZONE) and series are expanded by ``recurring-ical-events``; nothing here writes the
format by hand. An event's UID never changes and its SEQUENCE is raised on every change
(:mod:`app.services.events`), so calendar clients see updates as updates. DTSTAMP is the
time of the event's last revision, so an unchanged feed is the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from flask import current_app
from geoalchemy2.shape import to_shape
from icalendar import Calendar, vRecur
from icalendar import Event as VEvent

from app.models import Event

PRODID = "-//KMU-Atlas//Veranstaltungen//DE"


def zone() -> ZoneInfo:
    """The time zone events are meant in (the app's, Europe/Berlin)."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local(moment: datetime) -> datetime:
    """``moment`` in the app's time zone."""
    return moment.astimezone(zone())


def parse_rrule(text: str) -> vRecur:
    """An RRULE value (``FREQ=WEEKLY;BYDAY=WE;COUNT=10``) parsed by icalendar; ValueError if
    it is not one."""
    text = text.strip().removeprefix("RRULE:")
    recur = vRecur.from_ical(text)
    if "FREQ" not in recur:
        raise ValueError("RRULE without FREQ")
    return recur


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an event: the event, and this occurrence's start and end (local)."""

    event: Event
    starts_at: datetime
    ends_at: datetime

    @property
    def all_day(self) -> bool:
        return self.event.all_day

    @property
    def last_day(self) -> date:
        """The last day the occurrence touches (an all-day event's end is exclusive)."""
        end = self.ends_at - timedelta(microseconds=1)
        return end.date()


def _start_end(event: Event) -> tuple[date | datetime, date | datetime]:
    """DTSTART and DTEND values: dates for an all-day event, else aware local datetimes."""
    start, end = local(event.starts_at), local(event.ends_at)
    if event.all_day:
        return start.date(), end.date()
    return start, end


def _location_text(event: Event) -> str:
    place = " ".join(part for part in (event.postal_code, event.town) if part)
    parts = [event.venue, event.street, place]
    if event.attendance != "on_site" and event.online_url:
        parts.append(event.online_url)
    return ", ".join(part for part in parts if part)


def component(event: Event, *, url: str | None = None, with_rrule: bool = True) -> VEvent:
    """The VEVENT of ``event`` (with its RRULE and EXDATEs, and STATUS:CANCELLED when
    cancelled)."""
    vevent = VEvent()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", event.updated_at or event.created_at or datetime.now(UTC))
    if event.created_at:
        vevent.add("created", event.created_at)
    if event.updated_at:
        vevent.add("last-modified", event.updated_at)
    vevent.add("sequence", event.sequence)
    start, end = _start_end(event)
    vevent.add("dtstart", start)
    vevent.add("dtend", end)
    if with_rrule and event.rrule:
        vevent.add("rrule", parse_rrule(event.rrule))
        if event.exdates:
            vevent.add("exdate", [_exdate(event, moment) for moment in event.exdates])
    vevent.add("summary", event.title)
    if event.description:
        vevent.add("description", event.description)
    location = _location_text(event)
    if location:
        vevent.add("location", location)
    if event.location is not None:
        point = to_shape(event.location)
        vevent.add("geo", (point.y, point.x))
    if url:
        vevent.add("url", url)
    organiser = event.organisation.name if event.organisation else ""
    if event.contact_email:
        vevent.add("organizer", f"mailto:{event.contact_email}", parameters={"CN": organiser})
    vevent.add("categories", [event.kind])
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("transp", "TRANSPARENT" if event.all_day else "OPAQUE")
    return vevent


def _exdate(event: Event, moment: datetime) -> date | datetime:
    """An excluded date in the form of the event's DTSTART: a date for an all-day event, else
    the local time (RFC 5545: EXDATE has DTSTART's value type and zone)."""
    return local(moment).date() if event.all_day else local(moment)


def calendar(
    events: Iterable[Event], *, name: str, url_of: Callable[[Event], str] | None = None
) -> Calendar:
    """A VCALENDAR with one VEVENT per event and the VTIMEZONEs they need."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", str(zone()))
    for event in events:
        cal.add_component(component(event, url=url_of(event) if url_of else None))
    cal.add_missing_timezones()
    return cal


def to_bytes(cal: Calendar) -> bytes:
    """The calendar as RFC 5545 text (CRLF lines, folded)."""
    return cal.to_ical()


def occurrences(events: Iterable[Event], start: datetime, end: datetime) -> list[Occurrence]:
    """The occurrences of ``events`` that overlap [start, end), by start time.

    A single event is its own occurrence; a series is expanded by ``recurring-ical-events``.
    """
    found: list[Occurrence] = []
    for event in events:
        if not event.rrule:
            if event.starts_at < end and event.ends_at > start:
                found.append(Occurrence(event, local(event.starts_at), local(event.ends_at)))
            continue
        cal = Calendar()
        cal.add_component(component(event))
        for vevent in recurring_ical_events.of(cal).between(start, end):
            found.append(
                Occurrence(
                    event,
                    _as_local(vevent.decoded("dtstart")),
                    _as_local(vevent.decoded("dtend")),
                )
            )
    found.sort(key=lambda o: (o.starts_at, o.event.title.casefold(), o.event.id))
    return found


def last_end(event: Event) -> datetime | None:
    """The end of the event's last occurrence; None for a series without COUNT or UNTIL."""
    if not event.rrule:
        return event.ends_at
    recur = parse_rrule(event.rrule)
    if "COUNT" not in recur and "UNTIL" not in recur:
        return None
    cal = Calendar()
    cal.add_component(component(event))
    last = None
    for vevent in recurring_ical_events.of(cal).after(event.starts_at):
        last = vevent
    if last is None:
        return event.ends_at
    return _as_local(last.decoded("dtend"))


def _as_local(value: date | datetime) -> datetime:
    """A DTSTART/DTEND value as an aware local datetime (a date is local midnight)."""
    if isinstance(value, datetime):
        return local(value) if value.tzinfo else value.replace(tzinfo=zone())
    return datetime.combine(value, time(0), tzinfo=zone())
