"""Importing partners' iCalendar feeds (app/services/event_feeds.py, `flask events
import-feeds`): new, changed, cancelled and unchanged events, conditional requests, broken and
oversized feeds, and the SSRF checks, against feeds the tests build with icalendar and serve
from a tiny HTTP server on 127.0.0.1 (allowed for these tests by FETCH_ALLOWED_NETWORKS)."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from geoalchemy2.shape import to_shape
from icalendar import Calendar, vRecur
from icalendar import Event as VEvent
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import AuditEntry, Event, EventStatus, Organisation, OutboxMessage
from app.services import event_feeds, events
from tests.conftest import temporary_app

BERLIN = ZoneInfo("Europe/Berlin")


class FeedServer:
    """Serves ``feeds[path]`` (bytes) with an ETag when ``etags`` is on (and 304 for a
    matching If-None-Match); ``responses[path]`` = (status, content type, body) overrides.
    ``requests`` records (path, If-None-Match) of each request."""

    def __init__(self, host: str = "127.0.0.1"):
        self.feeds: dict[str, bytes] = {}
        self.responses: dict[str, tuple[int, str, bytes]] = {}
        self.redirects: dict[str, str] = {}
        self.etags = True
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, self.headers.get("If-None-Match")))
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path in server.responses:
                    status, content_type, body = server.responses[self.path]
                    self._send(status, content_type, body)
                    return
                body = server.feeds.get(self.path)
                if body is None:
                    self._send(404, "text/plain", b"not found")
                    return
                etag = f'"{uuid.uuid5(uuid.NAMESPACE_URL, body.decode())}"'
                if server.etags and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self._send(200, "text/calendar", body, etag if server.etags else None)

            def _send(self, status, content_type, body, etag=None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.base = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = FeedServer()
    yield running
    running.close()


def _clear_organisations(app):
    with app.app_context():
        db.session.execute(text("TRUNCATE organisations RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture
def feed_app(app, database_url):
    """The app with 127.0.0.1 allowed for fetching (the fixture server), on a database
    without organisations (so that importing all feeds sees only this test's)."""
    _clear_organisations(app)
    with temporary_app(
        database_url, FETCH_ALLOWED_NETWORKS="127.0.0.1/32", FEED_MAX_BYTES="50000"
    ) as allowed:
        yield allowed
    _clear_organisations(app)


def vevent(uid: str, summary: str, start, end=None, **properties) -> VEvent:
    """A VEVENT; other properties by name (location="…", geo=(lat, lon), rrule={…}, …)."""
    component = VEvent()
    component.add("uid", uid)
    component.add("dtstamp", datetime(2027, 1, 1, tzinfo=UTC))
    component.add("summary", summary)
    component.add("dtstart", start)
    if end is not None:
        component.add("dtend", end)
    for name, value in properties.items():
        component.add(name.replace("_", "-"), value)
    return component


def feed(*components: VEvent) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Test//Partnerkalender//DE")
    calendar.add("version", "2.0")
    for component in components:
        calendar.add_component(component)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def soon(days: int = 10, hour: int = 10) -> datetime:
    """A local time ``days`` from today at ``hour`` (aware, Berlin)."""
    day = datetime.now(BERLIN).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


PLACE = "Rathaus, Rathausplatz 3, 45657 Recklinghausen"


def make_feed_organisation(feed_app, name=None, *, url: str, **values) -> int:
    with feed_app.app_context():
        organisation = Organisation(
            name=name or f"Partner {uuid.uuid4().hex[:8]}",
            kind="jobcenter",
            review_required=values.pop("review_required", False),
            feed_url=url,
            **values,
        )
        db.session.add(organisation)
        db.session.commit()
        return organisation.id


def run_import(feed_app, organisation_id: int) -> event_feeds.FeedReport:
    with feed_app.test_request_context():
        return event_feeds.import_feed(db.session.get(Organisation, organisation_id))


def feed_events(feed_app, organisation_id: int) -> dict[str, Event]:
    """The organisation's events by feed UID (detached, with their values loaded)."""
    with feed_app.app_context():
        rows = db.session.scalars(select(Event).where(Event.organisation_id == organisation_id))
        found = {}
        for event in rows:
            db.session.expunge(event)
            found[event.source_uid] = event
        return found


def audit_count(feed_app) -> int:
    with feed_app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


# --- new, changed, cancelled, unchanged -----------------------------------------------------


def test_new_events_are_imported_with_their_fields(feed_app, server):
    server.feeds["/feed.ics"] = feed(
        vevent(
            "info-1@partner",
            "Infoabend Ausbildung",
            soon(10, 18),
            soon(10, 20),
            location=PLACE,
            description="Alles über die Ausbildung.",
            categories=["Workshop"],
        ),
        vevent(
            "geo-1@partner",
            "Jobcafé am Hafen",
            soon(12, 9),
            duration=timedelta(hours=3),
            geo=(51.58, 7.05),
            location="Hafen",
            categories=["training"],
        ),
        vevent(
            "online-1@partner",
            "Bewerbungstraining online",
            soon(14, 15),
            soon(14, 16),
            url="https://meet.example.org/bewerbung",
        ),
        vevent("allday-1@partner", "Aktionstage", soon(20).date(), soon(22).date(), location=PLACE),
        vevent(
            "float-1@partner", "Sprechstunde", soon(15, 10).replace(tzinfo=None), location=PLACE
        ),
    )
    organisation_id = make_feed_organisation(feed_app, url=server.url("/feed.ics"))

    report = run_import(feed_app, organisation_id)

    assert report.ok, report.error
    assert (report.new, report.changed, report.cancelled, report.skipped) == (5, 0, 0, [])
    found = feed_events(feed_app, organisation_id)
    assert set(found) == {
        "info-1@partner",
        "geo-1@partner",
        "online-1@partner",
        "allday-1@partner",
        "float-1@partner",
    }
    info = found["info-1@partner"]
    assert (info.title, info.description, info.kind) == (
        "Infoabend Ausbildung",
        "Alles über die Ausbildung.",
        "workshop",
    )
    assert (info.source, info.status, info.sequence) == ("feed", EventStatus.PUBLISHED, 0)
    assert (info.venue, info.postal_code, info.town) == (
        "Rathaus, Rathausplatz 3",
        "45657",
        "Recklinghausen",
    )
    assert info.municipality_ags == "05562032"
    assert info.location is not None and info.attendance == "on_site"
    assert info.starts_at == soon(10, 18) and info.ends_at == soon(10, 20)
    assert info.uid != "info-1@partner"  # our own UID; the feed's is kept as source_uid

    geo = found["geo-1@partner"]
    point = to_shape(geo.location)
    assert (round(point.x, 4), round(point.y, 4)) == (7.05, 51.58)
    assert geo.ends_at == soon(12, 12) and geo.kind == "training"

    online = found["online-1@partner"]
    assert (online.attendance, online.online_url, online.location) == (
        "online",
        "https://meet.example.org/bewerbung",
        None,
    )
    assert online.kind == "info_event"

    allday = found["allday-1@partner"]
    assert allday.all_day
    assert allday.starts_at == datetime.combine(soon(20).date(), datetime.min.time(), BERLIN)
    assert allday.ends_at == datetime.combine(soon(22).date(), datetime.min.time(), BERLIN)

    floating = found["float-1@partner"]  # a time without zone is Berlin time; no end: 1 hour
    assert floating.starts_at == soon(15, 10) and floating.ends_at == soon(15, 11)

    with feed_app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        assert organisation.feed_etag and organisation.feed_imported_at is not None
        assert organisation.feed_error == ""


def test_a_changed_event_is_updated_not_duplicated(feed_app, server):
    server.feeds["/feed.ics"] = feed(
        vevent("a@partner", "Infoabend", soon(10, 18), soon(10, 20), location=PLACE),
        vevent("b@partner", "Jobmesse", soon(11, 10), soon(11, 16), location=PLACE),
    )
    organisation_id = make_feed_organisation(feed_app, url=server.url("/feed.ics"))
    run_import(feed_app, organisation_id)
    before = feed_events(feed_app, organisation_id)

    server.feeds["/feed.ics"] = feed(
        vevent("a@partner", "Infoabend (verschoben)", soon(11, 17), soon(11, 19), location=PLACE),
        vevent("b@partner", "Jobmesse", soon(11, 10), soon(11, 16), location=PLACE),
    )
    report = run_import(feed_app, organisation_id)

    assert (report.new, report.changed, report.unchanged, report.cancelled) == (0, 1, 1, 0)
    after = feed_events(feed_app, organisation_id)
    assert len(after) == 2
    changed = after["a@partner"]
    assert changed.id == before["a@partner"].id and changed.uid == before["a@partner"].uid
    assert changed.title == "Infoabend (verschoben)"
    assert changed.starts_at == soon(11, 17)
    assert changed.sequence == before["a@partner"].sequence + 1
    assert after["b@partner"].sequence == before["b@partner"].sequence


def test_cancelled_and_vanished_events_are_cancelled(feed_app, server, make_event):
    server.feeds["/feed.ics"] = feed(
        vevent("stays@partner", "Bleibt", soon(10, 10), soon(10, 11), location=PLACE),
        vevent("cancel@partner", "Fällt aus", soon(11, 10), soon(11, 11), location=PLACE),
        vevent("vanish@partner", "Verschwindet", soon(12, 10), soon(12, 11), location=PLACE),
    )
    organisation_id = make_feed_organisation(feed_app, "Feed-Partner", url=server.url("/feed.ics"))
    manual_id = make_event("Von Hand angelegt", organisation="Feed-Partner")
    run_import(feed_app, organisation_id)
    before = feed_events(feed_app, organisation_id)

    server.feeds["/feed.ics"] = feed(
        vevent("stays@partner", "Bleibt", soon(10, 10), soon(10, 11), location=PLACE),
        vevent(
            "cancel@partner",
            "Fällt aus",
            soon(11, 10),
            soon(11, 11),
            location=PLACE,
            status="CANCELLED",
        ),
    )
    report = run_import(feed_app, organisation_id)

    assert (report.cancelled, report.unchanged, report.new) == (2, 1, 0)
    after = feed_events(feed_app, organisation_id)
    assert after["stays@partner"].cancelled_at is None
    for uid in ("cancel@partner", "vanish@partner"):
        assert after[uid].cancelled_at is not None
        assert after[uid].sequence == before[uid].sequence + 1
    assert after[None].id == manual_id and after[None].cancelled_at is None  # not from the feed

    again = run_import(feed_app, organisation_id)  # nothing more to cancel
    assert (again.cancelled, again.changed, again.new) == (0, 0, 0)

    server.feeds["/feed.ics"] = feed(  # back in the feed: taken back, not duplicated
        vevent("stays@partner", "Bleibt", soon(10, 10), soon(10, 11), location=PLACE),
        vevent("vanish@partner", "Verschwindet", soon(12, 10), soon(12, 11), location=PLACE),
    )
    back = run_import(feed_app, organisation_id)
    assert (back.new, back.changed) == (0, 1)
    restored = feed_events(feed_app, organisation_id)["vanish@partner"]
    assert restored.cancelled_at is None and restored.id == before["vanish@partner"].id
    assert restored.sequence == after["vanish@partner"].sequence + 1


def test_an_unchanged_feed_answers_304_and_nothing_changes(feed_app, server):
    server.feeds["/feed.ics"] = feed(
        vevent("a@partner", "Infoabend", soon(10, 18), soon(10, 20), location=PLACE)
    )
    organisation_id = make_feed_organisation(feed_app, url=server.url("/feed.ics"))
    first = run_import(feed_app, organisation_id)
    assert first.new == 1
    with feed_app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        etag, checked = organisation.feed_etag, organisation.feed_checked_at
    events_before = feed_events(feed_app, organisation_id)
    audits = audit_count(feed_app)

    second = run_import(feed_app, organisation_id)

    assert second.not_modified and second.ok
    assert (second.new, second.changed, second.unchanged, second.cancelled) == (0, 0, 0, 0)
    assert server.requests[-1] == ("/feed.ics", etag)
    assert audit_count(feed_app) == audits
    events_after = feed_events(feed_app, organisation_id)
    assert [(e.id, e.sequence, e.updated_at) for e in events_after.values()] == [
        (e.id, e.sequence, e.updated_at) for e in events_before.values()
    ]
    with feed_app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        assert organisation.feed_etag == etag
        assert organisation.feed_checked_at > checked


def test_importing_the_same_feed_twice_changes_nothing(feed_app, server):
    server.etags = False  # the server sends the whole feed every time
    server.feeds["/feed.ics"] = feed(
        vevent("timed@p", "Infoabend", soon(10, 18), soon(10, 20), location=PLACE),
        vevent("geo@p", "Jobcafé", soon(11, 9), soon(11, 12), geo=(51.6, 7.2), location="Café"),
        vevent("online@p", "Online", soon(12, 9), soon(12, 10), url="https://meet.example.org/x"),
        vevent("allday@p", "Aktionstag", soon(13).date(), soon(14).date(), location=PLACE),
        vevent("float@p", "Sprechstunde", soon(14, 9).replace(tzinfo=None), location=PLACE),
        vevent(
            "series@p",
            "Jobcafé",
            soon(7, 10),
            soon(7, 12),
            location=PLACE,
            rrule=vRecur(freq="WEEKLY", count=6),
        ),
        vevent(
            "until@p",
            "Sprechstunde",
            soon(7, 14),
            soon(7, 15),
            location=PLACE,
            rrule=vRecur(freq="WEEKLY", until=soon(60, 23).replace(tzinfo=None)),
        ),
    )
    organisation_id = make_feed_organisation(feed_app, url=server.url("/feed.ics"))
    first = run_import(feed_app, organisation_id)
    assert first.new == 7, first.skipped
    before = feed_events(feed_app, organisation_id)
    audits = audit_count(feed_app)

    for _ in range(2):
        again = run_import(feed_app, organisation_id)
        assert (again.new, again.changed, again.cancelled, again.unchanged) == (0, 0, 0, 7)
        assert not again.not_modified
    after = feed_events(feed_app, organisation_id)
    assert {uid: (e.id, e.sequence) for uid, e in after.items()} == {
        uid: (e.id, e.sequence) for uid, e in before.items()
    }
    assert audit_count(feed_app) == audits


def test_a_second_run_at_the_same_time_leaves_the_feed_to_the_first(feed_app, server):
    server.feeds["/feed.ics"] = feed(
        vevent("a@partner", "Infoabend", soon(10, 18), soon(10, 20), location=PLACE)
    )
    organisation_id = make_feed_organisation(feed_app, url=server.url("/feed.ics"))
    with feed_app.app_context(), db.engine.connect() as other:
        # another run holds the organisation's row
        other.execute(
            text("SELECT id FROM organisations WHERE id = :id FOR UPDATE"),
            {"id": organisation_id},
        )
        report = run_import(feed_app, organisation_id)
        other.rollback()
    assert report.busy and report.new == 0
    assert server.requests == []
    assert feed_events(feed_app, organisation_id) == {}
    assert run_import(feed_app, organisation_id).new == 1


# --- series, review, broken events ----------------------------------------------------------


def test_a_recurring_event_is_imported_with_its_rule(feed_app, server):
    start = soon(7, 10)
    series = vevent(
        "cafe@partner",
        "Jobcafé",
        start,
        start + timedelta(hours=2),
        location=PLACE,
        rrule=vRecur(freq="WEEKLY", byday="WE", count=10),
    )
    override = vevent(
        "cafe@partner", "Jobcafé (später)", start + timedelta(days=7, hours=2), location=PLACE
    )
    override.add("recurrence-id", start + timedelta(days=7))
    server.feeds["/feed.ics"] = feed(series, override)
    organisation_id = make_feed_organisation(feed_app, url=server.url("/feed.ics"))

    report = run_import(feed_app, organisation_id)

    assert (report.new, report.overrides) == (1, 1)
    event = feed_events(feed_app, organisation_id)["cafe@partner"]
    assert event.rrule == "FREQ=WEEKLY;COUNT=10;BYDAY=WE"
    assert event.title == "Jobcafé"
    assert event.last_ends_at is not None and event.last_ends_at > start + timedelta(weeks=8)


def test_a_series_keeps_the_dates_its_feed_excludes_or_cancels(feed_app, server):
    """EXDATE and a cancelled single occurrence (RECURRENCE-ID, STATUS:CANCELLED) are not
    shown on the event's page, in the list or in our own feeds; a moved occurrence is still
    counted as not imported."""
    start = soon(7, 10)
    week = timedelta(days=7)

    def series(*excluded):
        component = vevent(
            "cafe@partner",
            "Jobcafé",
            start,
            start + timedelta(hours=2),
            location=PLACE,
            rrule=vRecur(freq="WEEKLY", count=6),
        )
        for moment in excluded:
            component.add("exdate", moment)
        return component

    cancelled = vevent("cafe@partner", "Jobcafé", start + week, start + week + timedelta(hours=2))
    cancelled.add("recurrence-id", start + week)
    cancelled.add("status", "CANCELLED")
    moved = vevent("cafe@partner", "Jobcafé", start + 3 * week + timedelta(hours=1), location=PLACE)
    moved.add("recurrence-id", start + 3 * week)
    server.feeds["/feed.ics"] = feed(series(start + 2 * week), cancelled, moved)
    organisation_id = make_feed_organisation(feed_app, url=server.url("/feed.ics"))

    report = run_import(feed_app, organisation_id)

    assert (report.new, report.overrides) == (1, 1)
    event = feed_events(feed_app, organisation_id)["cafe@partner"]
    assert event.exdates == [start + week, start + 2 * week]
    client = feed_app.test_client()
    page = client.get(f"/veranstaltungen/{event.slug}").get_data(as_text=True)
    # The page lists the dates that take place: not the cancelled or the excluded one (the
    # moved one is shown at its series time: moved occurrences are not imported).
    shown = re.findall(r'<li><time datetime="([^"]+)"', page)
    assert shown == [(start + n * week).isoformat() for n in (0, 3, 4, 5)]
    # … and says which ones are dropped.
    dropped = re.search(r'<dd class="event-dropped">(.*?)</dd>', page).group(1)
    assert dropped.startswith("<strong>Fällt aus:</strong>")
    assert re.findall(r'datetime="([^"]+)"', dropped) == [
        (start + week).isoformat(),
        (start + 2 * week).isoformat(),
    ]
    exported = Calendar.from_ical(client.get(f"/veranstaltungen/{event.slug}.ics").data)
    [component] = exported.walk("VEVENT")
    excluded = [value.dt for prop in [component["EXDATE"]] for value in prop.dts]
    assert excluded == [start + week, start + 2 * week]
    # The last date is unchanged (COUNT counts the excluded ones too).
    assert event.last_ends_at == start + 5 * week + timedelta(hours=2)

    # Unchanged feed (fetched again in full): nothing changes; the excluded date taken back:
    # the series changes, and calendars are told (SEQUENCE).
    server.etags = False
    assert run_import(feed_app, organisation_id).unchanged == 1
    assert feed_events(feed_app, organisation_id)["cafe@partner"].sequence == event.sequence
    server.feeds["/feed.ics"] = feed(series(), moved)
    assert run_import(feed_app, organisation_id).changed == 1
    again = feed_events(feed_app, organisation_id)["cafe@partner"]
    assert again.exdates == [] and again.sequence > event.sequence


def test_a_review_required_organisations_events_wait_for_review(feed_app, server):
    server.feeds["/feed.ics"] = feed(
        vevent("a@partner", "Infoabend", soon(10, 18), soon(10, 20), location=PLACE)
    )
    organisation_id = make_feed_organisation(
        feed_app, url=server.url("/feed.ics"), review_required=True
    )
    assert run_import(feed_app, organisation_id).new == 1
    assert feed_events(feed_app, organisation_id)["a@partner"].status is EventStatus.PENDING


def test_a_broken_event_is_skipped_and_the_rest_imported(feed_app, server):
    no_start = VEvent()
    no_start.add("uid", "nostart@partner")
    no_start.add("summary", "Ohne Beginn")
    server.feeds["/feed.ics"] = feed(
        vevent("good@partner", "Gut", soon(10, 10), soon(10, 12), location=PLACE),
        no_start,
        vevent("backwards@partner", "Rückwärts", soon(10, 12), soon(10, 10), location=PLACE),
        vevent("noplace@partner", "Irgendwo", soon(10, 12), soon(10, 13), location="Bei uns"),
        vevent("past@partner", "Vorbei", soon(-10, 10), soon(-10, 12), location=PLACE),
    )
    organisation_id = make_feed_organisation(feed_app, url=server.url("/feed.ics"))

    report = run_import(feed_app, organisation_id)

    assert report.ok and (report.new, report.past) == (1, 1)
    reasons = {skipped.uid: skipped.reason for skipped in report.skipped}
    assert set(reasons) == {"nostart@partner", "backwards@partner", "noplace@partner"}
    assert "DTSTART" in reasons["nostart@partner"]
    assert "Ende" in reasons["backwards@partner"]
    assert "keinen Ort" in reasons["noplace@partner"]
    assert set(feed_events(feed_app, organisation_id)) == {"good@partner"}
    assert "3 skipped" in report.line()

    # a broken change of a known event leaves the event as it was
    server.feeds["/feed.ics"] = feed(
        vevent("good@partner", "Gut, aber kaputt", soon(10, 12), soon(10, 10), location=PLACE)
    )
    broken = run_import(feed_app, organisation_id)
    assert [s.uid for s in broken.skipped] == ["good@partner"] and broken.changed == 0
    kept = feed_events(feed_app, organisation_id)["good@partner"]
    assert (kept.title, kept.starts_at, kept.sequence, kept.cancelled_at) == (
        "Gut",
        soon(10, 10),
        0,
        None,
    )


# --- broken feeds ---------------------------------------------------------------------------


def feed_broken_mails(feed_app, email: str) -> int:
    with feed_app.app_context():
        return db.session.scalar(
            select(func.count()).where(
                OutboxMessage.purpose == "feed_broken", OutboxMessage.recipient == email
            )
        )


def test_broken_feeds_are_recorded_and_the_next_organisation_imported(feed_app, server, make_staff):
    server.responses["/html.ics"] = (200, "text/html", b"<!doctype html><html><body>Hallo</body>")
    server.responses["/garbage.ics"] = (200, "text/calendar", b"\x00\x01garbage\xff" * 20)
    server.responses["/error.ics"] = (500, "text/plain", b"Internal Server Error")
    server.feeds["/good.ics"] = feed(
        vevent("a@partner", "Infoabend", soon(10, 18), soon(10, 20), location=PLACE)
    )
    html = make_feed_organisation(feed_app, "A Webseite", url=server.url("/html.ics"))
    garbage = make_feed_organisation(feed_app, "B Unsinn", url=server.url("/garbage.ics"))
    error = make_feed_organisation(feed_app, "C Fehler", url=server.url("/error.ics"))
    good = make_feed_organisation(feed_app, "D Gut", url=server.url("/good.ics"))
    make_staff("partner", email="partner-a@jobcenter.test", organisation_id=html)
    make_staff("partner", email="partner-c@jobcenter.test", organisation_id=error)

    with feed_app.test_request_context():
        reports = {report.organisation_id: report for report in event_feeds.import_all()}

    assert set(reports) == {html, garbage, error, good}
    assert "iCalendar" in reports[html].error
    assert "iCalendar" in reports[garbage].error
    assert "500" in reports[error].error
    assert reports[good].ok and reports[good].new == 1
    with feed_app.app_context():
        for organisation_id in (html, garbage, error):
            organisation = db.session.get(Organisation, organisation_id)
            assert organisation.feed_error == reports[organisation_id].error
            assert organisation.feed_checked_at is not None
            assert organisation.feed_etag == "" and organisation.feed_imported_at is None
    assert feed_broken_mails(feed_app, "partner-a@jobcenter.test") == 1
    assert feed_broken_mails(feed_app, "partner-c@jobcenter.test") == 1
    with feed_app.app_context():
        body = db.session.scalar(
            select(OutboxMessage.body).where(OutboxMessage.recipient == "partner-a@jobcenter.test")
        )
    assert "A Webseite" in body and "iCalendar" in body and server.url("/html.ics") in body

    with feed_app.test_request_context():  # still broken: no second mail
        event_feeds.import_all()
    assert feed_broken_mails(feed_app, "partner-a@jobcenter.test") == 1

    server.responses.pop("/html.ics")  # works again: the error is cleared
    server.feeds["/html.ics"] = feed(
        vevent("x@partner", "Wieder da", soon(10, 18), soon(10, 20), location=PLACE)
    )
    assert run_import(feed_app, html).new == 1
    with feed_app.app_context():
        assert db.session.get(Organisation, html).feed_error == ""

    server.responses["/html.ics"] = (404, "text/plain", b"weg")  # broken again: mailed again
    assert "404" in run_import(feed_app, html).error
    assert feed_broken_mails(feed_app, "partner-a@jobcenter.test") == 2


def test_an_oversized_feed_is_refused(feed_app, server):
    many = [
        vevent(f"e{i}@partner", f"Termin {i}", soon(10, 10), soon(10, 11), location=PLACE)
        for i in range(400)
    ]
    server.feeds["/big.ics"] = feed(*many)
    assert len(server.feeds["/big.ics"]) > 50_000  # FEED_MAX_BYTES of this app
    organisation_id = make_feed_organisation(feed_app, url=server.url("/big.ics"))

    report = run_import(feed_app, organisation_id)

    assert "größer als erlaubt" in report.error
    assert feed_events(feed_app, organisation_id) == {}
    with feed_app.app_context():
        assert "größer als erlaubt" in db.session.get(Organisation, organisation_id).feed_error


# --- addresses that may not be fetched ------------------------------------------------------


def test_a_feed_on_127_0_0_1_is_refused_by_default(app, server, make_organisation):
    server.feeds["/feed.ics"] = feed(
        vevent("a@partner", "Infoabend", soon(10, 18), soon(10, 20), location=PLACE)
    )
    organisation_id = make_organisation(f"Lokal {uuid.uuid4().hex[:8]}")
    with app.test_request_context():
        organisation = db.session.get(Organisation, organisation_id)
        organisation.feed_url = server.url("/feed.ics")  # as if stored before the check
        db.session.commit()
        report = event_feeds.import_feed(organisation)
        assert "internen Netz" in report.error
        assert "internen Netz" in db.session.get(Organisation, organisation_id).feed_error
    assert server.requests == []
    with app.app_context():
        count = select(func.count()).where(Event.organisation_id == organisation_id)
        assert db.session.scalar(count) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed.ics",
        "http://10.1.2.3/feed.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/feed.ics",
        "http://localhost:8080/feed.ics",
        "file:///etc/passwd",
    ],
)
def test_internal_feed_addresses_cannot_be_stored(app, make_staff, url):
    from app.services.accounts import by_email

    email = make_staff("curator")
    with app.test_request_context():
        staff = by_email(email)
        organisation = events.save_organisation(
            {"name": f"Org {uuid.uuid4().hex[:8]}"}, actor=staff
        )
        with pytest.raises(events.EventValuesInvalid) as info:
            events.set_feed_url(organisation, url, actor=staff)
        assert "feed_url" in info.value.errors
        with pytest.raises(events.EventValuesInvalid):
            events.save_organisation(
                {"name": organisation.name, "feed_url": url}, actor=staff, organisation=organisation
            )
        assert db.session.get(Organisation, organisation.id).feed_url == ""


