"""A business's data rights, used through its edit link: a copy of everything held about its
entry (GDPR Art. 15 and 20) and the erasure of the entry with its data (Art. 17).

**Export** (:func:`export`): one JSON document in a stable structure (:data:`FORMAT`,
:data:`VERSION`; documented in docs/architecture.md, "A business's data rights"). Keys are
never renamed within a version; new keys may be added.

**Erasure** (:func:`erase`): one transaction that removes

- the entry and the entries merged into it (the same business's archived duplicates), and
  with them their classifications, apprenticeships, certificates, event links, drafts and
  change requests (foreign keys, ``ON DELETE CASCADE``);
- the registrations for events made with the entry's e-mail addresses (cancelled, personal
  fields emptied: :func:`app.services.registrations.erase_by_addresses`) and the job alerts
  of those addresses; an event's contact address that is one of them is emptied;
- the mails to those addresses from the outbox, and the text of any other recorded mail that
  names the business (its name, e-mail or phone);
- the details of the audit log's lines about it (name, values before and after, note: the
  line keeps what was done when, by whom, and the entry's bare number, "#42", in place of
  its name), and the notes and values of other lines that name it;
- the cached geocoding answer for its address and the cached map answers.

An e-mail address or phone number that another entry also gives (a shared office, a
consultant's address) is that entry's contact data too: it is neither looked for nor erased,
and the registrations, job alerts and mails of a shared address stay.

It keeps the consent records as proof, without the link to the entry (``erased_at``,
``erased_entry_id``), writes one anonymous audit line ("erase", the entry's number only) and
tells the agency's curators by mail (the entry's number only, and links to the events whose
title or description still names the business: the agency's own texts, which it checks).
Deleting the entry raises the map generation when the transaction commits (the triggers of
migration 0013, as for every change to an entry), so no map answer, snapshot or cache shows it
afterwards; its links stop working because the entry they name is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from geoalchemy2.shape import to_shape
from sqlalchemy import Text, cast, delete, func, or_, select, text, update

from app.extensions import db
from app.models import (
    AuditEntry,
    ChangeRequest,
    Company,
    ConsentRecord,
    Event,
    EventRegistration,
    GeocodeCache,
    JobAlert,
    OutboxMessage,
    QuestionnaireDraft,
    StaffRole,
    StaffUser,
    event_companies,
)
from app.services import apprenticeships, audit, geocoding, mail, registrations

#: What the export calls itself, and the version of its structure.
FORMAT = "kmu-atlas/business-data-export"
VERSION = 1
#: The audit action of the anonymous line an erasure writes.
ERASE_ACTION = "erase"
#: The mail kind that tells the agency of an erasure.
MAIL_KIND = "entry_erased"
#: Text shorter than this is not looked for in other records (a two-letter name would match
#: half the mails); names, addresses and phone numbers are longer.
MIN_SEARCH_LENGTH = 4


class EntryGone(Exception):
    """The entry was erased meanwhile (e.g. by a second click on the button)."""


# --- export -----------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _entry(company: Company) -> dict:
    """The entry's own fields (public and private) and its classifications."""
    point = to_shape(company.location) if company.location is not None else None
    return {
        "id": company.id,
        "slug": company.slug,
        "status": str(company.status),
        "name": company.name,
        "description": company.description,
        "address": {
            "street": company.street,
            "house_number": company.house_number,
            "postal_code": company.postal_code,
            "town": company.town,
            "municipality": (
                {"ags": company.municipality.ags, "name": company.municipality.name}
                if company.municipality is not None
                else None
            ),
        },
        "location": {"lon": point.x, "lat": point.y} if point else None,
        "contact": {
            "website": company.website,
            "phone": company.phone,
            "email": company.email,
            "contact_name": company.contact_name,
            "contact_email": company.contact_email,
        },
        "employees": company.employees,
        "size_class": company.size_class,
        "offers_apprenticeships": company.offers_apprenticeships,
        "offers_internships": company.offers_internships,
        "open_positions": company.open_positions,
        "languages": list(company.languages or []),
        "sectors": [{"code": row.code, "label": row.title("de")} for row in company.sectors],
        "occupations": [
            {"code": row.code, "label": row.title("de")} for row in company.occupations
        ],
        "family_criteria": [
            {"code": row.key, "label": row.title("de")} for row in company.family_criteria
        ],
        "certificates": [
            {"name": row.name, "valid_until": _iso(row.valid_until)} for row in company.certificates
        ],
        "apprenticeships": [
            {"code": row.code, "label": apprenticeships.label(row.code), "places": row.places}
            for row in company.apprenticeships
        ],
        "source": company.source,
        "created_at": _iso(company.created_at),
        "updated_at": _iso(company.updated_at),
        "published_at": _iso(company.published_at),
        "confirmed_at": _iso(company.confirmed_at),
        "reminder_sent_at": _iso(company.reminder_sent_at),
        "merged_into_id": company.merged_into_id,
    }


