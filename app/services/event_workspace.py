"""What the events workspace reads: the events an account may manage, with their
registration counts, the events waiting for review, the published employers an event can
name, and an organisation's partner accounts. Writing goes through :mod:`app.services.events`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select

from app.extensions import db
from app.models import (
    Company,
    CompanyStatus,
    Event,
    EventStatus,
    Organisation,
    StaffRole,
    StaffUser,
)
from app.services import events

#: At most this many events in the workspace list.
LIST_LIMIT = 500


@dataclass(frozen=True)
class Counts:
    """An event's registrations: confirmed, on the waiting list, free places (None: no
    limit)."""

    confirmed: int
    waiting: int
    free: int | None


def events_for(actor: StaffUser, *, needs_review: bool = False) -> list[Event]:
    """The events ``actor`` may manage: those not yet over by start, then past ones (latest
    first); only those waiting for review with ``needs_review``."""
    upcoming = or_(Event.last_ends_at.is_(None), Event.last_ends_at >= events.now())
    query = select(Event).where(events.visible_to(actor))
    if needs_review:
        query = query.where(Event.status == EventStatus.PENDING, Event.cancelled_at.is_(None))
    over = case((upcoming, 0), else_=1)
    query = query.order_by(
        over,
        case((upcoming, Event.starts_at)),
        Event.starts_at.desc(),
        Event.id,
    ).limit(LIST_LIMIT)
    return list(db.session.scalars(query))


def waiting_for_review() -> int:
    """How many events (not cancelled) wait for the agency's review."""
    return db.session.scalar(
        select(func.count(Event.id)).where(
            Event.status == EventStatus.PENDING, Event.cancelled_at.is_(None)
        )
    )


def counts(event_list: list[Event]) -> dict[int, Counts]:
    """{event id: Counts} for the events (see :func:`app.services.registrations.counts`)."""
    from app.services import registrations

    return {event.id: Counts(*registrations.counts(event)) for event in event_list}


def company_choices() -> list[tuple[int, str]]:
    """(id, name and town) of every published employer, by name: those an event can name."""
    rows = db.session.execute(
        select(Company.id, Company.name, Company.town)
        .where(Company.status == CompanyStatus.PUBLISHED)
        .order_by(func.lower(Company.name), Company.id)
    )
    return [(row.id, f"{row.name} ({row.town})" if row.town else row.name) for row in rows]


def organisation(organisation_id: int) -> Organisation | None:
    """The organisation with this id."""
    return db.session.get(Organisation, organisation_id)


def partner_accounts(organisation: Organisation, *, active_only: bool = False) -> list[StaffUser]:
    """The partner accounts of ``organisation`` (only those switched on, if ``active_only``),
    by name."""
    query = select(StaffUser).where(
        StaffUser.organisation_id == organisation.id, StaffUser.role == StaffRole.PARTNER
    )
    if active_only:
        query = query.where(StaffUser.active.is_(True))
    return list(db.session.scalars(query.order_by(func.lower(StaffUser.name))))


def event_counts_by_organisation() -> dict[int, int]:
    """{organisation id: number of its events}."""
    rows = db.session.execute(
        select(Event.organisation_id, func.count(Event.id)).group_by(Event.organisation_id)
    )
    return dict(rows.tuples().all())
