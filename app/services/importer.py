"""Importing employers from a CSV, Excel (xlsx) or GeoJSON file.

The agency uploads a file (:func:`store_upload`), maps its columns to the entry's fields
(:func:`suggest_mapping` proposes a mapping from the headers), checks every row
(:func:`validate`: which row, which field, why) and imports the valid rows as pending or
published entries (:func:`run_import`): all of them in one transaction with an audit record
each, or none at all. An upload is imported only once. The curator's request only queues the
import (:func:`request_import`); a job of the task queue runs it (:func:`run_requested_import`)
and keeps its result or error on the upload, which the curator's page shows
(:func:`import_progress`).

Rows are checked by the questionnaire's own rules (the staff entry form), relaxed so that only
the name is required, and a postal code of the region unless the row has coordinates in it.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from app import jobs
from app.extensions import db
from app.features.employers import fold_for_search
from app.i18n import current_language
from app.models import (
    Company,
    CompanyStatus,
    ImportUpload,
    Municipality,
    PostalCode,
    StaffUser,
)
from app.services import apprenticeships, audit, duplicates, entries, region
from app.services import questionnaire as questionnaire_service
from app.services.slugs import unique_slug
from geodata.tables import Row, Table, TableError, read_table
from questionnaire import build_form, clean_answers
from questionnaire.definition import Step

SOURCE = "import"
STATUSES = (CompanyStatus.PENDING.value, CompanyStatus.PUBLISHED.value)
MAX_REFERENCE = 100
#: Rows beyond this many are not compared with existing entries (it takes a few queries each).
DUPLICATE_CHECK_LIMIT = 2000
_TRUE = frozenset(("ja", "j", "yes", "y", "true", "wahr", "1", "x"))
_FALSE = frozenset(("nein", "n", "no", "false", "falsch", "0", "-"))
_LIST_SEPARATOR = re.compile(r"[,;]")
_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_CODE = re.compile(r"^\d{1,2}(?:[.\s]?\d+)*$")


class Target(NamedTuple):
    """A field a column can be mapped to, with the header names that suggest it."""

    key: str
    label: str
    aliases: tuple[str, ...]


#: The fields of an entry a file can fill, in the order the mapping form shows them.
TARGETS = (
    Target("name", _l("Name des Betriebs"), ("firma", "name", "firmenname", "unternehmen",
           "betrieb", "betriebsname", "arbeitgeber", "company", "companyname", "employer",
           "business")),
    Target("street", _l("Straße"), ("strasse", "str", "street", "adresse", "anschrift",
           "address")),
    Target("house_number", _l("Hausnummer"), ("hausnummer", "hausnr", "nr", "nummer",
           "housenumber", "number", "no")),
    Target("postal_code", _l("Postleitzahl"), ("plz", "postleitzahl", "postalcode", "postcode",
           "zip", "zipcode")),
    Target("town", _l("Ort"), ("ort", "stadt", "wohnort", "town", "city", "place")),
    Target("lat", _l("Breitengrad (lat)"), ("lat", "latitude", "breite", "breitengrad",
           "geobreite")),
    Target("lon", _l("Längengrad (lon)"), ("lon", "lng", "long", "longitude", "laenge",
           "laengengrad", "geolaenge")),
    Target("description", _l("Beschreibung"), ("beschreibung", "kurzbeschreibung",
           "description", "taetigkeit", "text")),
    Target("website", _l("Website"), ("website", "webseite", "internet", "internetseite",
           "homepage", "url", "web", "www")),
    Target("phone", _l("Telefon"), ("telefon", "tel", "telefonnummer", "phone", "telephone",
           "fon")),
    Target("email", _l("E-Mail (öffentlich)"), ("email", "mail", "emailadresse", "e-mail")),
    Target("contact_name", _l("Ansprechperson"), ("ansprechpartner", "ansprechpartnerin",
           "ansprechperson", "kontakt", "kontaktperson", "contact", "contactname",
           "contactperson")),
    Target("contact_email", _l("E-Mail der Ansprechperson"), ("emailansprechpartner",
           "emailansprechperson", "ansprechpartneremail", "ansprechpersonemail",
           "kontaktemail", "contactemail")),
    Target("employees", _l("Beschäftigte"), ("beschaeftigte", "mitarbeiter", "mitarbeitende",
           "mitarbeiterzahl", "anzahlmitarbeiter", "anzahlbeschaeftigte", "employees",
           "staff", "headcount")),
    Target("open_positions", _l("Offene Stellen"), ("offenestellen", "stellen",
           "openpositions", "vacancies", "jobs")),
    Target("sectors", _l("Branchen (WZ-Abteilungen)"), ("wz", "branche", "branchen", "wzcode",
           "wz2008", "wirtschaftszweig", "sector", "sectors")),
    Target("occupations", _l("Berufe (KldB-Berufshauptgruppen)"), ("kldb", "berufe", "beruf",
           "kldb2010", "berufsgruppen", "occupations", "occupation")),
    Target("offers_apprenticeships", _l("Bildet aus"), ("ausbildung", "ausbildungsbetrieb",
           "bildetaus", "ausbildungsplaetze", "apprenticeships", "apprenticeship")),
    Target("apprenticeships", _l("Ausbildungsberufe (Code oder Name, Plätze nach „:“)"),
           ("ausbildungsberufe", "ausbildungsberuf", "apprenticeshipoccupations",
           "trainedoccupations")),
    Target("offers_internships", _l("Bietet Praktika an"), ("praktikum", "praktika",
           "praktikumsplaetze", "internships", "internship")),
    Target("family", _l("Familienfreundlichkeit (Merkmale)"), ("familie", "familienfreundlich",
           "familienfreundlichkeit", "family", "familycriteria")),
    Target("languages", _l("Sprachen"), ("sprachen", "sprache", "languages", "language")),
    Target("source_ref", _l("Externe Kennung"), ("id", "ref", "referenz", "kennung",
           "externeid", "externalid", "reference", "sourceref")),
)  # fmt: skip
TARGET_KEYS = tuple(t.key for t in TARGETS)
#: Fields that are plain text in the entry form (the value goes in as it is).
_TEXT_FIELDS = (
    "name", "street", "house_number", "postal_code", "town", "description", "website",
    "phone", "email", "contact_name", "contact_email", "employees",
)  # fmt: skip
#: Targets that fill an entry field of another name.
_TARGET_OF_FIELD = {"family_criteria": "family"}
_BOOLEAN_FIELDS = ("offers_apprenticeships", "offers_internships")
#: Entry fields whose answer is stored as text and must not be None.
_REQUIRED_TEXT = ("street", "house_number", "postal_code", "town", "contact_name", "contact_email")


class ImportFileError(ValueError):
    """The uploaded file cannot be read as a table; the message says why (translated)."""


class MappingError(ValueError):
    """The chosen column mapping cannot be used; the message says why (translated)."""


class ImportRefused(ValueError):
    """The import cannot run (already imported, nothing valid); the message says why."""


class Problem(NamedTuple):
    """What is wrong with a row: the field (a target key, 'location', or '' for the whole row)
    and why."""

    field: str
    message: str


@dataclass
class RowReport:
    """The check of one row: its number, the mapped values, errors and warnings."""

    number: int
    values: dict[str, str]
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    answers: dict | None = None  # the entry form's answers, when the row is valid

    @property
    def valid(self) -> bool:
        return not self.errors

    def errors_about(self, field_name: str) -> bool:
        """Whether an error names this field."""
        return any(problem.field == field_name for problem in self.errors)


@dataclass
class Report:
    """The check of every row of a file."""

    rows: list[RowReport]

    @property
    def valid(self) -> list[RowReport]:
        return [row for row in self.rows if row.valid]

    @property
    def invalid(self) -> list[RowReport]:
        return [row for row in self.rows if not row.valid]

    @property
    def with_warnings(self) -> list[RowReport]:
        return [row for row in self.rows if row.valid and row.warnings]


@dataclass(frozen=True)
class ImportedEntry:
    """An entry an import created."""

    id: int
    name: str
    row: int


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the entries it created, and how many rows it left out."""

    entries: list[ImportedEntry]
    skipped: int
    status: str


