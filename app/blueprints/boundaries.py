"""The workspace page for official municipality boundaries: upload a file (GeoJSON,
GeoPackage, zipped Shapefile), see what was imported (``/agentur/grenzen``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.services import boundaries

from .staff import protect

bp = Blueprint("boundaries", __name__)
protect(bp)


def _form(error: str | None = None, code: int = 200, report=None):
    values = {key: request.form.get(key, "")[:40] for key in ("ags_prefix", "crs", "ags_column")}
    return render_template(
        "curation/boundaries.html", error=error, report=report, values=values
    ), code


@bp.get("/")
def index():
    """The upload form."""
    return _form()


@bp.post("/")
def upload():
    """Import the uploaded file; the report, or the form again saying why not."""
    file = request.files.get("file")
    if file is None or not file.filename:
        return _form(_("Bitte wählen Sie eine Datei aus."), 422)
    options = {
        key: request.form.get(key, "").strip() or None
        for key in ("ags_prefix", "crs", "ags_column")
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload"
        file.save(path)
        try:
            report = boundaries.import_file(path, actor=current_user, **options)
        except boundaries.BoundaryFileError as error:
            return _form(boundaries.error_message(error), 422)
    return _form(report=report)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    """An upload over MAX_CONTENT_LENGTH: the form again, saying the limit."""
    if not current_user.is_authenticated:  # the guard has not run yet: no workspace page
        return render_template("errors/http.html", error=error), 413
    message = _(
        "Die Datei ist zu groß: höchstens %(size)d MB.",
        size=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
    )
    return _form(message, 413)
