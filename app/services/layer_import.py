"""Importing map layers (transit stops, childcare, housing, training, configured kinds).

A file is read by its content (:mod:`geodata.layer_files`: GeoJSON, GeoPackage, zipped
Shapefile, CSV with coordinates, GTFS), checked (:func:`check`: invalid geometries, rows
without coordinates, points outside the region, duplicates in the file and against the stored
layer) and only then stored (:func:`import_layer`), replacing the kind's features or adding to
them, in one transaction with an audit entry. :func:`remove_layer` removes a whole kind.
Uploads from the workspace are kept between preview and import as an ``ImportUpload`` of kind
``layer`` (:func:`store_upload`). The curator's import only queues a job
(:func:`request_import`, the task ``layers.import``); the worker imports
(:func:`run_requested_import`) and keeps a bounded summary of what it did, or why it did
nothing, on the upload (the columns of migration 0019), which the curator's progress page
shows (:func:`import_progress`). Every import raises the map's generation when it commits
(the triggers of migration 0013), so no cached map answer outlives it, whichever process
imports.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select

from app.extensions import db
from app.layers import LayerKind, layer_kinds
from app.models import ImportUpload, LayerFeature, StaffUser
from app.services import audit, region
from app.services.importer import DONE, QUEUED, failure_recorded, queue_upload_import
from geodata.layer_files import (
    COORDINATE_COLUMNS,
    MAX_MEMBERS,
    MAX_ROWS,
    NAME_COLUMNS,
    LayerFile,
    LayerFileError,
    LayerRow,
    Progress,
    read_layer_file,
)

#: The kind of an ``ImportUpload`` that holds a layer file.
UPLOAD_KIND = "layer"
#: The largest layer file the command line reads (the web has MAX_CONTENT_LENGTH).
MAX_FILE_BYTES = 200 * 1024 * 1024
#: Two features with the same name closer than this (metres) are duplicates.
DUPLICATE_METRES = 10.0
#: The longest attribute value kept.
MAX_VALUE_LENGTH = 500
#: Rows with problems the report lists one by one (the counts are always complete).
MAX_LISTED_PROBLEMS = 200
#: The longest feature name a summary keeps for a problem row.
MAX_SUMMARY_NAME = 120
REPLACE, APPEND = "replace", "append"
#: Columns of housing files with the offer's expiry date and address.
_EXPIRY_COLUMNS = ("expires_on", "ablaufdatum", "gueltig_bis", "gültig_bis", "gültig bis")
_ADDRESS_COLUMNS = ("address", "adresse", "anschrift")


class LayerImportError(ValueError):
    """The file cannot be imported; the message (plain text) says why."""


class LayerImportRefused(LayerImportError):
    """The upload was imported already, or its import is queued or running."""


def in_region(lon: float, lat: float) -> bool:
    """Whether a point lies in the region (the stored municipality boundaries, else the
    configured bounds: :mod:`app.services.region`)."""
    return region.in_region(lon, lat)


def kind_or_none(key: str) -> LayerKind | None:
    """The configured layer kind of ``key``, or None."""
    return layer_kinds().get(key or "")


# --- messages -----------------------------------------------------------------------------


def file_error_message(error: LayerFileError) -> str:
    """The German (or English) sentence for a file that cannot be read."""
    details = error.details
    messages = {
        "empty": _("Die Datei ist leer oder enthält keine Zeilen."),
        "binary": _(
            "Die Datei ist weder GeoJSON, GeoPackage, ein gezipptes Shapefile, CSV noch GTFS."
        ),
        "nul_bytes": _(
            "Die Datei ist in einer falschen Zeichenkodierung gespeichert (z. B. UTF-16). "
            "Bitte speichern Sie sie als CSV in UTF-8."
        ),
        "encoding": _(
            "Die Datei ist Text in einer unbekannten Zeichenkodierung. Bitte speichern Sie "
            "sie in UTF-8 (oder Windows-1252)."
        ),
        "not_a_layer": _(
            "Das Archiv bzw. die JSON-Datei enthält keine Ebene: erwartet wird eine GeoJSON-"
            "FeatureCollection, ein Shapefile (.shp, .shx, .dbf, .prj) oder GTFS (stops.txt)."
        ),
        "too_many_rows": _("Die Datei hat mehr als %(limit)d Zeilen.", limit=MAX_ROWS),
        "too_large_unpacked": _(
            "Das Archiv ist entpackt zu groß (höchstens %(size)d MB) und wird nicht gelesen.",
            size=details.get("limit_mb", 0),
        ),
        "zip_members": _(
            "Das Archiv hat zu viele Dateien (höchstens %(limit)d).", limit=MAX_MEMBERS
        ),
        "no_crs": _(
            "Die Datei nennt kein Koordinatensystem (beim Shapefile fehlt die .prj-Datei). "
            "Bitte geben Sie es als EPSG-Code an, z. B. EPSG:25832."
        ),
        "bad_crs": _(
            "„%(crs)s“ ist kein bekanntes Koordinatensystem; bitte einen EPSG-Code wie "
            "EPSG:25832 angeben.",
            crs=details.get("crs", ""),
        ),
        "no_coordinate_columns": _(
            "Die CSV-Datei hat keine Koordinatenspalten (lon/lat, x/y, Rechtswert/Hochwert). "
            "Gefundene Spalten: %(columns)s",
            columns=details.get("columns", ""),
        ),
        "too_deep": _("Die JSON-Datei ist zu tief verschachtelt."),
        "unreadable": _(
            "Die Datei kann nicht gelesen werden: %(reason)s", reason=details.get("reason", "")
        ),
    }
    return messages.get(error.code, messages["binary"])


def problem_labels() -> dict[str, str]:
    """What each row problem means, in words."""
    return {
        "geometry": _("Ungültige Geometrie"),
        "no_coordinates": _("Ohne Koordinaten"),
        "coordinates": _("Koordinaten sind keine Zahlen"),
        "extra_cells": _("Mehr Zellen als Spalten"),
        "missing_cells": _("Weniger Zellen als Spalten"),
        "no_name": _("Ohne Namen"),
        "outside_region": _("Außerhalb der Region"),
        "duplicate_in_file": _("Doppelt in der Datei (gleicher Name, unter 10 m)"),
        "duplicate_stored": _("Schon in der Ebene gespeichert (gleicher Name, unter 10 m)"),
        "repaired": _("Ungültige Geometrie, repariert"),
    }


# --- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A row that is not imported (or, for ``repaired``, imported with a note)."""

    number: int
    name: str
    code: str


