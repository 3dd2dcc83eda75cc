"""The names of event kinds, target groups, attendance modes and organisation kinds, in the
interface language (filters, forms, pages, exports)."""

from __future__ import annotations

from flask_babel import gettext as _

from app.models import ATTENDANCE_MODES, EVENT_KINDS, ORGANISATION_KINDS, TARGET_GROUPS


def kinds() -> dict[str, str]:
    """Event kind -> name."""
    names = {
        "info_event": _("Infoveranstaltung"),
        "training": _("Weiterbildung"),
        "working_group": _("Arbeitskreis"),
        "job_fair": _("Jobmesse"),
        "workshop": _("Workshop"),
        "consultation": _("Beratung"),
    }
    return {key: names[key] for key in EVENT_KINDS}


def target_groups() -> dict[str, str]:
    """Target group -> name."""
    names = {
        "school_leavers": _("Schulabgängerinnen und Schulabgänger"),
        "returners": _("Wiedereinstieg in den Beruf"),
        "single_parents": _("Alleinerziehende"),
        "newcomers": _("Neu in der Region"),
        "jobseekers": _("Arbeitsuchende"),
        "employers": _("Betriebe"),
    }
    return {key: names[key] for key in TARGET_GROUPS}


def attendance_modes() -> dict[str, str]:
    """Attendance mode -> name."""
    names = {
        "on_site": _("Vor Ort"),
        "online": _("Online"),
        "hybrid": _("Vor Ort und online"),
    }
    return {key: names[key] for key in ATTENDANCE_MODES}


def organisation_kinds() -> dict[str, str]:
    """Organisation kind -> name."""
    names = {
        "jobcenter": _("Jobcenter"),
        "employment_agency": _("Agentur für Arbeit"),
        "chamber": _("Kammer"),
        "school": _("Schule"),
        "municipality": _("Kommune"),
        "employer_association": _("Arbeitgeberverband"),
        "agency": _("Regionalagentur"),
        "other": _("Andere Organisation"),
    }
    return {key: names[key] for key in ORGANISATION_KINDS}
