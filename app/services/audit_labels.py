"""The audit log in words: field labels and readable values instead of column names and codes.

The labels are the ones the rest of the workspace shows: the questionnaire's question labels
for entry fields, :func:`app.services.curation.status_label` for statuses, and the taxonomy
titles for codes, each in the interface language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _

from app.services import audit, curation, event_vocabulary
from app.services import questionnaire as questionnaire_service

#: A described change: (field label, value before, value after), values as text.
ChangeRow = tuple[str, str, str]


def describer(language: str) -> Callable[[dict | None, dict | None], list[ChangeRow]]:
    """A function giving the changed fields of an audit entry (its ``before`` and ``after``)
    as readable rows; the labels are looked up once, for a whole page of entries."""
    labels = field_labels(language)
    options = option_labels(language)
    order = {name: position for position, name in enumerate(labels)}  # status, then the form's

    def describe(before: dict | None, after: dict | None) -> list[ChangeRow]:
        """The fields that differ between ``before`` and ``after``, in words."""
        rows = [
            (
                labels.get(name, name),
                value_text(name, old, options),
                value_text(name, new, options),
            )
            for name, (old, new) in sorted(
                audit.changed(before, after).items(), key=lambda item: order.get(item[0], 999)
            )
        ]
        return [row for row in rows if row[1] != row[2]]  # "" and None both read "–"

    return describe


def field_labels(language: str) -> dict[str, str]:
    """{entry field: label}: the label of the question filling it, or the workspace's word;
    in the order the audit log lists changes (status first, then as in the questionnaire)."""
    labels = {"status": _("Status")}
    for step in questionnaire_service.definition().steps:
        for question in step.questions:
            if question.maps_to:
                labels[question.maps_to] = _question_label(step, question, language)
    labels["certificates"] = _("Zertifikat")
    labels["municipality_ags"] = _("Gemeinde (Schlüssel)")
    for name, label in event_field_labels().items():
        labels.setdefault(name, label)
    return labels


def event_field_labels() -> dict[str, str]:
    """{event field: label} for the fields of events' audit entries."""
    return {
        "title": _("Titel"),
        "kind": _("Art der Veranstaltung"),
        "starts_at": _("Beginn"),
        "ends_at": _("Ende"),
        "all_day": _("Ganztägig"),
        "rrule": _("Wiederholung"),
        "cancelled": _("Abgesagt"),
        "attendance": _("Teilnahme"),
        "venue": _("Veranstaltungsort"),
        "online_url": _("Adresse der Online-Veranstaltung"),
        "target_groups": _("Zielgruppen"),
        "accessibility": _("Barrierefreiheit"),
        "free_of_charge": _("Kostenlos"),
        "price_note": _("Hinweis zu den Kosten"),
        "registration_open": _("Anmeldung über den KMU-Atlas"),
        "capacity": _("Plätze"),
        "company_ids": _("Beteiligte Arbeitgeber (Nummern)"),
    }


def _question_label(step, question, language: str) -> str:
    """A question's label; one asked as a question ("Was bieten Sie an?") with its step's
    title in front, so that it still names the field out of its context."""
    label = question.text("label", language)
    title = step.text("title", language)
    return f"{title} – {label}" if label.endswith("?") and title else label


def option_labels(language: str) -> dict[str, dict[str, str]]:
    """{entry field: {code: title}} for the fields holding codes of an option list."""
    choices = questionnaire_service.engine_context(language).choices
    options = {
        question.maps_to: {option[0]: option[1] for option in choices.get(question.options, ())}
        for question in questionnaire_service.definition().questions()
        if question.maps_to and isinstance(question.options, str)
    }
    options.setdefault("kind", event_vocabulary.kinds())
    options.setdefault("target_groups", event_vocabulary.target_groups())
    options.setdefault("attendance", event_vocabulary.attendance_modes())
    return options


def value_text(name: str, value, options: Mapping[str, Mapping[str, str]]) -> str:
    """One value of the audit log as text ("–" for none)."""
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("Ja") if value else _("Nein")
    if name == "status":
        return _status_text(value)
    if name == "location" and isinstance(value, list) and len(value) == 2:
        return f"{value[1]:.5f}, {value[0]:.5f}"
    if name in ("starts_at", "ends_at") and isinstance(value, str):
        try:
            return format_datetime(datetime.fromisoformat(value), "short")
        except ValueError:
            return value
    if name in ("kind", "attendance") and isinstance(value, str):
        return options.get(name, {}).get(value, value)
    if name == "certificates" and isinstance(value, list):
        return "; ".join(_certificate_text(item) for item in value)
    if isinstance(value, list):
        names = options.get(name, {})
        return ", ".join(names.get(str(item), str(item)) for item in value)
    return str(value)


def _status_text(value) -> str:
    """A status's label; an unknown value as it is."""
    try:
        return curation.status_label(value)
    except ValueError:
        return str(value)


def _certificate_text(item) -> str:
    """A certificate as "name (valid until date)"."""
    name, valid_until = [*item, None, None][:2]
    if valid_until:
        return _("%(name)s (gültig bis %(date)s)", name=name, date=valid_until)
    return str(name)