def field_labels() -> dict[str, str]:
    """Readable names of the fields a problem can name (in the interface language)."""
    labels = {target.key: str(target.label) for target in TARGETS}
    labels["location"] = _("Lage (Koordinaten)")
    labels[""] = _("ganze Zeile")
    return labels


# --- the upload ---------------------------------------------------------------------------


def file_error_message(error: TableError) -> str:
    """The message for a file that cannot be read, in the interface language (plain text:
    it names limits and numbers, never the file's content)."""
    simple = {
        "empty": _(
            "Die Datei enthält keine Daten: erwartet werden eine Kopfzeile und mindestens "
            "eine Zeile darunter."
        ),
        "binary": _(
            "Diese Datei können wir nicht als Tabelle lesen. Bitte laden Sie eine CSV-Datei, "
            "eine Excel-Arbeitsmappe (xlsx) oder eine GeoJSON-Datei hoch."
        ),
        "nul_bytes": _(
            "Die Datei enthält Null-Zeichen, die in einer CSV- oder GeoJSON-Datei nicht "
            "vorkommen dürfen (vielleicht ist sie als UTF-16 oder „Unicode-Text“ gespeichert). "
            "Bitte speichern Sie sie als „CSV UTF-8“ und laden Sie sie erneut hoch."
        ),
        "old_excel": _(
            "Das ist eine Excel-Datei im alten Format (xls). Bitte speichern Sie sie in Excel "
            "als „Excel-Arbeitsmappe (xlsx)“ oder als CSV und laden Sie sie erneut hoch."
        ),
        "geopackage": _(
            "Das ist eine GeoPackage- oder andere SQLite-Datei; der Import liest sie nicht. "
            "Bitte speichern Sie die Daten (etwa in QGIS) als GeoJSON oder CSV und laden Sie "
            "sie erneut hoch."
        ),
        "not_a_table": _(
            "Diese Datei ist weder eine Excel-Arbeitsmappe (xlsx) noch eine "
            "GeoJSON-FeatureCollection noch eine CSV-Datei."
        ),
        "too_deep": _(
            "Die GeoJSON-Datei ist zu tief verschachtelt, um sie zu lesen. Bitte prüfen Sie, "
            "ob sie beim Speichern beschädigt wurde."
        ),
    }
    if error.code in simple:
        return simple[error.code]
    details = error.details
    if error.code == "too_many_rows":
        return _(
            "Die Datei hat mehr als %(limit)d Zeilen. Bitte teilen Sie sie in kleinere "
            "Dateien auf.",
            limit=details.get("limit", 0),
        )
    if error.code == "too_large":
        return _(
            "Die Tabelle ist zu groß: Wir lesen höchstens %(rows)d Zeilen (auch leere) und "
            "%(columns)d Spalten. Bitte löschen Sie leere Zeilen und Spalten oder teilen Sie "
            "die Datei auf.",
            rows=details.get("rows", 0),
            columns=details.get("columns", 0),
        )
    if error.code == "too_large_unpacked":
        return _(
            "Die Excel-Datei ist entpackt größer als %(size)d MB. Bitte speichern Sie nur die "
            "Tabelle mit den Betrieben (ohne Bilder und weitere Blätter) oder eine CSV-Datei.",
            size=details.get("limit_mb", 0),
        )
    if error.code == "geojson":
        return _geojson_message(details.get("problem"), details.get("feature", 0))
    return _(
        "Die Datei ist beschädigt oder unvollständig und kann nicht gelesen werden (%(reason)s).",
        reason=str(details.get("reason", ""))[:200],
    )


