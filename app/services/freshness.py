"""Keeping entries fresh: confirmations, reminders and entries flagged for archiving.

A published entry's *last confirmation* is when its owner last confirmed it (or changed it and
the agency took the change over), else when it was published, else when it was created. The
entry is *overdue* once that is more than :data:`CONFIRM_MONTHS` months ago. An overdue entry is

- *due* while its owner has not been reminded since the last confirmation,
- *waiting* for :data:`GRACE_MONTHS` months after the reminder,
- *flagged for archiving* after that, until the owner confirms it (or the agency decides).

Every function takes an optional ``now``; without it the database's clock is used, so tests can
set ``confirmed_at`` or ``reminder_sent_at`` in the past directly in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Interval, and_, func, literal, not_, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Company, CompanyStatus, StaffUser
from app.services import audit, mail, tokens
from app.services import questionnaire as questionnaire_service

#: Months after the last confirmation before the owner is asked again.
CONFIRM_MONTHS = 12
#: Months after the reminder before an unconfirmed entry is flagged for archiving.
GRACE_MONTHS = 3

#: When the entry was last confirmed (the first of these that is set).
last_confirmed = func.coalesce(Company.confirmed_at, Company.published_at, Company.created_at)


@dataclass(frozen=True)
class Overdue:
    """An overdue entry with the date of its last confirmation."""

    company: Company
    last_confirmed: datetime


@dataclass(frozen=True)
class FreshnessCounts:
    """How many published entries are due, waiting after a reminder, or flagged."""

    due: int
    waiting: int
    flagged: int

    @property
    def overdue(self) -> int:
        """All entries not confirmed within CONFIRM_MONTHS."""
        return self.due + self.waiting + self.flagged


@dataclass
class ReminderReport:
    """What one run of :func:`send_reminders` did."""

    sent: list[Company] = field(default_factory=list)
    no_address: list[Company] = field(default_factory=list)
    skipped: list[Company] = field(default_factory=list)


def current_time(now: datetime | None = None) -> datetime:
    """``now`` if given, else the database's current time (its transaction time)."""
    return now if now is not None else db.session.scalar(select(func.now()))


def _months(count: int) -> ColumnElement:
    return func.make_interval(0, count, type_=Interval)


def _conditions(now: datetime) -> dict[str, ColumnElement]:
    """The SQL conditions of the three states at ``now``."""
    at = literal(now, type_=Company.confirmed_at.type)
    overdue = and_(
        Company.status == CompanyStatus.PUBLISHED,
        last_confirmed < at - _months(CONFIRM_MONTHS),
    )
    reminded = and_(
        Company.reminder_sent_at.is_not(None), Company.reminder_sent_at >= last_confirmed
    )
    grace_over = Company.reminder_sent_at < at - _months(GRACE_MONTHS)
    return {
        "due": and_(overdue, not_(reminded)),
        "waiting": and_(overdue, reminded, not_(grace_over)),
        "flagged": and_(overdue, reminded, grace_over),
    }


def _listed(state: str, now: datetime | None) -> list[Overdue]:
    condition = _conditions(current_time(now))[state]
    order = Company.reminder_sent_at if state != "due" else last_confirmed
    rows = db.session.execute(
        select(Company, last_confirmed).where(condition).order_by(order, Company.id)
    )
    return [Overdue(company, confirmed) for company, confirmed in rows]


def due(now: datetime | None = None) -> list[Overdue]:
    """Published entries overdue for confirmation whose owner has not been reminded yet
    (since the last confirmation), longest unconfirmed first."""
    return _listed("due", now)


def waiting(now: datetime | None = None) -> list[Overdue]:
    """Overdue entries whose owner was reminded less than GRACE_MONTHS months ago."""
    return _listed("waiting", now)


def flagged(now: datetime | None = None) -> list[Overdue]:
    """Overdue entries still unconfirmed GRACE_MONTHS months after the reminder: candidates
    for archiving (the agency decides)."""
    return _listed("flagged", now)


def counts(now: datetime | None = None) -> FreshnessCounts:
    """The number of due, waiting and flagged entries (one query)."""
    conditions = _conditions(current_time(now))
    row = db.session.execute(
        select(
            *(
                func.count().filter(conditions[state]).label(state)
                for state in ("due", "waiting", "flagged")
            )
        ).select_from(Company)
    ).one()
    return FreshnessCounts(due=row.due, waiting=row.waiting, flagged=row.flagged)


def confirm_token(company: Company) -> str:
    """The token of the entry's one-click "still correct" link."""
    return tokens.make_token("confirm", company.id, company.link_generation)


def company_from_confirm_token(token: str) -> Company:
    """The published entry a confirm link names; TokenInvalid/TokenExpired if not good."""
    return questionnaire_service.published_from_token("confirm", token)


def _values(company: Company) -> dict:
    """The audit snapshot plus the freshness timestamps."""
    values = audit.snapshot(company)
    for column in ("confirmed_at", "reminder_sent_at"):
        value = getattr(company, column)
        values[column] = value.isoformat() if value else None
    return values


def confirm(company: Company, now: datetime | None = None) -> None:
    """The owner confirms that the entry is still correct: set ``confirmed_at`` and write the
    audit record in the same transaction."""
    for attempt in (1, 2):
        before = _values(company)
        company.confirmed_at = current_time(now)
        db.session.flush()
        audit.record(
            "confirm",
            company,
            actor=None,
            actor_label=audit.OWNER,
            before=before,
            after=_values(company),
        )
        try:
            db.session.commit()
            return
        except StaleDataError:
            # The agency changed the entry at the same moment: confirm its current state.
            db.session.rollback()
            db.session.refresh(company)
            if attempt == 2:
                raise


def _remind(company: Company, now: datetime, actor: StaffUser | None) -> bool:
    """Mail one reminder; its record, the reminder time and the audit entry commit together
    (the mail goes out after the commit). False, and nothing done, when the entry changed
    since it was read.

    A reminder is no edit: the time is set without raising the entry's version, so a curator
    editing the entry meanwhile does not get a false conflict."""
    reminder = mail.compose("reminder", company=company)
    before = _values(company)
    table = Company.__table__
    changed = db.session.execute(
        update(table)
        .where(table.c.id == company.id, table.c.version == company.version)
        .values(reminder_sent_at=now)
    )
    if changed.rowcount != 1:
        db.session.rollback()
        return False
    set_committed_value(company, "reminder_sent_at", now)
    audit.record(
        "remind",
        company,
        actor=actor,
        before=before,
        after=_values(company),
        note=company.contact_email,
    )
    mail.queue(reminder)
    db.session.commit()
    return True


def send_reminders(actor: StaffUser | None = None, now: datetime | None = None) -> ReminderReport:
    """Ask the owner of every due entry by e-mail to confirm it (one link) or change it (the
    edit link), in the owner's language; once per confirmation period.

    Each reminder sets ``reminder_sent_at`` and writes a ``remind`` audit record in the same
    transaction as the outbox record. Entries without a contact e-mail are reported under
    ``no_address``; entries changed by someone else meanwhile under ``skipped`` (they stay
    due). The mail's text comes from the "reminder" writer (app/notifications.py); it needs a
    request context for the links (see ``flask send-reminders``).
    """
    now = current_time(now)
    report = ReminderReport()
    for item in due(now):
        company = item.company
        if not company.contact_email:
            report.no_address.append(company)
            continue
        if _remind(company, now, actor):
            report.sent.append(company)
        else:
            report.skipped.append(company)
    return report
