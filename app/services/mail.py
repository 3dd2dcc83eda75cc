"""One way out for e-mail: every message is kept in the outbox table; with MAIL_SMTP_HOST set
it is also sent by SMTP, otherwise (development) it is written to the log."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import func

from app.extensions import db
from app.models import OutboxMessage

log = logging.getLogger(__name__)


def send_mail(recipient: str, subject: str, body: str) -> OutboxMessage:
    """Record and deliver one plain-text e-mail. Delivery errors are kept, not raised."""
    config = current_app.config
    transport = "smtp" if config.get("MAIL_SMTP_HOST") else "log"
    message = OutboxMessage(recipient=recipient, subject=subject, body=body, transport=transport)
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
