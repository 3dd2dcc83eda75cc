"""Offline offers: partner organisations, their events and the registrations for them.

Times are stored with time zone (``timestamptz``) and meant in the app's time zone
(``EVENT_TIMEZONE``, Europe/Berlin). An all-day event runs from local midnight of its first
day to local midnight after its last day (exclusive, as iCalendar's DTEND). A series carries
an RFC 5545 ``rrule`` and is shown as its occurrences; ``last_ends_at`` is the end of its last
occurrence (None for a series without end), so that "not past" is one indexed condition.
"""

from __future__ import annotations

import enum
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.company import Company
from app.models.places import Municipality

#: Kinds of partner organisation (their names: app/services/event_vocabulary.py).
ORGANISATION_KINDS = (
    "jobcenter",
    "employment_agency",
    "chamber",
    "school",
    "municipality",
    "employer_association",
    "agency",
    "other",
)
#: Kinds of event (the ``kind`` filter's values).
EVENT_KINDS = ("info_event", "training", "working_group", "job_fair", "workshop", "consultation")
#: Who an event is for (the ``target_group`` filter's values).
TARGET_GROUPS = (
    "school_leavers",
    "returners",
    "single_parents",
    "newcomers",
    "jobseekers",
    "employers",
)
#: How one takes part (the ``attendance`` filter's values; hybrid matches both).
ATTENDANCE_MODES = ("on_site", "online", "hybrid")


def _enum_column(enum_class, length: int, name: str):
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        name=name,
    )


class EventStatus(enum.StrEnum):
    """Only ``published`` events are public; partners' events may wait for review."""

    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"


class RegistrationStatus(enum.StrEnum):
    """A registration holds a place, waits for one, or was cancelled."""

    CONFIRMED = "confirmed"
    WAITING = "waiting"
    CANCELLED = "cancelled"


class Organisation(db.Model):
    """A partner organisation (job centre, chamber, school, municipality, …) that runs events.

    ``review_required``: the agency reviews its events before they are published. ``feed_*``:
    the iCalendar feed of its own calendar, imported every hour, with what the last fetch
    sent back for conditional requests and the last error (shown to the partner).
    """

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30), default="other")
    website: Mapped[str] = mapped_column(String(300), default="")
    review_required: Mapped[bool] = mapped_column(Boolean, default=True)
    feed_url: Mapped[str] = mapped_column(String(1000), default="")
    feed_etag: Mapped[str] = mapped_column(String(500), default="")
    feed_last_modified: Mapped[str] = mapped_column(String(100), default="")
    feed_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    feed_imported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    feed_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


event_companies = Table(
    "event_companies",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "company_id", ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Event(db.Model):
    """An event (info event, training, working group, …) of one organisation.

    ``uid`` is the iCalendar UID (stable for the event's life); ``sequence`` is raised on every
    change a calendar should see. Events from a partner's feed keep the feed's UID in
    ``source_uid`` (unique per organisation), so a re-import updates instead of duplicating.
    A cancelled event stays (``cancelled_at``) so that feeds can say STATUS:CANCELLED.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("organisation_id", "source_uid"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 1", name="capacity_positive"),
        CheckConstraint(
            "status <> 'published' OR attendance = 'online' OR location IS NOT NULL",
            name="published_on_site_has_location",
        ),
        Index("ix_events_target_groups", "target_groups", postgresql_using="gin"),
        Index(
            "ix_events_location_geography",
            text("(location::geography)"),
            postgresql_using="gist",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[EventStatus] = mapped_column(
        _enum_column(EventStatus, 12, "event_status"), default=EventStatus.PENDING, index=True
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(30), default="info_event", index=True)
    target_groups: Mapped[list[str]] = mapped_column(ARRAY(String(30)), default=list)
    accessibility: Mapped[str] = mapped_column(Text, default="")

    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    rrule: Mapped[str] = mapped_column(String(500), default="")
    #: The starts of a series' occurrences that do not take place (RFC 5545 EXDATE), sorted.
    exdates: Mapped[list[datetime]] = mapped_column(
        ARRAY(DateTime(timezone=True)), default=list, server_default="{}"
    )
    #: End of the last occurrence; None for a series without end.
    last_ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    attendance: Mapped[str] = mapped_column(String(10), default="on_site")
    venue: Mapped[str] = mapped_column(String(200), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(5), default="")
    town: Mapped[str] = mapped_column(String(100), default="")
    municipality_ags: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.ags"), index=True
    )
    location: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326))
    online_url: Mapped[str] = mapped_column(String(500), default="")

    free_of_charge: Mapped[bool] = mapped_column(Boolean, default=True)
    price_note: Mapped[str] = mapped_column(String(200), default="")
    registration_open: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int | None] = mapped_column(Integer)
    contact_email: Mapped[str] = mapped_column(String(254), default="")

    sequence: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(10), default="manual")  # manual | feed
    source_uid: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation] = relationship()
    municipality: Mapped[Municipality | None] = relationship()
    companies: Mapped[list[Company]] = relationship(
        secondary=event_companies, order_by=Company.name
    )

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def is_series(self) -> bool:
        return bool(self.rrule)

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r} {self.status}>"


class EventRegistration(db.Model):
    """Someone's registration for an event, without an account.

    The personal data (name, e-mail, note) are removed 30 days after the event
    (``anonymised_at``); the row stays so that counts stay right. ``token_generation`` is part
    of the cancellation link. ``consent_version`` names the privacy text agreed to.
    """

    __tablename__ = "event_registrations"
    __table_args__ = (
        Index(
            "uq_event_registrations_active_email",
            "event_id",
            text("lower(email)"),
            unique=True,
            postgresql_where=text("status <> 'cancelled' AND anonymised_at IS NULL"),
        ),
        Index("ix_event_registrations_event_status", "event_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    status: Mapped[RegistrationStatus] = mapped_column(
        _enum_column(RegistrationStatus, 10, "registration_status"),
        default=RegistrationStatus.CONFIRMED,
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")
    language: Mapped[str] = mapped_column(String(2), default="de")
    consent_version: Mapped[str] = mapped_column(String(32))
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    token_generation: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    event: Mapped[Event] = relationship()
