"""``flask jobs …``: the task queue's worker (:mod:`app.jobs`).

- ``flask jobs worker``: deliver the mails and run the scheduled work (the periodic tasks of
  :mod:`app.jobs.tasks`) until stopped; one worker per installation is enough, several are safe.
- ``flask jobs worker --once``: do the jobs waiting now, then stop.
- ``flask jobs schedule``: list the scheduled tasks and when they run.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import needs_database

jobs_group = AppGroup("jobs", help="The task queue: mail delivery and the scheduled work.")


@jobs_group.command("worker")
@click.option("--once", is_flag=True, help="Do the jobs waiting now, then stop.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 16),
    default=None,
    help="Jobs run at once (default JOBS_CONCURRENCY, 2).",
)
@needs_database
def worker_command(once: bool, concurrency: int | None):
    """Run the worker: it delivers the mails, runs the scheduled work when it is due, and
    stops on SIGINT or SIGTERM after the jobs it is running."""
    from app import jobs

    concurrency = concurrency or current_app.config["JOBS_CONCURRENCY"]
    until = "no job is left" if once else "stopped (SIGINT, SIGTERM)"
    click.echo(f"Worker: {concurrency} job(s) at once, until {until}.", err=True)
    jobs.run_worker(current_app._get_current_object(), wait=not once, concurrency=concurrency)
    click.echo("Worker stopped.", err=True)


@jobs_group.command("schedule")
def schedule_command():
    """List the scheduled tasks, when they run (cron, UTC) and what they do."""
    from app.jobs import tasks

    for name, cron in tasks.SCHEDULE.items():
        summary = (tasks.QUEUE.tasks[name].func.__doc__ or "").split("\n")[0]
        click.echo(f"{cron:<14} {name:<28} {summary}")
