"""The task queue (procrastinate, issue 17) as it runs in production: nothing inline.

A request that writes a mail never contacts the mail server: it leaves a job, which the worker
delivers to a real SMTP server on loopback (tests/fake_smtp.py). A temporary refusal is tried
again, the last attempt records it, a mail whose job was lost is swept up and sent exactly
once, and every scheduled task is registered with its time and runs its service in the
worker, inside the app's context.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from app import jobs
from app.extensions import db
from app.jobs import tasks
from app.models import JobAlert, OutboxMessage
from app.services import alerts, event_feeds, freshness, mail, registrations, retention
from tests.fake_smtp import FakeSmtpServer
from tests.integration.test_job_alerts import VERSION, post_subscribe

ADDRESS = "alex@example.org"


@pytest.fixture
def smtp(app):
    """The app as in production (jobs queued, not run inline) with SMTP on a fake server."""
    with FakeSmtpServer() as server:
        app.config.update(
            JOBS_RUN_INLINE=False,
            MAIL_SMTP_HOST="127.0.0.1",
            MAIL_SMTP_PORT=server.port,
            MAIL_SMTP_STARTTLS=False,
        )
        yield server


def work(app, queues=("mail",)) -> None:
    """Run the worker until no job of ``queues`` is left."""
    jobs.run_worker(app, wait=False, queues=queues, install_signal_handlers=False)


def queue_mail(app, recipient: str = ADDRESS) -> int:
    """Write a mail through the outbox and commit; its id."""
    with app.test_request_context():
        message = mail.queue(mail.Mail(recipient, "Betreff", "Text"), purpose="test")
        db.session.commit()
        return message.id


def job_rows(app, task: str = mail.DELIVER_TASK) -> list[dict]:
    """The queued jobs of ``task`` (task, arguments, lock, status, attempts, due now), oldest
    first. (The worker also queues the periodic tasks that fall due while it runs.)"""
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT task_name, args, lock, status::text AS status, attempts,"
                " coalesce(scheduled_at <= now(), true) AS due"
                " FROM procrastinate_jobs WHERE task_name = :task ORDER BY id"
            ),
            {"task": task},
        )
        return [dict(row._mapping) for row in rows]


def outbox(app, message_id: int) -> OutboxMessage:
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        db.session.expunge(message)
        return message


def sql(app, statement: str, **values) -> None:
    with app.app_context():
        db.session.execute(text(statement), values)
        db.session.commit()


def test_a_request_that_writes_a_mail_never_contacts_smtp_and_the_worker_sends_it(
    app, client, runner, smtp
):
    response = post_subscribe(client, {"sector": "F"})
    assert response.status_code == 303  # on to the "check your mail" page
    assert smtp.connections == 0
    with app.app_context():
        (message,) = db.session.scalars(select(OutboxMessage)).all()
    assert message.sent_at is None and message.error == ""
    [job] = job_rows(app)
    assert job["task_name"] == "mail.deliver"
    assert job["args"] == {"message_id": message.id}
    assert (job["lock"], job["status"]) == (f"outbox:{message.id}", "todo")

    result = runner.invoke(args=["jobs", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert smtp.recipients() == [ADDRESS]
    (_recipient, sent), *_ = smtp.messages
    assert sent["Subject"] == message.subject
    assert outbox(app, message.id).sent_at is not None
    assert job_rows(app) == []


def test_a_rolled_back_change_leaves_no_job(app, smtp):
    with app.test_request_context():
        mail.queue(mail.Mail(ADDRESS, "Betreff", "Text"))
        db.session.rollback()
        db.session.commit()
    assert job_rows(app) == []
    work(app)
    assert smtp.connections == 0


def test_a_temporary_refusal_is_tried_again_later(app, smtp):
    smtp.replies[ADDRESS] = 451
    message_id = queue_mail(app)
    work(app)
    assert smtp.connections == 1 and smtp.messages == []
    message = outbox(app, message_id)
    assert message.sent_at is None and message.error == ""  # not failed: tried again
    [job] = job_rows(app)
    assert (job["status"], job["attempts"], job["due"]) == ("todo", 1, False)

    del smtp.replies[ADDRESS]  # the server takes it now; the retry falls due
    sql(app, "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE task_name = 'mail.deliver'")
    work(app)
    assert smtp.recipients() == [ADDRESS]
    assert outbox(app, message_id).sent_at is not None
    assert job_rows(app) == []


def test_the_last_attempt_records_the_failure_and_tells_the_listeners(app, smtp):
    with app.test_request_context():
        alert = alerts.subscribe(ADDRESS, alerts.parse_search(MultiDict()), "de", VERSION).alert
        alert_id = alert.id
    # the confirmation mail's job has used every attempt but the last
    sql(
        app,
        "UPDATE procrastinate_jobs SET attempts = :n WHERE task_name = 'mail.deliver'",
        n=tasks.MAIL_RETRY.max_attempts,
    )
    smtp.replies[ADDRESS] = 451
    work(app)
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.sent_at is None and "not now" in message.error
        assert db.session.get(JobAlert, alert_id).bounce_count == 1
    assert job_rows(app) == []  # done: nothing more to try


def test_a_permanent_refusal_is_recorded_at_once(app, smtp):
    smtp.replies[ADDRESS] = 550
    message_id = queue_mail(app)
    work(app)
    assert "no such user" in outbox(app, message_id).error
    assert job_rows(app) == []


def test_the_sweeper_sends_a_mail_whose_job_was_lost_exactly_once(app, smtp):
    lost = queue_mail(app, "lost@example.org")
    fresh = queue_mail(app, "fresh@example.org")
    sql(app, "DELETE FROM procrastinate_jobs WHERE task_name = 'mail.deliver'")  # both lost
    sql(
        app,
        "UPDATE outbox_messages SET created_at = now() - interval '10 minutes' WHERE id = :i",
        i=lost,
    )
    with app.app_context():
        assert mail.sweep() == 1  # the fresh one may still have its job coming
        assert mail.sweep() == 0  # the lost one has a job waiting now
    [job] = job_rows(app)
    assert job["args"] == {"message_id": lost}
    work(app)
    with app.app_context():
        assert mail.sweep() == 0  # sent
    work(app)
    assert smtp.recipients() == ["lost@example.org"]
    assert outbox(app, lost).sent_at is not None
    assert outbox(app, fresh).sent_at is None


def test_two_jobs_for_one_mail_send_it_once(app, smtp):
    message_id = queue_mail(app)
    with app.app_context():
        jobs.defer(db.session, mail.DELIVER_TASK, message_id=message_id)
        db.session.commit()
    assert len(job_rows(app)) == 2
    work(app)
    assert smtp.recipients() == [ADDRESS]


#: Every scheduled task: its time (cron, UTC) and the service function it calls.
SCHEDULED = {
    "events.import_feeds": ("17 * * * *", event_feeds, "import_all", []),
    "events.remind": ("5 * * * *", registrations, "send_reminders", 0),
    "events.purge_registrations": ("40 2 * * *", registrations, "purge", 0),
    "alerts.send_digests": ("0 6 * * 1", alerts, "send_digests", None),
    "alerts.expire": ("50 2 * * *", alerts, "expire", 0),
    "freshness.send_reminders": ("10 5 * * *", freshness, "send_reminders", None),
    "retention.run": ("30 3 * * *", retention, "run", None),
}


def test_each_scheduled_task_is_registered_with_its_time():
    periodic = {
        key[0]: entry.cron for key, entry in jobs.QUEUE.periodic_registry.periodic_tasks.items()
    }
    expected = {name: cron for name, (cron, *_rest) in SCHEDULED.items()}
    assert periodic == {**expected, "mail.sweep": "*/5 * * * *", "jobs.remove_old": "20 3 * * *"}
    assert expected == tasks.SCHEDULE


@pytest.mark.parametrize("name", sorted(SCHEDULED))
def test_each_scheduled_task_calls_its_service(app, monkeypatch, name):
    _cron, module, function, result = SCHEDULED[name]
    real = getattr(module, function)
    calls = []

    def called(*args, **kwargs):
        calls.append((args, kwargs))
        return result if result is not None else real(*args, **kwargs)

    monkeypatch.setattr(module, function, called)
    with app.app_context():
        jobs.QUEUE.tasks[name].func(timestamp=0)
    assert len(calls) == 1


def test_the_worker_runs_a_scheduled_task_in_the_apps_context(app, smtp):
    old = queue_mail(app, "old@example.org")
    work(app)
    sql(app, "UPDATE outbox_messages SET created_at = now() - interval '200 days'")
    # (a run the worker may have queued as due: at most one waits, its queueing lock)
    sql(app, "DELETE FROM procrastinate_jobs WHERE task_name = 'retention.run'")
    with app.app_context():
        jobs.defer(db.session, "retention.run", timestamp=0)
        db.session.commit()
    work(app, queues=("scheduled",))
    with app.app_context():
        assert db.session.get(OutboxMessage, old) is None  # the retention rule deleted it
    assert job_rows(app, "retention.run") == []


def test_a_scheduled_task_in_the_worker_queues_its_mails_and_the_worker_sends_them(
    app, smtp, make_company
):
    owner = "owner@betrieb.example"
    entry = make_company("Bäckerei Korn", contact_email=owner)
    sql(
        app,
        "UPDATE companies SET confirmed_at = now() - interval '13 months' WHERE id = :i",
        i=entry,
    )
    sql(app, "DELETE FROM procrastinate_jobs WHERE task_name = 'freshness.send_reminders'")
    with app.app_context():
        jobs.defer(db.session, "freshness.send_reminders", timestamp=0)
        db.session.commit()
    work(app, queues=("scheduled",))
    assert smtp.connections == 0  # the reminder waits for its own job
    [job] = job_rows(app)
    assert job["status"] == "todo"
    work(app)
    assert smtp.recipients() == [owner]
    [(_recipient, sent)] = smtp.messages
    assert "http://localhost/mitmachen/" in sent.get_content()  # absolute links


def test_the_sweeper_leaves_a_mail_whose_job_failed_and_mails_older_than_a_day(app, smtp):
    failed = queue_mail(app, "failed@example.org")
    old = queue_mail(app, "old@example.org")
    sql(
        app,
        "UPDATE procrastinate_jobs SET status = 'failed' WHERE args @> :a",
        a=f'{{"message_id": {failed}}}',
    )
    sql(app, "DELETE FROM procrastinate_jobs WHERE args @> :a", a=f'{{"message_id": {old}}}')
    sql(
        app,
        "UPDATE outbox_messages SET created_at = now() - interval '10 minutes' WHERE id = :i",
        i=failed,
    )
    sql(
        app,
        "UPDATE outbox_messages SET created_at = now() - interval '2 days' WHERE id = :i",
        i=old,
    )
    with app.app_context():
        assert mail.sweep() == 0
    sql(
        app,
        "UPDATE outbox_messages SET created_at = now() - interval '23 hours' WHERE id = :i",
        i=old,
    )
    with app.app_context():
        assert mail.sweep() == 1
    work(app)
    assert smtp.recipients() == ["old@example.org"]


def test_the_daily_clean_up_removes_failed_jobs_after_their_time(app, smtp):
    message_id = queue_mail(app)
    sql(app, "UPDATE procrastinate_jobs SET status = 'doing' WHERE task_name = 'mail.deliver'")
    sql(app, "UPDATE procrastinate_jobs SET status = 'failed' WHERE task_name = 'mail.deliver'")
    with app.app_context():
        jobs.defer(db.session, "jobs.remove_old", max_hours=1, timestamp=0)
        db.session.commit()
    work(app, queues=("scheduled",))
    assert [job["status"] for job in job_rows(app)] == ["failed"]  # not an hour old yet
    sql(app, "UPDATE procrastinate_events SET at = at - interval '2 hours'")
    with app.app_context():
        jobs.defer(db.session, "jobs.remove_old", max_hours=1, timestamp=0)
        db.session.commit()
    work(app, queues=("scheduled",))
    assert job_rows(app) == []
    assert outbox(app, message_id).sent_at is None  # the mail is left to an operator