@dataclass
class Report:
    """What a file holds and what an import would do, before anything is stored."""

    kind: LayerKind
    filename: str
    format: str
    crs: str
    total: int
    #: Rows that replace the layer (valid, inside the region, not twice in the file).
    accepted: list[LayerRow] = field(default_factory=list)
    #: Numbers of accepted rows already in the stored layer (skipped when appending).
    stored_duplicates: set[int] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    columns_used: dict[str, str] = field(default_factory=dict)
    columns_ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stored: int = 0

    def rows_for(self, mode: str) -> list[LayerRow]:
        """The rows an import in ``mode`` (replace or append) stores."""
        if mode == APPEND:
            return [r for r in self.accepted if r.number not in self.stored_duplicates]
        return list(self.accepted)

    @property
    def listed_problems(self) -> list[Problem]:
        return self.problems[:MAX_LISTED_PROBLEMS]

    def summary(self) -> Summary:
        """What the report page shows: the counts, and the first problem rows."""
        return Summary(
            kind=self.kind.key,
            format=self.format,
            crs=self.crs,
            total=self.total,
            accepted=len(self.accepted),
            stored=self.stored,
            counts=dict(self.counts),
            columns_used=dict(self.columns_used),
            columns_ignored=list(self.columns_ignored),
            notes=list(self.notes),
            problems=[
                Problem(p.number, p.name[:MAX_SUMMARY_NAME], p.code) for p in self.listed_problems
            ],
            problem_count=len(self.problems),
        )


