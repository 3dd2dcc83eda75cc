"""The demo's partner organisations and events: about 20 upcoming ones, a series (with a
dropped date), one with registration, one cancelled; loaded once (a second run adds nothing)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, EventStatus, Organisation
from app.services import events, ical


def test_seed_demo_loads_organisations_and_upcoming_events_once(app, runner):
    first = runner.invoke(args=["seed-demo", "--count", "40"])
    assert first.exit_code == 0, first.output
    assert "Added 20 demo events." in first.output
    second = runner.invoke(args=["seed-demo", "--count", "40"])
    assert second.exit_code == 0, second.output
    assert "The demo events are loaded." in second.output
    with app.test_request_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 20
        assert db.session.scalar(select(func.count()).select_from(Organisation)) >= 5
        rows = list(db.session.scalars(select(Event)))
        now = events.now()
        assert all(row.status is EventStatus.PUBLISHED for row in rows)
        assert all(row.starts_at > now for row in rows)
        assert all(
            "fiktiv" in row.organisation.name or "Demo" in row.organisation.name for row in rows
        )
        series = [row for row in rows if row.rrule]
        assert series and all(row.last_ends_at > row.ends_at for row in series)
        weekly = ical.occurrences(series, now, now + timedelta(days=60))
        assert len(weekly) >= 8
        # The weekly series drops its third date (a holiday, say).
        [dropped] = [row for row in series if row.exdates]
        starts = [o.starts_at for o in ical.occurrences([dropped], now, now + timedelta(days=60))]
        assert dropped.exdates[0] == dropped.starts_at + timedelta(weeks=2)
        assert dropped.exdates[0] not in starts and dropped.starts_at + timedelta(weeks=3) in starts
        assert any(row.registration_open and row.capacity for row in rows)
        assert sum(row.cancelled for row in rows) == 1
        assert any(row.all_day and row.ends_at - row.starts_at >= timedelta(days=2) for row in rows)
        assert any(row.attendance == "online" and row.location is None for row in rows)
        assert any(row.companies for row in rows)
