"""Staff accounts: creation, password checks with throttling, sessions, the admin's changes.

Passwords are hashed with scrypt (Werkzeug's default KDF). Wrong passwords are counted per
(address typed, client address) and per client address over ``THROTTLE_MINUTES``; past
``MAX_FAILURES_PER_ACCOUNT`` or ``MAX_FAILURES_PER_CLIENT`` that client's attempts are refused
for a while. The account itself is never locked, so nobody can lock a colleague out, and the
answers are the same whether the address belongs to an account or not.

A login session names the account and its ``session_generation``; raising the generation
(signing out, a new password, the account switched off) ends every session of the account.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import LoginFailure, Organisation, StaffRole, StaffUser
from app.services import audit, mail
from questionnaire.engine import is_email

#: Wrong passwords for one address from one client before that client must wait.
MAX_FAILURES_PER_ACCOUNT = 5
#: Wrong passwords from one client (any addresses) before it must wait.
MAX_FAILURES_PER_CLIENT = 20
#: How long wrong passwords count.
THROTTLE_MINUTES = 15
#: Wrong second-factor codes for one account (from any client) before it must wait: the
#: password is known to whoever types them, so they are counted per account.
MAX_CODE_FAILURES = 5
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
#: Common passwords long enough for the rules (see the file's head for source and licence).
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
#: Audit action of a password change (by the account itself, or by an admin).
PASSWORD_CHANGED = "password_changed"  # noqa: S105 (an audit action, no password)
#: The largest id PostgreSQL's integer holds (a larger one never names an account).
MAX_ID = 2**31 - 1
#: Checked against when the e-mail is unknown, so that both cases take the same time.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing")


class AccountError(ValueError):
    """An account could not be created or changed; the message says why (translated)."""


class TooManyAttempts(Exception):
    """Too many wrong passwords from this client (for this address, or for any)."""


def now() -> datetime:
    """The current time (UTC, aware)."""
    return datetime.now(UTC)


def by_email(email: str) -> StaffUser | None:
    """The account with this e-mail address (case does not matter)."""
    return db.session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    )


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def check_password_rules(password: str) -> None:
    """Refuse a password that is too short, too long, or a common one (ASVS 2.1.1, 2.1.2,
    2.1.7). There are no composition rules: any characters, spaces included, count."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _(
                "Das Passwort muss mindestens %(count)d Zeichen lang sein.",
                count=MIN_PASSWORD_LENGTH,
            )
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            _(
                "Das Passwort darf höchstens %(count)d Zeichen lang sein.",
                count=MAX_PASSWORD_LENGTH,
            )
        )
    if password.lower() in common_passwords():
        raise AccountError(
            _(
                "Dieses Passwort ist zu verbreitet und wird bei Angriffen zuerst ausprobiert. "
                "Bitte wählen Sie ein anderes, z. B. einen Satz aus mehreren Wörtern."
            )
        )


def create_staff(
    email: str,
    name: str,
    password: str,
    role: StaffRole | str,
    organisation_id: int | str | None = None,
) -> StaffUser:
    """Create an account; AccountError if the address is bad or taken, the password weak, or
    a partner account names no partner organisation (agency accounts name none)."""
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
    organisation = _organisation_for(role, organisation_id)
    check_password_rules(password)
    if by_email(email) is not None:
        raise AccountError(_("Für diese E-Mail-Adresse gibt es schon ein Konto."))
    user = StaffUser(
        email=email,
        name=name,
        role=role,
        organisation_id=organisation.id if organisation else None,
        password_hash=generate_password_hash(password),
    )
    db.session.add(user)
    db.session.commit()
    return user


def _organisation_for(role: StaffRole, organisation_id) -> Organisation | None:
    """The partner organisation of a partner account; None for the agency's roles."""
    if role is not StaffRole.PARTNER:
        return None
    try:
        organisation = db.session.get(Organisation, int(organisation_id))
    except (TypeError, ValueError):
        organisation = None
    if organisation is None:
        raise AccountError(_("Bitte wählen Sie die Partnerorganisation des Kontos."))
    return organisation