def _geojson_message(problem: str | None, feature: int) -> str:
    """What is wrong with the structure of a GeoJSON FeatureCollection."""
    if problem == "features":
        return _("In der GeoJSON-Datei ist „features“ keine Liste von Features.")
    if problem == "feature":
        return _("In der GeoJSON-Datei ist Feature %(number)d kein JSON-Objekt.", number=feature)
    return _(
        "In der GeoJSON-Datei hat Feature %(number)d als „properties“ kein JSON-Objekt "
        '(erwartet wird etwa {"name": "Bäckerei"}).',
        number=feature,
    )


def store_upload(content: bytes, filename: str, actor: StaffUser) -> ImportUpload:
    """Keep an uploaded file for its preview and import, if it reads as a table.

    The file is read here, once: the table is kept for the upload's later steps
    (:func:`table_of`). Raises :class:`ImportFileError` (with the reason, translated) if it
    does not read.
    """
    try:
        table = read_table(content)
    except TableError as error:
        raise ImportFileError(file_error_message(error)) from None
    upload = ImportUpload(
        staff_id=actor.id,
        filename=(filename or "").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload",
        kind=table.kind,
        content=content,
    )
    db.session.add(upload)
    db.session.commit()
    _TABLES.put(_table_key(upload), table)
    return upload


def get_upload(upload_id: int) -> ImportUpload | None:
    """An upload by id (None if there is none)."""
    return db.session.get(ImportUpload, upload_id)


def table_of(upload: ImportUpload) -> Table:
    """The upload's content read as a table: read once, then kept (per process, for the
    last :data:`TABLE_CACHE_SIZE` uploads), so that preview, check and import do not read
    the file again."""
    key = _table_key(upload)
    table = _TABLES.get(key)
    if table is None:
        try:
            table = read_table(upload.content)
        except TableError as error:
            raise ImportFileError(file_error_message(error)) from None
        _TABLES.put(key, table)
    return table


def _table_key(upload: ImportUpload) -> tuple[int, datetime]:
    """What identifies an upload's content: its id and creation time (ids can be reused
    after a database is restored or emptied)."""
    return upload.id, upload.created_at


class _TableCache:
    """The most recently read tables of uploads, by key (thread-safe)."""

    def __init__(self, size: int):
        self.size = size
        self._tables: OrderedDict[tuple, Table] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Table | None:
        with self._lock:
            table = self._tables.get(key)
            if table is not None:
                self._tables.move_to_end(key)
            return table

    def put(self, key: tuple, table: Table) -> None:
        with self._lock:
            self._tables[key] = table
            self._tables.move_to_end(key)
            while len(self._tables) > self.size:
                self._tables.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()


