"""Background jobs: a task queue kept in the app's own PostgreSQL (procrastinate).

Why procrastinate rather than RQ: the jobs live in the database the app already has, so there
is no further service to run and watch, a backup holds the queued jobs with the data they are
about, and a job is deferred in the same transaction as the change it belongs to (it exists
exactly when the change commits). It speaks psycopg 3, as the app does, and its worker also
defers the periodic tasks, which makes it the one scheduler (no cron, no timers).

- :data:`QUEUE` is the procrastinate app; the tasks are in :mod:`app.jobs.tasks`.
- :func:`defer` queues a task as part of a SQLAlchemy session's transaction (the mail outbox
  uses it for every SMTP mail, see :mod:`app.services.mail`).
- :func:`run_worker` runs the worker (``flask jobs worker``): every task runs inside the Flask
  app's context.
- With ``JOBS_RUN_INLINE`` (the test configuration; refused in production) nothing is queued:
  a deferred job runs in the same process right after its transaction commits, as RQ's
  ``is_async=False`` does.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
from typing import Any

import procrastinate
from flask import Flask, current_app
from procrastinate.manager import JobManager
from sqlalchemy import ColumnElement, Exists, column, event, exists, table, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: The procrastinate app. Its connector is replaced by one on the app's database while a
#: worker runs (:func:`run_worker`); jobs are deferred through :data:`_DEFERRER` instead.
QUEUE = procrastinate.App(
    connector=procrastinate.PsycopgConnector(), import_paths=["app.jobs.tasks"]
)
#: Defers jobs on a connection given to it (the caller's transaction); it never opens a pool.
_DEFERRER = JobManager(procrastinate.SyncPsycopgConnector())
#: Where a session keeps the jobs of its transaction that run inline after the commit.
_INLINE = "jobs_inline"
#: procrastinate's table of jobs, as far as :func:`has_job` reads it.
_JOBS = table("procrastinate_jobs", column("lock"), column("status"))


def init_app(app: Flask) -> None:
    """Register the tasks (importing :mod:`app.jobs.tasks`), so that :func:`defer` finds them."""
    importlib.import_module("app.jobs.tasks")


def defer(session: Session, task_name: str, *, lock: str | None = None, **arguments: Any) -> None:
    """Queue the task ``task_name`` with ``arguments`` as part of ``session``'s transaction: a
    worker sees the job once that transaction commits, and never if it is rolled back.
    ``lock`` names a lock no two jobs holding it run under at once.

    With ``JOBS_RUN_INLINE`` the task instead runs in this process right after the commit."""
    task = QUEUE.tasks[task_name]
    if current_app.config.get("JOBS_RUN_INLINE"):
        session.info.setdefault(_INLINE, []).append((task, arguments))
        return
    connection = session.connection().connection.driver_connection
    job = task.configure(lock=lock).make_new_job(**arguments)
    _DEFERRER.defer_job(job, connection=connection)


def has_job(lock: ColumnElement[str]) -> Exists:
    """A SQL condition: a job holding the lock ``lock`` (a SQL expression) waits, runs, or
    failed (failed jobs are kept for 30 days; succeeded ones are deleted)."""
    return exists().where(
        _JOBS.c.lock == lock,
        text("procrastinate_jobs.status IN ('todo', 'doing', 'failed')"),
    )


@event.listens_for(Session, "after_commit")
def _run_inline(session: Session) -> None:
    """Run the inline jobs of the transaction just committed (``JOBS_RUN_INLINE`` only)."""
    if session.in_nested_transaction() or not session.info.get(_INLINE):
        return
    for task, arguments in session.info.pop(_INLINE):
        run_inline(task, arguments)


@event.listens_for(Session, "after_rollback")
def _forget_inline(session: Session) -> None:
    """A rolled-back transaction's jobs never run."""
    if not session.in_nested_transaction():
        session.info.pop(_INLINE, None)


def run_inline(task: procrastinate.tasks.Task, arguments: dict[str, Any]) -> None:
    """Run one task now, once (no retries: a task that asks for its job context gets None),
    in an app context of its own, as in the worker (with a session of its own: the
    committing one can no longer write). What it raises is logged: its change is committed."""
    with current_app.app_context():
        try:
            if task.pass_context:
                task.func(None, **arguments)
            else:
                task.func(**arguments)
        except Exception:
            log.exception("job %s failed (run inline)", task.name)


