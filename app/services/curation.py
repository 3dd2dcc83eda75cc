"""The agency's decisions on entries: review queue, approve, reject, archive, restore, edit,
change requests. Each decision is one transaction with its audit record and the mail that
tells the owner (delivered once the transaction has committed).

A refused decision (:class:`CurationError`, :class:`EditConflict`) rolls its transaction back
before the error reaches the caller; after a conflict the entry holds its current values.

Decisions name the version of the entry the curator saw (``expected_version``): if someone else
changed it meanwhile, :class:`EditConflict` is raised and nothing is written. The entry's row is
locked (``SELECT … FOR UPDATE``) before its version is checked, so of two saves at the same
moment the second waits for the first and then sees the conflict.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.features.employers import fold_for_search
from app.models import (
    ChangeRequest,
    Company,
    CompanyStatus,
    QuestionnaireDraft,
    StaffUser,
)
from app.services import audit, mail, owner_links
from app.services import questionnaire as questionnaire_service


def status_labels() -> dict[str, str]:
    """Labels of the entry statuses in the interface language."""
    return {
        "draft": _("Entwurf"),
        "pending": _("eingereicht"),
        "published": _("veröffentlicht"),
        "rejected": _("abgelehnt"),
        "archived": _("archiviert"),
    }


def status_label(status: CompanyStatus | str) -> str:
    """The label of one status (templates use it as ``status_label``)."""
    return status_labels()[CompanyStatus(status).value]


class CurationError(ValueError):
    """The decision is not possible for this entry now; the message says why (translated)."""


class EditConflict(Exception):
    """Someone else changed the entry since it was opened. ``current`` holds its values now."""

    def __init__(self, company: Company, current: dict):
        super().__init__(company.id)
        self.company = company
        self.current = current


def rolls_back_when_refused(decision):
    """Decorator for a decision: when it is refused (CurationError or EditConflict), its
    transaction is rolled back (releasing the row locks it took, discarding half-made changes
    and queued mail) before the error goes on; after a conflict the entry is reloaded, so that
    the caller can show its current values."""

    @functools.wraps(decision)
    def decide(*args, **kwargs):
        try:
            return decision(*args, **kwargs)
        except EditConflict as conflict:
            db.session.rollback()
            db.session.refresh(conflict.company)
            raise
        except CurationError:
            db.session.rollback()
            raise

    return decide


@dataclass(frozen=True)
class QueueItem:
    """One thing waiting for review: a new entry or a change request."""

    kind: str  # "entry" | "change"
    since: datetime
    company: Company
    change: ChangeRequest | None = None


def review_queue() -> list[QueueItem]:
    """Pending entries and pending change requests, oldest first."""
    pending = db.session.scalars(select(Company).where(Company.status == CompanyStatus.PENDING))
    changes = db.session.scalars(
        select(ChangeRequest)
        .where(ChangeRequest.status == "pending")
        .options(selectinload(ChangeRequest.company))
    )
    items = [QueueItem("entry", c.created_at, c) for c in pending]
    items += [QueueItem("change", r.created_at, r.company, r) for r in changes]
    return sorted(items, key=lambda item: (item.since, item.company.id))


def search_entries(
    *, status: str | None = None, text: str = "", page: int = 1, per_page: int = 50
) -> tuple[list[Company], int]:
    """Entries in any status for the workspace list, newest change first. Returns (page, total).

    ``text`` matches the name, town, postal code, website or contact e-mail.
    """
    query = select(Company)
    if status:
        query = query.where(Company.status == CompanyStatus(status))
    if text.strip():
        like = f"%{text.strip().lower()}%"
        folded = f"%{fold_for_search(text.strip())}%"
        query = query.where(
            or_(
                func.atlas_fold(Company.name).like(folded),
                func.lower(Company.town).like(like),
                Company.postal_code.like(like),
                func.lower(Company.website).like(like),
                func.lower(Company.contact_email).like(like),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(Company.updated_at.desc(), Company.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows), total


def entry(company_id: int) -> Company | None:
    """Any entry by id, whatever its status (for staff only)."""
    return db.session.get(Company, company_id)


def change_request(change_id: int) -> ChangeRequest | None:
    """An owner's change request by id, whatever its status (for staff only)."""
    return db.session.get(ChangeRequest, change_id)


