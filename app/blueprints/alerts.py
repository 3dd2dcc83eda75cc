"""Job alerts without an account (Suchaufträge), under ``/suchauftrag``.

- ``GET /suchauftrag?<filter>``: the search in words and the form (e-mail, consent); the same
  form sits below the list on the start page (``templates/alerts/_form.html``, context from
  :func:`box`), its hidden inputs carrying the page's filter (kept in step with the filter
  panel by ``static/js/alert-form.js``);
- ``POST /suchauftrag``: check the filter with the filter contract's parser (its message on a
  bad value), then store a pending alert and mail the confirmation link (CSRF, honeypot, rate
  limit); a 303 to ``/suchauftrag/gesendet`` ("check your e-mail", the same for an address that
  has this search already), or the form again with the values kept and the errors (422);
- ``/suchauftrag/bestaetigen/<token>``: GET shows the search and a button, POST confirms (mail
  scanners open links; a GET never changes anything);
- ``/suchauftrag/<token>/aendern``: GET shows the search and how to change it on the map, POST
  saves the filter posted from the map onto the same alert;
- ``/suchauftrag/abmelden/<token>``: GET shows a button, POST deletes the alert; the RFC 8058
  one-click POST (body ``List-Unsubscribe=One-Click``, sent by mail programs without a CSRF
  token) deletes it too: the signed token authorises it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.extensions import csrf, limiter
from app.features.employers import EMPLOYERS, EmployerFilter
from app.features.filters import FilterError
from app.i18n import current_language
from app.models import JobAlert
from app.services import alerts as service
from app.services import tokens

bp = Blueprint("alerts", __name__)
#: The field people leave empty and bots fill in.
HONEYPOT = "webseite"
#: Kept input is cut to this length when the form is shown again.
KEPT_LENGTH = 500
#: The body of an RFC 8058 one-click unsubscription.
ONE_CLICK = ("List-Unsubscribe", "One-Click")
#: Where the start page's script puts a change link's token (``#suchauftrag=<token>``).
CHANGE_PLACEHOLDER = "__token__"


def _declared(args) -> list[tuple[str, str]]:
    """The employer filter's parameters in ``args``, as given (for a form that failed)."""
    names = {parameter.name for parameter in EMPLOYERS.parameters}
    return [
        (key, value.replace("\x00", "")[:KEPT_LENGTH])
        for key, value in args.items(multi=True)
        if key in names and value.strip()
    ]


def map_link(pairs: list[tuple[str, str]]) -> str:
    """The start page with these filter parameters."""
    query = urlencode(pairs)
    return url_for("public.index") + (f"?{query}" if query else "")


def _hidden(search: EmployerFilter | None, args) -> list[tuple[str, str]]:
    """The hidden inputs that carry the search: its canonical parameters, or, for a filter
    that did not parse, what was given (so the POST shows the parser's message again)."""
    return list(search.query_args().items()) if search is not None else _declared(args)


def form_context(
    hidden: list[tuple[str, str]],
    values: dict | None = None,
    errors: dict | None = None,
    notice: str = "",
    prefix: str = "alert",
) -> dict:
    """What ``templates/alerts/_form.html`` needs as ``alert``: the hidden filter inputs,
    the form's values and errors (field -> message), a notice, the consent text and version,
    the honeypot's name and the prefix of the fields' ids."""
    values = values or {}
    return {
        "action": url_for("alerts.subscribe"),
        "hidden": hidden,
        "fields": {"email": values.get("email", ""), "consent": bool(values.get("consent"))},
        "errors": {name: errors[name] for name in ("email", "consent") if name in (errors or {})},
        "notice": notice,
        "consent_text": service.consent_text(),
        "consent_version": service.ALERT_CONSENT_VERSION,
        "honeypot": HONEYPOT,
        "prefix": prefix,
        "change_url": url_for("alerts.change", token=CHANGE_PLACEHOLDER),
    }


@bp.app_template_global("job_alert_box")
def box(search: EmployerFilter | None) -> dict:
    """The subscription form for the start page, for its filter ``search`` (None when the
    page's filter did not parse: the form then carries what the address gave)."""
    return form_context(_hidden(search, request.args))


def _page(
    search: EmployerFilter | None,
    hidden: list[tuple[str, str]],
    status: int = 200,
    error: FilterError | None = None,
    **context,
):
    """The page ``/suchauftrag``: the search in words, the filter error if any, the form."""
    return (
        render_template(
            "alerts/subscribe.html",
            search=service.describe(search) if search is not None else None,
            map_url=map_link(hidden),
            error=error,
            alert=form_context(hidden, prefix="a", **context),
        ),
        status,
    )


def _kept(name: str) -> str:
    """A posted text as it is shown again: without NUL characters, within a sane length."""
    return request.form.get(name, "").replace("\x00", "")[:KEPT_LENGTH]


