"""Partners' calendar feeds: their iCalendar events imported as events of the organisation.

:func:`import_feed` fetches ``organisation.feed_url`` through :mod:`app.services.safe_fetch`
(conditionally, with the stored ETag and Last-Modified) and turns each VEVENT into an event
through the events write model (:mod:`app.services.events`, ``actor=None``), deduplicated by
the feed's UID (``Event.source_uid``, unique per organisation): new UIDs are created, known
ones changed (the write model raises SEQUENCE when calendars must see it), STATUS:CANCELLED
cancels, and future events of the feed that are no longer in it are cancelled too. Running it
twice changes nothing the second time. The feed is the source of what it says: a field the
feed carries (title, description, times, rule, place, kind) that was changed in the workspace
is set back to the feed's value at the next import that fetches the feed; what the feed does
not carry (target groups, registration, employers, …) is kept.

How a VEVENT is read: SUMMARY is the title, DESCRIPTION the description, DTSTART and DTEND (or
DURATION; neither: one hour, or one day for a date) the time (a DATE value makes an all-day
event; a time without zone is Europe/Berlin), RRULE the series' rule, CATEGORIES the kind when
one of them names an event kind (else an info event). The place: GEO is the point; else a
postal code of the region in LOCATION gives postal code, town and that postal code's point.
LOCATION that is a web address or says "online", or a URL with neither LOCATION nor GEO, makes
an online event. An event with no place and no web address is skipped ("no place").
EXDATE (an occurrence that does not take place) is kept with the series, and so is an override
of a single occurrence (RECURRENCE-ID) that is cancelled (STATUS:CANCELLED): that occurrence is
no longer shown or offered in feeds. Other overrides (a moved or changed single occurrence) are
not imported (the model keeps one rule per series) and are counted in the report. Events over
before the import are not imported or changed.

Each organisation is imported in its own transaction, with its row locked (``FOR UPDATE SKIP
LOCKED``: a second run at the same time leaves it to the first), and each VEVENT in a savepoint:
one broken VEVENT is skipped with its reason, the rest imported. A broken feed (refused
address, network or HTTP error, time-out, too large, not iCalendar) is recorded on the
organisation (``feed_error``, translated) and its partner accounts are mailed when it breaks
(not again while it stays broken); ETag and Last-Modified are stored only after a successful
import, and ``feed_error`` is cleared when the feed works again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from icalendar import Calendar
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    EVENT_KINDS,
    Event,
    Municipality,
    Organisation,
    PostalCode,
)
from app.services import event_workspace, events, ical, mail, safe_fetch
from app.services.event_vocabulary import kinds

log = logging.getLogger(__name__)

#: Events that come from a feed carry this ``source``.
SOURCE = "feed"
#: The mail kind sent to an organisation's partners when its feed breaks.
MAIL_KIND = "feed_broken"

_POSTAL_CODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")
_WEB_ADDRESS = re.compile(r"^https?://\S+$", re.IGNORECASE)
_ONLINE = re.compile(r"^\s*online\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class SkippedEvent:
    """A VEVENT that was not imported, and why (translated)."""

    uid: str
    title: str
    reason: str


@dataclass
class FeedReport:
    """What one import of one organisation's feed did (for the command line and the
    workspace): counts of new, changed, cancelled and unchanged events, the skipped VEVENTs
    with their reasons, and ``error`` (translated) when the feed could not be imported."""

    organisation_id: int
    organisation_name: str
    new: int = 0
    changed: int = 0
    cancelled: int = 0
    unchanged: int = 0
    #: VEVENTs over before the import (left alone).
    past: int = 0
    #: Overrides of single occurrences of a series (RECURRENCE-ID) that change it (a cancelled
    #: one is imported as an excluded date), not imported.
    overrides: int = 0
    skipped: list[SkippedEvent] = field(default_factory=list)
    #: The server said 304: nothing changed since the last import.
    not_modified: bool = False
    #: Another run was importing this feed at the same moment; this one left it alone.
    busy: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def line(self) -> str:
        """One line for the command line."""
        name = f"{self.organisation_name} (#{self.organisation_id})"
        if self.error:
            return f"{name}: error: {self.error}"
        if self.not_modified:
            return f"{name}: not modified"
        parts = [
            f"{self.new} new",
            f"{self.changed} changed",
            f"{self.cancelled} cancelled",
            f"{self.unchanged} unchanged",
        ]
        if self.skipped:
            reasons = "; ".join(f"{s.title or s.uid}: {s.reason}" for s in self.skipped)
            parts.append(f"{len(self.skipped)} skipped ({reasons})")
        if self.overrides:
            parts.append(f"{self.overrides} single-occurrence changes ignored")
        return f"{name}: " + ", ".join(parts)


class _Skip(Exception):
    """This VEVENT cannot become an event; the message (translated) says why."""


# --- importing ------------------------------------------------------------------------------


def import_all() -> list[FeedReport]:
    """Import the feed of every organisation that has one (each in its own transaction);
    a broken feed is recorded and the next one imported. The reports, by organisation."""
    ids = list(
        db.session.scalars(
            select(Organisation.id).where(Organisation.feed_url != "").order_by(Organisation.id)
        )
    )
    db.session.commit()
    reports = []
    for organisation_id in ids:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            continue
        name = organisation.name
        try:
            reports.append(import_feed(organisation))
        except Exception:  # a defect must not keep the other organisations' feeds back
            log.exception("importing the feed of organisation %s failed", organisation_id)
            db.session.rollback()
            report = FeedReport(organisation_id, name)
            report.error = _("Beim Einlesen des Kalenders ist ein unerwarteter Fehler aufgetreten.")
            reports.append(report)
    return reports


def import_feed(organisation: Organisation) -> FeedReport:
    """Import ``organisation``'s feed now and commit; the report (``error`` set when the feed
    is broken, which is also recorded on the organisation)."""
    report = FeedReport(organisation.id, organisation.name)
    locked = db.session.scalar(
        select(Organisation)
        .where(Organisation.id == organisation.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if locked is None:
        db.session.rollback()
        report.busy = True
        report.error = _("Dieser Kalender wird gerade schon eingelesen.")
        return report
    organisation = locked
    if not organisation.feed_url:
        db.session.rollback()
        report.error = _("Für diese Organisation ist kein Kalender verbunden.")
        return report
    try:
        result = safe_fetch.fetch(
            organisation.feed_url,
            etag=organisation.feed_etag,
            last_modified=organisation.feed_last_modified,
        )
    except safe_fetch.FetchError as error:
        return _fail(organisation, report, str(error))
    if result.not_modified:
        organisation.feed_checked_at = events.now()
        organisation.feed_error = ""
        report.not_modified = True
        db.session.commit()
        return report
    try:
        calendar = _parse(result.content)
    except _Skip as error:
        return _fail(organisation, report, str(error))
    try:
        _import_calendar(organisation, calendar, report)
    except Exception:  # a defect or the database: recorded, and the next feed goes on
        log.exception("importing the feed of organisation %s failed", organisation.id)
        db.session.rollback()
        organisation = db.session.scalar(
            select(Organisation).where(Organisation.id == report.organisation_id).with_for_update()
        )
        fresh = FeedReport(report.organisation_id, report.organisation_name)
        return _fail(
            organisation,
            fresh,
            _("Beim Einlesen des Kalenders ist ein unerwarteter Fehler aufgetreten."),
        )
    now = events.now()
    organisation.feed_etag = result.etag[:500]
    organisation.feed_last_modified = result.last_modified[:100]
    organisation.feed_checked_at = now
    organisation.feed_imported_at = now
    organisation.feed_error = ""
    db.session.commit()
    return report


def _parse(content: bytes) -> Calendar:
    """The feed as a VCALENDAR (_Skip with the reason if it is none)."""
    not_ical = _(
        "Die Adresse liefert keinen Kalender im iCalendar-Format (.ics), sondern etwas anderes, "
        "zum Beispiel eine Webseite."
    )
    if not content.strip():
        raise _Skip(_("Die Adresse liefert eine leere Datei statt eines Kalenders."))
    try:
        calendar = Calendar.from_ical(content)
    except Exception:  # icalendar raises ValueError and others for what is no iCalendar
        raise _Skip(not_ical) from None
    if getattr(calendar, "name", None) != "VCALENDAR":
        raise _Skip(not_ical)
    return calendar


def _fail(organisation: Organisation, report: FeedReport, message: str) -> FeedReport:
    """Record a broken feed, mail the partners if it just broke, commit."""
    was_working = not organisation.feed_error
    organisation.feed_error = message
    organisation.feed_checked_at = events.now()
    if was_working:
        for partner in event_workspace.partner_accounts(organisation, active_only=True):
            mail.queue(
                mail.compose(
                    MAIL_KIND, organisation=organisation, recipient=partner, error=message
                ),
                purpose=MAIL_KIND,
            )
    db.session.commit()
    report.error = message
    return report


def _import_calendar(organisation: Organisation, calendar: Calendar, report: FeedReport) -> None:
    """Create, change and cancel the organisation's feed events after ``calendar``."""
    known = {
        event.source_uid: event
        for event in db.session.scalars(
            select(Event)
            .where(Event.organisation_id == organisation.id, Event.source_uid.is_not(None))
            .with_for_update()
        )
    }
    places = _Places()
    now = events.now()
    seen: set[str] = set()
    cancelled_occurrences = _cancelled_occurrences(calendar)
    for vevent in calendar.walk("VEVENT"):
        uid = _text(vevent.get("UID"))
        title = _text(vevent.get("SUMMARY"))[:200]
        if "RECURRENCE-ID" in vevent:
            if not _is_cancelled(vevent):
                report.overrides += 1
            seen.add(uid)
            continue
        if not uid:
            report.skipped.append(SkippedEvent("", title, _("Der Termin hat keine UID.")))
            continue
        if len(uid) > 500:
            report.skipped.append(SkippedEvent(uid[:60], title, _("Die UID ist zu lang.")))
            continue
        if uid in seen:
            report.skipped.append(
                SkippedEvent(uid, title, _("Die UID kommt im Kalender mehrfach vor."))
            )
            continue
        seen.add(uid)
        try:
            with db.session.begin_nested():
                _import_one(
                    organisation,
                    vevent,
                    uid,
                    known.get(uid),
                    places,
                    now,
                    report,
                    cancelled_occurrences.get(uid, []),
                )
        except _Skip as reason:
            report.skipped.append(SkippedEvent(uid, title, str(reason)))
        except events.EventValuesInvalid as invalid:
            report.skipped.append(SkippedEvent(uid, title, " ".join(invalid.errors.values())))
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            report.skipped.append(
                SkippedEvent(uid, title, _("Der Termin ist nicht lesbar (fehlerhafte Angaben)."))
            )
    for uid, event in known.items():
        if uid in seen or event.cancelled_at is not None or event.source != SOURCE:
            continue
        if _is_future(event, now):
            events.mark_cancelled(
                event, actor=None, note=_("Nicht mehr im Kalender der Organisation.")
            )
            report.cancelled += 1


