"""``flask retention run``: delete what the platform no longer needs, run daily by the worker
(:mod:`app.jobs.tasks`) and by hand. Idempotent: a second run (or two at once) deletes nothing
more.

It deletes import uploads after ``RETENTION_UPLOAD_DAYS`` (30), questionnaire drafts never
submitted once their links have expired, and sent or failed outbox mails after
``RETENTION_OUTBOX_DAYS`` (90); unsent mails are kept and reported
(:mod:`app.services.retention`). ``--dry-run`` prints the counts and deletes nothing.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli import needs_database

retention_group = AppGroup("retention", help="Deletion of old uploads, drafts and mail copies.")


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Only print what would be deleted.")
@needs_database
def run_command(dry_run: bool):
    """Apply every retention rule and print what was deleted (the worker runs it daily)."""
    from app.services import retention

    report = retention.run(dry_run=dry_run)
    for line in report.lines():
        click.echo(line)
