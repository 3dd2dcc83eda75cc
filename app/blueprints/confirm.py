"""The owner's one-click answer to a freshness reminder: "the entry is still correct"."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from app.extensions import limiter
from app.services import freshness, tokens
from app.services import questionnaire as questionnaire_service

bp = Blueprint("confirm", __name__)


def _invalid(expired: bool):
    """The friendly page for a link that is too old (410) or not good (404)."""
    page = render_template("questionnaire/link_invalid.html", expired=expired, edit=True)
    return page, 410 if expired else 404


# A GET only shows the button and never changes anything: mail scanners and link previews
# fetch the links in an e-mail before (or without) the owner clicking them. Confirming takes
# the POST of the form on this page (with its CSRF token).
@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def confirm(token: str):
    """Show the entry with the "still correct" button; the POST confirms it."""
    try:
        company = freshness.company_from_confirm_token(token)
    except tokens.TokenExpired:
        return _invalid(expired=True)
    except tokens.TokenInvalid:
        return _invalid(expired=False)
    edit_token = questionnaire_service.edit_token(company)
    if request.method == "POST":
        freshness.confirm(company)
        return render_template("confirm/thanks.html", company=company, edit_token=edit_token)
    return render_template(
        "confirm/confirm.html", company=company, token=token, edit_token=edit_token
    )
