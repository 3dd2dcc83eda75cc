"""Partner organisations: agency staff create and configure them (review, feed)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models import Permission
from app.services import event_vocabulary, event_workspace, events

from .events_admin import flash_import
from .staff import protect

bp = Blueprint("organisations", __name__)
protect(bp, Permission.MANAGE_ALL_EVENTS)

#: The organisation form's fields.
FIELDS = ("name", "kind", "website", "feed_url")


@bp.get("/")
def index():
    """Every partner organisation, with its number of events, and a link to a new one."""
    return render_template(
        "organisations/index.html",
        organisations=events.organisations(),
        event_counts=event_workspace.event_counts_by_organisation(),
        kinds=event_vocabulary.organisation_kinds(),
    )


def _form_values(organisation=None) -> dict:
    if organisation is None:
        return {"kind": "other", "review_required": True}
    values = {field: getattr(organisation, field) for field in FIELDS}
    values["review_required"] = organisation.review_required
    return values


def _page(organisation=None, values=None, errors=None, status=200):
    return render_template(
        "organisations/form.html",
        organisation=organisation,
        values=values if values is not None else _form_values(organisation),
        errors=errors or {},
        kinds=event_vocabulary.organisation_kinds(),
        accounts=event_workspace.partner_accounts(organisation) if organisation else [],
    ), status


def _posted() -> dict:
    values = {field: request.form.get(field, "")[:2000] for field in FIELDS}
    values["review_required"] = request.form.get("review_required") == "1"
    return values


@bp.route("/neu", methods=["GET", "POST"])
def new():
    """A new partner organisation."""
    if request.method == "GET":
        return _page()
    values = _posted()
    try:
        organisation = events.save_organisation(values, actor=current_user)
    except events.EventValuesInvalid as problem:
        return _page(None, values, problem.errors, 422)
    flash(_("Die Organisation „%(name)s“ ist angelegt.", name=organisation.name))
    return redirect(url_for(".edit", organisation_id=organisation.id), 303)


@bp.route("/<int:organisation_id>", methods=["GET", "POST"])
def edit(organisation_id: int):
    """An organisation: its settings, its partner accounts and its feed's state."""
    organisation = event_workspace.organisation(organisation_id) or abort(404)
    if request.method == "GET":
        return _page(organisation)
    values = _posted()
    try:
        events.save_organisation(values, actor=current_user, organisation=organisation)
    except events.EventValuesInvalid as problem:
        return _page(organisation, values, problem.errors, 422)
    flash(_("Die Organisation ist gespeichert."))
    return redirect(url_for(".edit", organisation_id=organisation.id), 303)


@bp.post("/<int:organisation_id>/abrufen")
def fetch_feed(organisation_id: int):
    """Import the organisation's feed now and say what it found."""
    organisation = event_workspace.organisation(organisation_id) or abort(404)
    if not organisation.feed_url:
        flash(_("Für diese Organisation ist kein Kalender verbunden."))
    else:
        from app.services import event_feeds

        flash_import(event_feeds.import_feed(organisation))
    return redirect(url_for(".edit", organisation_id=organisation.id), 303)