def _is_future(event: Event, now: datetime) -> bool:
    """Whether ``event`` (a series: any occurrence of it) is still to come."""
    if event.rrule:
        return event.last_ends_at is None or event.last_ends_at > now
    return event.starts_at > now


def _import_one(
    organisation: Organisation,
    vevent,
    uid: str,
    existing: Event | None,
    places: _Places,
    now: datetime,
    report: FeedReport,
    cancelled_occurrences: list[datetime],
) -> None:
    """Create, change or cancel the event of one VEVENT (inside a savepoint);
    ``cancelled_occurrences`` are the series' occurrences cancelled by overrides."""
    if _is_cancelled(vevent):
        if existing is None:
            return
        if existing.cancelled_at is None:
            events.mark_cancelled(
                existing, actor=None, note=_("Im Kalender der Organisation abgesagt.")
            )
            report.cancelled += 1
        else:
            report.unchanged += 1
        return
    values = _values(vevent, places)
    if values["rrule"]:
        values["exdates"] = sorted({*_exdates(vevent), *cancelled_occurrences})
    else:
        values["exdates"] = []
    if _is_over(values, now):
        report.past += 1
        return
    if existing is None:
        events.build(organisation, values, actor=None, source=SOURCE, source_uid=uid)
        report.new += 1
        return
    if existing.cancelled_at is not None:
        events.mark_restored(existing, actor=None, note=_("Wieder im Kalender der Organisation."))
        events.apply_changes(existing, values, actor=None)
        report.changed += 1
        return
    if events.apply_changes(existing, values, actor=None):
        report.changed += 1
    else:
        report.unchanged += 1


