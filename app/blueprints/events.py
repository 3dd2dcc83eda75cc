"""Public event pages: the list, the month calendar, each event, and iCalendar files.

The list, the calendar page and the feed read the same filter parameters as ``/api/events``
(:mod:`app.features.events`, parsed by :func:`app.features.pipeline.parse_filter`); a bad value
is shown above the form with status 400 (the feed answers in plain text).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from app.blueprints.registration import form_context as registration_form_context
from app.features import events as event_features
from app.features import pipeline
from app.features.filters import FilterError, parse_page
from app.map import configured_map
from app.notifications import absolute_url
from app.services import event_vocabulary, events, ical, structured_data
from app.services.places import resolve_place

bp = Blueprint("events", __name__)

_MONTH = re.compile(r"(\d{4})-(\d{2})")
#: The calendar page offers months this far from today.
MONTH_RANGE_YEARS = 5


def _filter():
    """The event filter in the query string (FilterError on a bad value)."""
    return pipeline.parse_filter(event_features.EVENTS, request.args, resolve_place)


def _filter_choices() -> dict:
    """What the filter form offers, with names in the interface language."""
    region = current_app.config["REGION"]
    return {
        "kinds": event_vocabulary.kinds(),
        "target_groups": event_vocabulary.target_groups(),
        "municipalities": sorted(
            ((m.ags, m.name) for m in region.municipalities), key=lambda item: item[1]
        ),
    }


def _query_string(feature_filter) -> str:
    """The filter as a query string ("" when it narrows nothing), with the language kept."""
    args = dict(feature_filter.query_args()) if feature_filter else {}
    if request.args.get("lang"):
        args["lang"] = request.args["lang"]
    return urlencode(args)


def _page_context(feature_filter, error) -> dict:
    return {
        "filter": feature_filter,
        "form": request.args,
        "error": error,
        "choices": _filter_choices(),
        "query": _query_string(feature_filter),
        "kind_names": event_vocabulary.kinds(),
    }


@bp.get("")
def index():
    """Upcoming events by date (series as their occurrences), filtered, 30 dates a page."""
    feature_filter, listing, error = None, None, None
    try:
        feature_filter = _filter()
        listing = event_features.list_page(feature_filter, parse_page(request.args))
    except FilterError as exc:
        error = exc
    shown = [o.event.id for _day, day in (listing.days if listing else []) for o in day]
    return render_template(
        "events/list.html",
        listing=listing,
        booked_out=event_features.booked_out(shown),
        **_page_context(feature_filter, error),
    ), 400 if error else 200


def _month(value: str) -> date:
    """The first day of the month ``YYYY-MM`` (this month if empty); FilterError otherwise."""
    today = ical.local(events.now()).date()
    if not value:
        return today.replace(day=1)
    match = _MONTH.fullmatch(value.strip())
    month = int(match.group(2)) if match else 0
    if not match or not 1 <= month <= 12:
        raise FilterError(
            "monat",
            _(
                "„%(value)s“ ist kein Monat: erwartet wird Jahr und Monat wie %(example)s.",
                value=value[:20],
                example=today.strftime("%Y-%m"),
            ),
        )
    first = date(int(match.group(1)), month, 1)
    if abs(first.year - today.year) > MONTH_RANGE_YEARS:
        raise FilterError(
            "monat",
            _(
                "Der Kalender reicht %(years)d Jahre zurück und voraus.",
                years=MONTH_RANGE_YEARS,
            ),
        )
    return first


def _weeks(first: date) -> list[list[date | None]]:
    """The month's days in weeks from Monday to Sunday (None outside the month)."""
    next_month = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    weeks: list[list[date | None]] = []
    week: list[date | None] = [None] * first.weekday()
    day = first
    while day < next_month:
        week.append(day)
        if len(week) == 7:
            weeks.append(week)
            week = []
        day += timedelta(days=1)
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    return weeks


def _month_with_next_event(feature_filter, first: date, days: dict):
    """``first`` and ``days`` if this month still has events from today on, else the month
    of the next event within a year (and its days)."""
    today = ical.local(events.now()).date()
    if any(day >= today for day in days):
        return first, days
    start = datetime.combine(today, time(0), tzinfo=ical.zone())
    upcoming = event_features.occurrences_between(
        feature_filter, start, start + timedelta(days=366)
    )
    if not upcoming:
        return first, days
    month = upcoming[0].starts_at.date().replace(day=1)
    return month, event_features.month_occurrences(feature_filter, month)


