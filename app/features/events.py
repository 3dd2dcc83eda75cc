"""Events as a feature source: published, not cancelled events with a place, for the map
layer "Veranstaltungen" (``/api/events``), and the same parameters for the event list, the
month calendar and the iCalendar feed.

The parameters (kind, municipality, target group, free of charge, on site / online, text) are
declared here once and parsed by :func:`app.features.pipeline.parse_filter`. The map's source
(:data:`EVENTS`, registered) shows only located, not cancelled, not past events; the pages and
the feed use other scopes of the same source (:func:`scoped`): online events, cancelled ones
(marked) and, for the feed, those of the last 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import format_time as babel_format_time
from flask_babel import gettext as _
from geoalchemy2.shape import to_shape
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from app.extensions import db

# Importing the employer source registers it first: it stays the map's primary source.
from app.features.employers import fold_for_search, municipality_parameter
from app.features.filters import FeatureFilter, Parameter, shown, text_parameter
from app.features.pipeline import matching
from app.features.source import register
from app.models import (
    EVENT_KINDS,
    TARGET_GROUPS,
    Company,
    CompanyStatus,
    Event,
    EventRegistration,
    Municipality,
    RegistrationStatus,
)
from app.services import event_vocabulary, events, ical

#: German collation for sorting titles (as employers' names).
NAME_COLLATION = "de-x-icu"
#: The values of ``free`` and ``attendance``.
FREE_VALUES = ("yes", "no")
ATTENDANCE_VALUES = ("on_site", "online")
#: How far ahead the map looks for a series' next occurrence.
NEXT_HORIZON = timedelta(days=366)
#: The colour and symbol of the layer (legend checkbox and markers, app.css).
COLOUR = "#8a3b12"
SYMBOL = "V"


PARAMETERS = (
    text_parameter("q"),
    Parameter(
        "kind",
        "choice",
        multiple=True,
        options=EVENT_KINDS,
        allowed=lambda v: EVENT_KINDS,
        message=lambda value, v: _(
            "Unbekannte Art der Veranstaltung „%(value)s“: erlaubt sind %(allowed)s.",
            value=shown(value),
            allowed=", ".join(EVENT_KINDS),
        ),
    ),
    municipality_parameter(),
    Parameter(
        "target_group",
        "choice",
        multiple=True,
        options=TARGET_GROUPS,
        allowed=lambda v: TARGET_GROUPS,
        message=lambda value, v: _(
            "Unbekannte Zielgruppe „%(value)s“: erlaubt sind %(allowed)s.",
            value=shown(value),
            allowed=", ".join(TARGET_GROUPS),
        ),
    ),
    Parameter(
        "free",
        "choice",
        options=FREE_VALUES,
        allowed=lambda v: FREE_VALUES,
        message=lambda value, v: _(
            "„%(value)s“ passt nicht zu „kostenlos“: erlaubt sind yes und no.",
            value=shown(value),
        ),
    ),
    Parameter(
        "attendance",
        "choice",
        options=ATTENDANCE_VALUES,
        allowed=lambda v: ATTENDANCE_VALUES,
        message=lambda value, v: _(
            "„%(value)s“ passt nicht zu „vor Ort oder online“: erlaubt sind on_site und online.",
            value=shown(value),
        ),
    ),
)
#: The filter parameters, in the order permalinks list them.
FILTER_PARAMS = tuple(parameter.name for parameter in PARAMETERS)


@dataclass(frozen=True)
class EventVocabulary:
    """What the event filters accept besides their fixed options: the region's municipalities."""

    municipalities: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class EventFilter(FeatureFilter):
    """What a jobseeker asked for, with the event parameters as typed fields."""

    kinds: frozenset[str] = frozenset()
    municipalities: frozenset[str] = frozenset()
    target_groups: frozenset[str] = frozenset()
    #: True: free of charge only; False: with a fee only; None: both.
    free: bool | None = None
    #: "on_site" (on site or hybrid), "online" (online or hybrid) or "" (all).
    attendance: str = ""
    text: str = ""

    @classmethod
    def from_values(cls, *, values, **fields) -> EventFilter:
        """The filter from the parsed values of :data:`PARAMETERS` (see ``features.parse``)."""
        free = set(values.get("free", ()))
        attendance = set(values.get("attendance", ()))
        fields.setdefault("order", FILTER_PARAMS)
        return cls(
            values=values,
            kinds=frozenset(values.get("kind", ())),
            municipalities=frozenset(values.get("municipality", ())),
            target_groups=frozenset(values.get("target_group", ())),
            free=(free == {"yes"}) if len(free) == 1 else None,
            attendance=attendance.pop() if len(attendance) == 1 else "",
            text=values.get("q", ""),
            **fields,
        )


