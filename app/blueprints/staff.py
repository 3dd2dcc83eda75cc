"""Staff sign-in and sign-out, and the guard every workspace blueprint puts before its views.

Signing in is one step (password) or two (password, then the second factor's code). Between the
two the session holds only a *pending* sign-in (:data:`PENDING`: the account, its session
generation, when the password was right, where to go next), which expires after
:data:`PENDING_SECONDS`; the login session is started only after the code. Starting it clears
the session first, so the session id changes at every sign-in. A session ends after
STAFF_IDLE_MINUTES without a request and STAFF_SESSION_HOURS after signing in.
"""

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
from app.services import accounts, second_factor

bp = Blueprint("staff", __name__)
#: Session keys: the last request of a signed-in account, when it signed in, and a sign-in
#: waiting for its second step.
SEEN = "staff_seen"
STARTED = "staff_started"
PENDING = "staff_pending"
#: How long the second step of signing in may take.
PENDING_SECONDS = 5 * 60
#: Views an account that must enrol its second factor may reach before it has done so.
ENROLMENT_ENDPOINTS = frozenset({"security.index", "security.enrol", "security.confirm"})


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


def _code_page(status: int, error: str | None = None):
    return render_template("curation/login_code.html", error=error), status


def start_session(user, next_url: str | None = None):
    """Sign ``user`` in: a new session (nothing from before carries over, so the session id
    changes), with the times the idle and absolute limits count from; the redirect to where
    the account goes next (enrolment first if an admin requires a second factor)."""
    session.clear()
    login_user(user)
    session[SEEN] = session[STARTED] = time.time()
    if user.must_enrol:
        flash(
            _(
                "Für Ihr Konto ist ein zweiter Faktor vorgeschrieben. Bitte richten Sie ihn "
                "jetzt ein."
            )
        )
        return redirect(url_for("security.index"))
    return redirect(next_url or home_url(user))


def end_session(message: str | None = None) -> None:
    """Sign out of this browser (other sessions of the account stay)."""
    logout_user()
    session.clear()
    if message:
        flash(message)


def _pending_user():
    """The account waiting for its second step, if the pending sign-in is still valid: not
    older than PENDING_SECONDS, the account active, with a second factor, and no session of it
    ended since (its generation unchanged)."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    user = accounts.staff_user(int(pending.get("id", 0)))
    if (
        user is None
        or not user.active
        or not user.has_totp
        or user.session_generation != pending.get("generation")
    ):
        return None
    return user


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
            now = time.time()
            config = current_app.config
            if now - session.get(SEEN, 0) > config["STAFF_IDLE_MINUTES"] * 60:
                end_session(
                    _("Sie wurden nach längerer Inaktivität abgemeldet. Bitte neu anmelden.")
                )
            elif now - session.get(STARTED, 0) > config["STAFF_SESSION_HOURS"] * 3600:
                end_session(
                    _(
                        "Ihre Sitzung ist nach %(hours)d Stunden abgelaufen. Bitte neu anmelden.",
                        hours=config["STAFF_SESSION_HOURS"],
                    )
                )
        if not current_user.is_authenticated:
            return _login_page(403, next_url=request.full_path.rstrip("?"))
        session[SEEN] = time.time()
        if not current_user.can(required_permission(request.endpoint, permission)):
            abort(403)
        if current_user.must_enrol and request.endpoint not in ENROLMENT_ENDPOINTS:
            flash(
                _(
                    "Für Ihr Konto ist ein zweiter Faktor vorgeschrieben. Bitte richten Sie ihn "
                    "ein, bevor Sie weiterarbeiten."
                )
            )
            return redirect(url_for("security.index"))
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
    if not user.has_totp:
        accounts.record_sign_in(user)
        return start_session(user, next_url)
    session.clear()
    session[PENDING] = {
        "id": user.id,
        "generation": user.session_generation,
        "at": time.time(),
        "next": next_url,
    }
    return redirect(url_for(".login_code"))


@bp.route("/anmelden/code", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login_code():
    """The second step of signing in: the authenticator app's code or a recovery code."""
    user = _pending_user()
    if user is None:
        if session.pop(PENDING, None) is not None:
            flash(_("Die Anmeldung hat zu lange gedauert. Bitte melden Sie sich neu an."))
        return redirect(url_for(".login"))
    if request.method == "GET":
        return _code_page(200)
    client = request.remote_addr or ""
    try:
        accounts.check_code_throttle(user, client)
    except accounts.TooManyAttempts:
        session.pop(PENDING, None)
        message = _(
            "Zu viele falsche Codes. Bitte warten Sie %(minutes)d Minuten und melden Sie sich "
            "dann neu an.",
            minutes=accounts.THROTTLE_MINUTES,
        )
        return _login_page(429, message)
    code = request.form.get("code", "")[:64]
    try:
        used = second_factor.verify(user, code)
    except second_factor.SecondFactorError as error:
        return _code_page(409, str(error))
    if used is None:
        accounts.record_code_failure(user, client)
        return _code_page(401, _("Der Code stimmt nicht oder wurde schon verwendet."))
    accounts.clear_failures(user, client)
    accounts.record_sign_in(user)
    next_url = safe_next(session[PENDING].get("next"))
    response = start_session(user, next_url)
    if used == "recovery":
        left = second_factor.unused_recovery_codes(user)
        flash(
            _(
                "Sie haben sich mit einem Wiederherstellungscode angemeldet; es bleiben "
                "%(count)d. Richten Sie den zweiten Faktor unter „Sicherheit“ neu ein, wenn Ihr "
                "Telefon verloren ist.",
                count=left,
            )
        )
    return response


@bp.post("/abmelden")
def logout():
    """Sign out and end the session on the server too (a copied cookie no longer works)."""
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)
    end_session(_("Sie sind abgemeldet."))
    return redirect(url_for(".login"))