#: Uploads kept read (each up to MAX_ROWS rows of MAX_COLUMNS texts).
TABLE_CACHE_SIZE = 4
_TABLES = _TableCache(TABLE_CACHE_SIZE)


# --- the mapping --------------------------------------------------------------------------


def _header_key(text: str) -> str:
    """A header reduced for comparison: 'Länge' and 'Laenge' -> 'laenge', 'E-Mail' -> 'email'."""
    text = text.lower()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        text = text.replace(umlaut, spelled)
    return re.sub(r"[^a-z0-9]", "", fold_for_search(text))


def suggest_mapping(columns: Iterable[str]) -> dict[str, str]:
    """{target key: column} for the columns whose header names a target (German or English);
    each column is suggested for one target at most."""
    keys = {column: _header_key(column) for column in columns}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for target in TARGETS:
        names = [_header_key(alias) for alias in (*target.aliases, target.key)]
        for name in names:
            column = next((c for c, k in keys.items() if k == name and c not in used), None)
            if column is not None:
                mapping[target.key] = column
                used.add(column)
                break
    return mapping


def mapping_from(values: Mapping[str, str], columns: Iterable[str]) -> dict[str, str]:
    """The mapping a form sent (``map-<target>`` = column); MappingError if it is unusable."""
    columns = set(columns)
    mapping = {}
    for key in TARGET_KEYS:
        column = (values.get(f"map-{key}") or "").strip()
        if not column:
            continue
        if column not in columns:
            raise MappingError(_("Die Datei hat keine Spalte „%(column)s“.", column=column))
        mapping[key] = column
    check_mapping(mapping)
    return mapping


def check_mapping(mapping: Mapping[str, str]) -> None:
    """Refuse a mapping without a name column, or with only one of latitude and longitude."""
    if not mapping.get("name"):
        raise MappingError(_("Bitte ordnen Sie dem Namen des Betriebs eine Spalte zu."))
    if bool(mapping.get("lat")) != bool(mapping.get("lon")):
        raise MappingError(
            _("Bitte ordnen Sie Breiten- und Längengrad beide zu (oder keinen von beiden).")
        )


# --- checking rows ------------------------------------------------------------------------


def import_step() -> Step:
    """The staff entry form, relaxed for imports: only the name is required."""
    step = questionnaire_service.entry_step()
    questions = tuple(
        replace(q, required=q.key == "name", required_if=None) for q in step.questions
    )
    return replace(step, questions=questions)


@dataclass
class _Checker:
    """What checking the rows of one file needs, looked up once."""

    language: str
    step: Step
    form_class: type
    sectors: frozenset[str]
    occupations: frozenset[str]
    family: tuple[str, ...]
    towns: dict[str, str]
    #: Whether a point lies in the region (its stored boundaries, else its bounds).
    in_region: Callable[[float, float], bool]
    #: The entry form's question key of each entry field (through ``maps_to``).
    keys: dict[str, str]

    def put(self, data: MultiDict, field_name: str, value: str) -> None:
        """Add ``value`` to the form input of the question that fills ``field_name`` (if the
        questionnaire has one)."""
        if field_name in self.keys:
            data.add(self.keys[field_name], value)

    def gate(self, field_name: str) -> str | None:
        """The yes/no question the question of ``field_name`` depends on (e.g. "we have open
        positions" for their number), or None."""
        question = questionnaire_service.definition().question_for(field_name)
        condition = question.required_if if question else None
        return condition["question"] if condition and condition.get("equals") is True else None

    def target_of(self, question_key: str) -> str:
        """The target (column mapping key) a form error of a question is reported under."""
        fields = {key: field_name for field_name, key in self.keys.items()}
        target = _TARGET_OF_FIELD.get(fields.get(question_key), fields.get(question_key))
        return target if target in (*TARGET_KEYS, "location") else ""


def _checker(language: str) -> _Checker:
    context = questionnaire_service.engine_context(language)
    step = import_step()
    towns = dict(
        db.session.execute(
            select(PostalCode.code, Municipality.name).join(
                Municipality, Municipality.ags == PostalCode.municipality_ags
            )
        ).all()
    )
    return _Checker(
        language=language,
        step=step,
        form_class=build_form(step, language=language, context=context),
        sectors=frozenset(option[0] for option in context.choices["wz_divisions"]),
        occupations=frozenset(option[0] for option in context.choices["kldb_groups"]),
        family=tuple(option[0] for option in context.choices["family_criteria"]),
        towns=towns,
        in_region=region.region_test(),
        keys={q.maps_to: q.key for q in step.questions if q.maps_to},
    )


