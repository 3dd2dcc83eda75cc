"""The questionnaire (Leitfragebogen) for businesses: start, steps, resume and edit links."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms import Form

from app import notifications
from app.extensions import limiter
from app.i18n import current_language
from app.map import configured_map
from app.models import CompanyStatus
from app.security_headers import no_referrer
from app.services import geocoding, owner_links, tokens
from app.services import questionnaire as service
from questionnaire import build_form, clean_answers, message
from questionnaire.engine import NUL, is_email, parse_point, without_nul

from .session_keys import QUESTIONNAIRE_DRAFT as DRAFT
from .session_keys import QUESTIONNAIRE_RESULT, RESUME_MAIL

bp = Blueprint("questionnaire", __name__)
HONEYPOT = "firmensitz_url"


no_referrer(bp)  # personal links (resume, edit) are in these pages' addresses


def _draft():
    """The visitor's open draft: from the session, or (when the session expired while a step
    was open) from the signed draft token every step form carries, which is then kept in the
    session. Only for requests that passed the CSRF check."""
    draft = service.open_draft(session.get(DRAFT))
    if draft is None:
        draft = _draft_named_by_form()
        if draft is not None:
            session[DRAFT] = draft.id
    return draft


def _draft_named_by_form():
    """The open draft the posted form's draft token names, or None; the session is left as
    it is."""
    if request.method != "POST" or not request.form.get("draft"):
        return None
    try:
        return service.draft_from_token(request.form["draft"])
    except tokens.TokenInvalid:
        return None


def _action() -> str:
    """The button the step was sent with; a missing or unknown one counts as "next"."""
    action = request.form.get("action", "next")
    return action if action in ("back", "later", "submit") else "next"


def _submits() -> bool:
    """Whether this request would finish the questionnaire: a POST of the last step with any
    button but back or later. The one test behind both the submit rate limit and
    :func:`_submit` (honeypot), so no button or missing button gets around them."""
    return (
        request.method == "POST"
        and (request.view_args or {}).get("step_key") == service.definition().keys[-1]
        and _action() not in ("back", "later")
    )


def _posted_input() -> tuple[MultiDict, set[str]]:
    """The posted form without NUL characters (PostgreSQL stores none), and the names of the
    fields that had one."""
    had_nul = {key for key, value in request.form.items(multi=True) if NUL in value}
    cleaned = MultiDict((key, without_nul(value)) for key, value in request.form.items(multi=True))
    return cleaned, had_nul


def _step_form(step, formdata=None, data=None) -> Form:
    language = current_language()
    form_class = build_form(step, language=language, context=service.engine_context(language))
    return form_class(formdata=formdata, data=data)


def _render_step(draft, step, form, status=200, notice=None):
    questionnaire = service.definition()
    index = questionnaire.index(step.key)
    point = map_parts = None
    if any(q.type == "point" for q in step.questions):
        point = (
            parse_point(form["location"].data or "")
            or service.suggest_point(form["postal_code"].data if "postal_code" in form else None)
            or service.suggest_point(service.entry_answer(draft.answers, "postal_code"))
        )
        focus = point or current_app.config["REGION"].center
        map_parts = configured_map(focus=focus, marker=False)
    language = current_language()
    return render_template(
        "questionnaire/step.html",
        draft=draft,
        step=step,
        form=form,
        number=index + 1,
        steps=len(questionnaire.steps),
        is_last=index + 1 == len(questionnaire.steps),
        map=map_parts,
        point=point,
        notice=notice,
        language=language,
        summary=service.summary(draft, language) if index + 1 == len(questionnaire.steps) else None,
        consent=questionnaire.consent.text_in(language),
        honeypot=HONEYPOT,
        draft_token=service.resume_token(draft),
        data_rights_token=_data_rights_token(draft),
    ), status


def _data_rights_token(draft) -> str | None:
    """For an owner's edit of a published entry: the edit token its "your data" links carry
    (the draft was opened through a valid edit link); else None."""
    company = draft.company if draft.kind == "edit" else None
    if company is None or company.status is not CompanyStatus.PUBLISHED:
        return None
    return service.edit_token(company)


def step_after_expired_form():
    """A step sent with an expired CSRF token or session: shown again with the typed input.

    The request failed the CSRF check, so it changes nothing in the session: a draft named
    only by the form's token is shown but not adopted; that happens when the visitor sends the
    form again, now with a valid CSRF token.
    """
    draft = service.open_draft(session.get(DRAFT)) or _draft_named_by_form()
    step = service.definition().step((request.view_args or {}).get("step_key", ""))
    if draft is None or step is None:
        notice = _("Ihre Sitzung war abgelaufen. Bitte öffnen Sie Ihren persönlichen Link erneut.")
        return _render_start(None, notice=notice, status=400)
    notice = _(
        "Das Formular war zu lange geöffnet. Ihre Eingaben sind noch da: "
        "bitte prüfen Sie sie und senden Sie erneut."
    )
    formdata, _had_nul = _posted_input()
    return _render_step(draft, step, _step_form(step, formdata=formdata), 400, notice)


def _render_start(draft, notice=None, status=200):
    return render_template(
        "questionnaire/start.html",
        steps=service.definition().steps,
        draft=draft,
        resume_step=service.first_open_step(draft) if draft else None,
        language=current_language(),
        honeypot=HONEYPOT,
        notice=notice,
    ), status


@bp.get("/")
def start_page():
    """What the questionnaire is, how long it takes, and the button to start."""
    return _render_start(_draft())


@bp.post("/start")
@limiter.limit("20 per hour")
def start():
    """Open a new draft and go to the first step."""
    if request.form.get(HONEYPOT):
        return redirect(url_for(".start_page"))
    draft = service.start_draft(current_language())
    session[DRAFT] = draft.id
    return redirect(url_for(".step", step_key=service.definition().keys[0]))


@bp.route("/schritt/<step_key>", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], exempt_when=lambda: not _submits())
def step(step_key: str):
    """Show a step; on POST save it and go on, go back, keep it for later, or submit."""
    draft = _draft()
    if draft is None and (finished := service.submitted_draft(session.get(DRAFT))):
        return _finished(finished)  # sent again, e.g. by a double click: thank you once more
    if draft is None:
        flash(
            _("Bitte beginnen Sie den Fragebogen hier (oder öffnen Sie Ihren persönlichen Link).")
        )
        return redirect(url_for(".start_page"))
    step = service.definition().step(step_key)
    if step is None:
        abort(404)
    try:
        service.check_step(draft, step_key)
    except service.StepLocked:
        flash(_("Bitte füllen Sie die Schritte der Reihe nach aus."))
        return redirect(url_for(".step", step_key=service.first_open_step(draft)))

    if request.method == "GET":
        return _render_step(
            draft, step, _step_form(step, data=service.step_values(draft, step_key))
        )

    formdata, had_nul = _posted_input()
    form = _step_form(step, formdata=formdata)
    if had_nul:
        return _refuse_nul(draft, step, form, had_nul)
    action = _action()
    keys = service.definition().keys
    if action == "back":
        service.keep_input(draft, step_key, service.typed_input(step, formdata))
        previous = keys[max(keys.index(step_key) - 1, 0)]
        return redirect(url_for(".step", step_key=previous))
    if action == "later":
        service.keep_input(draft, step_key, service.typed_input(step, formdata))
        address = service.entry_answer(draft.answers, "contact_email")
        if address:
            session[RESUME_MAIL] = [address, _send_resume_link(draft, address)]
        return redirect(url_for(".saved"))
    if _submits():
        return _submit(draft, step, form)
    if not form.validate():
        return _render_step(draft, step, form, status=422)
    next_step = service.save_step(draft, step_key, clean_answers(step, form))
    return redirect(url_for(".step", step_key=next_step))


def _refuse_nul(draft, step, form, had_nul: set[str]):
    """The step again (422) with the input kept but its NUL characters removed, and the
    fields that had one marked; nothing is stored."""
    for key in sorted(key for key in had_nul if key in form):
        form[key].errors = [message("nul", current_language())]
    notice = _(
        "Ihre Eingabe enthielt ein unzulässiges Zeichen (Nullzeichen). Wir haben es entfernt "
        "und noch nichts gespeichert: bitte prüfen Sie Ihre Angaben und senden Sie erneut."
    )
    return _render_step(draft, step, form, status=422, notice=notice)


def _submit(draft, step, form):
    """Finish the questionnaire: the only way to submit, taken exactly when :func:`_submits`
    holds (so the submit rate limit applied). A filled honeypot gets the thank-you page and
    nothing is stored; a second submission of the same draft (double click) too."""
    if request.form.get(HONEYPOT):
        return redirect(url_for(".done"))
    if not form.validate():
        return _render_step(draft, step, form, status=422)
    staff = current_user if draft.entered_by_staff and current_user.is_authenticated else None
    service.submit(draft, step.key, clean_answers(step, form), actor=staff)  # mails "received"
    return _finished(draft)


def _finished(draft):
    """Close the submitted draft in the session and show the thank-you page."""
    session.pop(DRAFT, None)
    session[QUESTIONNAIRE_RESULT] = draft.kind
    return redirect(url_for(".done"))


def _send_resume_link(draft, address: str) -> str:
    """Mail the resume link within the limits; return "" when sent, else why it was not
    ("recent" or "daily")."""
    held_back = service.send_resume_link(draft, notifications.resume_mail(draft, address))
    return held_back.reason if held_back else ""


@bp.route("/gespeichert", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def saved():
    """The personal resume link; sent by e-mail to the contact address, or on request."""
    draft = _draft()
    if draft is None:
        return redirect(url_for(".start_page"))
    link = notifications.resume_link(draft)
    mail = session.pop(RESUME_MAIL, None)
    error = None
    if request.method == "POST":
        address = request.form.get("email", "").strip()
        if not is_email(address):
            error = _("Das ist keine gültige E-Mail-Adresse.")
        else:
            mail = [address, _send_resume_link(draft, address)]
    return render_template(
        "questionnaire/saved.html",
        link=link,
        mail_to=mail[0] if mail else None,
        mail_held_back=mail[1] if mail else "",
        error=error,
        email=service.entry_answer(draft.answers, "contact_email") or "",
    ), 422 if error else 200


@bp.get("/weiter/<token>")
def resume(token: str):
    """Open a draft from its personal link; the token then leaves the address bar."""
    try:
        draft = service.draft_from_token(token)
    except tokens.TokenExpired:
        return render_template("questionnaire/link_invalid.html", expired=True), 410
    except tokens.TokenInvalid:
        if submitted := service.submitted_from_token(token):
            return render_template("questionnaire/link_submitted.html", kind=submitted.kind)
        return render_template("questionnaire/link_invalid.html", expired=False), 404
    session[DRAFT] = draft.id
    return redirect(url_for(".step", step_key=service.first_open_step(draft)))


@bp.get("/danke")
def done():
    """Thank you: what happens next."""
    return render_template("questionnaire/done.html", kind=session.get(QUESTIONNAIRE_RESULT))


@bp.route("/aendern", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def request_edit_link():
    """Ask for the edit link of a published entry; it goes to the entry's contact e-mail."""
    sent = False
    if request.method == "POST":
        owner_links.send_new_links(request.form.get("email", "").strip().lower())
        sent = True
    return render_template("questionnaire/request_edit.html", sent=sent)


@bp.get("/aendern/<token>")
def edit(token: str):
    """Open a published entry for its owner; the change goes to the agency for approval."""
    try:
        company = service.company_from_edit_token(token)
    except tokens.TokenExpired:
        return render_template("questionnaire/link_invalid.html", expired=True, edit=True), 410
    except tokens.TokenInvalid:
        return render_template("questionnaire/link_invalid.html", expired=False, edit=True), 404
    draft = service.start_edit(company, current_language())
    session[DRAFT] = draft.id
    return redirect(url_for(".step", step_key=service.definition().keys[0]))


@bp.get("/vorschlag")
@limiter.limit("60 per minute")
def suggestion():
    """A first guess for the pin (JSON): the address via Nominatim if configured, else the
    postal code's point."""
    args = {
        key: request.args.get(key, "").strip()[:200]
        for key in ("postal_code", "street", "house_number", "town")
    }
    point = geocoding.suggest(**args)
    if point is None:
        return jsonify({"error": _("Unbekannte Postleitzahl")}), 404
    return jsonify({"lon": point[0], "lat": point[1], "source": point[2]})