def in_municipalities(keys: list[str]):
    """Events in any of the municipalities ``keys``: a located event inside the boundary of
    one that has a stored boundary, else by the event's ``municipality_ags`` (as employers)."""
    located = aliased(Event)
    inside = (
        select(located.id)
        .join(Municipality, func.ST_Intersects(Municipality.boundary, located.location))
        .where(Municipality.ags.in_(keys), Municipality.boundary.is_not(None))
    )
    shaped = exists().where(
        Municipality.ags == Event.municipality_ags, Municipality.boundary.is_not(None)
    )
    by_key = Event.municipality_ags.in_(keys) & (~shaped | Event.location.is_(None))
    return or_(Event.id.in_(inside), by_key)


def text_condition(text: str):
    """Every word of ``text`` in the title or the description (folded like ``atlas_fold``)."""
    words = [word for word in fold_for_search(text).split() if word]
    conditions = []
    for word in words:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                func.atlas_fold(Event.title).like(pattern, escape="\\"),
                func.atlas_fold(Event.description).like(pattern, escape="\\"),
            )
        )
    return and_(*conditions) if conditions else None


def filter_conditions(f: EventFilter) -> list:
    """The SQL conditions of the filter's own parameters."""
    conditions = []
    if f.kinds:
        conditions.append(Event.kind.in_(sorted(f.kinds)))
    if f.municipalities:
        conditions.append(in_municipalities(sorted(f.municipalities)))
    if f.target_groups:
        conditions.append(Event.target_groups.overlap(sorted(f.target_groups)))
    if f.free is not None:
        conditions.append(Event.free_of_charge.is_(f.free))
    if f.attendance:
        conditions.append(Event.attendance.in_((f.attendance, "hybrid")))
    if f.text and (condition := text_condition(f.text)) is not None:
        conditions.append(condition)
    return conditions


def place_text(event: Event) -> str:
    """Where the event takes place, as one line ("" for an online-only event)."""
    if event.attendance == "online":
        return ""
    town = " ".join(part for part in (event.postal_code, event.town) if part)
    return ", ".join(part for part in (event.venue, event.street, town) if part)


def next_occurrence(event: Event) -> ical.Occurrence | None:
    """The event's current or next occurrence (None when all are over)."""
    if not event.rrule:
        return ical.Occurrence(event, ical.local(event.starts_at), ical.local(event.ends_at))
    start = max(events.now(), event.starts_at)
    found = ical.occurrences([event], start, start + NEXT_HORIZON)
    return found[0] if found else None


def when_text(occurrence: ical.Occurrence) -> str:
    """An occurrence's date (and start time) in the interface language."""
    if occurrence.all_day:
        first, last = occurrence.starts_at.date(), occurrence.last_day
        if first == last:
            return format_date(first, "full")
        return f"{format_date(first, 'medium')} – {format_date(last, 'medium')}"
    day = format_date(occurrence.starts_at.date(), "full")
    return f"{day}, {format_time(occurrence.starts_at)}"


def format_time(moment) -> str:
    """A local time of day, short ("10:00"; "10:00 AM" in English)."""
    return babel_format_time(moment, "short")


def public_properties(event: Event) -> dict:
    """The public fields of an event as JSON-ready properties (never the contact address)."""
    occurrence = next_occurrence(event)
    return {
        "id": event.id,
        "slug": event.slug,
        "title": event.title,
        "kind": event.kind,
        "kind_label": event_vocabulary.kinds().get(event.kind, event.kind),
        "starts_at": occurrence.starts_at.isoformat() if occurrence else None,
        "when": when_text(occurrence) if occurrence else "",
        "all_day": event.all_day,
        "series": event.is_series,
        "place": place_text(event),
        "attendance": event.attendance,
        "organiser": event.organisation.name if event.organisation else "",
        "free_of_charge": event.free_of_charge,
        "url": url_for("events.detail", slug=event.slug),
        "cancelled": event.cancelled,
    }


