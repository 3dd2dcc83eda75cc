"""Staff account management: admins only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models import Permission, StaffRole
from app.services import accounts as service
from app.services import events, second_factor

from .staff import protect

bp = Blueprint("accounts", __name__)
protect(bp, Permission.MANAGE_ACCOUNTS)


def _page(status=200, error=None, form=None):
    return render_template(
        "curation/accounts.html",
        users=service.all_staff(),
        roles=list(StaffRole),
        organisations=events.organisations(),
        error=error,
        form=form or {},
    ), status


@bp.get("/")
def index():
    """Every staff account, and the form for a new one (``?organisation=`` chooses a partner
    organisation in it)."""
    organisation = request.args.get("organisation", "")
    if organisation.isdigit():
        return _page(form={"role": StaffRole.PARTNER.value, "organisation_id": organisation})
    return _page()


@bp.post("/")
def create():
    """Create a staff account."""
    form = request.form
    try:
        user = service.create_staff(
            form.get("email", ""), form.get("name", ""), form.get("password", ""),
            form.get("role", ""), form.get("organisation_id") or None,
        )  # fmt: skip
    except service.AccountError as error:
        fields = ("email", "name", "role", "organisation_id")
        return _page(422, str(error), {k: form.get(k, "") for k in fields})
    flash(_("Das Konto für %(email)s ist angelegt.", email=user.email))
    return redirect(url_for(".index"))


@bp.post("/<int:user_id>")
def update(user_id: int):
    """Change an account's role, switch it on or off, or set a new password."""
    user = service.staff_user(user_id) or abort(404)
    form = request.form
    try:
        service.update_staff(
            user,
            acting=current_user,
            role=form.get("role") or None,
            active={"1": True, "0": False}.get(form.get("active", "")),
            password=form.get("password") or None,
        )
    except service.AccountError as error:
        return _page(422, str(error))
    flash(_("Das Konto von %(email)s ist geändert.", email=user.email))
    return redirect(url_for(".index"))


@bp.post("/<int:user_id>/zweiter-faktor")
def require_second_factor(user_id: int):
    """Require a second factor for an account, or no longer require it."""
    user = service.staff_user(user_id) or abort(404)
    required = {"1": True, "0": False}.get(request.form.get("required", ""))
    if required is None:
        return _page(422, _("Bitte wählen Sie, ob der zweite Faktor vorgeschrieben ist."))
    second_factor.set_required(user, required, acting=current_user)
    if required:
        flash(_("Für %(email)s ist der zweite Faktor jetzt vorgeschrieben.", email=user.email))
    else:
        flash(_("Für %(email)s ist der zweite Faktor nicht mehr vorgeschrieben.", email=user.email))
    return redirect(url_for(".index"))


@bp.post("/<int:user_id>/zweiter-faktor/zuruecksetzen")
def reset_second_factor(user_id: int):
    """Remove an account's second factor (e.g. a lost phone): it must enrol again."""
    user = service.staff_user(user_id) or abort(404)
    second_factor.reset(user, acting=current_user)
    flash(
        _(
            "Der zweite Faktor von %(email)s ist zurückgesetzt; das Konto richtet ihn bei der "
            "nächsten Anmeldung neu ein.",
            email=user.email,
        )
    )
    return redirect(url_for(".index"))