@dataclass(frozen=True)
class Summary:
    """A layer file's report in brief, as its page shows it and a finished import keeps it on
    the upload (``import_result``): complete counts, but no more than
    :data:`MAX_LISTED_PROBLEMS` problem rows (a file has up to 50,000). ``mode``, ``added``
    and ``removed`` say what an import did (None and 0 before one)."""

    kind: str
    format: str
    crs: str
    total: int
    accepted: int
    stored: int
    counts: dict[str, int]
    columns_used: dict[str, str]
    columns_ignored: list[str]
    notes: list[str]
    problems: list[Problem]
    problem_count: int
    mode: str | None = None
    added: int = 0
    removed: int = 0

    def as_json(self) -> dict:
        """The summary as JSON (for ``ImportUpload.import_result``)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values["problems"] = [[p.number, p.name, p.code] for p in self.problems]
        return values

    @classmethod
    def from_json(cls, values: dict) -> Summary:
        """The summary :meth:`as_json` wrote."""
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        known["problems"] = [Problem(*problem) for problem in values.get("problems", [])]
        return cls(**known)


def _folded(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance on a sphere (haversine), good to centimetres at 10 m."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def _close(point, others) -> bool:
    return any(_metres(point, other) <= DUPLICATE_METRES for other in others)


def read(content: bytes, crs: str | None = None, progress: Progress | None = None) -> LayerFile:
    """The file read (LayerImportError with the reason if it cannot be)."""
    if len(content) > MAX_FILE_BYTES:
        raise LayerImportError(
            _("Die Datei ist zu groß: höchstens %(size)d MB.", size=MAX_FILE_BYTES // 2**20)
        )
    try:
        return read_layer_file(content, crs or None, progress)
    except LayerFileError as error:
        raise LayerImportError(file_error_message(error)) from None


def _kind(key: str) -> LayerKind:
    kind = kind_or_none(key)
    if kind is None:
        raise LayerImportError(
            _(
                "Unbekannte Ebene „%(kind)s“. Bekannt sind: %(kinds)s.",
                kind=key[:40],
                kinds=", ".join(layer_kinds()),
            )
        )
    return kind


def check(
    content: bytes,
    kind_key: str,
    *,
    filename: str = "",
    crs: str | None = None,
    progress: Progress | None = None,
) -> Report:
    """Read and check a file for a layer kind; nothing is stored."""
    kind = _kind(kind_key)
    layer = read(content, crs, progress)
    report = Report(kind, filename, layer.format, layer.crs, len(layer.rows))
    report.columns_used, report.columns_ignored = _column_use(kind, layer.columns)
    report.notes = list(layer.notes)
    inside = region.region_test()
    counts: dict[str, int] = defaultdict(int)
    seen: dict[str, list[tuple[float, float]]] = defaultdict(list)

    def refuse(row: LayerRow, code: str) -> None:
        counts[code] += 1
        report.problems.append(Problem(row.number, row.name, code))

    for row in layer.rows:
        if row.problem:
            refuse(row, row.problem)
        elif not row.name:
            refuse(row, "no_name")
        elif not inside(*row.point):
            refuse(row, "outside_region")
        elif _close(row.point, seen[_folded(row.name)]):
            refuse(row, "duplicate_in_file")
        else:
            seen[_folded(row.name)].append(row.point)
            report.accepted.append(row)
            if row.repaired:
                counts["repaired"] += 1
                report.problems.append(Problem(row.number, row.name, "repaired"))
    stored = _stored_points(kind.key, set(seen))
    for row in report.accepted:
        if _close(row.point, stored.get(_folded(row.name), ())):
            report.stored_duplicates.add(row.number)
    counts["duplicate_stored"] = len(report.stored_duplicates)
    report.counts = dict(counts)
    report.stored = feature_count(kind.key)
    return report


def _stored_points(kind: str, names: set[str]) -> dict[str, list[tuple[float, float]]]:
    """The stored features of a kind whose folded name is in ``names``: {name: [points]}."""
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    if not names:
        return points
    query = select(
        LayerFeature.name, func.ST_X(LayerFeature.location), func.ST_Y(LayerFeature.location)
    ).where(LayerFeature.kind == kind)
    for name, lon, lat in db.session.execute(query):
        folded = _folded(name)
        if folded in names:
            points[folded].append((lon, lat))
    return points


def _column_use(kind: LayerKind, columns) -> tuple[dict[str, str], list[str]]:
    """{field key: file column} for the kind's fields, and the file's other columns (neither a
    field, nor the name, nor the coordinates)."""
    used: dict[str, str] = {}
    for layer_field in kind.fields:
        for candidate in (
            layer_field.key,
            layer_field.label_de.lower(),
            layer_field.label_en.lower(),
        ):
            if candidate in columns:
                used[layer_field.key] = candidate
                break
    if kind.key == "housing":
        for key, names in (("address", _ADDRESS_COLUMNS), ("expires_on", _EXPIRY_COLUMNS)):
            column = next((c for c in names if c in columns), None)
            if column:
                used[key] = column
    name_column = next((c for c in NAME_COLUMNS if c in columns), None)
    # A table's coordinate columns (the first pair found, as the reader takes it) make the
    # position: they are used, not ignored.
    position = next((pair for pair in COORDINATE_COLUMNS if set(pair) <= set(columns)), ())
    taken = {*used.values(), name_column, *position}
    ignored = [c for c in columns if c not in taken]
    return used, ignored


def _expiry(text: str) -> date | None:
    text = text.strip()
    for parse in (date.fromisoformat, _german_date):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def _german_date(text: str) -> date:
    day, month, year = text.split(".")
    return date(int(year), int(month), int(day))


# --- storing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    report: Report
    mode: str
    added: int
    removed: int


def import_layer(
    content: bytes,
    kind_key: str,
    *,
    filename: str,
    mode: str,
    actor: StaffUser | None,
    crs: str | None = None,
    progress: Progress | None = None,
    upload: ImportUpload | None = None,
) -> ImportResult:
    """Check the file and store its accepted rows: ``replace`` the kind's features or
    ``append`` to them (skipping rows already stored), all in one transaction with an audit
    entry; nothing is stored if anything fails. With ``upload``, the upload is marked as
    imported in the same transaction (its content is dropped, its summary kept:
    :func:`import_progress`). Raises LayerImportError if the file cannot be read or has no
    row to import."""
    if mode not in (REPLACE, APPEND):
        raise LayerImportError(_("Bitte wählen Sie „Ersetzen“ oder „Ergänzen“."))
    if upload is not None and upload.imported_at is not None:
        raise LayerImportError(_("Diese Datei wurde schon importiert."))
    report = check(content, kind_key, filename=filename, crs=crs, progress=progress)
    rows = report.rows_for(mode)
    if not report.accepted:
        raise LayerImportError(_("Die Datei enthält keine Zeile, die importiert werden kann."))
    source = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:200]
    values = [_values(report, row, source) for row in rows]
    try:
        removed = 0
        if mode == REPLACE:
            removed = db.session.execute(
                delete(LayerFeature).where(LayerFeature.kind == report.kind.key)
            ).rowcount
        for start in range(0, len(values), 5000):
            db.session.execute(insert(LayerFeature), values[start : start + 5000])
        audit.record(
            "layer_import",
            None,
            actor=actor,
            note=_(
                "Ebene %(kind)s aus „%(file)s“ (%(mode)s): %(added)d hinzugefügt, "
                "%(removed)d entfernt, %(skipped)d Zeilen ausgelassen.",
                kind=report.kind.key,
                file=source,
                mode=_("ersetzt") if mode == REPLACE else _("ergänzt"),
                added=len(values),
                removed=removed,
                skipped=report.total - len(values),
            ),
        )
        if upload is not None:  # imported once: its content is no longer kept
            upload.imported_at = func.now()
            upload.content = b""
            upload.import_state, upload.import_error = DONE, None
            summary = replace(report.summary(), mode=mode, added=len(values), removed=removed)
            upload.import_result = summary.as_json()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ImportResult(report, mode, len(values), removed)


def _values(report: Report, row: LayerRow, source: str) -> dict:
    properties = {}
    expires_on = None
    for key, column in report.columns_used.items():
        value = row.cells.get(column, "").strip()[:MAX_VALUE_LENGTH]
        if key == "expires_on":
            expires_on = _expiry(value)
        elif value:
            properties[key] = value
    lon, lat = row.point
    return {
        "kind": report.kind.key,
        "name": row.name[:300],
        "properties": properties,
        "location": f"SRID=4326;POINT({lon!r} {lat!r})",
        "source": source,
        "source_ref": (row.ref or str(row.number))[:200],
        "expires_on": expires_on,
    }


def remove_layer(kind_key: str, actor: StaffUser | None) -> int:
    """Remove every feature of a kind (audited); the number removed."""
    kind = _kind(kind_key)
    removed = db.session.execute(delete(LayerFeature).where(LayerFeature.kind == kind.key)).rowcount
    audit.record(
        "layer_remove",
        None,
        actor=actor,
        note=_("Ebene %(kind)s entfernt: %(count)d Objekte.", kind=kind.key, count=removed),
    )
    db.session.commit()
    return removed


def feature_count(kind: str) -> int:
    """How many features a kind has stored."""
    return db.session.scalar(
        select(func.count()).select_from(LayerFeature).where(LayerFeature.kind == kind)
    )


@dataclass(frozen=True)
class KindSummary:
    """A kind with its stored features and the time of its last import."""

    kind: LayerKind
    count: int
    last_import: object


def overview() -> list[KindSummary]:
    """Every configured kind with its count and last import time."""
    rows = {
        kind: (count, last)
        for kind, count, last in db.session.execute(
            select(LayerFeature.kind, func.count(), func.max(LayerFeature.imported_at)).group_by(
                LayerFeature.kind
            )
        )
    }
    return [KindSummary(kind, *rows.get(key, (0, None))) for key, kind in layer_kinds().items()]


# --- the import as a job ------------------------------------------------------------------

#: The task that runs a requested layer import (app.jobs.tasks).
IMPORT_TASK = "layers.import"


@dataclass(frozen=True)
class ImportProgress:
    """Where a requested layer import stands: ``queued``, ``done`` (with its summary) or
    ``failed`` (why, in the curator's language); ``kind`` and ``crs`` as asked."""

    state: str
    kind: str
    crs: str
    summary: Summary | None = None
    error: str | None = None

    def kind_name(self, language: str) -> str:
        """The requested layer kind's name in ``language`` (its key if unknown)."""
        kind = kind_or_none(self.kind)
        return kind.name(language) if kind is not None else self.kind


def request_import(
    upload: ImportUpload, kind_key: str, mode: str, crs: str | None, actor: StaffUser
) -> None:
    """Queue the import of the upload into the layer ``kind_key`` (``replace`` or ``append``,
    the file's coordinates in ``crs`` unless it names its own) by ``actor``: a job runs it
    (:func:`run_requested_import`) once this commits, in the curator's present language.
    Commits; the file is not read here.

    Raises :class:`LayerImportRefused` if the upload was imported, or its import is queued
    (unless that was so long ago that its job must have been lost) or running;
    LayerImportError for an unknown mode or kind."""
    if mode not in (REPLACE, APPEND):
        raise LayerImportError(_("Bitte wählen Sie „Ersetzen“ oder „Ergänzen“."))
    _kind(kind_key)
    asked = {"kind": kind_key, "mode": mode, "crs": crs or "", "actor_id": actor.id}
    queue_upload_import(upload, IMPORT_TASK, asked, LayerImportRefused)


def run_requested_import(upload_id: int) -> None:
    """Run the queued layer import of the upload ``upload_id`` as the curator asked, in their
    language (the job ``layers.import``), and record on the upload what it did or why it did
    nothing. The upload's row stays locked until the import commits or rolls back, so a
    second job for it (a stale import asked for again) waits and then finds it done. An
    unexpected error is recorded too, then raised (the job fails visibly)."""
    upload = db.session.get(ImportUpload, upload_id, with_for_update=True)
    if (
        upload is None
        or upload.kind != UPLOAD_KIND
        or upload.import_state != QUEUED
        or upload.imported_at is not None
    ):
        db.session.rollback()  # deleted meanwhile, or done by another run
        return
    asked = upload.import_request
    actor = db.session.get(StaffUser, asked["actor_id"])
    with force_locale(asked["language"]), failure_recorded(upload_id, LayerImportError):
        if actor is None:
            raise LayerImportError(
                _("Das Konto, das den Import angefordert hat, gibt es nicht mehr.")
            )
        import_layer(
            upload.content,
            asked["kind"],
            filename=upload.filename,
            mode=asked["mode"],
            actor=actor,
            crs=asked["crs"] or None,
            upload=upload,
        )


def import_progress(upload: ImportUpload) -> ImportProgress | None:
    """Where the upload's requested import stands (None: none was requested)."""
    if upload.import_state is None:
        return None
    asked = upload.import_request or {}
    summary = None
    if upload.import_state == DONE and upload.import_result:
        summary = Summary.from_json(upload.import_result)
    return ImportProgress(
        upload.import_state,
        asked.get("kind", ""),
        asked.get("crs", ""),
        summary,
        upload.import_error,
    )


# --- uploads from the workspace ------------------------------------------------------------


def store_upload(
    content: bytes, filename: str, kind_key: str, crs: str | None, actor: StaffUser
) -> ImportUpload:
    """Keep an uploaded layer file for its preview and import, if it reads and the kind
    exists; LayerImportError with the reason if not."""
    _kind(kind_key)
    read(content, crs)
    upload = ImportUpload(
        staff_id=actor.id,
        filename=(filename or "").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload",
        kind=UPLOAD_KIND,
        content=content,
    )
    db.session.add(upload)
    db.session.commit()
    return upload


def get_upload(upload_id: int) -> ImportUpload | None:
    """A layer upload by id (None if there is none, or it is no layer file)."""
    upload = db.session.get(ImportUpload, upload_id)
    return upload if upload is not None and upload.kind == UPLOAD_KIND else None
