"""Staff accounts' second factor: time-based one-time passwords (TOTP, RFC 6238, with pyotp)
and one-time recovery codes.

Enrolment never locks anybody out: :func:`start_enrolment` keeps a new secret as *pending*,
and only :func:`confirm_enrolment` with a current code from the authenticator app makes it the
account's secret (and hands out the recovery codes, shown once). A code is accepted at most
once: the time step of the last accepted code is kept and a code of that step or an earlier one
is refused (``valid_window=1``: the step before and after the current one are accepted too,
for clocks that are a little off).

Secrets are stored encrypted with Fernet (AES-128-CBC with HMAC-SHA256, ``cryptography``). The
key is TOTP_ENCRYPTION_KEY (Fernet keys separated by commas: the first encrypts, all decrypt,
for a change of key), or, when that is not set, derived from SECRET_KEY with HKDF-SHA256 (then
changing SECRET_KEY makes every second factor unreadable: admins reset them). Recovery codes
(80 random bits each) are kept as salted PBKDF2 hashes only.

Every change is written to the audit log and told to the account's owner by e-mail, in the
same transaction (:mod:`app.services.mail`).
"""

from __future__ import annotations

import base64
import hmac
import secrets
from datetime import UTC, datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import RecoveryCode, StaffUser
from app.services import audit, mail

#: The name authenticator apps show above the account's address.
ISSUER = "KMU-Atlas"
#: How many recovery codes an account gets.
RECOVERY_CODE_COUNT = 10
#: The characters of a recovery code (no 0/O, 1/I/L: nothing to mix up when typing).
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
#: Letters per recovery code, shown in groups of four: 16 of 31 letters are 79 random bits.
RECOVERY_LENGTH = 16
#: The hash of recovery codes: salted PBKDF2 (the codes are random, so this is plenty).
RECOVERY_HASH = "pbkdf2:sha256:60000"
#: How many code steps before and after the current one are accepted.
VALID_WINDOW = 1
#: The HKDF "info" that makes the derived key one for TOTP secrets only.
KEY_INFO = b"kmu-atlas totp secrets v1"

#: Audit actions (app/services/audit.py) of the second factor.
ENABLED = "totp_enabled"
DISABLED = "totp_disabled"
RESET = "totp_reset"
REQUIRED = "totp_required"
NOT_REQUIRED = "totp_not_required"
RECOVERY_USED = "recovery_code_used"


class SecondFactorError(ValueError):
    """A second-factor change was refused; the message says why (translated)."""


def _fernet() -> MultiFernet:
    """The cipher of stored secrets (see the module's docstring for the key)."""
    keys = list(current_app.config.get("TOTP_ENCRYPTION_KEY") or ())
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(
            current_app.config["SECRET_KEY"].encode()
        )
        keys = [base64.urlsafe_b64encode(derived)]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(secret: str) -> str:
    """``secret`` encrypted for storage."""
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    """A stored secret in clear; SecondFactorError if the key no longer opens it."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecondFactorError(
            _(
                "Der zweite Faktor dieses Kontos ist nicht lesbar. Bitte wenden Sie sich an "
                "einen Admin."
            )
        ) from None


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def provisioning_uri(user: StaffUser, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return _totp(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code(uri: str) -> str:
    """The QR code of ``uri`` as a PNG data: URI, made here (no outside service sees it)."""
    return segno.make(uri, error="m").png_data_uri(scale=5, border=4)


def grouped(secret: str) -> str:
    """The secret in groups of four letters, for typing it in by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def pending_secret(user: StaffUser) -> str | None:
    """The secret shown for enrolment and not yet confirmed, if any."""
    return decrypt(user.totp_pending_secret) if user.totp_pending_secret else None


def start_enrolment(user: StaffUser) -> str:
    """Give the account a new pending secret (replacing an earlier pending one) and return
    it; its current second factor, if any, stays as it is until the new one is confirmed."""
    secret = pyotp.random_base32()
    user.totp_pending_secret = encrypt(secret)
    db.session.commit()
    return secret


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step (within ``VALID_WINDOW`` of now) whose code is ``code`` and which is
    later than ``after``, else None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = _totp(secret)
    now_step = totp.timecode(datetime.now(UTC))
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_enrolment(user: StaffUser, code: str) -> list[str]:
    """Make the pending secret the account's second factor if ``code`` is a current code of
    it; return the new recovery codes (shown once, stored hashed). SecondFactorError if there
    is no pending secret or the code is wrong (nothing changes then)."""
    secret = pending_secret(user)
    if secret is None:
        raise SecondFactorError(_("Bitte richten Sie den zweiten Faktor zuerst neu ein."))
    step = _matching_step(secret, code, None)
    if step is None:
        raise SecondFactorError(
            _(
                "Der Code stimmt nicht. Bitte geben Sie den 6-stelligen Code ein, den Ihre "
                "Authenticator-App gerade zeigt."
            )
        )
    user.totp_secret = user.totp_pending_secret
    user.totp_pending_secret = None
    user.totp_last_step = step
    user.totp_enabled_at = datetime.now(UTC)
    codes = _new_recovery_codes(user)
    _record(ENABLED, user, actor=user)
    db.session.commit()
    return codes


