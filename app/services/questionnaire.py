"""The questionnaire's logic: drafts on the server, steps in order, submission and edits.

A new business's answers become a *pending* Company with a consent record. An owner's edit of a
published entry becomes a ChangeRequest; the published entry stays as it was until the agency
approves (curation issue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.extensions import db
from app.i18n import language_name
from app.models import (
    ChangeRequest,
    Company,
    CompanyStatus,
    ConsentRecord,
    FamilyCriterion,
    KldbArea,
    Municipality,
    PostalCode,
    QuestionnaireDraft,
    StaffUser,
    WzSection,
)
from app.services import apprenticeships, audit, entries, mail, region, tokens
from app.services.mail import Mail, MailLimit
from questionnaire import Context, Questionnaire, answers_from, mapped_values
from questionnaire.definition import Question, Step
from questionnaire.engine import form_data, is_required, without_nul

#: Languages offered in the questionnaire, most common in the region first.
QUESTIONNAIRE_LANGUAGES = (
    "de", "en", "tr", "pl", "ru", "uk", "ar", "ku", "it", "el", "ro", "bg", "hr", "sr", "bs",
    "sq", "fa", "es", "fr", "nl", "pt", "hu", "vi", "zh", "ti", "so",
)  # fmt: skip


#: Kept (unchecked) input is cut to the question's max_length, or to this without one.
RAW_DEFAULT_MAX_LENGTH = 100
#: At most this many ticked options of one question are kept, each at most this long.
RAW_MAX_CHOICES = 200
RAW_MAX_CHOICE_LENGTH = 50  # option values are short codes and keys

#: The resume link goes to an address once an hour per draft; an address gets at most five
#: a day, and one draft is sent to at most five addresses a day.
RESUME_MAIL_LIMITS = (
    MailLimit(1, timedelta(hours=1), "recent", per_draft=True),
    MailLimit(5, timedelta(days=1), "daily"),
    MailLimit(5, timedelta(days=1), "daily", per_recipient=False, per_draft=True),
)


#: Making a resume link for an open draft moves its ``updated_at`` forward when that is older than
#: this, so every link made for a draft expires at most the link's lifetime plus this interval
#: after the draft's ``updated_at``: :mod:`app.services.retention` deletes an abandoned draft
#: only after that, never while a link can still open it.
LINK_TOUCH_INTERVAL = timedelta(days=1)


class StepLocked(Exception):
    """A step after the first unfinished one was asked for."""


@dataclass(frozen=True)
class Submission:
    """What submitting a draft gave: the entry or change request, and whether this call made
    it (False: the draft had been submitted before, e.g. by a double click)."""

    result: Company | ChangeRequest | None
    created: bool


def definition() -> Questionnaire:
    """The questionnaire the app was started with."""
    return current_app.extensions["questionnaire"]


def engine_context(language: str) -> Context:
    """Option lists from the taxonomies and the region's postal codes and bounds."""
    sections = db.session.scalars(select(WzSection).order_by(WzSection.code))
    areas = sorted(db.session.scalars(select(KldbArea)), key=lambda a: (a.code == "0", a.code))
    criteria = db.session.scalars(select(FamilyCriterion).order_by(FamilyCriterion.position))
    return Context(
        choices={
            "wz_divisions": [
                (d.code, d.title(language), s.title(language))
                for s in sections
                for d in s.divisions
            ],
            "kldb_groups": [
                (g.code, g.title(language), a.title(language)) for a in areas for g in a.groups
            ],
            "family_criteria": [(c.key, c.title(language)) for c in criteria],
            "languages": [
                (code, language_name(code, language)) for code in QUESTIONNAIRE_LANGUAGES
            ],
            "apprenticeships": apprenticeships.choices(language),
        },
        # The configured region's codes only: a database may hold another region's too.
        postal_codes=frozenset(
            db.session.scalars(
                select(PostalCode.code)
                .join(Municipality, Municipality.ags == PostalCode.municipality_ags)
                .where(Municipality.region_key == current_app.config["REGION"].key)
            )
        ),
        in_region=region.in_region,
    )


