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


def protect(blueprint: Blueprint, *, admin: bool = False) -> None:
    """Let only signed-in staff (and only admins, if ``admin``) reach ``blueprint``'s views.

    Anonymous visitors get 403 with the sign-in form; a session idle for longer than
    STAFF_IDLE_MINUTES is ended first.
    """

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
        if admin and not current_user.is_admin:
            abort(403)
        return None


@bp.route("/anmelden", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    """Sign in with e-mail and password."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or url_for("dashboard.index"))
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
    return redirect(next_url or url_for("dashboard.index"))


@bp.post("/abmelden")
def logout():
    """Sign out and end the session on the server too (a copied cookie no longer works)."""
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)
    logout_user()
    session.clear()
    flash(_("Sie sind abgemeldet."))
    return redirect(url_for(".login"))