class EventSource:
    """Published events for the map (``located``: with a place, not online-only; without
    cancelled ones), or, in other scopes, for the list, the calendar page and the feed."""

    key = "events"
    parameters = PARAMETERS
    detail_endpoint = "events.detail"
    marker = {"className": "event-marker", "clusterClassName": "event-cluster"}

    def __init__(
        self, *, located: bool = True, cancelled: bool = False, keep_past_days: int = 0
    ) -> None:
        self.located = located
        self.cancelled = cancelled
        self.keep_past_days = keep_past_days
        self.geometry = Event.location
        self.id_column = Event.id
        self.name_order = (Event.title.collate(NAME_COLLATION),)

    def label(self) -> str:
        """The source's name in the interface language."""
        return _("Veranstaltungen")

    def empty_filter(self) -> EventFilter:
        """A filter that narrows nothing."""
        return EventFilter(order=FILTER_PARAMS)

    make_filter = staticmethod(EventFilter.from_values)

    def vocabulary(self) -> EventVocabulary:
        """The municipalities of the region (the other choices are fixed)."""
        region = current_app.config["REGION"]
        return EventVocabulary(frozenset(m.ags for m in region.municipalities))

    def query(self, f: EventFilter) -> Select:
        """Public events of this scope that pass the event parameters."""
        query = select(Event).where(events.public_condition(keep_past_days=self.keep_past_days))
        if not self.cancelled:
            query = query.where(Event.cancelled_at.is_(None))
        if self.located:
            query = query.where(Event.location.is_not(None), Event.attendance != "online")
        for condition in filter_conditions(f):
            query = query.where(condition)
        return query

    def with_details(self, query: Select) -> Select:
        """The organisation, which ``properties`` reads, loaded with the events."""
        return query.options(selectinload(Event.organisation))

    def entity(self, row) -> Event:
        """The event of a result row."""
        return row[0]

    def properties(self, row) -> dict:
        """The public fields of a result row's event."""
        return public_properties(row[0])

    def feature_id(self, row) -> int:
        """The event's id."""
        return row[0].id

    def detail_values(self, row) -> dict:
        """The URL values of the event's page."""
        return {"slug": row[0].slug}

    def export_rows(self, f: EventFilter, **options):
        """Column names and a query of rows for an export; the last two are lon and lat."""
        names = ["slug", "title", "kind", "starts_at", "ends_at", "all_day", "rrule", "town"]
        columns = [
            Event.slug,
            Event.title,
            Event.kind,
            Event.starts_at,
            Event.ends_at,
            Event.all_day,
            Event.rrule,
            Event.town,
            func.ST_X(Event.location),
            func.ST_Y(Event.location),
        ]
        query = matching(self, f, use_view=False).with_only_columns(*columns)
        return names, query.order_by(Event.id)

    def declaration_extras(self) -> dict:
        """A switchable layer in the legend (with the layer kinds' checkbox), off at first."""
        return {
            "layer": {
                "key": self.key,
                "name": self.label(),
                "colour": COLOUR,
                "symbol": SYMBOL,
                "proximity": False,
                "fields": [
                    {"key": "kind_label", "label": _("Art")},
                    {"key": "when", "label": _("Nächster Termin")},
                    # The organisers' own texts, German as written (``lang`` in the popup).
                    {"key": "place", "label": _("Ort"), "lang": "de"},
                    {"key": "organiser", "label": _("Veranstalter"), "lang": "de"},
                ],
                "attribution": "",
            },
            "initiallyShown": False,
        }


EVENTS = register(EventSource())


def scoped(*, cancelled: bool = True, keep_past_days: int = 0) -> EventSource:
    """The event source for pages and feeds: online events too, cancelled ones (marked) when
    ``cancelled``, and past ones of the last ``keep_past_days`` days. Not registered."""
    return EventSource(located=False, cancelled=cancelled, keep_past_days=keep_past_days)


#: The list shows this many days ahead, and this many occurrences a page.
LIST_HORIZON = timedelta(days=183)
PER_PAGE = 30
#: An event's page lists at most this many dates of a series.
DETAIL_DATES = 10
#: Past events stay in the feed this long (and cancelled ones are in it, STATUS:CANCELLED).
FEED_KEEP_PAST_DAYS = events.KEEP_PAST_DAYS


def occurrences_between(f: EventFilter, start: datetime, end: datetime) -> list[ical.Occurrence]:
    """The occurrences in [start, end) of the public events that pass ``f``: online ones too,
    cancelled ones too (pages mark them), series expanded; by start time."""
    candidates = (
        matching(scoped(), f, use_view=False)
        .where(Event.starts_at < end)
        .options(selectinload(Event.organisation))
    )
    return ical.occurrences(db.session.scalars(candidates), start, end)