def validate(
    rows: Iterable[Row], mapping: Mapping[str, str], language: str, *, find_duplicates=True
) -> Report:
    """Check every row against the entry form's rules; a per-row report of errors (which
    field, why) and warnings (likely duplicates of existing entries).

    A row is also wrong if its external reference was imported before, or repeats the
    reference of an earlier row of the file. Likely duplicates are looked for only with
    ``find_duplicates`` (and only in the first :data:`DUPLICATE_CHECK_LIMIT` rows).
    """
    check_mapping(mapping)
    checker = _checker(language)
    reports = [_check_row(row, mapping, checker) for row in rows]
    _check_references(reports)
    for report in reports[:DUPLICATE_CHECK_LIMIT] if find_duplicates else ():
        if report.valid:
            report.warnings.extend(_duplicate_warnings(report.answers))
    return Report(reports)


def check_upload(
    upload: ImportUpload, mapping: Mapping[str, str], language: str, *, find_duplicates=True
) -> Report:
    """:func:`validate` for the rows of an upload."""
    return validate(table_of(upload).rows, mapping, language, find_duplicates=find_duplicates)


def _check_row(row: Row, mapping: Mapping[str, str], checker: _Checker) -> RowReport:
    values = {key: row.cells.get(column, "").strip() for key, column in mapping.items()}
    report = RowReport(row.number, values)
    if row.problem == "extra_cells":
        report.errors.append(
            Problem("", _("Die Zeile hat mehr Zellen, als die Kopfzeile Spalten hat."))
        )
    point = _row_point(row, values, report, checker)
    formdata = _formdata(values, point, report, checker)
    if point is None and not values.get("postal_code") and not report.errors_about("location"):
        report.errors.append(
            Problem(
                "postal_code",
                _("Ohne Koordinaten brauchen wir eine Postleitzahl der Region."),
            )
        )
    form = checker.form_class(formdata=formdata)
    if not form.validate():
        for key, messages in form.errors.items():
            target = checker.target_of(key)
            report.errors.extend(Problem(target, message) for message in messages)
    if len(values.get("source_ref", "")) > MAX_REFERENCE:
        report.errors.append(
            Problem(
                "source_ref",
                _("Die Kennung ist zu lang (höchstens %(max)d Zeichen).", max=MAX_REFERENCE),
            )
        )
    if report.valid:
        report.answers = _answers(clean_answers(checker.step, form), checker)
    return report


def _number(text: str) -> float | None:
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    return float(text.replace(",", "."))


def _row_point(
    row: Row, values: Mapping[str, str], report: RowReport, checker: _Checker
) -> tuple[float, float] | None:
    """(lon, lat) of the row from its geometry, else from the lat/lon columns (checked)."""
    if row.problem == "geometry":
        report.errors.append(Problem("location", _("Die Geometrie hat keinen gültigen Punkt.")))
        return None
    if row.point is not None:
        lon, lat = row.point
    else:
        lat_text, lon_text = values.get("lat", ""), values.get("lon", "")
        if not lat_text and not lon_text:
            return None
        if not lat_text or not lon_text:
            missing = "lat" if not lat_text else "lon"
            report.errors.append(
                Problem(missing, _("Bitte geben Sie Breiten- und Längengrad an (oder keinen)."))
            )
            return None
        lat, lon = _number(lat_text), _number(lon_text)
        bad = [(k, t) for k, n, t in (("lat", lat, lat_text), ("lon", lon, lon_text)) if n is None]
        for key, text in bad:
            report.errors.append(Problem(key, _("„%(value)s“ ist keine Zahl.", value=text)))
        if bad:
            return None
    if not checker.in_region(lon, lat):
        message = _(
            "Die Koordinaten (Breite %(lat)s, Länge %(lon)s) liegen außerhalb der Region.",
            lat=f"{lat:.5f}",
            lon=f"{lon:.5f}",
        )
        if checker.in_region(lat, lon):
            message += " " + _("Sind Breiten- und Längengrad vertauscht?")
        report.errors.append(Problem("location", message))
        return None
    return lon, lat


def _formdata(
    values: Mapping[str, str],
    point: tuple[float, float] | None,
    report: RowReport,
    checker: _Checker,
) -> MultiDict:
    """The row as the entry form's input; values the form cannot take are reported."""
    data = MultiDict()
    for key in _TEXT_FIELDS:
        text = values.get(key, "")
        if key == "postal_code" and re.fullmatch(r"\d{4}", text):
            text = text.zfill(5)  # a spreadsheet dropped the leading zero
        if key == "website" and text.lower().startswith("www."):
            text = f"https://{text}"
        if text:
            checker.put(data, key, text)
    if point is not None:
        checker.put(data, "location", f"{point[1]:.7f},{point[0]:.7f}")
    for key in _BOOLEAN_FIELDS:
        flag = _flag(values.get(key, ""))
        if flag is None:
            report.errors.append(
                Problem(
                    key,
                    _(
                        "„%(value)s“ ist weder ja noch nein (erlaubt: ja, nein, x, 1, 0).",
                        value=values[key],
                    ),
                )
            )
        elif flag:
            checker.put(data, key, "y")
    positions = values.get("open_positions", "")
    if positions and positions != "0":
        if gate := checker.gate("open_positions"):
            data[gate] = "y"
        checker.put(data, "open_positions", positions)
    for code in _codes(values.get("sectors", ""), checker.sectors, "sectors", report):
        checker.put(data, "sectors", code)
    for code in _codes(values.get("occupations", ""), checker.occupations, "occupations", report):
        checker.put(data, "occupations", code)
    for key in _split(values.get("family", "")):
        if key in checker.family:
            checker.put(data, "family_criteria", key)
        else:
            report.errors.append(
                Problem(
                    "family",
                    _(
                        "Unbekanntes Merkmal „%(value)s“: erlaubt sind %(allowed)s.",
                        value=key,
                        allowed=", ".join(checker.family),
                    ),
                )
            )
    for code in _split(values.get("languages", "").lower()):
        checker.put(data, "languages", code)
    _put_apprenticeships(data, values.get("apprenticeships", ""), report, checker)
    return data