def pending_changes(company: Company) -> list[ChangeRequest]:
    """The entry's change requests still waiting for a decision, oldest first."""
    return list(
        db.session.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.company_id == company.id, ChangeRequest.status == "pending")
            .order_by(ChangeRequest.created_at)
        )
    )


def lock(*companies: Company) -> None:
    """Lock the entries' rows until the end of the transaction and reload them, so that the
    version check and the changes after it see what a concurrent save committed (rows are
    locked in id order, so two merges cannot deadlock)."""
    for company in sorted(companies, key=lambda c: c.id):
        db.session.refresh(company, with_for_update=True)


def check_version(company: Company, expected_version: int | None) -> None:
    """EditConflict if the entry is no longer at the version the curator saw; CurationError if
    the version is missing (the check could not run). Call :func:`lock` first."""
    if expected_version is None:
        raise CurationError(_("Die Angabe, welchen Stand des Eintrags Sie gesehen haben, fehlt."))
    if company.version != expected_version:
        raise EditConflict(company, audit.snapshot(company))


def touch(company: Company) -> None:
    """Mark the entry changed, so that its version goes up even if only its sectors,
    occupations or other associations changed (they do not raise it by themselves)."""
    company.updated_at = func.now()


def commit_or_conflict(company: Company) -> None:
    """Commit; a concurrent change caught by the version column becomes an EditConflict."""
    _guarded(company, db.session.commit)


def flush_or_conflict(company: Company) -> None:
    """Flush (to snapshot the result); a concurrent change becomes an EditConflict."""
    _guarded(company, db.session.flush)


def _guarded(company: Company, write) -> None:
    try:
        write()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(company)
        raise EditConflict(company, audit.snapshot(company)) from None


def _change_status(
    company: Company,
    to: CompanyStatus,
    action: str,
    actor: StaffUser,
    expected_version: int | None,
    note: str = "",
    notice: str | None = None,
) -> None:
    """Move the entry to status ``to`` with its audit record and, if ``notice`` names a
    decision, the mail that tells the owner (``note`` as the reason); one transaction."""
    lock(company)
    check_version(company, expected_version)
    before = audit.snapshot(company)
    company.status = to
    if to is CompanyStatus.PUBLISHED:
        company.published_at = company.published_at or func.now()
        company.confirmed_at = func.now()
    else:
        # Links mailed to the owner must not come back to life if the entry is published again.
        owner_links.renew(company)
    flush_or_conflict(company)
    audit.record(
        action, company, actor=actor, before=before, after=audit.snapshot(company), note=note
    )
    if notice:
        notify(company, notice, reason=note)
    commit_or_conflict(company)


@rolls_back_when_refused
def approve(company: Company, actor: StaffUser, expected_version: int | None = None) -> None:
    """Publish a pending entry (it needs a pin) and tell the owner."""
    if company.status is not CompanyStatus.PENDING:
        raise CurationError(_("Nur eingereichte Einträge können freigegeben werden."))
    if company.location is None:
        raise CurationError(_("Der Eintrag hat noch keine Lage: bitte setzen Sie die Markierung."))
    _change_status(
        company, CompanyStatus.PUBLISHED, "approve", actor, expected_version, notice="approved"
    )


@rolls_back_when_refused
def reject(
    company: Company, actor: StaffUser, reason: str, expected_version: int | None = None
) -> None:
    """Reject a pending entry with a reason the owner is told."""
    reason = reason.strip()
    if company.status is not CompanyStatus.PENDING:
        raise CurationError(_("Nur eingereichte Einträge können abgelehnt werden."))
    if not reason:
        raise CurationError(_("Bitte geben Sie einen Grund für die Ablehnung an."))
    _change_status(
        company, CompanyStatus.REJECTED, "reject", actor, expected_version, reason, "rejected"
    )