@bp.route("", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def subscribe():
    """The form with the search in words; the POST subscribes (see the module's docstring)."""
    args = request.form if request.method == "POST" else request.args
    try:
        search = service.parse_search(args)
    except FilterError as error:
        status = 422 if request.method == "POST" else 400
        values = {"email": _kept("email"), "consent": request.form.get("consent") == "y"}
        return _page(None, _declared(args), status, error=error, values=values)
    hidden = _hidden(search, args)
    if request.method == "GET":
        return _page(search, hidden)
    query = urlencode(hidden)
    sent = url_for(".sent") + (f"?{query}" if query else "")
    if request.form.get(HONEYPOT):
        return redirect(sent, code=303)
    consented = request.form.get("consent") == "y"
    version = request.form.get("consent_version") if consented else None
    values = {
        "email": _kept("email"),
        "consent": consented and version == service.ALERT_CONSENT_VERSION,
    }
    try:
        service.subscribe(values["email"], search, current_language(), version)
    except service.AlertInvalid as error:
        return _page(search, hidden, 422, values=values, errors=error.errors)
    except service.AlertLimited:
        notice = _(
            "An diese E-Mail-Adresse haben wir gerade mehrere Nachrichten zu Suchaufträgen "
            "geschickt. Bitte versuchen Sie es später noch einmal."
        )
        return _page(search, hidden, 429, values=values, notice=notice)
    return redirect(sent, code=303)


@bp.get("/gesendet")
def sent():
    """The page that says "check your e-mail", the same whatever the address had before."""
    try:
        search = service.parse_search(request.args)
    except FilterError:
        search = None
    return render_template(
        "alerts/sent.html",
        search=service.describe(search) if search is not None else None,
        map_url=map_link(_hidden(search, request.args)),
    )


def _invalid_link(error: tokens.TokenInvalid, purpose: str = service.LINK_PURPOSE):
    """The page for a link that is too old (410), names a deleted alert, or is not good (404)."""
    if isinstance(error, tokens.TokenExpired):
        state, status = "expired", 410
    elif isinstance(error, service.AlertGone):
        state, status = "gone", 404
    else:
        state, status = "invalid", 404
    page = render_template("alerts/link_invalid.html", state=state, purpose=purpose)
    return page, status


def _alert_or_error(token: str, purpose: str = service.LINK_PURPOSE):
    """(alert, None) for a good link, else (None, the page that says why)."""
    try:
        return service.from_token(token, purpose), None
    except tokens.TokenInvalid as error:
        return None, _invalid_link(error, purpose)


def _search_rows(alert: JobAlert) -> list[tuple[str, str]] | None:
    try:
        return service.describe(service.search_of(alert))
    except FilterError:
        return None


def _map_url(alert: JobAlert) -> str:
    return map_link(list(service.search_args(alert).items(multi=True)))


@bp.route("/bestaetigen/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def confirm(token: str):
    """Show the search with a button to confirm it; the POST confirms (a second time does no
    harm)."""
    alert, error_page = _alert_or_error(token, service.CONFIRM_PURPOSE)
    if error_page:
        return error_page
    done = False
    if request.method == "POST":
        try:
            service.confirm(alert)
        except service.AlertGone as error:
            return _invalid_link(error, service.CONFIRM_PURPOSE)
        done = True
    return render_template(
        "alerts/confirm.html",
        alert=alert,
        token=token,
        done=done,
        search=_search_rows(alert),
        map_url=_map_url(alert),
    )


@bp.route("/<token>/aendern", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def change(token: str):
    """Show the alert's search and the way to change it on the map; the POST saves the posted
    filter onto the alert (the parser's message on a bad value)."""
    alert, error_page = _alert_or_error(token)
    if error_page:
        return error_page
    context = {"alert": alert, "token": token, "error": None, "done": False, "taken": False}
    status = 200
    if request.method == "POST":
        try:
            search = service.parse_search(request.form)
            service.change_search(alert, search)
            context["done"] = True
        except FilterError as error:
            context["error"], status = error, 422
        except service.SearchTaken:
            context["taken"], status = True, 409
        except service.AlertGone as error:
            return _invalid_link(error)
    change_on_map = f"{_map_url(alert)}#suchauftrag={token}"
    return (
        render_template(
            "alerts/change.html",
            search=_search_rows(alert),
            map_url=_map_url(alert),
            change_on_map=change_on_map,
            **context,
        ),
        status,
    )


def _one_click() -> bool:
    """Whether this POST is an RFC 8058 one-click unsubscription."""
    return request.form.get(ONE_CLICK[0]) == ONE_CLICK[1]


@bp.route("/abmelden/<token>", methods=["GET", "POST"])
@csrf.exempt  # checked below, except for the one-click POST that the signed token authorises
@limiter.limit("30 per hour", methods=["POST"])
def unsubscribe(token: str):
    """Show the alert with a button to unsubscribe; the POST deletes it. A one-click POST
    (RFC 8058) gets a short plain answer."""
    one_click = request.method == "POST" and _one_click()
    if request.method == "POST" and not one_click and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    try:
        alert = service.from_token(token)
    except service.AlertGone:
        if one_click:
            return _plain(_("Der Suchauftrag ist abbestellt."))
        return render_template("alerts/unsubscribe.html", alert=None, done=False, search=None)
    except tokens.TokenInvalid as error:
        if one_click:
            status = 410 if isinstance(error, tokens.TokenExpired) else 404
            return _plain(_("Dieser Link ist nicht (mehr) gültig."), status)
        return _invalid_link(error)
    search = _search_rows(alert)
    if request.method == "POST":
        service.unsubscribe(alert)
        if one_click:
            return _plain(_("Der Suchauftrag ist abbestellt."))
        return render_template("alerts/unsubscribe.html", alert=None, done=True, search=search)
    return render_template(
        "alerts/unsubscribe.html", alert=alert, token=token, done=False, search=search
    )


def _plain(text: str, status: int = 200):
    """A short plain-text answer (for mail programs)."""
    return current_app.response_class(text, status, content_type="text/plain; charset=utf-8")