def _put_apprenticeships(data: MultiDict, text: str, report: RowReport, checker: _Checker):
    """Apprenticeship occupations of a cell ("baecker:2; Koch/Köchin"): each a code or a
    German or English name, with its places after a colon; unknown ones are reported."""
    key = checker.keys.get("apprenticeships")
    if not key:
        return
    known = _apprenticeship_lookup()
    for part in _split(text):
        name, _colon, places = part.partition(":")
        code = known.get(fold_for_search(name.strip()))
        if code is None:
            message = _("Unbekannter Ausbildungsberuf „%(value)s“.", value=name.strip())
            report.errors.append(Problem("apprenticeships", message))
            continue
        data.add(key, code)
        data[f"{key}-places-{code}"] = places.strip()


def _apprenticeship_lookup() -> dict[str, str]:
    """Folded codes and names (German and English) of the apprenticeship occupations."""
    found = {}
    for occupation in apprenticeships.occupations():
        for text in (occupation.en, occupation.de, occupation.code):
            if text:
                found[fold_for_search(text)] = occupation.code
    return found


def _flag(text: str) -> bool | None:
    text = text.strip().lower()
    if not text or text in _FALSE:
        return False
    return True if text in _TRUE else None


def _split(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATOR.split(text) if part.strip()]


def _codes(text: str, known: frozenset[str], key: str, report: RowReport) -> list[str]:
    """WZ or KldB codes of a cell: finer codes (43.21, 26112) count as their division or
    main group (the first two digits)."""
    codes: list[str] = []
    for part in _split(text):
        code = _main_code(part)
        if code in known:
            if code not in codes:
                codes.append(code)
        elif key == "sectors":
            report.errors.append(
                Problem(
                    key,
                    _(
                        "Unbekannte WZ-Abteilung „%(value)s“: erwartet werden zweistellige "
                        "Codes der WZ 2008 wie 43 oder 43.21.",
                        value=part,
                    ),
                )
            )
        else:
            report.errors.append(
                Problem(
                    key,
                    _(
                        "Unbekannte Berufshauptgruppe „%(value)s“: erwartet werden zweistellige "
                        "Codes der KldB 2010 wie 26 oder 26112.",
                        value=part,
                    ),
                )
            )
    return codes


def _main_code(text: str) -> str:
    if not _CODE.match(text):
        return text
    digits = re.sub(r"\D", "", text)
    if re.fullmatch(r"\d", text):
        return digits.zfill(2)
    return digits[:2] if len(digits) >= 2 else digits


def _answers(answers: dict, checker: _Checker) -> dict:
    """Answers ready to become an entry: texts not given are empty, the town defaults to
    the municipality of the postal code."""
    answers = dict(answers)
    keys = checker.keys
    for field_name in _REQUIRED_TEXT:
        if field_name in keys:
            answers[keys[field_name]] = answers.get(keys[field_name]) or ""
    town, postal_code = keys.get("town"), keys.get("postal_code")
    if town and postal_code and not answers[town] and answers[postal_code]:
        answers[town] = checker.towns.get(answers[postal_code], "")
    return answers


def _check_references(reports: list[RowReport]) -> None:
    """Flag rows whose reference was imported before or repeats an earlier row's."""
    references = {r.values.get("source_ref", "") for r in reports} - {""}
    if not references:
        return
    existing = dict(
        db.session.execute(
            select(Company.source_ref, Company.name).where(
                Company.source == SOURCE, Company.source_ref.in_(references)
            )
        ).all()
    )
    first_row: dict[str, int] = {}
    for report in reports:
        reference = report.values.get("source_ref", "")
        if not reference:
            continue
        if reference in existing:
            message = _(
                "Die Kennung „%(ref)s“ wurde schon importiert (Eintrag „%(name)s“).",
                ref=reference,
                name=existing[reference],
            )
            report.errors.append(Problem("source_ref", message))
        elif reference in first_row:
            message = _(
                "Die Kennung „%(ref)s“ steht schon in Zeile %(row)d dieser Datei.",
                ref=reference,
                row=first_row[reference],
            )
            report.errors.append(Problem("source_ref", message))
        else:
            first_row[reference] = report.number
        if report.errors:
            report.answers = None