def start_draft(language: str, *, staff: bool = False) -> QuestionnaireDraft:
    """Open a new, empty draft."""
    draft = QuestionnaireDraft(
        language=language,
        entered_by_staff=staff,
        definition_version=definition().version,
        answers={},
        raw_input={},
    )
    db.session.add(draft)
    db.session.commit()
    return draft


def open_draft(draft_id: int | None) -> QuestionnaireDraft | None:
    """The draft with this id if it is still open (not submitted), else None."""
    if not isinstance(draft_id, int):
        return None
    draft = db.session.get(QuestionnaireDraft, draft_id)
    return draft if draft and draft.submitted_at is None else None


def submitted_draft(draft_id: int | None) -> QuestionnaireDraft | None:
    """The draft with this id if it has been submitted, else None."""
    if not isinstance(draft_id, int):
        return None
    draft = db.session.get(QuestionnaireDraft, draft_id)
    return draft if draft and draft.submitted_at is not None else None


def first_open_step(draft: QuestionnaireDraft) -> str:
    """The step to continue with: the first one not completed yet (or the last)."""
    keys = definition().keys
    return keys[min(draft.completed_steps, len(keys) - 1)]


def check_step(draft: QuestionnaireDraft, step_key: str) -> None:
    """Refuse a step beyond the first unfinished one (no skipping by URL)."""
    if definition().index(step_key) > draft.completed_steps:
        raise StepLocked(step_key)


def step_values(draft: QuestionnaireDraft, step_key: str) -> dict:
    """What the step's form shows: typed input kept from last time, else saved answers."""
    if step_key in draft.raw_input:
        return dict(draft.raw_input[step_key])
    return form_data(definition().step(step_key), draft.answers)


def keep_input(draft: QuestionnaireDraft, step_key: str, raw: dict) -> None:
    """Keep what was typed on a step without checking it (going back, saving for later).

    Only the step's own questions are kept, cut to the lengths the answers may have
    (see :func:`typed_input`); ``step_key`` must be a step of the questionnaire.
    """
    step = definition().step(step_key)
    keys = {question.key for question in step.questions}
    kept = {key: value for key, value in raw.items() if key in keys}
    draft.raw_input = {**draft.raw_input, step_key: kept}
    db.session.commit()


def typed_input(step: Step, formdata) -> dict:
    """What was typed on a step, unchecked, in the shape the form takes back: NUL characters
    removed, and bounded like the answers (texts cut to the question's max_length, at most
    :data:`RAW_MAX_CHOICES` ticked options)."""
    return {question.key: _bounded(question, formdata) for question in step.questions}


def _bounded(question: Question, formdata):
    """One question's typed value from ``formdata``, without NUL and cut to size."""
    if question.type == "multi_choice":
        values = formdata.getlist(question.key)[:RAW_MAX_CHOICES]
        return [without_nul(value)[:RAW_MAX_CHOICE_LENGTH] for value in values]
    if question.type == "apprenticeships":
        codes = formdata.getlist(question.key)[:RAW_MAX_CHOICES]
        return [
            {
                "code": without_nul(code)[: apprenticeships.CODE_LENGTH],
                "places": without_nul(formdata.get(f"{question.key}-places-{code}", ""))[:6],
            }
            for code in codes
        ]
    value = formdata.get(question.key)
    if value is None:
        return None
    return without_nul(value)[: question.max_length or RAW_DEFAULT_MAX_LENGTH]


def save_step(draft: QuestionnaireDraft, step_key: str, answers: dict) -> str | None:
    """Store a step's validated answers; return the next step's key (None after the last)."""
    _store_answers(draft, step_key, answers)
    db.session.commit()
    keys = definition().keys
    index = keys.index(step_key)
    return keys[index + 1] if index + 1 < len(keys) else None


def _store_answers(draft: QuestionnaireDraft, step_key: str, answers: dict) -> None:
    """Put a step's validated answers into the draft (not committed)."""
    index = definition().index(step_key)
    draft.answers = {**draft.answers, **answers}
    draft.raw_input = {k: v for k, v in draft.raw_input.items() if k != step_key}
    draft.completed_steps = max(draft.completed_steps, index + 1)


