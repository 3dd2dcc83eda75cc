"""Registering for an event without an account, and cancelling by the e-mailed link.

- ``GET /veranstaltungen/<slug>/anmelden``: the registration form alone (it is also part of
  the event's page: ``templates/events/_registration_form.html`` with :func:`form_context`);
- ``POST /veranstaltungen/<slug>/anmelden``: register (CSRF, honeypot, rate limit); on
  success a 303 to ``/veranstaltungen/<slug>/angemeldet`` ("check your e-mail", the same for
  an address that was registered already), on bad input the form again with the values kept
  and the errors next to the fields (422);
- ``GET /veranstaltungen/abmelden/<token>`` shows the registration and a button,
  ``POST`` cancels it (a GET never changes anything: mail scanners open links).
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.extensions import limiter
from app.i18n import current_language
from app.models import Event
from app.services import events, tokens
from app.services import registrations as service

bp = Blueprint("registration", __name__)
#: The field people leave empty and bots fill in.
HONEYPOT = "webseite"
#: The text fields of the form, in the order of the page.
FIELDS = ("name", "email", "note")
#: Kept input is cut to this length when the form is shown again (the limits are far lower).
KEPT_LENGTH = 5000


def event_page_url(event: Event) -> str:
    """The path of the event's public page."""
    return url_for("events.detail", slug=event.slug)


def form_context(
    event: Event,
    values: dict | None = None,
    errors: dict | None = None,
    notice: str = "",
) -> dict:
    """What ``templates/events/_registration_form.html`` needs as ``registration`` for
    ``event``: its state (see :func:`app.services.registrations.availability`), the counts,
    the form's values (``fields``) and errors (field -> message), the consent text and the
    honeypot's name. The event's detail page calls ``form_context(event)`` and includes the
    partial."""
    state = service.availability(event)
    confirmed, waiting, free = service.counts(event)
    values = values or {}
    return {
        "state": state,
        "open": state in service.REGISTERABLE,
        "confirmed": confirmed,
        "waiting": waiting,
        "free": free,
        "capacity": event.capacity,
        "fields": {
            **{name: values.get(name, "") for name in FIELDS},
            "consent": bool(values.get("consent")),
        },
        "errors": {name: errors[name] for name in (*FIELDS, "consent") if name in (errors or {})},
        "notice": notice,
        "consent_text": service.consent_text(),
        "consent_version": service.REGISTRATION_CONSENT_VERSION,
        "honeypot": HONEYPOT,
        "max_name": service.MAX_NAME_LENGTH,
        "max_note": service.MAX_NOTE_LENGTH,
    }


def _public_event(slug: str) -> Event:
    event = events.public_by_slug(slug)
    if event is None:
        abort(404)
    return event


def _form_page(event: Event, status: int = 200, **context):
    return (
        render_template(
            "events/register.html",
            event=event,
            event_url=event_page_url(event),
            when=service.when_text(event),
            place=service.place_text(event),
            registration=form_context(event, **context),
        ),
        status,
    )


def _kept(name: str) -> str:
    """A posted text as it is shown again: without NUL characters, within a sane length."""
    return request.form.get(name, "").replace("\x00", "")[:KEPT_LENGTH]


@bp.route("/<slug>/anmelden", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def form(slug: str):
    """The registration form; the POST registers (see the module's docstring)."""
    event = _public_event(slug)
    if request.method == "GET":
        return _form_page(event)
    if request.form.get(HONEYPOT):
        return redirect(url_for(".registered", slug=event.slug), code=303)
    values = {name: _kept(name) for name in FIELDS}
    consented = request.form.get("consent") == "y"
    version = request.form.get("consent_version") if consented else None
    values["consent"] = consented and version == service.REGISTRATION_CONSENT_VERSION
    try:
        service.register(
            event,
            values["name"],
            values["email"],
            values["note"],
            current_language(),
            version,
        )
    except service.RegistrationInvalid as error:
        return _form_page(event, 422, values=values, errors=error.errors)
    except service.RegistrationClosed:
        return _form_page(event, 409, values=values)
    except service.RegistrationLimited:
        notice = _(
            "An diese E-Mail-Adresse haben wir gerade mehrere Nachrichten zu dieser "
            "Veranstaltung geschickt. Bitte versuchen Sie es später noch einmal."
        )
        return _form_page(event, 429, values=values, notice=notice)
    return redirect(url_for(".registered", slug=event.slug), code=303)


@bp.route("/<slug>/angemeldet")
def registered(slug: str):
    """The thank-you page: the e-mail says whether there is a place or the waiting list."""
    event = _public_event(slug)
    return render_template("events/registered.html", event=event, event_url=event_page_url(event))


def _invalid_link(expired: bool):
    """The page for a cancellation link that is too old (410) or not good (404)."""
    page = render_template("events/registration_link_invalid.html", expired=expired)
    return page, 410 if expired else 404


@bp.route("/abmelden/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def cancel(token: str):
    """Show the registration with a button to cancel it; the POST cancels (a second time
    does no harm) and confirms it."""
    try:
        registration = service.from_token(token)
    except tokens.TokenExpired:
        return _invalid_link(expired=True)
    except tokens.TokenInvalid:
        return _invalid_link(expired=False)
    done = False
    if request.method == "POST":
        service.cancel(registration)
        done = True
    event = registration.event
    return render_template(
        "events/registration_cancel.html",
        registration=registration,
        event=event,
        event_url=event_page_url(event),
        when=service.when_text(event),
        place=service.place_text(event),
        token=token,
        done=done,
    )