#: The entry fields a likely duplicate is recognised by.
_PROBE_FIELDS = ("name", "postal_code", "location", "website", "phone")


def _duplicate_warnings(answers: dict) -> list[Problem]:
    """Existing entries that are probably the same employer as the row (by name and place,
    website or phone)."""
    values = questionnaire_service.entry_values(answers)
    probe = entries.build({field: values.get(field) for field in _PROBE_FIELDS}, slug="")
    return [
        Problem(
            "name",
            _(
                "Vielleicht schon vorhanden: „%(name)s“ (%(place)s).",
                name=duplicate.company.name,
                place=" ".join(
                    p for p in (duplicate.company.postal_code, duplicate.company.town) if p
                ),
            ),
        )
        for duplicate in duplicates.candidates(probe)
    ]


# --- the import ---------------------------------------------------------------------------


#: The task that runs a requested import (app.jobs.tasks).
IMPORT_TASK = "imports.run"
#: The states of an import as a job (``ImportUpload.import_state``).
QUEUED, DONE, FAILED = "queued", "done", "failed"
#: A queued import asked for this long ago may be asked for again (its job was lost).
STALE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class ImportProgress:
    """Where a requested import stands: queued, done (with its result) or failed (why)."""

    state: str
    result: ImportResult | None = None
    error: str | None = None


