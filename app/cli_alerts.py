"""``flask alerts …``: the scheduled work around job alerts, run by the worker
(:mod:`app.jobs.tasks`) and by hand. Every command is idempotent: running it twice (or two at
once) does no harm.

- ``flask alerts send-digests`` (weekly): mail every confirmed alert what is new for its search;
- ``flask alerts expire`` (daily): delete alerts left unconfirmed for 7 days;
- ``flask alerts process-bounces PATH``: read delivery status notifications (RFC 3464) from an
  mbox file or a Maildir and delete the alerts of the addresses that failed for good.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli_events import mail_context

alerts_group = AppGroup("alerts", help="Scheduled work for job alerts (digests, expiry, bounces).")


@alerts_group.command("send-digests")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=None,
    help="Alerts per transaction (default 200).",
)
def send_digests_command(batch_size: int | None):
    """Mail each confirmed alert, once per ISO week, the employers that newly match its search
    or offer more (nothing is sent when nothing is new)."""
    from app.services import alerts

    with mail_context():
        report = alerts.send_digests(batch_size=batch_size or alerts.BATCH_SIZE)
    click.echo(report.line())


@alerts_group.command("expire")
def expire_command():
    """Delete job alerts unconfirmed for 7 days."""
    from app.services import alerts

    with mail_context():
        count = alerts.expire()
    click.echo(f"Unconfirmed job alerts deleted: {count}.")


@alerts_group.command("process-bounces")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def process_bounces_command(path: Path):
    """Delete the job alerts of the addresses that the delivery status notifications in PATH
    (an mbox file or a Maildir folder) report as failed. The mailbox is only read."""
    from app.services import alerts

    try:
        failed = alerts.failed_recipients(path)
    except (OSError, ValueError) as exc:
        message = f"{path} cannot be read as an mbox file or Maildir: {exc}"
        raise click.ClickException(message) from exc
    with mail_context():
        deleted = alerts.forget_addresses(failed)
    click.echo(f"Failed recipients found: {len(failed)}; job alerts deleted: {deleted}.")
