"""Staff accounts: creation, password checks with lock-out, and the admin's changes.

Passwords are hashed with scrypt (Werkzeug's default KDF). After ``MAX_FAILED_LOGINS`` wrong
passwords in a row an account is locked for ``LOCK_MINUTES``; even the right password is then
refused until the time is up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import StaffRole, StaffUser
from questionnaire.engine import is_email

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 12
#: Checked against when the e-mail is unknown, so that both cases take the same time.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing")


class AccountError(ValueError):
    """An account could not be created or changed; the message says why (translated)."""


class AccountLocked(Exception):
    """Too many wrong passwords: the account is locked until ``until``."""

    def __init__(self, until: datetime):
        super().__init__(until)
        self.until = until


def now() -> datetime:
    """The current time (UTC, aware)."""
    return datetime.now(UTC)


def by_email(email: str) -> StaffUser | None:
    """The account with this e-mail address (case does not matter)."""
    return db.session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    )


def check_password_rules(password: str) -> None:
    """Refuse a password that is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _(
                "Das Passwort muss mindestens %(count)d Zeichen lang sein.",
                count=MIN_PASSWORD_LENGTH,
            )
        )


def create_staff(email: str, name: str, password: str, role: StaffRole | str) -> StaffUser:
    """Create an account; AccountError if the address is bad or taken, or the password weak."""
    email = email.strip().lower()
    name = name.strip()
    if not is_email(email):
        raise AccountError(_("Das ist keine gültige E-Mail-Adresse."))
    if not name:
        raise AccountError(_("Bitte geben Sie einen Namen an."))
    try:
        role = StaffRole(role)
    except ValueError:
        raise AccountError(_("Diese Rolle gibt es nicht.")) from None
    check_password_rules(password)
    if by_email(email) is not None:
        raise AccountError(_("Für diese E-Mail-Adresse gibt es schon ein Konto."))
    user = StaffUser(
        email=email, name=name, role=role, password_hash=generate_password_hash(password)
    )
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> StaffUser | None:
    """The account if the password is right; None if not; AccountLocked while locked.

    Every wrong password counts; the fifth in a row locks the account for a while. A right
    password resets the count.
    """
    user = by_email(email)
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if user.locked_until and user.locked_until > now():
        raise AccountLocked(user.locked_until)
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now() + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            db.session.commit()
            raise AccountLocked(user.locked_until)
        db.session.commit()
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now()
    db.session.commit()
    return user


def load(user_id: str) -> StaffUser | None:
    """The account a login session names, if the session is still valid (Flask-Login)."""
    try:
        account_id, generation = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(StaffUser, account_id)
    if user is None or not user.active or user.session_generation != generation:
        return None
    return user


def all_staff() -> list[StaffUser]:
    """Every account, by name."""
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.name, StaffUser.email)))


def update_staff(
    user: StaffUser,
    *,
    acting: StaffUser,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> None:
    """Change an account's role, switch it on or off, or set a new password.

    An admin cannot take their own admin role or switch themselves off (someone must be left
    to manage accounts). A new password or switching off ends the account's sessions.
    """
    if role is not None:
        try:
            role = StaffRole(role)
        except ValueError:
            raise AccountError(_("Diese Rolle gibt es nicht.")) from None
        if user.id == acting.id and role is not StaffRole.ADMIN:
            raise AccountError(_("Sie können sich die Rolle „Admin“ nicht selbst nehmen."))
        user.role = role
    if active is not None:
        if user.id == acting.id and not active:
            raise AccountError(_("Sie können Ihr eigenes Konto nicht sperren."))
        if user.active and not active:
            user.session_generation += 1
        user.active = active
    if password:
        check_password_rules(password)
        user.password_hash = generate_password_hash(password)
        user.session_generation += 1
        user.failed_logins = 0
        user.locked_until = None
    db.session.commit()