def _is_over(values: dict, now: datetime) -> bool:
    """Whether the event the values describe ended before ``now`` (a series: by its UNTIL)."""
    if values["rrule"]:
        until = ical.parse_rrule(values["rrule"]).get("UNTIL")
        if not until:
            return False
        return _moment(until[0], end_of_day=True) < now
    return _moment(values["ends_at"]) <= now


# --- reading a VEVENT -----------------------------------------------------------------------


def _text(value) -> str:
    """A property's text, without control characters ("" when missing)."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _moment(value: date | datetime, *, end_of_day: bool = False) -> datetime:
    """A DATE or DATE-TIME value as an aware datetime (floating times are local)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ical.zone())
    moment = datetime.combine(value, time(0), tzinfo=ical.zone())
    return moment + timedelta(days=1) if end_of_day else moment


def _times(vevent) -> tuple[date | datetime, date | datetime, bool]:
    """(start, end, all day) of a VEVENT."""
    if "DTSTART" not in vevent:
        raise _Skip(_("Der Termin hat keinen Beginn (DTSTART)."))
    start = vevent.decoded("DTSTART")
    all_day = not isinstance(start, datetime)
    if all_day:
        end = None
        if "DTEND" in vevent:
            end = vevent.decoded("DTEND")
            end = end.date() if isinstance(end, datetime) else end
        elif "DURATION" in vevent:
            end = start + timedelta(days=max(vevent.decoded("DURATION").days, 1))
        if end is None or end <= start:
            end = start + timedelta(days=1)
        return start, end, True
    start = _moment(start)
    if "DTEND" in vevent:
        end = _moment(vevent.decoded("DTEND"))
    elif "DURATION" in vevent:
        end = start + vevent.decoded("DURATION")
    else:
        end = start + timedelta(hours=1)
    return start, end, False


