"""One way out for e-mail: every message is kept in the outbox table; with MAIL_SMTP_HOST set
it is also sent by SMTP, otherwise (development) it is written to the log.

A mail is part of the transaction of the change it tells about: :func:`queue` adds its outbox
record to the caller's session and nothing else; the caller's service commits. At that commit
(a session ``before_commit`` hook) each SMTP mail gets a job ``mail.deliver`` in the same
transaction (:func:`app.jobs.defer`), so a rolled-back change sends no mail, and the request
never waits for the mail server: the worker (``flask jobs worker``) delivers it
(:func:`deliver`), tries a temporary failure again, and records the outcome on the outbox row,
never undoing the change. The outbox row is the durable record; :func:`sweep` (every few
minutes) queues a delivery again for a mail whose job was lost. Without MAIL_SMTP_HOST
(development) the mail is written to the log right after the commit.

What a mail says and where its links point is the web layer's business: services ask
:func:`compose` for the mail of a kind (``"decision"``, ``"reminder"``, …) and the writers that
``app/notifications.py`` registers on the app write it.

A mail may carry extra header fields (``Mail.headers``, kept on the outbox row), e.g. RFC 8058's
List-Unsubscribe. How an SMTP delivery went for its recipient (sent, refused for now, refused
for good) is told to the listeners registered with :func:`add_delivery_listener` (job alerts
forget an address the server refuses permanently).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage

from flask import Flask, current_app
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from app import jobs
from app.extensions import db
from app.models import OutboxMessage

log = logging.getLogger(__name__)

#: First key of the transaction-level advisory locks taken while a limited mail is checked.
MAIL_LOCK_NAMESPACE = 0x3A11
#: Where the session keeps the outbox records of its transaction that wait for the commit.
_QUEUED = "outbox_queued"
#: Where it keeps, from its commit on, the records of mails that are only logged.
_LOGGED = "outbox_logged"
#: The task that delivers one outbox mail (app.jobs.tasks).
DELIVER_TASK = "mail.deliver"
#: An SMTP mail still unsent this long after it was written gets a delivery job again when it
#: has none (:func:`sweep`), unless it is older than SWEEP_WITHIN: an operator looks at those
#: (``flask retention run`` reports old unsent mails).
SWEEP_AFTER = timedelta(minutes=5)
SWEEP_WITHIN = timedelta(days=1)
#: The app extension that holds the mail writers by kind.
WRITERS = "mail_writers"
#: The app extension that holds the functions told how each SMTP delivery went.
LISTENERS = "mail_delivery_listeners"
#: How a delivery went for its recipient (what listeners are told).
SENT = "sent"
REFUSED_TEMPORARILY = "temporary"  # the server refused the recipient with a 4xx reply
REFUSED_PERMANENTLY = "permanent"  # … with a 5xx reply: the address does not take mail


class TemporaryFailure(Exception):
    """The delivery failed for now (network, a 4xx reply): the job is tried again."""


@dataclass(frozen=True)
class Mail:
    """One plain-text e-mail, written but not yet recorded."""

    recipient: str
    subject: str
    body: str
    #: Extra header fields (name -> value), e.g. List-Unsubscribe.
    headers: Mapping[str, str] = field(default_factory=dict)


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


def register_writers(app: Flask, writers: Mapping[str, Callable[..., Mail]]) -> None:
    """Give the app the functions that write each kind of mail (the web layer calls this)."""
    app.extensions[WRITERS] = dict(writers)


def add_delivery_listener(app: Flask, listener: Callable[[str, str], None]) -> None:
    """Have ``listener(recipient, outcome)`` called after every SMTP delivery attempt whose
    outcome concerns the recipient (:data:`SENT`, :data:`REFUSED_TEMPORARILY`,
    :data:`REFUSED_PERMANENTLY`). It runs after the commit, in the app context, and must
    write through a connection of its own (``db.engine.begin()``); what it raises is logged."""
    app.extensions.setdefault(LISTENERS, []).append(listener)


def compose(kind: str, **values) -> Mail:
    """The mail of ``kind`` about ``values`` (e.g. ``company=…``), in the recipient's language
    and with absolute links, as the registered writer words it."""
    return current_app.extensions[WRITERS][kind](**values)


def queue(mail: Mail, *, purpose: str = "", draft_id: int | None = None) -> OutboxMessage:
    """Record ``mail`` in the outbox as part of the current transaction (not committed: the
    caller commits). It is delivered once that transaction has committed; if it is rolled back,
    the mail is neither kept nor sent.

    ``purpose`` and ``draft_id`` are recorded for :func:`queue_limited`.
    """
    transport = "smtp" if current_app.config.get("MAIL_SMTP_HOST") else "log"
    message = OutboxMessage(
        recipient=mail.recipient,
        subject=mail.subject,
        body=mail.body,
        transport=transport,
        purpose=purpose,
        draft_id=draft_id,
        headers=dict(mail.headers),
    )
    if transport == "log":
        message.sent_at = func.now()  # the log line is all the delivery there is
    db.session.add(message)
    db.session.info.setdefault(_QUEUED, []).append(message)
    return message


def queue_limited(
    mail: Mail,
    *,
    purpose: str,
    limits: Sequence[MailLimit],
    draft_id: int | None = None,
) -> MailLimit | None:
    """Queue like :func:`queue` unless one of ``limits`` is reached; then queue nothing and
    return the limit that held the mail back (None when it was queued). The caller commits
    either way.

    Counting and recording happen under transaction-level advisory locks on the draft and the
    recipient, held until the caller's transaction ends, so simultaneous requests cannot all
    pass the count.
    """
    if draft_id is not None:
        _lock(f"draft:{draft_id}")
    _lock(f"recipient:{mail.recipient.lower()}")
    for limit in limits:
        if _count_sent(limit, purpose, mail.recipient, draft_id) >= limit.count:
            log.warning("mail (%s) to %s held back: %s", purpose, mail.recipient, limit.reason)
            return limit
    queue(mail, purpose=purpose, draft_id=draft_id)
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


def delivery_lock(message_id: int) -> str:
    """The job lock of one mail's delivery: two jobs for the same mail never run at once."""
    return f"outbox:{message_id}"


