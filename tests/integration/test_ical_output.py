"""iCalendar output (app/services/ical.py): valid RFC 5545 that icalendar parses, with stable
UIDs, SEQUENCE raised on change, STATUS:CANCELLED, and dates and times that survive the end of
summer time in late October (the last Sunday of October 2027 is the 31st)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar

from app.extensions import db
from app.models import Event
from app.services import events, ical
from app.services.accounts import by_email

BERLIN = ZoneInfo("Europe/Berlin")
SUMMER = timedelta(hours=2)
WINTER = timedelta(hours=1)


def render(app, *event_ids: int) -> tuple[bytes, Calendar]:
    """The iCalendar text of the events and what icalendar reads back from it."""
    with app.test_request_context():
        rows = [db.session.get(Event, event_id) for event_id in event_ids]
        text = ical.to_bytes(
            ical.calendar(
                rows,
                name="KMU-Atlas Test",
                url_of=lambda event: f"https://atlas.example.test/veranstaltungen/{event.slug}",
            )
        )
    return text, Calendar.from_ical(text)


def only_event(calendar: Calendar):
    (vevent,) = calendar.walk("VEVENT")
    return vevent


def test_the_output_is_rfc5545_with_the_required_properties(app, make_event):
    event_id = make_event("Infoabend Ausbildung", description="Mit; Kommas, und\nZeilen")
    text, calendar = render(app, event_id)

    assert text.startswith(b"BEGIN:VCALENDAR\r\n") and text.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in text.split(b"\r\n"))  # folded
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == ical.PRODID
    vevent = only_event(calendar)
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert vevent["UID"] == event.uid
        slug = event.slug
    assert vevent.decoded("DTSTAMP").tzinfo is not None
    assert vevent["SUMMARY"] == "Infoabend Ausbildung"
    assert vevent["DESCRIPTION"] == "Mit; Kommas, und\nZeilen"
    assert vevent["URL"] == f"https://atlas.example.test/veranstaltungen/{slug}"
    assert vevent["STATUS"] == "CONFIRMED"
    assert vevent.decoded("SEQUENCE") == 0
    assert "45657 Recklinghausen" in vevent["LOCATION"]
    assert round(vevent["GEO"].latitude, 4) == 51.6146
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_times_round_trip_across_the_end_of_summer_time(app, make_event):
    saturday = make_event(
        "Samstag vor der Umstellung",
        starts_at=datetime(2027, 10, 30, 10, 0, tzinfo=BERLIN),
        ends_at=datetime(2027, 10, 30, 12, 0, tzinfo=BERLIN),
    )
    monday = make_event(
        "Montag nach der Umstellung",
        starts_at=datetime(2027, 11, 1, 10, 0, tzinfo=BERLIN),
        ends_at=datetime(2027, 11, 1, 12, 0, tzinfo=BERLIN),
    )
    text, calendar = render(app, saturday, monday)

    assert b"DTSTART;TZID=Europe/Berlin:20271030T100000" in text
    assert b"DTSTART;TZID=Europe/Berlin:20271101T100000" in text
    starts = {v["SUMMARY"]: v.decoded("DTSTART") for v in calendar.walk("VEVENT")}
    before, after = starts["Samstag vor der Umstellung"], starts["Montag nach der Umstellung"]
    assert (before.hour, before.utcoffset()) == (10, SUMMER)
    assert (after.hour, after.utcoffset()) == (10, WINTER)
    elapsed = after.astimezone(UTC) - before.astimezone(UTC)
    assert elapsed == timedelta(days=2, hours=1)  # the night the clocks go back has 25 hours

    # the VTIMEZONE itself (for clients without a time zone database) knows both offsets
    (vtimezone,) = calendar.walk("VTIMEZONE")
    zone = vtimezone.to_tz()
    assert zone.utcoffset(datetime(2027, 10, 30, 10, 0)) == SUMMER
    assert zone.utcoffset(datetime(2027, 11, 1, 10, 0)) == WINTER


def test_a_weekly_series_stays_at_ten_across_the_change(app, make_event):
    series = make_event(
        "Jobcafé",
        starts_at=datetime(2027, 10, 16, 10, 0, tzinfo=BERLIN),
        ends_at=datetime(2027, 10, 16, 12, 0, tzinfo=BERLIN),
        rrule="FREQ=WEEKLY;COUNT=4",
    )
    text, calendar = render(app, series)
    assert b"RRULE:FREQ=WEEKLY;COUNT=4" in text

    occurrences = recurring_ical_events.of(calendar).between(
        datetime(2027, 10, 1, tzinfo=BERLIN), datetime(2027, 12, 1, tzinfo=BERLIN)
    )
    found = [(o.decoded("DTSTART"), o.decoded("DTEND")) for o in occurrences]
    assert [start.date() for start, _ in found] == [
        date(2027, 10, 16),
        date(2027, 10, 23),
        date(2027, 10, 30),
        date(2027, 11, 6),
    ]
    assert all((start.hour, end.hour) == (10, 12) for start, end in found)
    assert [start.utcoffset() for start, _ in found] == [SUMMER, SUMMER, SUMMER, WINTER]

    with app.test_request_context():  # the platform's own expansion agrees
        event = db.session.get(Event, series)
        mine = ical.occurrences(
            [event], datetime(2027, 10, 1, tzinfo=BERLIN), datetime(2027, 12, 1, tzinfo=BERLIN)
        )
        assert [(o.starts_at.hour, o.starts_at.utcoffset()) for o in mine] == [
            (10, SUMMER),
            (10, SUMMER),
            (10, SUMMER),
            (10, WINTER),
        ]
        assert event.last_ends_at == datetime(2027, 11, 6, 12, 0, tzinfo=BERLIN)


def test_all_day_and_multi_day_events_are_dates(app, make_event):
    one_day = make_event(
        "Aktionstag am Tag der Umstellung",
        all_day=True,
        starts_at=date(2027, 10, 31),
        ends_at=date(2027, 11, 1),
    )
    several = make_event(
        "Aktionswoche", all_day=True, starts_at=date(2027, 10, 29), ends_at=date(2027, 11, 2)
    )
    text, calendar = render(app, one_day, several)

    assert b"DTSTART;VALUE=DATE:20271031" in text and b"DTEND;VALUE=DATE:20271101" in text
    assert b"DTSTART;VALUE=DATE:20271029" in text and b"DTEND;VALUE=DATE:20271102" in text
    for vevent in calendar.walk("VEVENT"):
        start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
        assert type(start) is date and type(end) is date
        assert vevent["TRANSP"] == "TRANSPARENT"
    spans = {
        v["SUMMARY"]: v.decoded("DTEND") - v.decoded("DTSTART") for v in calendar.walk("VEVENT")
    }
    assert spans == {
        "Aktionstag am Tag der Umstellung": timedelta(days=1),
        "Aktionswoche": timedelta(days=4),
    }


def test_a_change_raises_sequence_and_keeps_the_uid(app, make_event, make_staff):
    event_id = make_event("Infoabend")
    _, calendar = render(app, event_id)
    first = only_event(calendar)
    email = make_staff("curator")

    with app.test_request_context():
        event = db.session.get(Event, event_id)
        events.update(
            event,
            {
                "title": "Infoabend (neue Zeit)",
                "starts_at": datetime(2027, 11, 1, 17, 0, tzinfo=BERLIN),
                "ends_at": datetime(2027, 11, 1, 19, 0, tzinfo=BERLIN),
            },
            actor=by_email(email),
        )
    _, calendar = render(app, event_id)
    second = only_event(calendar)

    assert second["UID"] == first["UID"]
    assert second.decoded("SEQUENCE") == first.decoded("SEQUENCE") + 1
    assert second["SUMMARY"] == "Infoabend (neue Zeit)"
    assert second.decoded("DTSTART") == datetime(2027, 11, 1, 17, 0, tzinfo=BERLIN)
    assert second.decoded("DTSTAMP") >= first.decoded("DTSTAMP")

    with app.test_request_context():  # a change calendars need not see keeps the SEQUENCE
        events.update(db.session.get(Event, event_id), {"capacity": 30}, actor=by_email(email))
    _, calendar = render(app, event_id)
    assert only_event(calendar).decoded("SEQUENCE") == second.decoded("SEQUENCE")


def test_a_cancellation_is_status_cancelled_with_a_higher_sequence(app, make_event, make_staff):
    event_id = make_event("Jobmesse")
    _, calendar = render(app, event_id)
    before = only_event(calendar)
    email = make_staff("curator")

    with app.test_request_context():
        assert events.cancel(db.session.get(Event, event_id), actor=by_email(email))
    _, calendar = render(app, event_id)
    after = only_event(calendar)

    assert after["UID"] == before["UID"]
    assert after["STATUS"] == "CANCELLED"
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")