def account_key(email: str) -> str:
    """A keyed hash of a typed address (case and spaces ignored): what failures are kept by."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def _window_start():
    """The start of the time in which failures count (by the database's clock)."""
    return func.now() - timedelta(minutes=THROTTLE_MINUTES)


def _recent_failures(*conditions) -> int:
    return db.session.scalar(
        select(func.count()).where(LoginFailure.at > _window_start(), *conditions)
    )


def check_throttle(email: str, client: str) -> None:
    """TooManyAttempts if this client typed too many wrong passwords lately, for this address
    or for any. Whether the address has an account plays no part."""
    if _recent_failures(LoginFailure.client == client) >= MAX_FAILURES_PER_CLIENT:
        raise TooManyAttempts
    key = account_key(email)
    if (
        _recent_failures(LoginFailure.client == client, LoginFailure.account_key == key)
        >= MAX_FAILURES_PER_ACCOUNT
    ):
        raise TooManyAttempts


def _record_failure(email: str, client: str, kind: str = "password") -> None:
    """Count a wrong password (or second-factor code), and forget failures too old to count."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.at <= _window_start()))
    db.session.add(LoginFailure(account_key=account_key(email), client=client[:64], kind=kind))
    db.session.commit()


def check_code_throttle(user: StaffUser, client: str) -> None:
    """TooManyAttempts if this client is throttled (as for passwords) or the account's
    second-factor codes were wrong too often lately, from whichever client."""
    check_throttle(user.email, client)
    key = account_key(user.email)
    if (
        _recent_failures(LoginFailure.account_key == key, LoginFailure.kind == "code")
        >= MAX_CODE_FAILURES
    ):
        raise TooManyAttempts


def record_code_failure(user: StaffUser, client: str) -> None:
    """Count a wrong second-factor code of ``user`` typed from ``client``."""
    _record_failure(user.email, client, kind="code")


def clear_failures(user: StaffUser, client: str) -> None:
    """Forget ``client``'s failures for the account (it has just signed in)."""
    db.session.execute(
        delete(LoginFailure).where(
            LoginFailure.client == client, LoginFailure.account_key == account_key(user.email)
        )
    )
    db.session.commit()


def authenticate(email: str, password: str, client: str = "") -> StaffUser | None:
    """The account if the password is right, else None (the sign-in itself, after any second
    factor, is :func:`record_sign_in`); TooManyAttempts while ``client`` (the
    caller's network address) must wait.

    Unknown addresses, switched-off accounts and wrong passwords are treated alike: each counts
    as a failure of (address, client). A right password clears that client's failures for the
    address (its wrong second-factor codes still count).
    """
    check_throttle(email, client)
    user = by_email(email)
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        _record_failure(email, client)
        return None
    if not check_password_hash(user.password_hash, password):
        _record_failure(email, client)
        return None
    db.session.execute(
        delete(LoginFailure).where(
            LoginFailure.client == client,
            LoginFailure.account_key == account_key(email),
            LoginFailure.kind == "password",  # wrong codes still count (check_code_throttle)
        )
    )
    db.session.commit()
    return user


def record_sign_in(user: StaffUser) -> None:
    """Note that ``user`` has just signed in, every factor checked."""
    user.last_login_at = now()
    db.session.commit()


def load(user_id: str) -> StaffUser | None:
    """The account a login session names, if the session is still valid (Flask-Login's user
    loader, run on every request): the account is active and its session generation is the
    one the session was started with."""
    try:
        account_id, generation = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    if not 0 < account_id <= MAX_ID:
        return None
    user = db.session.get(StaffUser, account_id)
    if user is None or not user.active or user.session_generation != generation:
        return None
    return user


def end_sessions(user: StaffUser) -> None:
    """End every session of the account, this one included (signing out): a copied session
    cookie is refused from now on."""
    db.session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id)
        .values(session_generation=StaffUser.session_generation + 1)
    )
    db.session.commit()


def password_matches(user: StaffUser, password: str) -> bool:
    """Whether ``password`` is the account's (no throttling: for the local demo accounts)."""
    return check_password_hash(user.password_hash, password)


def set_password(user: StaffUser, password: str) -> None:
    """Give the account a new password (checked by the rules) and end its sessions; commits."""
    check_password_rules(password)
    user.password_hash = generate_password_hash(password)
    user.session_generation += 1
    db.session.commit()


def change_own_password(user: StaffUser, current: str, new: str, repeated: str) -> None:
    """The account changes its own password: the current one must be right and the new one
    typed twice alike and within the rules. Every session of the account ends (this one
    too: the view signs it in anew), the owner is told by mail, the change audited."""
    if not check_password_hash(user.password_hash, current):
        raise AccountError(_("Das bisherige Passwort ist falsch."))
    if new != repeated:
        raise AccountError(_("Die beiden neuen Passwörter stimmen nicht überein."))
    check_password_rules(new)
    user.password_hash = generate_password_hash(new)
    user.session_generation += 1
    _password_changed(user, actor=user)
    db.session.commit()


def _password_changed(user: StaffUser, *, actor: StaffUser) -> None:
    """Audit a password change and tell the owner by mail (not committed)."""
    audit.record_account(PASSWORD_CHANGED, user, actor=actor)
    mail.queue(
        mail.compose("staff_security", user=user, change=PASSWORD_CHANGED), purpose="security"
    )


def staff_user(user_id: int) -> StaffUser | None:
    """An account by id."""
    return db.session.get(StaffUser, user_id)


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
    to manage accounts). A new password or switching off ends the account's sessions. Refused
    with AccountError, nothing of the change is kept (its transaction is rolled back).
    """
    try:
        _change_staff(user, acting, role, active, password)
    except AccountError:
        db.session.rollback()
        raise
    db.session.commit()


def _change_staff(
    user: StaffUser, acting: StaffUser, role: str | None, active: bool | None, password: str | None
) -> None:
    """Apply :func:`update_staff`'s changes to ``user`` (not committed)."""
    if role is not None:
        try:
            role = StaffRole(role)
        except ValueError:
            raise AccountError(_("Diese Rolle gibt es nicht.")) from None
        if user.id == acting.id and role is not StaffRole.ADMIN:
            raise AccountError(_("Sie können sich die Rolle „Admin“ nicht selbst nehmen."))
        if role is StaffRole.PARTNER and user.organisation_id is None:
            raise AccountError(
                _(
                    "Ein Konto der Agentur kann nicht zum Partnerkonto werden. Bitte legen Sie "
                    "für die Partnerorganisation ein neues Konto an."
                )
            )
        if role is not StaffRole.PARTNER:
            user.organisation_id = None
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
        _password_changed(user, actor=acting)