@event.listens_for(Session, "before_commit")
def _defer_deliveries(session: Session) -> None:
    """At the commit of the outermost transaction, give each SMTP mail it recorded a delivery
    job in the same transaction (and remember the logged ones for after the commit)."""
    if session.in_nested_transaction() or not session.info.get(_QUEUED):
        return
    queued = [message for message in session.info.pop(_QUEUED) if message in session]
    if not queued:
        return
    session.flush()  # the new records get their ids
    session.info[_LOGGED] = [message for message in queued if message.transport == "log"]
    for message in queued:
        if message.transport == "smtp":
            jobs.defer(session, DELIVER_TASK, lock=delivery_lock(message.id), message_id=message.id)


@event.listens_for(Session, "after_commit")
def _log_committed(session: Session) -> None:
    """Write the mails of the transaction just committed that have no SMTP server to the
    log (not for a savepoint: the outer transaction may still be rolled back)."""
    if session.in_nested_transaction() or not session.info.get(_LOGGED):
        return
    for message in session.info.pop(_LOGGED):
        log.info("mail to %s: %s\n%s", message.recipient, message.subject, message.body)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    """Forget the queued mails whose records the rollback removed from the session."""
    if session.info.get(_QUEUED):
        session.info[_QUEUED] = [m for m in session.info[_QUEUED] if m in session]
    if not session.in_nested_transaction():
        session.info.pop(_LOGGED, None)


