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
from wtforms import Form

from app.extensions import limiter
from app.i18n import current_language
from app.map import configured_map
from app.services import geocoding, tokens
from app.services import questionnaire as service
from app.services.curation import absolute_url
from app.services.mail import send_mail
from questionnaire import build_form, clean_answers
from questionnaire.engine import is_email, parse_point

bp = Blueprint("questionnaire", __name__)
DRAFT = "questionnaire_draft"
HONEYPOT = "firmensitz_url"


def _draft():
    """The visitor's open draft: from the session, or (when the session expired while a step
    was open) from the signed draft token every step form carries."""
    draft = service.open_draft(session.get(DRAFT))
    if draft is None and request.method == "POST" and request.form.get("draft"):
        try:
            draft = service.draft_from_token(request.form["draft"])
        except tokens.TokenInvalid:
            return None
        session[DRAFT] = draft.id
    return draft


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
            or service.suggest_point(draft.answers.get("postal_code"))
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
    ), status


def step_after_expired_form():
    """A step sent with an expired CSRF token or session: shown again with the typed input."""
    draft = _draft()
    step = service.definition().step((request.view_args or {}).get("step_key", ""))
    if draft is None or step is None:
        flash(_("Ihre Sitzung war abgelaufen. Bitte öffnen Sie Ihren persönlichen Link erneut."))
        return redirect(url_for(".start_page"))
    notice = _(
        "Das Formular war zu lange geöffnet. Ihre Eingaben sind noch da: "
        "bitte prüfen Sie sie und senden Sie erneut."
    )
    return _render_step(draft, step, _step_form(step, formdata=request.form), 400, notice)


@bp.get("/")
def start_page():
    """What the questionnaire is, how long it takes, and the button to start."""
    draft = _draft()
    return render_template(
        "questionnaire/start.html",
        steps=service.definition().steps,
        draft=draft,
        resume_step=service.first_open_step(draft) if draft else None,
        language=current_language(),
        honeypot=HONEYPOT,
    )


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
@limiter.limit(
    "10 per hour", methods=["POST"], exempt_when=lambda: request.form.get("action") != "submit"
)
def step(step_key: str):
    """Show a step; on POST save it and go on, go back, or keep it for later."""
    draft = _draft()
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

    form = _step_form(step, formdata=request.form)
    action = request.form.get("action", "next")
    keys = service.definition().keys
    raw = service.typed_input(step, request.form)
    if action == "back":
        service.keep_input(draft, step_key, raw)
        previous = keys[max(keys.index(step_key) - 1, 0)]
        return redirect(url_for(".step", step_key=previous))
    if action == "later":
        service.keep_input(draft, step_key, raw)
        address = draft.answers.get("contact_email")
        if address:
            _send_resume_link(draft, address)
            session["resume_link_sent_to"] = address
        return redirect(url_for(".saved"))
    if not form.validate():
        return _render_step(draft, step, form, status=422)
    if action == "submit" and request.form.get(HONEYPOT):
        return redirect(url_for(".done"))
    next_step = service.save_step(draft, step_key, clean_answers(step, form))
    if next_step is not None:
        return redirect(url_for(".step", step_key=next_step))
    result = service.submit(draft)
    session.pop(DRAFT, None)
    session["questionnaire_result"] = draft.kind
    if draft.kind == "new" and draft.answers.get("contact_email"):
        send_mail(
            draft.answers["contact_email"],
            _("Ihr Eintrag im KMU-Atlas ist eingegangen"),
            render_template("questionnaire/mail_received.txt", name=result.name),
        )
    return redirect(url_for(".done"))


def _send_resume_link(draft, address: str) -> None:
    link = absolute_url(".resume", token=service.resume_token(draft))
    send_mail(
        address,
        _("Ihr Link zum KMU-Atlas-Fragebogen"),
        render_template("questionnaire/mail_resume.txt", link=link),
    )


@bp.route("/gespeichert", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def saved():
    """The personal resume link; sent by e-mail to the contact address, or on request."""
    draft = _draft()
    if draft is None:
        return redirect(url_for(".start_page"))
    link = absolute_url(".resume", token=service.resume_token(draft))
    sent_to = session.pop("resume_link_sent_to", None)
    error = None
    if request.method == "POST":
        address = request.form.get("email", "").strip()
        if not is_email(address):
            error = _("Das ist keine gültige E-Mail-Adresse.")
        else:
            _send_resume_link(draft, address)
            sent_to = address
    return render_template(
        "questionnaire/saved.html",
        link=link,
        sent_to=sent_to,
        error=error,
        email=draft.answers.get("contact_email") or "",
    ), 422 if error else 200


@bp.get("/weiter/<token>")
def resume(token: str):
    """Open a draft from its personal link; the token then leaves the address bar."""
    try:
        draft = service.draft_from_token(token)
    except tokens.TokenExpired:
        return render_template("questionnaire/link_invalid.html", expired=True), 410
    except tokens.TokenInvalid:
        return render_template("questionnaire/link_invalid.html", expired=False), 404
    session[DRAFT] = draft.id
    return redirect(url_for(".step", step_key=service.first_open_step(draft)))


@bp.get("/danke")
def done():
    """Thank you: what happens next."""
    return render_template("questionnaire/done.html", kind=session.get("questionnaire_result"))


@bp.route("/aendern", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def request_edit_link():
    """Ask for the edit link of a published entry; it goes to the entry's contact e-mail."""
    sent = False
    if request.method == "POST":
        address = request.form.get("email", "").strip().lower()
        for company in service.published_by_contact(address):
            send_mail(
                company.contact_email,
                _("Ihr Link zum Ändern des Eintrags"),
                render_template(
                    "questionnaire/mail_edit.txt",
                    name=company.name,
                    link=absolute_url(".edit", token=service.edit_token(company)),
                ),
            )
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
