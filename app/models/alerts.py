"""Job alerts (Suchaufträge): a weekly e-mail about employers that newly match a saved search,
without an account.

The search is stored in the filter contract's own serialisation: the employer filter's
canonical ``query_args()`` as a query string (``filter_query``), without the map view, so an
alert means exactly what the map showed. ``filter_key`` identifies the search regardless of the
order in which values were given; one address has at most one alert per search (a unique index
on ``lower(email)`` and ``filter_key``).

An alert is pending until its address confirms it (double opt-in, ``confirmed_at``); no secret is
stored: the links in the mails are signed (``app/services/tokens.py``) and name the alert's id
and ``token_generation``. ``snapshot`` is what the last digest saw: by company id, the offers'
fingerprint (``app/services/alerts.py``), so that the next one lists only what is new.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class JobAlert(db.Model):
    """One saved search of one e-mail address, pending until confirmed."""

    __tablename__ = "job_alerts"
    __table_args__ = (
        Index("uq_job_alerts_email_filter", text("lower(email)"), "filter_key", unique=True),
        # The weekly run looks for confirmed alerts not yet done this week.
        Index("ix_job_alerts_confirmed_week", "confirmed_at", "last_sent_week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    #: The search as canonical query parameters (``FeatureFilter.query_args``), e.g.
    #: ``sector=F&near=45657&radius_km=10``; empty for "every employer".
    filter_query: Mapped[str] = mapped_column(Text, default="")
    #: A digest of the search with multiple values sorted (the unique index's second part).
    filter_key: Mapped[str] = mapped_column(String(64))
    #: The subscriber's language (mails are written in it).
    language: Mapped[str] = mapped_column(String(5), default="de")
    consent_version: Mapped[str] = mapped_column(String(32))
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: Part of every link sent for this alert: raising it revokes those links.
    token_generation: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: When the address confirmed the alert (None: pending, deleted after 7 days).
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: What the last digest (or the confirmation) saw: {company id: offers' fingerprint}.
    snapshot: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    #: The ISO week (e.g. "2026-W49", Europe/Berlin) of the last weekly run for this alert.
    last_sent_week: Mapped[str | None] = mapped_column(String(8))
    #: When the weekly run last looked at this alert, and when it last sent a digest.
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Temporary delivery failures in a row (a permanent one deletes the alert at once).
    bounce_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_bounce_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    def __repr__(self) -> str:
        state = "confirmed" if self.confirmed else "pending"
        return f"<JobAlert {self.id} {state}>"