def _merged_into(company: Company) -> list[Company]:
    """The entries merged into ``company``, and those merged into them (any depth)."""
    found, frontier = [], [company.id]
    while frontier:
        rows = list(
            db.session.scalars(
                select(Company).where(Company.merged_into_id.in_(frontier)).order_by(Company.id)
            )
        )
        found.extend(rows)
        frontier = [row.id for row in rows]
    return found


def addresses_of(companies: list[Company]) -> set[str]:
    """The e-mail addresses of the entries, lower case."""
    return {
        address.strip().lower()
        for company in companies
        for address in (company.email, company.contact_email)
        if address and address.strip()
    }


def _with_address(column, addresses: set[str], *order) -> list:
    """The rows of ``column``'s table whose address (any case) is one of ``addresses``."""
    if not addresses:
        return []
    model = column.class_
    query = select(model).where(func.lower(column).in_(sorted(addresses))).order_by(*order)
    return list(db.session.scalars(query))


def _delete_with_address(column, addresses: set[str]) -> int:
    """Delete the rows of ``column``'s table whose address (any case) is one of ``addresses``;
    how many."""
    if not addresses:
        return 0
    statement = delete(column.class_).where(func.lower(column).in_(sorted(addresses)))
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


def _actor(row: AuditEntry) -> str:
    """Who made an audit line, without naming the agency's staff: "owner", "system" or
    "agency"."""
    if row.actor_id is not None or row.actor_label not in (audit.OWNER, audit.SYSTEM):
        return "agency"
    return row.actor_label


