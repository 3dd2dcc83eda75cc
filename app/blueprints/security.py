"""A staff member's own account security ("Konto / Sicherheit"): the password and the second
factor (TOTP). Every role may use it; the logic is in app.services.accounts and
app.services.second_factor. The forms that check the password or a code are rate-limited per
client, so an open session cannot be used to guess either."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import limiter
from app.models import Permission
from app.services import accounts, second_factor

from .staff import protect, start_session

bp = Blueprint("security", __name__)
protect(bp, Permission.OWN_ACCOUNT)


def _page(status: int = 200, error: str | None = None, password_error: str | None = None):
    return render_template(
        "curation/security.html",
        user=current_user,
        recovery_left=second_factor.unused_recovery_codes(current_user),
        error=error,
        password_error=password_error,
    ), status


def _enrol_page(secret: str, status: int = 200, error: str | None = None):
    uri = second_factor.provisioning_uri(current_user, secret)
    return render_template(
        "curation/security_enrol.html",
        qr_code=second_factor.qr_code(uri),
        secret=second_factor.grouped(secret),
        error=error,
    ), status


@bp.get("/")
def index():
    """The account's password and second factor."""
    return _page()


@bp.route("/zweiter-faktor", methods=["GET", "POST"])
def enrol():
    """Set up the second factor: POST makes a new secret, GET shows it (QR code, and in
    groups of four for typing) with the field for the first code."""
    if current_user.has_totp:
        flash(_("Der zweite Faktor ist schon eingerichtet."))
        return redirect(url_for(".index"))
    secret = second_factor.pending_secret(current_user)
    if request.method == "POST" or secret is None:
        secret = second_factor.start_enrolment(current_user)
    return _enrol_page(secret)


@bp.post("/zweiter-faktor/bestaetigen")
def confirm():
    """Confirm the set-up with a current code; then the recovery codes, shown this once."""
    if current_user.has_totp:
        return redirect(url_for(".index"))
    try:
        codes = second_factor.confirm_enrolment(current_user, request.form.get("code", "")[:64])
    except second_factor.SecondFactorError as error:
        secret = second_factor.pending_secret(current_user)
        if secret is None:
            flash(str(error))
            return redirect(url_for(".index"))
        return _enrol_page(secret, 422, str(error))
    return render_template("curation/security_codes.html", codes=codes)


@bp.post("/zweiter-faktor/abschalten")
@limiter.limit("10 per minute")
def disable():
    """Switch the second factor off (password and a current code needed)."""
    try:
        second_factor.disable(
            current_user,
            request.form.get("password", "")[:1024],
            request.form.get("code", "")[:64],
        )
    except second_factor.SecondFactorError as error:
        return _page(422, error=str(error))
    flash(_("Der zweite Faktor ist abgeschaltet."))
    return redirect(url_for(".index"))


@bp.post("/passwort")
@limiter.limit("10 per minute")
def change_password():
    """Change the own password (the current one needed). Every session of the account ends;
    this browser is signed in anew."""
    form = request.form
    try:
        accounts.change_own_password(
            current_user,
            form.get("current_password", "")[:1024],
            form.get("new_password", "")[:1024],
            form.get("new_password_repeated", "")[:1024],
        )
    except accounts.AccountError as error:
        return _page(422, password_error=str(error))
    user = accounts.staff_user(current_user.id)
    response = start_session(user, url_for(".index"))
    flash(_("Ihr Passwort ist geändert. Alle anderen Sitzungen Ihres Kontos sind beendet."))
    return response
