"""One way out for e-mail: every message is kept in the outbox table; with MAIL_SMTP_HOST set
it is also sent by SMTP, otherwise (development) it is written to the log."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxMessage

log = logging.getLogger(__name__)

#: First key of the transaction-level advisory locks taken while a limited mail is checked.
MAIL_LOCK_NAMESPACE = 0x3A11


@dataclass(frozen=True)
class MailLimit:
    """At most ``count`` mails of one purpose within ``period``: counted for the same
    recipient (case-insensitive), for the same draft, or for both together. ``reason`` names
    the limit for the message the user sees."""

    count: int
    period: timedelta
    reason: str
    per_recipient: bool = True
    per_draft: bool = False


def send_mail(
    recipient: str, subject: str, body: str, *, purpose: str = "", draft_id: int | None = None
) -> OutboxMessage:
    """Record and deliver one plain-text e-mail. Delivery errors are kept, not raised.

    ``purpose`` and ``draft_id`` are recorded for :func:`send_limited`.
    """
    config = current_app.config
    transport = "smtp" if config.get("MAIL_SMTP_HOST") else "log"
    message = OutboxMessage(
        recipient=recipient,
        subject=subject,
        body=body,
        transport=transport,
        purpose=purpose,
        draft_id=draft_id,
    )
    db.session.add(message)
    if transport == "log":
        log.info("mail to %s: %s\n%s", recipient, subject, body)
        message.sent_at = func.now()
    else:
        try:
            _smtp_send(recipient, subject, body)
            message.sent_at = func.now()
        except (OSError, smtplib.SMTPException) as exc:
            log.error("mail to %s failed: %s", recipient, exc)
            message.error = str(exc)
    db.session.commit()
    return message


def send_limited(
    recipient: str,
    subject: str,
    body: str,
    *,
    purpose: str,
    limits: Sequence[MailLimit],
    draft_id: int | None = None,
) -> MailLimit | None:
    """Send like :func:`send_mail` unless one of ``limits`` is reached; then send nothing and
    return the limit that held the mail back (None when it was sent). Commits either way.

    Counting and recording happen under transaction-level advisory locks on the draft and the
    recipient, so simultaneous requests cannot all pass the count.
    """
    if draft_id is not None:
        _lock(f"draft:{draft_id}")
    _lock(f"recipient:{recipient.lower()}")
    for limit in limits:
        if _count_sent(limit, purpose, recipient, draft_id) >= limit.count:
            db.session.commit()  # ends the transaction: the locks are released
            log.warning("mail (%s) to %s held back: %s", purpose, recipient, limit.reason)
            return limit
    send_mail(recipient, subject, body, purpose=purpose, draft_id=draft_id)
    return None


def _lock(key: str) -> None:
    """Wait for, and hold until the transaction ends, the mail lock named ``key``."""
    db.session.execute(select(func.pg_advisory_xact_lock(MAIL_LOCK_NAMESPACE, func.hashtext(key))))


def _count_sent(limit: MailLimit, purpose: str, recipient: str, draft_id: int | None) -> int:
    """How many mails of ``purpose`` the limit counts within its period."""
    query = select(func.count()).where(
        OutboxMessage.purpose == purpose,
        OutboxMessage.created_at > func.now() - limit.period,
    )
    if limit.per_recipient:
        query = query.where(func.lower(OutboxMessage.recipient) == recipient.lower())
    if limit.per_draft:
        query = query.where(OutboxMessage.draft_id == draft_id)
    return db.session.scalar(query)


def _smtp_send(recipient: str, subject: str, body: str) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = recipient
    email["Subject"] = subject
    email.set_content(body)
    with smtplib.SMTP(config["MAIL_SMTP_HOST"], config["MAIL_SMTP_PORT"], timeout=10) as smtp:
        if config.get("MAIL_SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("MAIL_SMTP_USER"):
            smtp.login(config["MAIL_SMTP_USER"], config["MAIL_SMTP_PASSWORD"])
        smtp.send_message(email)