def export(company: Company) -> dict:
    """Everything held about the entry (and the entries merged into it), as plain JSON.

    Mails are listed with recipient, subject, purpose and dates but without their text: the
    text repeats the entry's data and carries personal links (edit, confirm) that should not
    end up in a downloaded file. Events are the ones the entry is linked to, without their
    registrations (those are other people's data); ``event_registrations`` are the ones made
    with the entry's own e-mail addresses, and ``job_alerts`` the job alerts of those
    addresses. Audit lines name the kind of actor, not staff.
    """
    entries = [company, *_merged_into(company)]
    ids = [entry.id for entry in entries]
    addresses = addresses_of(entries)
    consents = db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.company_id.in_(ids)).order_by(ConsentRecord.id)
    )
    drafts = db.session.scalars(
        select(QuestionnaireDraft)
        .where(QuestionnaireDraft.company_id.in_(ids))
        .order_by(QuestionnaireDraft.id)
    )
    changes = db.session.scalars(
        select(ChangeRequest).where(ChangeRequest.company_id.in_(ids)).order_by(ChangeRequest.id)
    )
    events = db.session.scalars(
        select(Event)
        .join(event_companies, event_companies.c.event_id == Event.id)
        .where(event_companies.c.company_id.in_(ids))
        .order_by(Event.starts_at, Event.id)
        .distinct()
    )
    registrations_made = _with_address(EventRegistration.email, addresses, EventRegistration.id)
    audit_lines = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.company_id.in_(ids))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    alerts = _with_address(JobAlert.email, addresses, JobAlert.id)
    mails = _with_address(
        OutboxMessage.recipient, addresses, OutboxMessage.created_at, OutboxMessage.id
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "entry": _entry(company),
        "merged_entries": [_entry(entry) for entry in entries[1:]],
        "consent_records": [
            {
                "id": row.id,
                "entry_id": row.company_id,
                "text_version": row.text_version,
                "text": row.text,
                "given_at": _iso(row.given_at),
            }
            for row in consents
        ],
        "drafts": [
            {
                "id": row.id,
                "kind": row.kind,
                "entry_id": row.company_id,
                "language": row.language,
                "answers": row.answers,
                "unsaved_input": row.raw_input,
                "created_at": _iso(row.created_at),
                "updated_at": _iso(row.updated_at),
                "submitted_at": _iso(row.submitted_at),
            }
            for row in drafts
        ],
        "change_requests": [
            {
                "id": row.id,
                "entry_id": row.company_id,
                "status": row.status,
                "values": row.values,
                "created_at": _iso(row.created_at),
                "decided_at": _iso(row.decided_at),
            }
            for row in changes
        ],
        "events": [
            {
                "id": row.id,
                "slug": row.slug,
                "title": row.title,
                "organisation": row.organisation.name,
                "status": str(row.status),
                "starts_at": _iso(row.starts_at),
                "ends_at": _iso(row.ends_at),
            }
            for row in events
        ],
        "event_registrations": [
            {
                "id": row.id,
                "event_id": row.event_id,
                "event_title": row.event.title,
                "status": str(row.status),
                "name": row.name,
                "email": row.email,
                "note": row.note,
                "language": row.language,
                "consent_version": row.consent_version,
                "consent_at": _iso(row.consent_at),
                "created_at": _iso(row.created_at),
                "confirmed_at": _iso(row.confirmed_at),
                "cancelled_at": _iso(row.cancelled_at),
            }
            for row in registrations_made
        ],
        "job_alerts": [
            {
                "id": row.id,
                "email": row.email,
                "search": row.filter_query,
                "language": row.language,
                "consent_version": row.consent_version,
                "consent_at": _iso(row.consent_at),
                "created_at": _iso(row.created_at),
                "confirmed_at": _iso(row.confirmed_at),
                "last_sent_at": _iso(row.last_sent_at),
            }
            for row in alerts
        ],
        "audit_log": [
            {
                "at": _iso(row.at),
                "entry_id": row.company_id,
                "action": row.action,
                "actor": _actor(row),
                "before": row.before,
                "after": row.after,
                "note": row.note,
            }
            for row in audit_lines
        ],
        "mails": [
            {
                "recipient": row.recipient,
                "subject": row.subject,
                "purpose": row.purpose,
                "created_at": _iso(row.created_at),
                "sent_at": _iso(row.sent_at),
            }
            for row in mails
        ],
    }


def export_filename(company: Company, today: date | None = None) -> str:
    """The download's file name: the entry's slug and the day, e.g.
    ``kmu-atlas-baeckerei-muster-2026-11-30.json``."""
    return f"kmu-atlas-{company.slug}-{(today or date.today()).isoformat()}.json"


# --- erasure ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed: the entry's number and how many rows of each kind."""

    entry_id: int
    merged_entries: int
    registrations: int
    job_alerts: int
    mails: int
    consent_records: int
    #: The events whose title or description still names the business (told to curators).
    events_naming: tuple[int, ...] = ()


def _lock(company_id: int) -> Company:
    """The entry's row, locked until the transaction ends; EntryGone if it was erased."""
    company = db.session.scalars(
        select(Company).where(Company.id == company_id).with_for_update(),
        execution_options={"populate_existing": True},
    ).one_or_none()
    if company is None:
        raise EntryGone
    return company


def _shared_contacts(ids: list[int]) -> set[str]:
    """The e-mail addresses and phone numbers (lower case) that entries other than ``ids``
    give: another business's contact data, which an erasure leaves alone."""
    rows = db.session.execute(
        select(Company.email, Company.contact_email, Company.phone).where(Company.id.not_in(ids))
    )
    return {value.strip().lower() for row in rows for value in row if value and value.strip()}


def _traces(entries: list[Company], addresses: set[str], shared: set[str]) -> list[str]:
    """What identifies the business in free text elsewhere: its names, e-mail addresses and
    phone numbers (each at least :data:`MIN_SEARCH_LENGTH` characters), without the contact
    data another entry shares."""
    values = set(addresses)
    for company in entries:
        values.update(
            value.strip() for value in (company.name, company.phone, company.contact_name)
        )
    return sorted(
        value for value in values if len(value) >= MIN_SEARCH_LENGTH and value.lower() not in shared
    )


def _containing(column, traces: list[str]):
    """SQL: ``column`` contains any of ``traces`` (case-insensitive, as plain text)."""
    return or_(*(func.strpos(func.lower(column), trace.lower()) > 0 for trace in traces))


