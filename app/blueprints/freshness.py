"""Keeping entries fresh: overdue confirmations, reminders, entries flagged for archiving."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.services import freshness

from .staff import protect

bp = Blueprint("freshness", __name__)
protect(bp)


@bp.get("/")
def index():
    """Entries due for a reminder, waiting for the owner's answer, and flagged for archiving."""
    now = freshness.current_time()
    return render_template(
        "curation/freshness.html",
        due=freshness.due(now),
        waiting=freshness.waiting(now),
        flagged=freshness.flagged(now),
        confirm_months=freshness.CONFIRM_MONTHS,
        grace_months=freshness.GRACE_MONTHS,
    )


@bp.post("/erinnern")
def remind():
    """Send the reminders of all due entries now."""
    report = freshness.send_reminders(actor=current_user)
    flash(
        ngettext(
            "%(num)d Erinnerung verschickt.", "%(num)d Erinnerungen verschickt.", len(report.sent)
        )
    )
    if report.no_address:
        flash(
            ngettext(
                "%(num)d fälliger Eintrag hat keine Kontakt-E-Mail.",
                "%(num)d fällige Einträge haben keine Kontakt-E-Mail.",
                len(report.no_address),
            )
        )
    if report.skipped:
        flash(_("Einige Einträge wurden gerade geändert; ihre Erinnerung folgt beim nächsten Mal."))
    return redirect(url_for(".index")), 303