def request_import(
    upload: ImportUpload, mapping: Mapping[str, str], status: str, actor: StaffUser
) -> None:
    """Queue the import of the upload's valid rows with ``mapping`` as ``status`` entries by
    ``actor``: a job runs it (:func:`run_requested_import`) once this commits. Commits.

    Raises :class:`ImportRefused` if the upload was imported before or its import is queued.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    asked = {"mapping": dict(mapping), "status": status, "actor_id": actor.id}
    queue_upload_import(upload, IMPORT_TASK, asked, ImportRefused)


def queue_upload_import(
    upload: ImportUpload, task: str, asked: dict, refused: type[Exception]
) -> None:
    """Queue the job ``task`` for the upload's import, keeping ``asked`` (what the curator
    asked for), their language and the time on the upload; the job runs once this commits.
    Commits. Shared by the employer and the layer import.

    Raises ``refused`` (with the reason) if the upload was imported, or its import is queued
    (unless so long ago that its job must have been lost) or running: a running import holds
    the upload's row, so the request is refused at once instead of waiting for it.
    """
    try:
        locked = db.session.scalar(
            select(ImportUpload)
            .where(ImportUpload.id == upload.id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if locked is not None and locked.imported_at is not None:
            raise refused(_("Diese Datei wurde schon importiert."))
        if locked is None or (
            locked.import_state == QUEUED and not is_stale(locked.import_request)
        ):
            raise refused(_("Diese Datei wird schon importiert."))
        locked.import_state, locked.import_result, locked.import_error = QUEUED, None, None
        locked.import_request = {
            **asked,
            "language": current_language(),
            "requested_at": datetime.now(UTC).isoformat(),
        }
        jobs.defer(db.session, task, upload_id=locked.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def run_requested_import(upload_id: int) -> None:
    """Run the queued import of the upload ``upload_id`` as the curator asked, in their
    language, and record on the upload what it did or why it was refused (the job
    ``imports.run``). An unexpected error is recorded too, then raised (the job fails)."""
    upload = db.session.get(ImportUpload, upload_id)
    if upload is None or upload.import_state != QUEUED:
        return  # deleted meanwhile, or done by another run
    asked = upload.import_request
    actor = db.session.get(StaffUser, asked["actor_id"])
    with force_locale(asked["language"]), failure_recorded(upload_id, ImportRefused):
        if actor is None:
            raise ImportRefused(_("Das Konto, das den Import angefordert hat, gibt es nicht mehr."))
        run_import(upload, asked["mapping"], asked["status"], actor)


def is_stale(asked: dict | None) -> bool:
    """Whether a queued import was asked for so long ago (:data:`STALE_AFTER`) that its job
    must have been lost (a worker killed mid-import): it may then be asked for again (the
    employer and the layer imports, :mod:`app.services.layer_import`)."""
    requested = (asked or {}).get("requested_at")
    return requested is None or datetime.fromisoformat(requested) < datetime.now(UTC) - STALE_AFTER


@contextmanager
def failure_recorded(upload_id: int, refusal: type[Exception]) -> Iterator[None]:
    """Record on the upload why the import job in the block failed: a ``refusal`` with its
    own message (the job ends), any other error with a general one, then raised again (the
    job fails). For the employer and the layer imports."""
    try:
        yield
    except refusal as refused:
        record_failure(upload_id, str(refused))
    except Exception:
        record_failure(
            upload_id, _("Der Import ist an einem Fehler gescheitert; es wurde nichts importiert.")
        )
        raise


def record_failure(upload_id: int, message: str) -> None:
    """Roll back the import of the upload and mark it as failed, with ``message``, unless it
    was imported meanwhile (by an earlier request's job); commits. For the employer and the
    layer imports (:mod:`app.services.layer_import`)."""
    db.session.rollback()
    db.session.execute(
        update(ImportUpload)
        .where(ImportUpload.id == upload_id, ImportUpload.imported_at.is_(None))
        .values(import_state=FAILED, import_error=message)
    )
    db.session.commit()


def import_progress(upload: ImportUpload) -> ImportProgress | None:
    """Where the upload's requested import stands (None: none was requested)."""
    if upload.import_state is None:
        return None
    result = None
    if upload.import_state == DONE and upload.import_result:
        recorded = upload.import_result
        ids = [entry["id"] for entry in recorded["entries"]]
        names = dict(
            db.session.execute(select(Company.id, Company.name).where(Company.id.in_(ids))).all()
        )
        result = ImportResult(
            [
                ImportedEntry(entry["id"], names.get(entry["id"], f"#{entry['id']}"), entry["row"])
                for entry in recorded["entries"]
            ],
            recorded["skipped"],
            recorded["status"],
        )
    return ImportProgress(upload.import_state, result, upload.import_error)


def run_import(
    upload: ImportUpload, mapping: Mapping[str, str], status: str, actor: StaffUser
) -> ImportResult:
    """Import every valid row of the upload as a ``pending`` or ``published`` entry, with an
    audit record each, in one transaction: on any failure nothing is imported.

    Raises :class:`ImportRefused` if the upload was imported before or has no valid row.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    try:
        db.session.refresh(upload, with_for_update=True)  # one import at a time per upload
        if upload.imported_at is not None:
            raise ImportRefused(_("Diese Datei wurde schon importiert."))
        report = check_upload(upload, mapping, current_language(), find_duplicates=False)
        if not report.valid:
            raise ImportRefused(_("Die Datei hat keine gültige Zeile zum Importieren."))
        entries = _add_entries(report.valid, CompanyStatus(status), actor, upload)
        result = ImportResult(entries, len(report.invalid), status)
        upload.imported_at = func.now()
        upload.import_state, upload.import_error = DONE, None
        upload.import_result = {
            # ids and rows only: the names are read when shown (an entry may be erased)
            "entries": [{"id": e.id, "row": e.row} for e in entries],
            "skipped": result.skipped,
            "status": status,
        }
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def _add_entries(
    rows: list[RowReport], status: CompanyStatus, actor: StaffUser, upload: ImportUpload
) -> list[ImportedEntry]:
    """Add an entry and its audit record for each row to the session (not committed)."""
    classifications, slugs = entries.Classifications.load(), set()
    with db.session.no_autoflush:  # one flush for all entries, not one per query
        created = [(row, _create(row, status, classifications, slugs)) for row in rows]
        db.session.flush()  # the entries get their ids for the audit records
        for row, company in created:
            audit.record(
                "import",
                company,
                actor=actor,
                after=audit.snapshot(company),
                note=_("Datei %(file)s, Zeile %(row)d", file=upload.filename, row=row.number),
            )
    return [ImportedEntry(company.id, company.name, row.number) for row, company in created]


def _create(
    row: RowReport,
    status: CompanyStatus,
    classifications: entries.Classifications,
    slugs: set[str],
) -> Company:
    """Add one entry from a valid row to the session (not flushed, no audit record yet).

    Its values are the questionnaire's (:func:`questionnaire_service.entry_values`: the
    point from the coordinates, else the postal code's).
    """
    values = questionnaire_service.entry_values(row.answers)
    published = {"published_at": func.now(), "confirmed_at": func.now()}
    company = entries.build(
        values,
        classifications=classifications,
        slug=_unique_slug(values["name"], values.get("town") or "", slugs),
        status=status,
        source=SOURCE,
        source_ref=row.values.get("source_ref") or None,
        **(published if status is CompanyStatus.PUBLISHED else {}),
    )
    db.session.add(company)
    return company


def _unique_slug(name: str, town: str, taken_here: set[str]) -> str:
    """A slug no stored entry has and no other entry of this import (not stored yet) got."""
    slug = first = unique_slug(name, town)
    number = 2
    while slug in taken_here or (slug != first and _slug_stored(slug)):
        slug, number = f"{first}-{number}", number + 1
    taken_here.add(slug)
    return slug


def _slug_stored(slug: str) -> bool:
    return db.session.scalar(select(func.count()).where(Company.slug == slug)) > 0