@bp.get("/kalender")
def calendar():
    """A month as a table of days with their events (works without JavaScript)."""
    feature_filter, error, days, first = None, None, {}, None
    try:
        first = _month(request.args.get("monat", ""))
        feature_filter = _filter()
        days = event_features.month_occurrences(feature_filter, first)
        if not request.args.get("monat"):
            # Nothing left this month: open the month of the next event instead of an empty one.
            first, days = _month_with_next_event(feature_filter, first, days)
    except FilterError as exc:
        error = exc
    context = _page_context(feature_filter, error)
    months = {}
    if first is not None:
        previous = (first - timedelta(days=1)).replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        base = feature_filter.query_args() if feature_filter else {}
        if request.args.get("lang"):
            base = {**base, "lang": request.args["lang"]}
        months = {
            "previous": (previous, url_for(".calendar", monat=f"{previous:%Y-%m}", **base)),
            "next": (following, url_for(".calendar", monat=f"{following:%Y-%m}", **base)),
            "month": first,
        }
    weekdays = [date(2024, 1, day) for day in range(1, 8)]  # a Monday to a Sunday
    return render_template(
        "events/calendar.html",
        weeks=_weeks(first) if first else [],
        days=days,
        months=months,
        weekdays=weekdays,
        today=ical.local(events.now()).date(),
        **context,
    ), 400 if error else 200


def _ics_response(body: bytes, *, filename: str, attachment: bool) -> Response:
    """An iCalendar body with its type, disposition and ETag (304 when unchanged)."""
    response = Response(body, content_type="text/calendar; charset=utf-8")
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(hashlib.sha256(body).hexdigest())
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response.make_conditional(request)


def _detail_url(event) -> str:
    return absolute_url("events.detail", slug=event.slug)


def feed():
    """The events of the list's filter as an iCalendar feed: upcoming ones and those of the
    last 30 days, cancelled ones with STATUS:CANCELLED. A bad filter: 400 in plain text."""
    try:
        feature_filter = _filter()
    except FilterError as exc:
        response = Response(f"{exc.parameter}: {exc.message}\n", 400, mimetype="text/plain")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    name = _("Veranstaltungen · KMU-Atlas %(region)s", region=current_app.config["REGION"].name)
    cal = ical.calendar(event_features.feed_events(feature_filter), name=name, url_of=_detail_url)
    return _ics_response(ical.to_bytes(cal), filename="veranstaltungen.ics", attachment=False)


# The feed lives beside the list (/veranstaltungen.ics), outside the blueprint's prefix.
bp.record_once(lambda state: state.app.add_url_rule("/veranstaltungen.ics", "events.feed", feed))


@bp.get("/<slug>.ics")
def event_file(slug: str):
    """One published event as an iCalendar file (with its series rule), to download."""
    event = events.public_by_slug(slug)
    if event is None:
        abort(404)
    cal = ical.calendar([event], name=event.title, url_of=_detail_url)
    return _ics_response(ical.to_bytes(cal), filename=f"{event.slug}.ics", attachment=True)


@bp.get("/<slug>")
def detail(slug: str):
    """An event's page: published ones only; past ones say so."""
    event = events.public_by_slug(slug)
    if event is None:
        abort(404)
    point = event_features.location_of(event)
    booked_out = bool(event_features.booked_out([event.id]))
    return render_template(
        "events/detail.html",
        event=event,
        past=event_features.is_past(event),
        dates=event_features.dates_of(event),
        dropped=event_features.dropped_dates(event),
        place=event_features.place_text(event),
        map=configured_map(focus=point) if point else None,
        point=point,
        companies=event_features.public_companies(event),
        booked_out=booked_out,
        structured_data=structured_data.event(event, url=_detail_url(event), booked_out=booked_out),
        kind_names=event_vocabulary.kinds(),
        target_group_names=event_vocabulary.target_groups(),
        attendance_names=event_vocabulary.attendance_modes(),
        **_registration(event),
    )


def _registration(event) -> dict:
    """The registration form's context, for an event that takes registrations (the partial
    ``events/_registration_form.html`` says when registering is over or closed)."""
    return {"registration": registration_form_context(event) if event.registration_open else None}


@bp.app_template_filter("event_date")
def event_date(day: date, style: str = "full") -> str:
    """A day in the interface language ("Mittwoch, 14. Mai 2025")."""
    return format_date(day, style)


@bp.app_template_filter("event_time")
def event_time(moment) -> str:
    """A local time of day in the interface language ("10:00")."""
    return event_features.format_time(moment)
