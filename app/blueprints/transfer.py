"""Import and export of employer entries: upload, column mapping, per-row report, import of the
valid rows; export of the published entries (or the current filter) as CSV, Excel (xlsx),
GeoJSON, GeoPackage.
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.blueprints.filtering import request_filter
from app.features import pipeline
from app.features.employers import EMPLOYERS
from app.features.filters import FilterError
from app.i18n import current_language
from app.services import exports, importer
from geodata.tables import MAX_ROWS

from .staff import protect

bp = Blueprint("transfer", __name__)
protect(bp)

#: Rows of the file the preview shows.
PREVIEW_ROWS = 10


def _upload(upload_id: int):
    return importer.get_upload(upload_id) or abort(404)


def _status() -> str:
    status = request.values.get("status") or importer.STATUSES[0]
    return status if status in importer.STATUSES else abort(400)


def _typed_mapping(values, columns) -> dict[str, str]:
    """The mapping as chosen in a form or link (unchecked: to show it again)."""
    return {
        key: values[f"map-{key}"]
        for key in importer.TARGET_KEYS
        if values.get(f"map-{key}") in columns
    }


def _render_preview(upload, table, mapping, status, error=None, code=200):
    return render_template(
        "curation/import_preview.html",
        upload=upload,
        table=table,
        rows=table.rows[:PREVIEW_ROWS],
        targets=importer.TARGETS,
        mapping=mapping,
        status=status,
        error=error,
    ), code


@bp.get("/import")
def import_start():
    """The upload form."""
    return render_template("curation/import.html", max_rows=MAX_ROWS)


@bp.post("/import")
def upload_file():
    """Keep the uploaded file and go to its preview; say why if it cannot be read."""
    file = request.files.get("file")
    if file is None or not file.filename:
        error = _("Bitte wählen Sie eine Datei aus.")
        return render_template("curation/import.html", error=error, max_rows=MAX_ROWS), 422
    try:
        upload = importer.store_upload(file.read(), file.filename, current_user)
    except importer.ImportFileError as error:
        return render_template("curation/import.html", error=str(error), max_rows=MAX_ROWS), 422
    return redirect(url_for(".preview", upload_id=upload.id), 303)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    """An upload over MAX_CONTENT_LENGTH: the upload form again, saying the limit."""
    if not current_user.is_authenticated:  # the guard has not run yet: no workspace page
        return render_template("errors/http.html", error=error), 413
    message = _(
        "Die Datei ist zu groß: höchstens %(size)d MB. Bitte teilen Sie sie in kleinere "
        "Dateien auf.",
        size=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
    )
    return render_template("curation/import.html", error=message, max_rows=MAX_ROWS), 413


@bp.errorhandler(importer.ImportFileError)
def unreadable(error: importer.ImportFileError):
    """A kept upload that cannot be read (again, e.g. under new limits): the upload form."""
    return render_template("curation/import.html", error=str(error), max_rows=MAX_ROWS), 422


@bp.get("/import/<int:upload_id>")
def preview(upload_id: int):
    """The file's first rows and a column choice per field (suggested from the headers)."""
    upload = _upload(upload_id)
    table = importer.table_of(upload)
    mapping = _typed_mapping(request.args, table.columns) or importer.suggest_mapping(table.columns)
    return _render_preview(upload, table, mapping, _status())


@bp.post("/import/<int:upload_id>/pruefen")
def check(upload_id: int):
    """The per-row report for the chosen mapping: which row, which field, why."""
    upload = _upload(upload_id)
    table = importer.table_of(upload)
    status = _status()
    try:
        mapping = importer.mapping_from(request.form, table.columns)
    except importer.MappingError as error:
        chosen = _typed_mapping(request.form, table.columns)
        return _render_preview(upload, table, chosen, status, str(error), 422)
    report = importer.validate(table.rows, mapping, current_language())
    return render_template(
        "curation/import_report.html",
        upload=upload,
        report=report,
        mapping=mapping,
        mapping_args={f"map-{key}": column for key, column in mapping.items()},
        status=status,
        labels=importer.field_labels(),
    )


@bp.post("/import/<int:upload_id>/importieren")
def run(upload_id: int):
    """Queue the import of the valid rows (a job runs it) and go to its progress page."""
    upload = _upload(upload_id)
    table = importer.table_of(upload)
    status = _status()
    try:
        mapping = importer.mapping_from(request.form, table.columns)
        importer.request_import(upload, mapping, status, current_user)
    except importer.MappingError as error:
        chosen = _typed_mapping(request.form, table.columns)
        return _render_preview(upload, table, chosen, status, str(error), 422)
    except importer.ImportRefused as error:
        chosen = _typed_mapping(request.form, table.columns)
        return _render_preview(upload, table, chosen, status, str(error), 409)
    return redirect(url_for(".progress", upload_id=upload.id), 303)


@bp.get("/import/<int:upload_id>/stand")
def progress(upload_id: int):
    """The requested import: still running (the page reloads itself), its new entries, or
    why it failed."""
    upload = _upload(upload_id)
    progress = importer.import_progress(upload)
    if progress is None:
        return redirect(url_for(".preview", upload_id=upload.id), 303)
    if progress.result is not None:
        return render_template(
            "curation/import_report.html",
            upload=upload,
            result=progress.result,
            labels=importer.field_labels(),
        )
    return render_template("curation/import_progress.html", upload=upload, progress=progress)


def _export_page(employer_filter=None, error=None, code=200):
    total = pipeline.count(EMPLOYERS, employer_filter, use_view=False) if employer_filter else None
    return render_template(
        "curation/export.html",
        filter=employer_filter,
        total=total,
        error=error,
        formats=exports.FORMATS,
        chosen=request.args.get("format", "csv"),
    ), code


@bp.get("/export")
def export_page():
    """Format choice and how many published entries the filter in the URL matches."""
    try:
        employer_filter = request_filter()
    except FilterError as error:
        return _export_page(error=error, code=400)
    return _export_page(employer_filter)


@bp.get("/export/datei")
def export_file():
    """The published entries the filter matches, as a CSV, xlsx, GeoJSON or GeoPackage file."""
    kind = request.args.get("format", "csv")
    try:
        employer_filter = request_filter()
        if kind not in exports.FORMATS:
            raise FilterError(
                "format",
                _(
                    "Unbekanntes Format „%(value)s“: erlaubt sind csv, xlsx, geojson, gpkg.",
                    value=kind,
                ),
            )
    except FilterError as error:
        return _export_page(error=error, code=400)
    private = request.args.get("private") == "1"
    content = exports.export_file(EMPLOYERS, employer_filter, kind, private=private)
    response = send_file(
        io.BytesIO(content),
        mimetype=exports.FORMATS[kind].media_type,
        as_attachment=True,
        download_name=exports.filename(kind),
    )
    # send_file would append "; charset=utf-8" to a text type that has it already.
    response.headers["Content-Type"] = exports.FORMATS[kind].media_type
    response.headers["Cache-Control"] = "no-store"
    return response