#: A worker whose heartbeat is older than this is taken for gone (procrastinate beats every
#: 10 s by default).
WORKER_GONE_AFTER_SECONDS = 60


def queue_status(connection: Connection) -> dict[str, int | float | None]:
    """How the queue stands, for the health check: the workers alive (heartbeat within
    :data:`WORKER_GONE_AFTER_SECONDS`), the jobs due and waiting, and how long the oldest of
    them has waited (seconds; None when none waits). Jobs that wait while no worker is alive
    mean mail is not going out."""
    workers = connection.scalar(
        text(
            "SELECT count(*) FROM procrastinate_workers"
            " WHERE last_heartbeat > now() - make_interval(secs => :gone)"
        ),
        {"gone": WORKER_GONE_AFTER_SECONDS},
    )
    waiting, oldest = connection.execute(
        text(
            "SELECT count(*), extract(epoch FROM now() - min(coalesce(j.scheduled_at, e.at)))"
            " FROM procrastinate_jobs j"
            " LEFT JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'"
            " WHERE j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())"
        )
    ).one()
    return {
        "workers": workers,
        "waiting": waiting,
        "oldest_wait_seconds": None if oldest is None else round(float(oldest), 1),
    }


def connection_parameters(database_uri: str) -> dict[str, Any]:
    """libpq connection parameters for the app's database URL (``SQLALCHEMY_DATABASE_URI``;
    the project-local cluster's socket folder is its ``host`` query parameter)."""
    url = make_url(database_uri)
    parameters = {
        "host": url.query.get("host") or url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    return {key: value for key, value in parameters.items() if value is not None}


def run_worker(
    flask_app: Flask,
    *,
    wait: bool = True,
    concurrency: int = 2,
    queues: tuple[str, ...] | None = None,
    install_signal_handlers: bool = True,
) -> None:
    """Run a procrastinate worker on the app's database: it takes the jobs of ``queues`` (all
    when None), ``concurrency`` at once (each sync task in a thread of its own, inside the
    app's context), and defers the periodic tasks when they are due. With ``wait`` it runs
    until stopped (SIGINT/SIGTERM); without, it stops once no job is left to do.
    Succeeded jobs are deleted; failed ones are kept (``procrastinate_jobs``, status
    ``failed``) until the daily clean-up removes them after a month.

    The worker runs on ``asyncio.run``, which cannot nest: called from a thread that runs an
    event loop already (Playwright's sync API does, in the tests), it runs in a thread of its
    own (without signal handlers, which only the main thread may install) and this waits."""
    if _event_loop_running():
        _run_in_thread(
            run_worker,
            flask_app,
            wait=wait,
            concurrency=concurrency,
            queues=queues,
            install_signal_handlers=False,
        )
        return
    init_app(flask_app)

    def in_app_context(call_next, context, worker):
        with flask_app.app_context():
            return call_next()

    connector = procrastinate.PsycopgConnector(
        kwargs=connection_parameters(flask_app.config["SQLALCHEMY_DATABASE_URI"]),
        min_size=1,
        max_size=concurrency + 3,
    )
    with QUEUE.replace_connector(connector):
        QUEUE.run_worker(
            wait=wait,
            concurrency=concurrency,
            queues=list(queues) if queues else None,
            delete_jobs="successful",
            task_middleware=[in_app_context],
            install_signal_handlers=install_signal_handlers,
        )


def _event_loop_running() -> bool:
    """Whether this thread runs an asyncio event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_in_thread(function, *args, **kwargs) -> None:
    """Call ``function`` in a new thread and wait for it; raise what it raised."""
    raised: list[BaseException] = []

    def call() -> None:
        try:
            function(*args, **kwargs)
        except BaseException as error:  # handed to the caller's thread
            raised.append(error)

    thread = threading.Thread(target=call, name="jobs-worker")
    thread.start()
    thread.join()
    if raised:
        raise raised[0]