def deliver(message_id: int, *, last_attempt: bool = True) -> None:
    """Send the outbox mail ``message_id`` over SMTP and record on its row when it was sent or
    why it failed (the job ``mail.deliver`` calls this).

    The row is locked while it is sent (``FOR UPDATE SKIP LOCKED``): a mail already sent,
    failed for good or being sent by another job is left alone, so it never goes out twice. A
    temporary failure (no connection, a 4xx reply) raises :class:`TemporaryFailure`, recording
    nothing, unless it is the ``last_attempt``: then it is recorded like any failure. The
    listeners (:func:`add_delivery_listener`) hear how it went for the recipient once it is
    recorded."""
    table = OutboxMessage.__table__
    with db.engine.begin() as connection:
        message = connection.execute(
            select(table.c.recipient, table.c.subject, table.c.body, table.c.headers)
            .where(
                table.c.id == message_id,
                table.c.transport == "smtp",
                table.c.sent_at.is_(None),
                table.c.error == "",
            )
            .with_for_update(skip_locked=True)
        ).first()
        if message is None:
            return
        outcome, result = _send(message, last_attempt)
        connection.execute(update(table).where(table.c.id == message_id).values(**outcome))
    if result is not None:
        for listener in current_app.extensions.get(LISTENERS, ()):
            try:
                listener(message.recipient, result)
            except Exception:  # the delivery is recorded; a listener cannot undo it
                log.exception("delivery listener failed for outbox message %s", message_id)


def _send(message, last_attempt: bool) -> tuple[dict, str | None]:
    """Send ``message`` (a row); the values to record on it and what the listeners hear
    (None: the failure says nothing about the recipient). A temporary failure raises
    :class:`TemporaryFailure` but on the last attempt."""
    try:
        _smtp_send(message.recipient, message.subject, message.body, message.headers)
        return {"sent_at": func.now()}, SENT
    except smtplib.SMTPRecipientsRefused as exc:
        failure, outcome = exc, refusal(exc)
        temporary = outcome == REFUSED_TEMPORARILY
    except (smtplib.SMTPResponseException, smtplib.SMTPServerDisconnected, OSError) as exc:
        code = getattr(exc, "smtp_code", None)
        failure, outcome, temporary = exc, None, code is None or 400 <= code < 500
    except smtplib.SMTPException as exc:
        failure, outcome, temporary = exc, None, False
    if temporary and not last_attempt:
        log.warning("mail to %s failed for now, tried again: %s", message.recipient, failure)
        raise TemporaryFailure(str(failure)) from failure
    log.error("mail to %s failed: %s", message.recipient, failure)
    return {"error": str(failure) or type(failure).__name__}, outcome


def sweep(older_than: timedelta = SWEEP_AFTER) -> int:
    """Queue a delivery job for every SMTP mail written more than ``older_than`` ago (and
    within :data:`SWEEP_WITHIN`) that is neither sent nor failed and has no delivery job at
    all (its job was lost, e.g. deleted by hand). A mail whose job failed (an unexpected
    error, kept in ``procrastinate_jobs``) is not queued again: it may have gone out before
    the error. The rows are locked (``SKIP LOCKED``), so two sweeps at once queue each mail
    once. Returns how many were queued; commits."""
    lock = func.concat("outbox:", OutboxMessage.id)
    stale = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.transport == "smtp",
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.error == "",
            OutboxMessage.created_at < func.now() - older_than,
            OutboxMessage.created_at > func.now() - SWEEP_WITHIN,
            ~jobs.has_job(lock),
        )
        .order_by(OutboxMessage.id)
        .with_for_update(skip_locked=True)
    ).all()
    for message_id in stale:
        jobs.defer(db.session, DELIVER_TASK, lock=delivery_lock(message_id), message_id=message_id)
    db.session.commit()
    return len(stale)


def refusal(exc: smtplib.SMTPRecipientsRefused) -> str:
    """Whether the server refused the recipients for good (every reply 5xx) or for now."""
    codes = [code for code, _reply in exc.recipients.values()]
    permanent = bool(codes) and all(500 <= code < 600 for code in codes)
    return REFUSED_PERMANENTLY if permanent else REFUSED_TEMPORARILY


def _smtp_send(
    recipient: str, subject: str, body: str, headers: Mapping[str, str] | None = None
) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = recipient
    email["Subject"] = subject
    for name, value in (headers or {}).items():
        email[name] = value
    email.set_content(body)
    with smtplib.SMTP(config["MAIL_SMTP_HOST"], config["MAIL_SMTP_PORT"], timeout=10) as smtp:
        if config.get("MAIL_SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("MAIL_SMTP_USER"):
            smtp.login(config["MAIL_SMTP_USER"], config["MAIL_SMTP_PASSWORD"])
        smtp.send_message(email)
