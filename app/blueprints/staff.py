"""Staff sign-in and sign-out, and the guard every workspace blueprint puts before its views."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.extensions import limiter
from app.models import Permission
from app.services import accounts

bp = Blueprint("staff", __name__)
SEEN = "staff_seen"


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside this app (no other host, no scheme), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return None
    return target


def _login_page(status: int, error: str | None = None, email: str = "", next_url=None):
    return render_template(
        "curation/login.html", error=error, email=email, next_url=next_url
    ), status


#: The attribute :func:`requires` sets on a view.
PERMISSION_ATTRIBUTE = "required_permission"


def requires(permission: Permission):
    """Mark a view of a protected blueprint as needing ``permission`` instead of the
    blueprint's own (e.g. a curation view partners may use too)."""

    def mark(view):
        setattr(view, PERMISSION_ATTRIBUTE, permission)
        return view

    return mark


def required_permission(endpoint: str | None, default: Permission) -> Permission:
    """The permission the view of ``endpoint`` needs (its own mark, else ``default``)."""
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, PERMISSION_ATTRIBUTE, default)


def home_url(user) -> str:
    """Where an account starts after signing in: the agency's overview, or a partner's
    events."""
    if user.can(Permission.CURATE):
        return url_for("dashboard.index")
    return url_for("events_admin.index")


def protect(blueprint: Blueprint, permission: Permission = Permission.CURATE) -> None:
    """Let only signed-in accounts whose role grants ``permission`` (or the permission a view
    names with :func:`requires`) reach ``blueprint``'s views.

    Anonymous visitors get 403 with the sign-in form; a session idle for longer than
    STAFF_IDLE_MINUTES is ended first; an account without the permission gets 403.
    The blueprint keeps ``permission`` (as ``required_permission``) for the views without
    their own mark: :func:`required_permission` with it gives what any view needs.
    """
    setattr(blueprint, PERMISSION_ATTRIBUTE, permission)

    @blueprint.before_request
    def guard():
        if current_user.is_authenticated:
            idle = time.time() - session.get(SEEN, 0)
            if idle > current_app.config["STAFF_IDLE_MINUTES"] * 60:
                logout_user()
                session.clear()
                flash(_("Sie wurden nach längerer Inaktivität abgemeldet. Bitte neu anmelden."))
        if not current_user.is_authenticated:
            return _login_page(403, next_url=request.full_path.rstrip("?"))
        session[SEEN] = time.time()
        if not current_user.can(required_permission(request.endpoint, permission)):
            abort(403)
        return None


@bp.route("/anmelden", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    """Sign in with e-mail and password."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or home_url(current_user))
        return _login_page(200, next_url=next_url)
    email = request.form.get("email", "").strip()[:254]
    password = request.form.get("password", "")[:1024]
    try:
        user = accounts.authenticate(email, password, client=request.remote_addr or "")
    except accounts.TooManyAttempts:
        message = _(
            "Zu viele Fehlversuche von diesem Gerät. Bitte warten Sie %(minutes)d Minuten "
            "und versuchen Sie es dann erneut.",
            minutes=accounts.THROTTLE_MINUTES,
        )
        return _login_page(429, message, email, next_url)
    if user is None:
        return _login_page(401, _("E-Mail-Adresse oder Passwort ist falsch."), email, next_url)
    session.clear()  # a new session: nothing from before the sign-in carries over
    login_user(user)
    session[SEEN] = time.time()
    return redirect(next_url or home_url(user))


@bp.post("/abmelden")
def logout():
    """Sign out and end the session on the server too (a copied cookie no longer works)."""
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)
    logout_user()
    session.clear()
    flash(_("Sie sind abgemeldet."))
    return redirect(url_for(".login"))
