"""The agency's curation workspace: review queue, entries, decisions, edits, change requests,
duplicates and merging, staff entry through the questionnaire, and the audit log."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.i18n import current_language
from app.map import configured_map
from app.models import CompanyStatus, Permission
from app.services import audit, audit_labels, curation, duplicates, owner_links
from app.services import questionnaire as questionnaire_service
from questionnaire import build_form, clean_answers
from questionnaire.engine import form_data, parse_point

from .params import VersionMissing, form_version, id_in_query, page_number, version_missing_message
from .session_keys import QUESTIONNAIRE_DRAFT
from .staff import protect, requires

bp = Blueprint("curation", __name__)
protect(bp)
bp.add_app_template_global(curation.status_label, "status_label")

#: URL word -> decision
DECISIONS = {
    "freigeben": "approve",
    "ablehnen": "reject",
    "archivieren": "archive",
    "zurueckholen": "restore",
}


def _company(company_id: int):
    return curation.entry(company_id) or abort(404)


def _version_refused(company_id: int):
    """Back to the entry with the message that the form lacked the entry's version."""
    flash(version_missing_message())
    return redirect(url_for(".entry", company_id=company_id)), 303


@bp.get("/pruefen")
def queue():
    """Pending entries and change requests, oldest first."""
    return render_template("curation/queue.html", items=curation.review_queue())


@bp.get("/eintraege")
def entries():
    """Every entry, in any status, with a status filter and a search box."""
    status = request.args.get("status", "")
    if status and status not in {s.value for s in CompanyStatus}:
        status = ""
    text = request.args.get("q", "")[:200]
    page = page_number()
    rows, total = curation.search_entries(status=status or None, text=text, page=page)
    return render_template(
        "curation/entries.html",
        rows=rows,
        total=total,
        page=page,
        per_page=50,
        status=status,
        text=text,
        statuses=list(CompanyStatus),
    )


def _entry_form_class():
    language = current_language()
    return build_form(
        questionnaire_service.entry_step(),
        language=language,
        context=questionnaire_service.engine_context(language),
    )


@bp.get("/eintraege/<int:company_id>")
def entry(company_id: int):
    """One entry: its data, the decisions open to it, likely duplicates and its history."""
    company = _company(company_id)
    history = audit.history(company)
    return render_template(
        "curation/entry.html",
        company=company,
        rows=questionnaire_service.answer_rows(
            questionnaire_service.company_answers(company), current_language()
        ),
        duplicates=duplicates.candidates(company),
        changes=curation.pending_changes(company),
        history=history,
        merged_into=curation.entry(company.merged_into_id) if company.merged_into_id else None,
        changed=audit_labels.describer(current_language()),
    )


def _render_edit(company, form, status=200, conflict=None):
    step = questionnaire_service.entry_step()
    point = parse_point(form["location"].data or "") if "location" in form else None
    focus = point or questionnaire_service.suggest_point(form["postal_code"].data)
    return render_template(
        "curation/edit.html",
        company=company,
        step=step,
        form=form,
        version=company.version,
        map=configured_map(focus=focus or None, marker=False) if "location" in form else None,
        conflict=conflict,
    ), status


@bp.get("/eintraege/<int:company_id>/bearbeiten")
def edit(company_id: int):
    """The form with every field of the entry, including the pin."""
    company = _company(company_id)
    data = form_data(
        questionnaire_service.entry_step(), questionnaire_service.company_answers(company)
    )
    return _render_edit(company, _entry_form_class()(data=data))


@bp.post("/eintraege/<int:company_id>/bearbeiten")
def save(company_id: int):
    """Save the edit; refused (with both versions shown) if someone else saved meanwhile."""
    company = _company(company_id)
    form = _entry_form_class()(formdata=request.form)
    if not form.validate():
        return _render_edit(company, form, 422)
    answers = clean_answers(questionnaire_service.entry_step(), form)
    try:
        version = form_version()
    except VersionMissing:
        flash(version_missing_message())
        return _render_edit(company, form, 400)
    try:
        curation.save_edit(company, answers, current_user, version)
    except curation.EditConflict:
        return _conflict(company, answers, form)
    except curation.CurationError as error:
        flash(str(error))
        return _render_edit(company, form, 422)
    flash(_("Die Änderungen sind gespeichert."))
    return redirect(url_for(".entry", company_id=company.id))


def _side_by_side(left: dict, right: dict) -> list[tuple[str, list[tuple]]]:
    """Two sets of an entry's answers as rows for the page, section by section:
    ``[(title, [(label, left value, right value), ...]), ...]``."""
    language = current_language()
    return [
        (title, [(label, a, b) for (_k, label, a), (_l, _m, b) in zip(a_rows, b_rows, strict=True)])
        for (title, a_rows), (_t, b_rows) in zip(
            questionnaire_service.answer_rows(left, language),
            questionnaire_service.answer_rows(right, language),
            strict=True,
        )
    ]


def _rows_side_by_side(left: dict, right: dict) -> list[tuple]:
    """The rows of :func:`_side_by_side` in one list, without the section titles."""
    return [row for _title, rows in _side_by_side(left, right) for row in rows]


def _conflict(company, answers, form):
    """The edit again (409), the entry's saved values beside the ones just sent."""
    saved = questionnaire_service.company_answers(company)  # reloaded by the service
    return _render_edit(company, form, 409, conflict=_rows_side_by_side(saved, answers))