def erase(entry_id: int) -> Erasure:
    """Erase the entry and everything held about it (see the module's docstring); commits.

    EntryGone if it was erased meanwhile (a second request waits for the first one's lock and
    then finds nothing: harmless).
    """
    company = _lock(entry_id)
    merged = _merged_into(company)
    for row in merged:
        _lock(row.id)
    entries = [company, *merged]
    ids = [entry.id for entry in entries]
    shared = _shared_contacts(ids)
    addresses = addresses_of(entries) - shared
    traces = _traces(entries, addresses, shared)
    addresses_list = sorted(addresses)

    erased_registrations = registrations.erase_by_addresses(addresses)
    alerts = _delete_with_address(JobAlert.email, addresses)
    if addresses:
        db.session.execute(
            update(Event)
            .where(func.lower(Event.contact_email).in_(addresses_list))
            .values(contact_email="")
            .execution_options(synchronize_session=False)
        )
    events_naming = (
        tuple(
            db.session.scalars(
                select(Event.id)
                .where(
                    or_(_containing(Event.title, traces), _containing(Event.description, traces))
                )
                .order_by(Event.id)
            )
        )
        if traces
        else ()
    )

    mails = _delete_with_address(OutboxMessage.recipient, addresses)
    if traces:
        db.session.execute(
            update(OutboxMessage)
            .where(
                or_(
                    _containing(OutboxMessage.subject, traces),
                    _containing(OutboxMessage.body, traces),
                )
            )
            .values(recipient="", subject="", body="")
            .execution_options(synchronize_session=False)
        )

    consents = db.session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.company_id.in_(ids))
        .values(
            erased_entry_id=ConsentRecord.company_id,
            company_id=None,
            draft_id=None,
            erased_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount

    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.company_id.in_(ids))
        .values(
            company_name=func.concat("#", AuditEntry.company_id),
            before=None,
            after=None,
            note="",
        )
        .execution_options(synchronize_session=False)
    )
    if traces:
        for column in (AuditEntry.note, AuditEntry.company_name):
            db.session.execute(
                update(AuditEntry)
                .where(_containing(column, traces))
                .values({column: ""})
                .execution_options(synchronize_session=False)
            )
        # Other lines' values that name it (an event's contact address, say).
        for column in (AuditEntry.before, AuditEntry.after):
            db.session.execute(
                update(AuditEntry)
                .where(_containing(cast(column, Text), traces))
                .values({column: None})
                .execution_options(synchronize_session=False)
            )

    keys = [geocoding.cache_key(e.street, e.house_number, e.postal_code, e.town) for e in entries]
    db.session.execute(delete(GeocodeCache).where(GeocodeCache.query.in_(keys)))
    # Cached map answers name employers; the generation raised at commit stops serving them,
    # this removes them at once (a cache: the next views compute them anew).
    db.session.execute(text("DELETE FROM map_cache"))

    db.session.execute(
        delete(QuestionnaireDraft)
        .where(QuestionnaireDraft.company_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(ChangeRequest)
        .where(ChangeRequest.company_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    for entry in reversed(entries):
        db.session.delete(entry)
    db.session.flush()

    line = audit.record(ERASE_ACTION, None, actor=None, actor_label=audit.OWNER)
    line.company_name = number(entry_id)
    for curator in _curators():
        mail.queue(
            mail.compose(
                MAIL_KIND, recipient=curator, entry_id=entry_id, events_naming=events_naming
            ),
            purpose=MAIL_KIND,
        )
    db.session.commit()
    return Erasure(
        entry_id, len(merged), erased_registrations, alerts, mails, consents, events_naming
    )


def _curators() -> list[StaffUser]:
    """The agency's active accounts that curate entries (curators and admins)."""
    return list(
        db.session.scalars(
            select(StaffUser)
            .where(
                StaffUser.active.is_(True),
                StaffUser.role.in_([StaffRole.CURATOR, StaffRole.ADMIN]),
            )
            .order_by(StaffUser.id)
        )
    )


def number(entry_id: int) -> str:
    """How the audit log names an erased entry: its bare number, e.g. "#42"."""
    return f"#{entry_id}"


def erased_audit_line(entry_id: int) -> AuditEntry | None:
    """The anonymous audit line of the entry's erasure, if there is one."""
    return db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == ERASE_ACTION, AuditEntry.company_name == number(entry_id)
        )
    )