def test_a_redirect_to_another_loopback_address_is_refused(feed_app, server):
    """127.0.0.1 is allowed for this app, 127.0.0.2 (loopback too) is not: the redirect's
    target is checked like the first address, and never contacted."""
    other = FeedServer("127.0.0.2")
    try:
        body = feed(vevent("a@partner", "Infoabend", soon(10, 18), soon(10, 20), location=PLACE))
        other.feeds["/feed.ics"] = body
        server.redirects["/moved.ics"] = other.url("/feed.ics")
        server.redirects["/here.ics"] = "/feed.ics"
        server.feeds["/feed.ics"] = body
        refused = make_feed_organisation(feed_app, url=server.url("/moved.ics"))
        followed = make_feed_organisation(feed_app, url=server.url("/here.ics"))

        report = run_import(feed_app, refused)
        assert "internen Netz" in report.error and "127.0.0.2" in report.error
        assert other.requests == []
        assert feed_events(feed_app, refused) == {}

        assert run_import(feed_app, followed).new == 1  # a redirect within allowed addresses
    finally:
        other.close()


# --- the command ----------------------------------------------------------------------------


def test_the_command_prints_one_line_per_organisation(feed_app, server):
    server.feeds["/feed.ics"] = feed(
        vevent("a@partner", "Infoabend", soon(10, 18), soon(10, 20), location=PLACE),
        vevent("b@partner", "Jobmesse", soon(11, 18), soon(11, 20), location=PLACE),
    )
    server.responses["/broken.ics"] = (503, "text/plain", b"later")
    good = make_feed_organisation(feed_app, "Gute Organisation", url=server.url("/feed.ics"))
    make_feed_organisation(feed_app, "Kaputte Organisation", url=server.url("/broken.ics"))
    runner = feed_app.test_cli_runner()

    result = runner.invoke(args=["events", "import-feeds"])

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Gute Organisation") and "2 new" in lines[0]
    assert lines[1].startswith("Kaputte Organisation") and "error" in lines[1] and "503" in lines[1]

    again = runner.invoke(args=["events", "import-feeds", "--organisation", str(good)])
    assert again.exit_code == 0, again.output
    assert again.output.strip().splitlines() == [f"Gute Organisation (#{good}): not modified"]

    missing = runner.invoke(args=["events", "import-feeds", "--organisation", "999999"])
    assert missing.exit_code == 1 and "999999" in missing.output