@rolls_back_when_refused
def archive(
    company: Company, actor: StaffUser, reason: str = "", expected_version: int | None = None
) -> None:
    """Take an entry off the map (kept, restorable) and tell the owner."""
    if company.status not in (CompanyStatus.PUBLISHED, CompanyStatus.PENDING):
        raise CurationError(_("Nur veröffentlichte oder eingereichte Einträge können ins Archiv."))
    _change_status(
        company,
        CompanyStatus.ARCHIVED,
        "archive",
        actor,
        expected_version,
        reason.strip(),
        "archived",
    )


@rolls_back_when_refused
def restore(company: Company, actor: StaffUser, expected_version: int | None = None) -> None:
    """Bring an archived or rejected entry back: published again if it was published before
    (and has a pin), else back into the review queue."""
    if company.status not in (CompanyStatus.ARCHIVED, CompanyStatus.REJECTED):
        raise CurationError(
            _("Nur archivierte oder abgelehnte Einträge können zurückgeholt werden.")
        )
    if company.merged_into_id is not None:
        raise CurationError(_("Dieser Eintrag wurde mit einem anderen zusammengeführt."))
    was_published = company.published_at is not None and company.location is not None
    to = CompanyStatus.PUBLISHED if was_published else CompanyStatus.PENDING
    _change_status(company, to, "restore", actor, expected_version)


@rolls_back_when_refused
def save_edit(
    company: Company, answers: dict, actor: StaffUser, expected_version: int | None
) -> None:
    """Store the staff's edit of any field (validated answers of the entry form)."""
    lock(company)
    check_version(company, expected_version)
    before = audit.snapshot(company)
    questionnaire_service.apply_answers(company, answers)
    flush_or_conflict(company)
    after = audit.snapshot(company)
    if before == after:
        db.session.rollback()
        return
    if company.status is CompanyStatus.PUBLISHED and company.location is None:
        db.session.rollback()
        raise CurationError(_("Ein veröffentlichter Eintrag braucht eine Lage auf der Karte."))
    touch(company)
    audit.record("edit", company, actor=actor, before=before, after=after)
    commit_or_conflict(company)


@rolls_back_when_refused
def apply_change(
    change: ChangeRequest, actor: StaffUser, expected_version: int | None = None
) -> None:
    """Take over an owner's change request into the published entry, and tell the owner."""
    if change.status != "pending":
        raise CurationError(_("Über diese Änderung wurde schon entschieden."))
    company = change.company
    lock(company)
    check_version(company, expected_version)
    before = audit.snapshot(company)
    questionnaire_service.apply_answers(company, questionnaire_service.change_answers(change))
    company.confirmed_at = func.now()
    change.status = "applied"
    change.decided_at = func.now()
    flush_or_conflict(company)
    audit.record(
        "apply_change",
        company,
        actor=actor,
        before=before,
        after=audit.snapshot(company),
        note=f"#{change.id}",
    )
    notify(company, "change_applied")
    commit_or_conflict(company)


@rolls_back_when_refused
def reject_change(change: ChangeRequest, actor: StaffUser, reason: str) -> None:
    """Decline an owner's change request (the entry stays as it is) and tell the owner why."""
    reason = reason.strip()
    if change.status != "pending":
        raise CurationError(_("Über diese Änderung wurde schon entschieden."))
    if not reason:
        raise CurationError(_("Bitte geben Sie einen Grund für die Ablehnung an."))
    change.status = "rejected"
    change.decided_at = func.now()
    audit.record("reject_change", change.company, actor=actor, note=f"#{change.id}: {reason}")
    notify(change.company, "change_rejected", reason=reason)
    db.session.commit()


def owner_language(company: Company) -> str:
    """The language the owner used in the questionnaire (German if unknown)."""
    language = db.session.scalar(
        select(QuestionnaireDraft.language)
        .where(QuestionnaireDraft.company_id == company.id)
        .order_by(QuestionnaireDraft.created_at.desc())
        .limit(1)
    )
    return language if language in ("de", "en") else "de"


def notify(company: Company, decision: str, reason: str = "") -> None:
    """Queue the mail that tells the entry's contact person of ``decision`` (if it has one),
    in the current transaction: it goes out when the decision commits."""
    if company.contact_email:
        mail.queue(mail.compose("decision", company=company, decision=decision, reason=reason))