def resume_token(draft: QuestionnaireDraft) -> str:
    """The token of the draft's personal resume link.

    Notes that a link was made: an open draft whose ``updated_at`` is older than
    :data:`LINK_TOUCH_INTERVAL` gets the current time (committed at once; at most one write
    a day per draft), so that the retention job keeps it as long as this link lives.
    """
    if draft.id is not None and draft.submitted_at is None:
        touched = db.session.execute(
            update(QuestionnaireDraft)
            .where(
                QuestionnaireDraft.id == draft.id,
                QuestionnaireDraft.submitted_at.is_(None),
                QuestionnaireDraft.updated_at < func.now() - LINK_TOUCH_INTERVAL,
            )
            .values(updated_at=func.now())
            .execution_options(synchronize_session=False)
        ).rowcount
        if touched:
            db.session.commit()
    return tokens.make_token("resume", draft.id, draft.token_generation)


def abandoned_after(kind: str) -> timedelta:
    """How long after its last change (``updated_at``) an open draft of ``kind`` can no longer
    be opened by any link made for it: the resume link's lifetime (a new business's draft) or
    the edit link's, if longer (an owner's edit: every new edit link reopens it), plus
    :data:`LINK_TOUCH_INTERVAL`."""
    days = tokens.PURPOSES["resume"]
    if kind == "edit":
        days = max(days, tokens.PURPOSES["edit"])
    return timedelta(days=days) + LINK_TOUCH_INTERVAL


def draft_from_token(token: str) -> QuestionnaireDraft:
    """The open draft a resume link names; TokenInvalid/TokenExpired if the link is not good."""
    draft_id, generation = tokens.read_token("resume", token)
    draft = open_draft(draft_id)
    if draft is None or draft.token_generation != generation:
        raise tokens.TokenInvalid
    return draft


def submitted_from_token(token: str) -> QuestionnaireDraft | None:
    """The submitted draft a (no longer valid) resume link names, else None: so that its
    link can say the entry was sent instead of calling itself broken."""
    try:
        draft_id, generation = tokens.read_token("resume", token)
    except tokens.TokenInvalid:
        return None
    draft = submitted_draft(draft_id)
    return draft if draft is not None and draft.token_generation == generation else None


def send_resume_link(draft: QuestionnaireDraft, resume: Mail) -> MailLimit | None:
    """Mail the resume link (the mail ``resume``) within :data:`RESUME_MAIL_LIMITS`; return
    the limit that held it back, or None when it was sent. Commits (ending the mail locks)."""
    held_back = mail.queue_limited(
        resume, purpose="resume", draft_id=draft.id, limits=RESUME_MAIL_LIMITS
    )
    db.session.commit()
    return held_back


def revoke_links(draft: QuestionnaireDraft) -> None:
    """Make every resume link sent for this draft so far invalid."""
    draft.token_generation += 1
    db.session.commit()


def suggest_point(postal_code: str | None) -> tuple[float, float] | None:
    """(lon, lat) of a postal code of the region, as a first guess for the pin."""
    return entries.postal_code_point(postal_code)