def _is_cancelled(vevent) -> bool:
    return _text(vevent.get("STATUS")).upper() == "CANCELLED"


def _dates_of(prop) -> list[datetime]:
    """The moments of an EXDATE or RECURRENCE-ID property (one or several; floating times
    and dates are local)."""
    found = []
    for item in prop if isinstance(prop, list) else [prop]:
        values = getattr(item, "dts", None)
        for value in values if values is not None else [item]:
            found.append(_moment(getattr(value, "dt", value)))
    return found


def _exdates(vevent) -> list[datetime]:
    """The series' excluded dates (EXDATE, any number of properties)."""
    prop = vevent.get("EXDATE")
    return _dates_of(prop) if prop is not None else []


def _cancelled_occurrences(calendar: Calendar) -> dict[str, list[datetime]]:
    """{UID: the occurrences its cancelled overrides (RECURRENCE-ID, STATUS:CANCELLED) name}."""
    found: dict[str, list[datetime]] = {}
    for vevent in calendar.walk("VEVENT"):
        if "RECURRENCE-ID" in vevent and _is_cancelled(vevent):
            uid = _text(vevent.get("UID"))
            try:
                found.setdefault(uid, []).extend(_dates_of(vevent.get("RECURRENCE-ID")))
            except (ValueError, TypeError, AttributeError):
                continue  # an unreadable override: the occurrence stays
    return found


