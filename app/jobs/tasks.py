"""The tasks the worker runs: mail delivery and the scheduled work.

- ``mail.deliver`` sends one outbox mail over SMTP (deferred by :mod:`app.services.mail` with
  the change that wrote it); a temporary failure is tried again for about 80 minutes.
- ``mail.sweep`` (every 5 minutes) queues a delivery for an SMTP mail left without one.
- The scheduled work (:data:`SCHEDULE`, cron times in UTC) calls the same service functions
  as the ``flask`` commands, which stay for runs by hand. Each is idempotent, and at most one
  run of each waits in the queue (its queueing lock).
- ``imports.run`` runs an employer import a curator asked for (:mod:`app.services.importer`);
  ``layers.import`` a map layer import (:mod:`app.services.layer_import`). Both on the queue
  ``imports``.
- ``jobs.remove_old`` (daily) deletes failed and cancelled jobs after 30 days.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext

import procrastinate
from procrastinate import builtin_tasks

from app.jobs import QUEUE
from app.notifications import mail_context
from app.services import (
    alerts,
    event_feeds,
    freshness,
    importer,
    layer_import,
    mail,
    registrations,
    retention,
)

log = logging.getLogger(__name__)

#: A temporary failure is tried again six times, 1, 6, 11, 16, 21 and 26 minutes apart.
MAIL_RETRY = procrastinate.RetryStrategy(
    max_attempts=6, wait=60, linear_wait=300, retry_exceptions=[mail.TemporaryFailure]
)
#: The scheduled tasks: name -> cron (UTC), filled by :func:`_scheduled`.
SCHEDULE: dict[str, str] = {}


@QUEUE.task(name=mail.DELIVER_TASK, queue="mail", pass_context=True, retry=MAIL_RETRY)
def deliver_mail(context: procrastinate.JobContext | None, message_id: int) -> None:
    """Deliver one outbox mail; a temporary failure raises (and is retried) but on the last
    attempt, which records it. Run inline (no context) there is one attempt only."""
    last = context is None or context.job.attempts >= MAIL_RETRY.max_attempts
    mail.deliver(message_id, last_attempt=last)


@QUEUE.task(name=importer.IMPORT_TASK, queue="imports")
def run_import(upload_id: int) -> None:
    """Import the valid rows of an upload as the curator asked; the result (or why not) is
    kept on the upload, which the curator's page shows."""
    with mail_context():
        importer.run_requested_import(upload_id)


@QUEUE.task(name=layer_import.IMPORT_TASK, queue="imports")
def import_layer(upload_id: int) -> None:
    """Import a layer file into its map layer as the curator asked (up to 50,000 features);
    a summary of the result (or why not) is kept on the upload, which the curator's page
    shows."""
    layer_import.run_requested_import(upload_id)


@QUEUE.periodic(cron="*/5 * * * *", periodic_id="mail.sweep")
@QUEUE.task(name="mail.sweep", queue="mail", queueing_lock="mail.sweep")
def sweep_mail(timestamp: int) -> None:
    """Queue a delivery for each SMTP mail still unsent without one (its job was lost)."""
    count = mail.sweep()
    if count:
        log.warning("mail.sweep: %s mail(s) without a delivery job queued again", count)


@QUEUE.periodic(
    cron="20 3 * * *", periodic_id="jobs.remove_old", task_kwargs={"max_hours": 30 * 24}
)
@QUEUE.task(name="jobs.remove_old", queue="scheduled", pass_context=True)
async def remove_old_jobs(context: procrastinate.JobContext, max_hours: int, timestamp: int):
    """Delete the failed and cancelled jobs older than ``max_hours`` (succeeded ones are
    deleted at once by the worker)."""
    await builtin_tasks.remove_old_jobs(
        context, max_hours=max_hours, remove_failed=True, remove_cancelled=True
    )


def _scheduled(name: str, cron: str, *, writes_mail: bool = True):
    """Register the decorated function (returning the lines of its report) as the periodic
    task ``name``, run at ``cron`` (UTC) on the queue "scheduled"; with ``writes_mail`` inside
    :func:`app.notifications.mail_context`, so that its mails carry absolute links."""

    def register(work: Callable[[], list[str]]):
        def run(timestamp: int) -> None:
            with mail_context() if writes_mail else nullcontext():
                lines = work()
            for line in lines:
                log.info("%s: %s", name, line)

        run.__doc__ = work.__doc__
        run.__name__ = run.__qualname__ = work.__name__
        run.__module__ = work.__module__
        task = QUEUE.task(name=name, queue="scheduled", queueing_lock=name)(run)
        QUEUE.periodic(cron=cron, periodic_id=name)(task)
        SCHEDULE[name] = cron
        return task

    return register


@_scheduled("events.import_feeds", "17 * * * *")
def import_event_feeds() -> list[str]:
    """Import the partners' iCalendar feeds (``flask events import-feeds``), hourly."""
    return [report.line() for report in event_feeds.import_all()]


@_scheduled("events.remind", "5 * * * *")
def remind_registrations() -> list[str]:
    """Remind registered people the day before their event (``flask events remind``)."""
    return [f"reminders sent: {registrations.send_reminders()}"]


@_scheduled("events.purge_registrations", "40 2 * * *")
def purge_registrations() -> list[str]:
    """Anonymise registrations 30 days after their event (``flask events
    purge-registrations``)."""
    return [f"registrations anonymised: {registrations.purge()}"]


@_scheduled("alerts.send_digests", "0 6 * * 1")
def send_alert_digests() -> list[str]:
    """Mail each confirmed job alert what is new, Mondays (``flask alerts send-digests``)."""
    return [alerts.send_digests(batch_size=alerts.BATCH_SIZE).line()]


@_scheduled("alerts.expire", "50 2 * * *")
def expire_alerts() -> list[str]:
    """Delete job alerts unconfirmed for 7 days (``flask alerts expire``)."""
    return [f"unconfirmed job alerts deleted: {alerts.expire()}"]


@_scheduled("freshness.send_reminders", "10 5 * * *")
def send_freshness_reminders() -> list[str]:
    """Ask the owners of entries unconfirmed for 12 months to confirm them (``flask
    send-reminders``)."""
    report = freshness.send_reminders()
    return [
        f"reminders sent: {len(report.sent)}, without an address: {len(report.no_address)},"
        f" changed meanwhile: {len(report.skipped)}"
    ]


@_scheduled("retention.run", "30 3 * * *", writes_mail=False)
def apply_retention() -> list[str]:
    """Delete old uploads, expired drafts and old mail copies (``flask retention run``)."""
    return retention.run().lines()
