"""Import and export of employer entries."""

from __future__ import annotations

from flask import Blueprint, render_template

from .staff import protect

bp = Blueprint("transfer", __name__)
protect(bp)


@bp.get("/import")
def import_start():
    """Upload a file to import (being built)."""
    return render_template("curation/import.html")


@bp.get("/export")
def export_page():
    """Export choices (being built)."""
    return render_template("curation/export.html")