def summary(draft: QuestionnaireDraft, language: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The answers for the summary page: [(step title, [(label, shown value)])].

    Unanswered questions are left out (a yes/no question is always answered), and the pin is
    described in words: its coordinates stay in the form, they mean nothing to the reader.
    """
    questions = {question.key: question for question in definition().questions()}
    shown = []
    for title, rows in answer_rows(draft.answers, language):
        kept = [
            (label, _("Punkt auf der Karte gesetzt") if questions[key].type == "point" else text)
            for key, label, text in rows
            if _answered(questions[key], draft.answers.get(key))
        ]
        if kept:
            shown.append((title, kept))
    return shown


def _answered(question: Question, value) -> bool:
    """Whether the summary shows this answer: yes/no always, anything else when not empty."""
    if question.type == "boolean":
        return True
    return value is not None and value != "" and value != []


def answer_rows(answers: dict, language: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Answers as readable text, by step: [(step title, [(key, label, shown value)])]."""
    context = engine_context(language)
    labels = {
        name: {option[0]: option[1] for option in options}
        for name, options in context.choices.items()
    }
    shown = []
    for step in definition().steps[:-1]:
        rows = []
        for question in step.questions:
            value = answers.get(question.key)
            if question.type == "boolean":
                text = _("Ja") if value else _("Nein")
            elif question.type == "multi_choice":
                names = (
                    labels.get(question.options, {}) if isinstance(question.options, str) else {}
                )
                text = ", ".join(names.get(v, v) for v in value or [])
            elif question.type == "apprenticeships":
                text = apprenticeship_text(value, language)
            elif question.type == "point":
                text = f"{value[1]:.5f}, {value[0]:.5f}" if value else ""
            else:
                text = "" if value is None else str(value)
            rows.append((question.key, question.text("label", language), text or "–"))
        shown.append((step.text("title", language), rows))
    return shown


def apprenticeship_text(items, language: str) -> str:
    """Apprenticeship occupations as one line: "Bäcker/in (2 Plätze), Koch/Köchin"."""
    return ", ".join(row["label"] for row in apprenticeships.shown(items or [], language))


def entry_values(answers: dict) -> dict:
    """The entry fields the answers fill (through each question's ``maps_to``), ready for
    :func:`app.services.entries.build` and :func:`~app.services.entries.apply`."""
    return mapped_values(definition(), answers)


def entry_answer(answers: dict, field: str):
    """The answer of the question that fills the entry field ``field`` (None without one)."""
    question = definition().question_for(field)
    return answers.get(question.key) if question else None


def submit(
    draft: QuestionnaireDraft, step_key: str, answers: dict, *, actor: StaffUser | None = None
) -> Submission:
    """Store the last step's validated answers and finish the draft: a new entry (pending,
    with consent record) or a change request.

    Idempotent: the draft's row is locked (SELECT ... FOR UPDATE) first, so of two
    simultaneous submissions (a double click) the second waits, finds the draft submitted and
    returns the first one's result with ``created=False``. A new business with a contact
    e-mail is told that its entry arrived (the "received" mail, sent after the commit).
    The submission is in the audit log, by the business (:data:`audit.OWNER`) or by ``actor``,
    the staff member who entered it.
    """
    db.session.scalars(
        select(QuestionnaireDraft)
        .where(QuestionnaireDraft.id == draft.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()  # loading the row refreshes ``draft``
    if draft.submitted_at is not None:
        db.session.commit()  # releases the lock
        return Submission(_submitted_result(draft), created=False)
    _store_answers(draft, step_key, answers)
    result = _submit_edit(draft) if draft.kind == "edit" else _submit_new(draft)
    _record_submission(draft, result, actor)
    draft.submitted_at = func.now()
    address = entry_answer(draft.answers, "contact_email")
    if draft.kind == "new" and address:
        received = mail.compose("received", recipient=address, company=result)
        mail.queue(received, purpose="received", draft_id=draft.id)
    db.session.commit()
    return Submission(result, created=True)


def _record_submission(
    draft: QuestionnaireDraft, result: Company | ChangeRequest, actor: StaffUser | None
) -> None:
    """The audit record of a submission (not committed): a new entry with its values, or an
    owner's change request (its number in the note)."""
    who = {"actor": actor, "actor_label": audit.OWNER}
    if draft.kind == "edit":
        db.session.flush()  # the change request gets its number
        audit.record("request_change", result.company, note=f"#{result.id}", **who)
    else:
        audit.record("submit", result, after=audit.snapshot(result), **who)


def _submitted_result(draft: QuestionnaireDraft) -> Company | ChangeRequest | None:
    """The entry or change request a submitted draft made (None if it is gone since)."""
    if draft.kind == "edit":
        return db.session.scalars(
            select(ChangeRequest).where(ChangeRequest.draft_id == draft.id)
        ).first()
    return db.session.get(Company, draft.company_id) if draft.company_id else None


def _submit_edit(draft: QuestionnaireDraft) -> ChangeRequest:
    """The change request of an owner's edit (not committed): the entry values it proposes."""
    stored = entry_values(draft.answers)
    request = ChangeRequest(company_id=draft.company_id, draft_id=draft.id, values=stored)
    db.session.add(request)
    return request


def _submit_new(draft: QuestionnaireDraft) -> Company:
    """The pending entry of a new business and its consent record (not committed)."""
    questionnaire = definition()
    company = entries.build(
        entry_values(draft.answers),
        status=CompanyStatus.PENDING,
        source="staff" if draft.entered_by_staff else "questionnaire",
    )
    db.session.add(company)
    db.session.flush()
    db.session.add(
        ConsentRecord(
            company_id=company.id,
            draft_id=draft.id,
            text_version=questionnaire.consent.version,
            text=questionnaire.consent.text_in(draft.language),
        )
    )
    draft.company_id = company.id
    return company


def company_answers(company: Company) -> dict:
    """The entry's current values as questionnaire answers."""
    answers = answers_from(definition(), entries.current_values(company))
    # An answer whose condition does not hold is left empty (no "0 open positions").
    for question in definition().questions():
        if question.required_if and not is_required(question, answers):
            answers[question.key] = None
    return answers


def change_answers(change: ChangeRequest) -> dict:
    """The answers a change request proposes (from its stored entry values)."""
    return answers_from(definition(), change.values)


def apply_answers(company: Company, answers: dict) -> None:
    """Set every field of the entry from questionnaire answers (staff edit, change request)."""
    entries.apply(company, entry_values(answers))


def entry_step() -> Step:
    """Every question of the questionnaire but the consent, as one step: the staff's form
    for editing an entry, checked by the same rules as the questionnaire."""
    questions = tuple(q for step in definition().steps[:-1] for q in step.questions)
    return Step(key="entry", title={}, intro={}, questions=questions)


def start_edit(company: Company, language: str) -> QuestionnaireDraft:
    """The owner's open edit draft of a published entry, else a new one prefilled from it.

    Opening the edit link again (or a mail scanner fetching it first) adds no draft.
    """
    draft = db.session.scalar(
        select(QuestionnaireDraft)
        .where(
            QuestionnaireDraft.kind == "edit",
            QuestionnaireDraft.company_id == company.id,
            QuestionnaireDraft.submitted_at.is_(None),
        )
        .order_by(QuestionnaireDraft.id.desc())
        .limit(1)
    )
    if draft is not None:
        return draft
    answers = company_answers(company)
    draft = QuestionnaireDraft(
        kind="edit",
        company_id=company.id,
        language=language,
        definition_version=definition().version,
        answers=answers,
        raw_input={},
        completed_steps=len(definition().steps) - 1,
    )
    db.session.add(draft)
    db.session.commit()
    return draft


def published_by_contact(address: str) -> list[Company]:
    """Published entries whose (private) contact e-mail is ``address``."""
    if not address:
        return []
    return list(
        db.session.scalars(
            select(Company).where(
                func.lower(Company.contact_email) == address.lower(),
                Company.status == CompanyStatus.PUBLISHED,
            )
        )
    )


def edit_token(company: Company) -> str:
    """The token of a published entry's edit link."""
    return tokens.make_token("edit", company.id, company.link_generation)


def company_from_edit_token(token: str) -> Company:
    """The published entry an edit link names; TokenInvalid/TokenExpired if not good."""
    return published_from_token("edit", token)


def published_from_token(purpose: str, token: str) -> Company:
    """The published entry an owner's link for ``purpose`` names; TokenInvalid/TokenExpired
    if it is tampered, too old, revoked by a new link generation, or the entry is not
    published."""
    company_id, generation = tokens.read_token(purpose, token)
    company = db.session.get(Company, company_id)
    if (
        company is None
        or company.status is not CompanyStatus.PUBLISHED
        or company.link_generation != generation
    ):
        raise tokens.TokenInvalid
    return company