def _rrule(vevent, start: date | datetime) -> str:
    """The RRULE as text ("" for none); a floating UNTIL is made UTC, as RFC 5545 wants."""
    recur = vevent.get("RRULE")
    if recur is None:
        return ""
    if isinstance(recur, list):
        recur = recur[0]
    until = recur.get("UNTIL")
    if until and isinstance(start, datetime):
        value = until[0]
        if isinstance(value, datetime) and value.tzinfo is None:
            recur["UNTIL"] = [value.replace(tzinfo=ical.zone()).astimezone(UTC)]
    return recur.to_ical().decode()


def _kind(vevent) -> str:
    """The event kind CATEGORIES name (by key or name, any case), else an info event."""
    categories = vevent.get("CATEGORIES")
    if categories is None:
        return "info_event"
    if not isinstance(categories, list):
        categories = [categories]
    names = {name.casefold(): key for key, name in kinds().items()}
    names.update({key.casefold(): key for key in EVENT_KINDS})
    for category in categories:
        for text in getattr(category, "cats", [category]):
            key = names.get(str(text).strip().casefold())
            if key:
                return key
    return "info_event"


class _Places:
    """The region's postal codes (municipality and point), read once per import."""

    def __init__(self):
        self._codes: dict[str, tuple[str, float, float]] | None = None

    def postal_code(self, code: str) -> tuple[str, float, float] | None:
        if self._codes is None:
            self._codes = {
                row.code: (row.municipality_ags, row.lon, row.lat)
                for row in db.session.execute(
                    select(
                        PostalCode.code,
                        PostalCode.municipality_ags,
                        func.ST_X(PostalCode.point).label("lon"),
                        func.ST_Y(PostalCode.point).label("lat"),
                    )
                )
            }
        return self._codes.get(code)

    def municipality_at(self, lon: float, lat: float) -> str | None:
        point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
        return db.session.scalar(
            select(Municipality.ags)
            .where(
                Municipality.boundary.is_not(None), func.ST_Contains(Municipality.boundary, point)
            )
            .limit(1)
        )


def _values(vevent, places: _Places) -> dict:
    """The event values of a VEVENT (_Skip when it cannot become an event)."""
    start, end, all_day = _times(vevent)
    values = {
        "title": _shorten(_text(vevent.get("SUMMARY")), events.MAX_LENGTHS["title"]),
        "description": _shorten(
            _text(vevent.get("DESCRIPTION")), events.MAX_LENGTHS["description"]
        ),
        "kind": _kind(vevent),
        "starts_at": start,
        "ends_at": end,
        "all_day": all_day,
        "rrule": _rrule(vevent, start),
    }
    location_text = _text(vevent.get("LOCATION")).replace("\n", ", ")
    link = _text(vevent.get("URL"))
    online_url = ""
    if _WEB_ADDRESS.match(location_text):
        online_url, location_text = location_text, ""
    elif _ONLINE.match(location_text):
        online_url, location_text = link, ""
    venue, postal_code, town, municipality, point = location_text, "", "", None, None
    for match in _POSTAL_CODE.finditer(location_text):
        known = places.postal_code(match.group(1))
        if known is not None:
            postal_code = match.group(1)
            municipality, point = known[0], (known[1], known[2])
            venue = location_text[: match.start()].strip(" ,;")
            town = location_text[match.end() :].split(",")[0].strip()
            break
    geo = vevent.get("GEO")
    if geo is not None:
        point = (float(geo.longitude), float(geo.latitude))
        if not postal_code:
            municipality = places.municipality_at(*point)
    if point is None and not online_url and link and not location_text:
        online_url = link
    if point is None and not online_url:
        raise _Skip(
            _(
                "Der Termin hat keinen Ort: Bitte geben Sie im Kalender eine Adresse mit "
                "Postleitzahl der Region, eine Koordinate (GEO) oder für Online-Termine einen "
                "Link an."
            )
        )
    if point is None:
        attendance = "online"
    elif online_url:
        attendance = "hybrid"
    else:
        attendance = "on_site"
    values.update(
        attendance=attendance,
        venue=_shorten(venue, events.MAX_LENGTHS["venue"]),
        street="",
        postal_code=postal_code,
        town=_shorten(town, events.MAX_LENGTHS["town"]),
        municipality_ags=municipality,
        location=point,
        online_url=online_url,
    )
    return values