def test_dates_in_the_feed_keep_their_day(feed_app, server):
    """An all-day event on the day the clocks go back stays on that day."""
    day = date(2027, 10, 31)
    server.feeds["/feed.ics"] = feed(
        vevent("dst@partner", "Aktionstag", day, day + timedelta(days=1), location=PLACE)
    )
    organisation_id = make_feed_organisation(feed_app, url=server.url("/feed.ics"))
    assert run_import(feed_app, organisation_id).new == 1
    event = feed_events(feed_app, organisation_id)["dst@partner"]
    assert event.starts_at.astimezone(BERLIN).date() == day
    assert event.ends_at - event.starts_at == timedelta(hours=25)


def test_an_unexpected_failure_is_recorded_and_the_next_feed_imported(
    feed_app, server, monkeypatch
):
    server.feeds["/bad.ics"] = feed(
        vevent("x@partner", "Löst einen Fehler aus", soon(10, 18), soon(10, 20), location=PLACE)
    )
    server.feeds["/good.ics"] = feed(
        vevent("y@partner", "Infoabend", soon(10, 18), soon(10, 20), location=PLACE)
    )
    bad = make_feed_organisation(feed_app, "A Defekt", url=server.url("/bad.ics"))
    good = make_feed_organisation(feed_app, "B Gut", url=server.url("/good.ics"))
    build = events.build

    def failing_build(organisation, values, **options):
        if values["title"] == "Löst einen Fehler aus":
            raise RuntimeError("a defect")
        return build(organisation, values, **options)

    monkeypatch.setattr(events, "build", failing_build)
    with feed_app.test_request_context():
        reports = {report.organisation_id: report for report in event_feeds.import_all()}

    assert "unerwarteter Fehler" in reports[bad].error
    assert reports[good].new == 1
    assert feed_events(feed_app, bad) == {}
    with feed_app.app_context():
        assert "unerwarteter Fehler" in db.session.get(Organisation, bad).feed_error
