"""Deleting what the platform no longer needs (``flask retention run``, daily by the worker).

Three rules, each its own transaction, each idempotent (a second run finds nothing more):

- **Import uploads** (``import_uploads``: the agency's CSV, Excel and layer files, kept in the
  database between preview and import; no copy is written to disk) are deleted
  ``RETENTION_UPLOAD_DAYS`` (30) days after the upload, imported or not.
- **Abandoned questionnaire drafts**: a draft never submitted is deleted once no link made for
  it can open it any more: :func:`app.services.questionnaire.abandoned_after` after its last
  change or link (the resume link's 30 days; an owner's edit of a published entry, which every
  new edit link reopens, the edit link's 90 days; plus a day, see ``LINK_TOUCH_INTERVAL``).
  Submitted drafts stay: they are the record behind an entry or change request.
- **Outbox mails** (``outbox_messages``, the copy of every mail sent) are deleted
  ``RETENTION_OUTBOX_DAYS`` (90) days after they were written, if they were sent or finally
  failed (an error is recorded; there is no retry). A mail neither sent nor failed is never
  deleted: the run counts and reports those older than the period, so that someone looks at the
  mail delivery.

The privacy page states the same periods (:func:`periods`), so page and jobs cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, or_, select

from app.extensions import db
from app.models import ImportUpload, OutboxMessage, QuestionnaireDraft
from app.services import questionnaire, tokens


@dataclass(frozen=True)
class Periods:
    """The retention periods in days, as the settings and token lifetimes give them."""

    upload_days: int
    outbox_days: int
    #: A new business's draft: kept as long as its resume link lives after the last change.
    draft_days: int
    #: An owner's edit draft: as long as the edit link lives.
    edit_draft_days: int


@dataclass(frozen=True)
class Report:
    """What a run deleted (or, with ``dry_run``, would delete), and the old unsent mails it
    kept."""

    uploads: int
    drafts: int
    mails: int
    unsent_mails_kept: int
    periods: Periods
    dry_run: bool = False

    def lines(self) -> list[str]:
        """The report for the command line, one line per rule."""
        verb = "would be deleted" if self.dry_run else "deleted"
        lines = [
            f"Import uploads older than {self.periods.upload_days} days: {self.uploads} {verb}.",
            f"Abandoned questionnaire drafts (links expired): {self.drafts} {verb}.",
            f"Sent or failed outbox mails older than {self.periods.outbox_days} days: "
            f"{self.mails} {verb}.",
        ]
        if self.unsent_mails_kept:
            lines.append(
                f"Kept {self.unsent_mails_kept} outbox mail(s) older than "
                f"{self.periods.outbox_days} days that were never sent and have no error: "
                "check the mail delivery (MAIL_SMTP_HOST) and the log."
            )
        return lines


def periods() -> Periods:
    """The periods in force: the settings ``RETENTION_UPLOAD_DAYS`` and
    ``RETENTION_OUTBOX_DAYS`` and the drafts' link lifetimes (whole days, as the privacy page
    states them)."""
    config = current_app.config
    return Periods(
        upload_days=config["RETENTION_UPLOAD_DAYS"],
        outbox_days=config["RETENTION_OUTBOX_DAYS"],
        draft_days=tokens.PURPOSES["resume"],
        edit_draft_days=max(tokens.PURPOSES["resume"], tokens.PURPOSES["edit"]),
    )


def _older_than(column, interval: timedelta) -> ColumnElement[bool]:
    return column < func.now() - interval


def _upload_condition(days: int) -> ColumnElement[bool]:
    return _older_than(ImportUpload.created_at, timedelta(days=days))


def _draft_condition() -> ColumnElement[bool]:
    return QuestionnaireDraft.submitted_at.is_(None) & or_(
        (QuestionnaireDraft.kind == "edit")
        & _older_than(QuestionnaireDraft.updated_at, questionnaire.abandoned_after("edit")),
        (QuestionnaireDraft.kind != "edit")
        & _older_than(QuestionnaireDraft.updated_at, questionnaire.abandoned_after("new")),
    )


def _mail_condition(days: int) -> ColumnElement[bool]:
    """Old and done with: sent, or failed with a recorded error."""
    return _older_than(OutboxMessage.created_at, timedelta(days=days)) & (
        OutboxMessage.sent_at.is_not(None) | (OutboxMessage.error != "")
    )


def _count(model, condition) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(condition))


def _delete(model, condition) -> int:
    """Delete the rows of ``model`` that meet ``condition`` in one transaction; how many."""
    try:
        deleted = db.session.execute(
            delete(model).where(condition).execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return deleted


def delete_old_uploads(days: int, *, dry_run: bool = False) -> int:
    """Delete the import uploads older than ``days`` days (imported or not); how many (with
    ``dry_run``: how many would be, deleting nothing)."""
    condition = _upload_condition(days)
    return _count(ImportUpload, condition) if dry_run else _delete(ImportUpload, condition)


def delete_abandoned_drafts(*, dry_run: bool = False) -> int:
    """Delete the questionnaire drafts never submitted that no link can open any more (see
    the module's docstring); how many. Their outbox mails keep their rows (``draft_id``
    becomes NULL)."""
    condition = _draft_condition()
    if dry_run:
        return _count(QuestionnaireDraft, condition)
    return _delete(QuestionnaireDraft, condition)


def delete_old_mails(days: int, *, dry_run: bool = False) -> int:
    """Delete the outbox mails older than ``days`` days that were sent or finally failed;
    how many. Mails neither sent nor failed are kept (:func:`unsent_old_mails`)."""
    condition = _mail_condition(days)
    return _count(OutboxMessage, condition) if dry_run else _delete(OutboxMessage, condition)


def unsent_old_mails(days: int) -> int:
    """How many outbox mails older than ``days`` days were neither sent nor failed (kept)."""
    return _count(
        OutboxMessage,
        _older_than(OutboxMessage.created_at, timedelta(days=days))
        & OutboxMessage.sent_at.is_(None)
        & (OutboxMessage.error == ""),
    )


def run(*, dry_run: bool = False) -> Report:
    """Apply every retention rule (each in its own transaction) with the configured periods
    and report what was deleted; with ``dry_run`` only count."""
    in_force = periods()
    uploads = delete_old_uploads(in_force.upload_days, dry_run=dry_run)
    drafts = delete_abandoned_drafts(dry_run=dry_run)
    mails = delete_old_mails(in_force.outbox_days, dry_run=dry_run)
    kept = unsent_old_mails(in_force.outbox_days)
    db.session.rollback()  # end the counting queries' transaction
    return Report(uploads, drafts, mails, kept, in_force, dry_run)
