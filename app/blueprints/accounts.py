"""Staff account management: admins only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models import Permission, StaffRole
from app.services import accounts as service
from app.services import events

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
