"""The agency's side: staff accounts, the audit log and uploaded import files."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.events import Organisation


class StaffRole(enum.StrEnum):
    """Curators curate entries; admins also manage the staff accounts; partners (staff of a
    partner organisation) run their organisation's events and may enter businesses."""

    CURATOR = "curator"
    ADMIN = "admin"
    PARTNER = "partner"


class Permission(enum.StrEnum):
    """What a signed-in account may do. Views name the permission they need
    (:func:`app.blueprints.staff.protect`, :func:`app.blueprints.staff.requires`); roles are
    sets of permissions (:data:`ROLE_PERMISSIONS`), so a new role is one line there."""

    #: The agency's curation workspace: entries, reviews, imports, layers, exports, the log.
    CURATE = "curate"
    #: Staff accounts.
    MANAGE_ACCOUNTS = "manage_accounts"
    #: Events: a partner its own organisation's only (see StaffUser.organisation_id).
    MANAGE_EVENTS = "manage_events"
    #: Every organisation's events, the organisations, and reviewing partners' events.
    MANAGE_ALL_EVENTS = "manage_all_events"
    #: Fill in the questionnaire on a business's behalf.
    ENTER_FOR_BUSINESS = "enter_for_business"
    #: The account's own security: its password and its second factor (every role).
    OWN_ACCOUNT = "own_account"


ROLE_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.CURATOR: frozenset(
        {
            Permission.CURATE,
            Permission.MANAGE_EVENTS,
            Permission.MANAGE_ALL_EVENTS,
            Permission.ENTER_FOR_BUSINESS,
            Permission.OWN_ACCOUNT,
        }
    ),
    StaffRole.ADMIN: frozenset(Permission),
    StaffRole.PARTNER: frozenset(
        {Permission.MANAGE_EVENTS, Permission.ENTER_FOR_BUSINESS, Permission.OWN_ACCOUNT}
    ),
}


class StaffUser(UserMixin, db.Model):
    """A member of the agency's staff. Passwords are stored as scrypt hashes only.

    ``session_generation`` is part of the login session and checked on every request: raising
    it (signing out, new password, account switched off) ends every session of this account.
    """

    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint(
            "role <> 'partner' OR organisation_id IS NOT NULL", name="partner_has_organisation"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(
        Enum(
            StaffRole,
            native_enum=False,
            create_constraint=True,
            length=10,
            values_callable=lambda e: [m.value for m in e],
            name="role",
        ),
        default=StaffRole.CURATOR,
    )
    #: The partner organisation a partner account acts for (None for the agency's staff).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    session_generation: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: The second factor (TOTP, RFC 6238): the confirmed secret, encrypted (Fernet; see
    #: app.services.second_factor); None while the account has none.
    totp_secret: Mapped[str | None] = mapped_column(Text)
    #: A secret shown for enrolment but not yet confirmed with a code (encrypted too).
    totp_pending_secret: Mapped[str | None] = mapped_column(Text)
    #: The time step of the last code accepted: a code is accepted at most once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set by an admin: the account must use a second factor (and enrol before anything else).
    totp_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def has_totp(self) -> bool:
        """Whether the account signs in with a second factor."""
        return self.totp_secret is not None

    @property
    def must_enrol(self) -> bool:
        """Whether an admin requires a second factor the account has not set up yet."""
        return self.totp_required and not self.has_totp

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    organisation: Mapped[Organisation | None] = relationship()

    @property
    def is_admin(self) -> bool:
        return self.role is StaffRole.ADMIN

    @property
    def is_partner(self) -> bool:
        return self.role is StaffRole.PARTNER

    def can(self, permission: Permission) -> bool:
        """Whether this account's role grants ``permission``."""
        return permission in ROLE_PERMISSIONS[StaffRole(self.role)]

    @property
    def label(self) -> str:
        """How the audit log names this account: name, and a partner's organisation."""
        if self.is_partner and self.organisation is not None:
            return f"{self.name} ({self.organisation.name})"
        return self.name

    def get_id(self) -> str:  # Flask-Login
        return f"{self.id}:{self.session_generation}"

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} {self.role}>"


class LoginFailure(db.Model):
    """A wrong sign-in attempt, kept for a short while to slow down password guessing.

    Counted per (address, client) and per client, never per account alone, so that nobody
    can lock a colleague out by typing wrong passwords for their address. ``account_key`` is
    a keyed hash of the address typed (existing or not), so the table lists no addresses.
    """

    __tablename__ = "staff_login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64), index=True)
    #: What was wrong: "password", or "code" (the second factor's code at the second step).
    kind: Mapped[str] = mapped_column(String(10), default="password", server_default="password")
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class RecoveryCode(db.Model):
    """A one-time recovery code of an account's second factor, for when the authenticator
    app is lost. Only a salted hash is kept; ``used_at`` is set when it is used."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(db.Model):
    """Who did what to which entry, when, with the values before and after.

    Written by the service that makes the change, in the same transaction. ``actor_id`` is
    empty for changes made by the entry's owner (confirming it) or by the system.
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(30), index=True)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL"), index=True
    )
    company_name: Mapped[str] = mapped_column(String(200), default="")
    #: Set for an event's changes (then ``company_name`` holds the event's title).
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)
    note: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[StaffUser | None] = relationship()


class ImportUpload(db.Model):
    """An uploaded import file, kept between the preview and the import itself."""

    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))  # csv | xlsx | geojson
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    imported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The import as a job (app.jobs.tasks): "queued", "done" or "failed"; None before.
    import_state: Mapped[str | None] = mapped_column(String(10))
    #: What the curator asked for: mapping, status, actor_id, language.
    import_request: Mapped[dict | None] = mapped_column(JSONB)
    #: What the import did: entries (id and row; no names), skipped, status.
    import_result: Mapped[dict | None] = mapped_column(JSONB)
    #: Why it failed, in the curator's language.
    import_error: Mapped[str | None] = mapped_column(Text)