def _new_recovery_codes(user: StaffUser) -> list[str]:
    """Replace the account's recovery codes by new ones (not committed); the codes in clear."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == user.id))
    codes = []
    for _number in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append(grouped(raw))
        db.session.add(
            RecoveryCode(
                staff_id=user.id, code_hash=generate_password_hash(raw, method=RECOVERY_HASH)
            )
        )
    return codes


def unused_recovery_codes(user: StaffUser) -> int:
    """How many recovery codes the account has left."""
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.staff_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def _normalised_recovery_code(code: str) -> str | None:
    raw = "".join(code.lower().split()).replace("-", "")
    if len(raw) != RECOVERY_LENGTH or any(c not in RECOVERY_ALPHABET for c in raw):
        return None
    return raw


def verify(user: StaffUser, code: str) -> str | None:
    """Check a code typed at the second step of signing in: a current TOTP code not used
    before ("totp") or an unused recovery code ("recovery", now used up); None if neither.
    The account's row is locked while checking, so the same code cannot pass twice at once.
    Commits."""
    db.session.execute(select(StaffUser.id).where(StaffUser.id == user.id).with_for_update())
    db.session.refresh(user)
    if user.totp_secret is None:
        db.session.rollback()
        return None
    step = _matching_step(decrypt(user.totp_secret), code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        db.session.commit()
        return "totp"
    raw = _normalised_recovery_code(code)
    if raw is not None:
        unused = db.session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.staff_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        for stored in unused:
            if check_password_hash(stored.code_hash, raw):
                stored.used_at = datetime.now(UTC)
                _record(RECOVERY_USED, user, actor=user, notify=True)
                db.session.commit()
                return "recovery"
    db.session.rollback()
    return None


def disable(user: StaffUser, password: str, code: str) -> None:
    """Switch the account's second factor off: needs the password and a current code (or an
    unused recovery code); SecondFactorError says what was wrong. An account an admin requires
    a second factor of is sent to enrol a new one at once (e.g. for a new phone)."""
    from app.services import accounts

    if not accounts.password_matches(user, password):
        raise SecondFactorError(_("Das Passwort ist falsch."))
    if verify(user, code) is None:
        raise SecondFactorError(_("Der Code stimmt nicht."))
    _clear(user)
    _record(DISABLED, user, actor=user)
    db.session.commit()


def _clear(user: StaffUser) -> None:
    """Remove the account's second factor and recovery codes (not committed)."""
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_last_step = None
    user.totp_enabled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == user.id))


def set_required(user: StaffUser, required: bool, *, acting: StaffUser) -> None:
    """An admin requires (or no longer requires) a second factor for ``user``. An account
    without one is sent to enrolment at its next request. Audited; commits."""
    if user.totp_required == required:
        return
    user.totp_required = required
    _record(REQUIRED if required else NOT_REQUIRED, user, actor=acting, notify=False)
    db.session.commit()


def reset(user: StaffUser, *, acting: StaffUser) -> None:
    """An admin removes ``user``'s second factor (e.g. a lost phone): its sessions end and it
    must enrol again at its next sign-in (the requirement is set). Audited; commits."""
    _clear(user)
    user.totp_required = True
    db.session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id)
        .values(session_generation=StaffUser.session_generation + 1)
    )
    _record(RESET, user, actor=acting)
    db.session.commit()
    db.session.refresh(user)


def _record(action: str, user: StaffUser, *, actor: StaffUser, notify: bool = True) -> None:
    """Audit a second-factor change of ``user`` and, if ``notify``, tell its owner by mail
    (both in the caller's transaction)."""
    audit.record_account(action, user, actor=actor)
    if notify:
        mail.queue(mail.compose("staff_security", user=user, change=action), purpose="security")