@bp.post("/eintraege/<int:company_id>/<any(freigeben, ablehnen, archivieren, zurueckholen):word>")
def decide(company_id: int, word: str):
    """Approve, reject (with a reason), archive or restore an entry."""
    company = _company(company_id)
    action = DECISIONS[word]
    reason = request.form.get("reason", "")[:2000]
    try:
        version = form_version()
    except VersionMissing:
        return _version_refused(company.id)
    try:
        if action == "approve":
            curation.approve(company, current_user, version)
        elif action == "reject":
            curation.reject(company, current_user, reason, version)
        elif action == "archive":
            curation.archive(company, current_user, reason, version)
        else:
            curation.restore(company, current_user, version)
    except curation.EditConflict:
        flash(
            _(
                "Jemand anderes hat den Eintrag inzwischen geändert. Bitte prüfen Sie den "
                "aktuellen Stand und entscheiden Sie dann erneut."
            )
        )
        return redirect(url_for(".entry", company_id=company.id)), 303
    except curation.CurationError as error:
        flash(str(error))
        return redirect(url_for(".entry", company_id=company.id)), 303
    messages = {
        "approve": _("Der Eintrag ist veröffentlicht; der Betrieb wurde benachrichtigt."),
        "reject": _("Der Eintrag ist abgelehnt; der Betrieb wurde benachrichtigt."),
        "archive": _("Der Eintrag ist archiviert."),
        "restore": _("Der Eintrag ist zurückgeholt."),
    }
    flash(messages[action])
    return redirect(url_for(".entry", company_id=company.id)), 303


def _change(change_id: int):
    return curation.change_request(change_id) or abort(404)


@bp.get("/aenderungen/<int:change_id>")
def change(change_id: int):
    """An owner's change request beside the published entry, changed fields marked."""
    change = _change(change_id)
    sections = [
        (title, [(label, now, then, now != then) for label, now, then in rows])
        for title, rows in _side_by_side(
            questionnaire_service.company_answers(change.company),
            questionnaire_service.change_answers(change),
        )
    ]
    return render_template("curation/change.html", change=change, sections=sections)


@bp.post("/aenderungen/<int:change_id>/<any(uebernehmen, ablehnen):word>")
def decide_change(change_id: int, word: str):
    """Take over or decline an owner's change request."""
    change = _change(change_id)
    try:
        if word == "uebernehmen":
            curation.apply_change(change, current_user, form_version())
            flash(_("Die Änderung ist übernommen; der Betrieb wurde benachrichtigt."))
        else:
            curation.reject_change(change, current_user, request.form.get("reason", "")[:2000])
            flash(_("Die Änderung ist abgelehnt; der Betrieb wurde benachrichtigt."))
    except curation.EditConflict:
        flash(_("Jemand anderes hat den Eintrag inzwischen geändert. Bitte prüfen Sie erneut."))
        return redirect(url_for(".change", change_id=change.id)), 303
    except curation.CurationError as error:
        flash(str(error))
        return redirect(url_for(".change", change_id=change.id)), 303
    except VersionMissing:
        flash(version_missing_message())
        return redirect(url_for(".change", change_id=change.id)), 303
    return redirect(url_for(".entry", company_id=change.company_id)), 303


@bp.route("/eintraege/<int:company_id>/zusammenfuehren/<int:other_id>", methods=["GET", "POST"])
def merge(company_id: int, other_id: int):
    """Merge the other entry into this one (preview first)."""
    keep, drop = _company(company_id), _company(other_id)
    if request.method == "POST":
        try:
            versions = (form_version("keep_version"), form_version("drop_version"))
        except VersionMissing:
            flash(version_missing_message())
            return redirect(url_for(".merge", company_id=keep.id, other_id=drop.id)), 303
        try:
            duplicates.merge(
                keep, drop, current_user, keep_version=versions[0], drop_version=versions[1]
            )
        except curation.EditConflict:
            flash(
                _(
                    "Jemand anderes hat einen der Einträge inzwischen geändert. "
                    "Bitte prüfen Sie erneut."
                )
            )
            return redirect(url_for(".merge", company_id=keep.id, other_id=drop.id)), 303
        except curation.CurationError as error:
            flash(str(error))
            return redirect(url_for(".entry", company_id=keep.id)), 303
        flash(_("Die Einträge sind zusammengeführt."))
        return redirect(url_for(".entry", company_id=keep.id)), 303
    rows = _rows_side_by_side(
        questionnaire_service.company_answers(keep), questionnaire_service.company_answers(drop)
    )
    return render_template("curation/merge.html", keep=keep, drop=drop, rows=rows)


@bp.post("/erfassen")
@requires(Permission.ENTER_FOR_BUSINESS)
def enter_for_business():
    """Fill in the questionnaire on a business's behalf (recorded as entered by staff, or by
    a partner organisation's staff, with the account in the audit log)."""
    draft = questionnaire_service.start_draft(current_language(), staff=True)
    session[QUESTIONNAIRE_DRAFT] = draft.id
    return redirect(
        url_for("questionnaire.step", step_key=questionnaire_service.definition().keys[0])
    )


@bp.get("/protokoll")
def audit_log():
    """The audit log, newest first (optionally for one entry)."""
    company_id = id_in_query("eintrag")
    page = page_number()
    rows, total = audit.entries(company_ids=None if company_id is None else [company_id], page=page)
    return render_template(
        "curation/audit.html",
        rows=rows,
        total=total,
        page=page,
        per_page=50,
        company_id=company_id,
        changed=audit_labels.describer(current_language()),
    )


@bp.post("/eintraege/<int:company_id>/links-sperren")
def revoke_links(company_id: int):
    """Make every edit and confirm link sent to the entry's owner invalid (audit-logged)."""
    company = _company(company_id)
    owner_links.revoke(company, current_user)
    flash(
        _(
            "Alle bisher verschickten Links zum Ändern und Bestätigen dieses Eintrags sind "
            "jetzt ungültig. Der Betrieb kann unter „Eintrag ändern“ einen neuen Link anfordern."
        )
    )
    return redirect(url_for(".entry", company_id=company.id)), 303
