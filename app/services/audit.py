"""The audit log: every change of an entry's state or content, with the values before and after.

:func:`record` only adds the entry to the session: the service that makes the change commits
both together, so there is never a change without its record (or a record without its change).
"""

from __future__ import annotations

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Company, Event, StaffUser
from app.services import entries

#: Columns copied into the audit log: the entry's text and scalar fields and its status
#: (besides sectors, occupations, family criteria and location, copied below).
SNAPSHOT_COLUMNS = (*entries.TEXT_FIELDS, *entries.SCALAR_FIELDS, "status")

OWNER = "owner"
SYSTEM = "system"


def snapshot(company: Company) -> dict:
    """The entry's values as plain JSON (what the audit log keeps before and after)."""
    values = {column: getattr(company, column) for column in SNAPSHOT_COLUMNS}
    values["status"] = str(company.status)
    values["languages"] = list(company.languages or [])
    if company.location is not None:
        point = to_shape(company.location)
        values["location"] = [round(point.x, 7), round(point.y, 7)]
    else:
        values["location"] = None
    values["sectors"] = [d.code for d in company.sectors]
    values["occupations"] = [g.code for g in company.occupations]
    values["family_criteria"] = [c.key for c in company.family_criteria]
    values["apprenticeships"] = [
        {"code": row.code, "places": row.places}
        for row in sorted(company.apprenticeships, key=lambda row: row.code)
    ]
    values["certificates"] = [
        [c.name, c.valid_until.isoformat() if c.valid_until else None] for c in company.certificates
    ]
    return values


def changed(before: dict | None, after: dict | None) -> dict[str, tuple]:
    """{field: (before, after)} for the fields whose value differs."""
    before, after = before or {}, after or {}
    return {
        key: (before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record(
    action: str,
    company: Company | None,
    *,
    actor: StaffUser | None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    actor_label: str = SYSTEM,
) -> AuditEntry:
    """Add an audit entry to the session (the caller commits it with the change)."""
    return _add(
        action,
        actor,
        actor_label,
        company_id=company.id if company else None,
        company_name=company.name if company else "",
        before=before,
        after=after,
        note=note,
    )


def label_of(actor: StaffUser) -> str:
    """How the log names an account: its address, and a partner's organisation with it."""
    if actor.is_partner and actor.organisation is not None:
        return f"{actor.email} ({actor.organisation.name})"
    return actor.email


def record_event(
    action: str,
    event: Event,
    *,
    actor: StaffUser | None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    actor_label: str = SYSTEM,
) -> AuditEntry:
    """Add an audit entry about an event to the session (the caller commits it); its
    ``company_name`` column holds the event's title."""
    return _add(
        action,
        actor,
        actor_label,
        event_id=event.id,
        company_name=event.title[:200],
        before=before,
        after=after,
        note=note,
    )


def record_account(action: str, account: StaffUser, *, actor: StaffUser | None) -> AuditEntry:
    """Add an audit entry about a staff account's security (password, second factor) to the
    session (the caller commits it); its ``company_name`` column holds the account's address."""
    return _add(action, actor, SYSTEM, company_name=account.email[:200])


def _add(action: str, actor: StaffUser | None, actor_label: str, **columns) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        actor_id=actor.id if actor else None,
        actor_label=label_of(actor) if actor else actor_label,
        **columns,
    )
    db.session.add(entry)
    return entry


def entries(
    *, company_ids: list[int] | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEntry], int]:
    """One page of the audit log, newest first; optionally for some entries only.

    Returns (entries, total).
    """
    query = select(AuditEntry)
    if company_ids is not None:
        query = query.where(AuditEntry.company_id.in_(company_ids))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows), total


def history(company: Company) -> list[AuditEntry]:
    """The entry's own audit entries and those of every entry merged into it, newest first."""
    merged = db.session.scalars(select(Company.id).where(Company.merged_into_id == company.id))
    rows, _total = entries(company_ids=[company.id, *merged], per_page=500)
    return rows
