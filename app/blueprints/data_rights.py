"""A business's data rights through its edit link: the download of everything held about its
entry (JSON, Art. 15/20 GDPR) and the erasure of the entry (Art. 17).

Every page here needs a valid edit link (the token in the address): an expired, revoked or
wrong one gets the "link invalid" page, and a token only ever names its own entry. The
download is a GET that changes nothing; erasing takes the POST of the confirmation page (CSRF
token, ticked confirmation). The token in the address must not travel on: these pages (and
the questionnaire's) say ``Referrer-Policy: no-referrer``; no cache keeps them
(:mod:`app.cache_policy`, the ``/mitmachen`` prefix).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from app.extensions import limiter
from app.models import Company
from app.security_headers import no_referrer
from app.services import data_rights, tokens
from app.services import questionnaire as questionnaire_service

from .session_keys import ERASED_ENTRY

bp = Blueprint("data_rights", __name__)


no_referrer(bp)  # the edit link is in these pages' addresses


def _invalid(expired: bool):
    """The friendly page for a link that is too old (410) or not good (404)."""
    page = render_template("questionnaire/link_invalid.html", expired=expired, edit=True)
    return page, 410 if expired else 404


def _company(token: str) -> Company:
    """The published entry the edit link names (TokenInvalid/TokenExpired if not good)."""
    return questionnaire_service.company_from_edit_token(token)


@bp.get("/<token>")
def overview(token: str):
    """The business's data rights for its entry: download, erase."""
    try:
        company = _company(token)
    except tokens.TokenInvalid as error:
        return _invalid(isinstance(error, tokens.TokenExpired))
    return render_template("data_rights/overview.html", company=company, token=token)


@bp.get("/<token>/export")
@limiter.limit("30 per hour")
def export(token: str):
    """Everything held about the entry as a JSON file (a download; changes nothing)."""
    try:
        company = _company(token)
    except tokens.TokenInvalid as error:
        return _invalid(isinstance(error, tokens.TokenExpired))
    body = json.dumps(data_rights.export(company), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers.set(
        "Content-Disposition", "attachment", filename=data_rights.export_filename(company)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<token>/loeschen", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def erase(token: str):
    """What erasing means and the confirmation; the POST (ticked box) erases the entry."""
    try:
        company = _company(token)
    except tokens.TokenInvalid as error:
        return _invalid(isinstance(error, tokens.TokenExpired))
    error = None
    if request.method == "POST":
        if request.form.get("confirm") == "yes":
            try:
                erasure = data_rights.erase(company.id)
            except data_rights.EntryGone:
                return _invalid(expired=False)
            session[ERASED_ENTRY] = erasure.entry_id
            return redirect(url_for(".erased"))
        error = _(
            "Bitte bestätigen Sie mit dem Häkchen, dass der Eintrag mit allen Daten "
            "gelöscht werden soll."
        )
    page = render_template("data_rights/erase.html", company=company, token=token, error=error)
    return page, 422 if error else 200


@bp.get("/geloescht")
def erased():
    """The erasure is done (no data of the entry shown)."""
    if session.get(ERASED_ENTRY) is None:
        return redirect(url_for("questionnaire.request_edit_link"))
    return render_template("data_rights/erased.html")
