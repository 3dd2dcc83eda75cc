"""The agency's overview page: what waits, and coverage at a glance."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.i18n import current_language
from app.services import coverage, event_workspace, events

from .staff import protect

bp = Blueprint("dashboard", __name__)
protect(bp)


@bp.get("/")
def index():
    """Counts by status, sector, size and municipality, open work, this month's events and
    registrations, and the coverage map."""
    numbers = coverage.overview(current_language())
    map_parts, steps = coverage.coverage_map(numbers.municipalities)
    month_events, month_registrations = events.events_this_month()
    return render_template(
        "curation/dashboard.html",
        numbers=numbers,
        map=map_parts,
        steps=steps,
        month_events=month_events,
        month_registrations=month_registrations,
        events_waiting=event_workspace.waiting_for_review(),
    )
