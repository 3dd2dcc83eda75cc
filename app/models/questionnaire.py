"""What the questionnaire stores: drafts, consent records, change requests and outgoing mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.company import Company


class QuestionnaireDraft(db.Model):
    """A questionnaire in progress, kept on the server (never in the session cookie).

    ``answers`` holds the validated answers per question; ``raw_input`` what was typed on a
    step that could not be saved yet, so that going back never loses it. ``token_generation``
    is part of every resume link: raising it revokes the links sent so far.
    """

    __tablename__ = "questionnaire_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), default="new")  # new | edit
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    answers: Mapped[dict] = mapped_column(JSONB, default=dict)
    raw_input: Mapped[dict] = mapped_column(JSONB, default=dict)
    completed_steps: Mapped[int] = mapped_column(Integer, default=0)
    definition_version: Mapped[int] = mapped_column(Integer, default=1)
    language: Mapped[str] = mapped_column(String(2), default="de")
    token_generation: Mapped[int] = mapped_column(Integer, default=1)
    entered_by_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    company: Mapped[Company | None] = relationship()


class ConsentRecord(db.Model):
    """Proof of consent to publication: which text version, when, for which entry.

    When the business has its entry erased (Art. 17, :mod:`app.services.data_rights`) the
    record stays as proof, without the link to the entry: ``company_id`` is empty,
    ``erased_at`` says when, ``erased_entry_id`` keeps the bare number the erasure's
    anonymous audit line names.
    """

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL"), index=True
    )
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_drafts.id", ondelete="SET NULL")
    )
    text_version: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erased_entry_id: Mapped[int | None] = mapped_column(Integer)


class ChangeRequest(db.Model):
    """An owner's edit of a published entry, waiting for the agency; the entry stays as it was."""

    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_drafts.id", ondelete="SET NULL")
    )
    values: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    company: Mapped[Company] = relationship()


class GeocodeCache(db.Model):
    """Answers of the configured Nominatim server, so that no address is asked twice."""

    __tablename__ = "geocode_cache"

    query: Mapped[str] = mapped_column(String(500), primary_key=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OutboxMessage(db.Model):
    """Every e-mail the app sends, kept as a record (and the only delivery in development).

    ``purpose`` (e.g. "resume") and ``draft_id`` say why a message was sent; mail that anyone
    can trigger (the resume link) is limited by counting these records. ``headers`` are extra
    header fields sent with it (e.g. List-Unsubscribe).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_purpose_created_at", "purpose", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    purpose: Mapped[str] = mapped_column(String(20), default="", server_default="")
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_drafts.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    transport: Mapped[str] = mapped_column(String(10))  # log | smtp
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str] = mapped_column(Text, default="")
    #: Extra header fields (name -> value), e.g. List-Unsubscribe and List-Unsubscribe-Post.
    headers: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
