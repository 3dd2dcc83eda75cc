"""The agency's overview page."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.services import curation

from .staff import protect

bp = Blueprint("dashboard", __name__)
protect(bp)


@bp.get("/")
def index():
    """What is waiting for the agency."""
    return render_template("curation/dashboard.html", queue=curation.review_queue())
