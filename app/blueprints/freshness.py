"""Keeping entries fresh: overdue confirmations and reminders."""

from __future__ import annotations

from flask import Blueprint, render_template

from .staff import protect

bp = Blueprint("freshness", __name__)
protect(bp)


@bp.get("/")
def index():
    """Entries due for confirmation (being built)."""
    return render_template("curation/freshness.html")