def upcoming(f: EventFilter) -> list[ical.Occurrence]:
    """The occurrences from now over the next :data:`LIST_HORIZON` (running ones included)."""
    start = events.now()
    return occurrences_between(f, start, start + LIST_HORIZON)


@dataclass(frozen=True)
class OccurrencePage:
    """One page of the list: its occurrences grouped by (local) start day."""

    days: list[tuple[date, list[ical.Occurrence]]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def by_day(occurrences: list[ical.Occurrence]) -> list[tuple[date, list[ical.Occurrence]]]:
    """Occurrences grouped by their local start day, in order."""
    days: dict[date, list[ical.Occurrence]] = {}
    for occurrence in occurrences:
        days.setdefault(occurrence.starts_at.date(), []).append(occurrence)
    return list(days.items())


def list_page(f: EventFilter, page: int, per_page: int = PER_PAGE) -> OccurrencePage:
    """Page ``page`` of the upcoming occurrences, grouped by day."""
    found = upcoming(f)
    shown = found[(page - 1) * per_page : page * per_page]
    return OccurrencePage(by_day(shown), len(found), page, per_page)


def month_occurrences(f: EventFilter, first_day: date) -> dict[date, list[ical.Occurrence]]:
    """Each day of the month starting ``first_day`` with the occurrences on it (a multi-day
    occurrence on each of its days)."""
    zone = ical.zone()
    next_month = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = datetime.combine(first_day, time(0), tzinfo=zone)
    end = datetime.combine(next_month, time(0), tzinfo=zone)
    days: dict[date, list[ical.Occurrence]] = {}
    for occurrence in occurrences_between(f, start, end):
        day = max(occurrence.starts_at.date(), first_day)
        last = min(occurrence.last_day, next_month - timedelta(days=1))
        while day <= last:
            days.setdefault(day, []).append(occurrence)
            day += timedelta(days=1)
    return days


def feed_events(f: EventFilter) -> list[Event]:
    """The events of the feed: upcoming ones and those of the last 30 days, cancelled ones
    included; by start."""
    source = scoped(cancelled=True, keep_past_days=FEED_KEEP_PAST_DAYS)
    query = (
        matching(source, f, use_view=False)
        .options(selectinload(Event.organisation))
        .order_by(Event.starts_at, Event.id)
    )
    return list(db.session.scalars(query))


def booked_out(event_ids) -> set[int]:
    """The ids among ``event_ids`` of events with a capacity whose places are all taken."""
    ids = sorted(set(event_ids))
    if not ids:
        return set()
    taken = (
        select(func.count(EventRegistration.id))
        .where(
            EventRegistration.event_id == Event.id,
            EventRegistration.status == RegistrationStatus.CONFIRMED,
        )
        .scalar_subquery()
    )
    query = select(Event.id).where(
        Event.id.in_(ids), Event.capacity.is_not(None), taken >= Event.capacity
    )
    return set(db.session.scalars(query))


def is_past(event: Event) -> bool:
    """Whether every occurrence of the event is over."""
    return event.last_ends_at is not None and event.last_ends_at < events.now()


def dates_of(event: Event) -> list[ical.Occurrence]:
    """The dates to show on an event's page: the next :data:`DETAIL_DATES` (running ones
    included), or, when all are over, the last ones."""
    now = events.now()
    if not event.rrule:
        return [ical.Occurrence(event, ical.local(event.starts_at), ical.local(event.ends_at))]
    found = ical.occurrences([event], now, now + timedelta(days=5 * 366))[:DETAIL_DATES]
    if not found and event.last_ends_at is not None:
        start = event.starts_at
        found = ical.occurrences([event], start, event.last_ends_at + timedelta(seconds=1))
        found = found[-DETAIL_DATES:]
    return found


def dropped_dates(event: Event) -> list[datetime]:
    """The series' excluded dates still to come (local), to say on its page that they do not
    take place."""
    now = events.now()
    return [ical.local(moment) for moment in event.exdates or [] if moment >= now]


def location_of(event: Event) -> tuple[float, float] | None:
    """The event's point as (lon, lat), if it has one and is not online-only."""
    if event.location is None or event.attendance == "online":
        return None
    point = to_shape(event.location)
    return point.x, point.y


def public_companies(event: Event) -> list[Company]:
    """The published employers taking part in the event."""
    return [c for c in event.companies if c.status == CompanyStatus.PUBLISHED]
