"""The agency's overview page: what waits, and coverage at a glance."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.i18n import current_language
from app.services import coverage

from .staff import protect

bp = Blueprint("dashboard", __name__)
protect(bp)


@bp.get("/")
def index():
    """Counts by status, sector, size and municipality, open work, and the coverage map."""
    numbers = coverage.overview(current_language())
    map_parts, steps = coverage.coverage_map(numbers.municipalities)
    return render_template("curation/dashboard.html", numbers=numbers, map=map_parts, steps=steps)
