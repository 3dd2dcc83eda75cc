"""``flask events …``: the scheduled work around events, run by the worker
(:mod:`app.jobs.tasks`) and by hand. Every command is idempotent: running it twice does no
harm.

- ``flask events import-feeds`` (hourly): import the partners' iCalendar feeds;
- ``flask events remind`` (daily or hourly): remind registered people the day before;
- ``flask events purge-registrations`` (daily): delete registrations' personal data
  30 days after the event.
"""

from __future__ import annotations

from flask.cli import AppGroup

from app.notifications import mail_context

events_group = AppGroup("events", help="Scheduled work for events (feeds, reminders, deletion).")


@events_group.command("remind")
def remind_command():
    """Remind confirmed registrations of events starting within 24 hours (once each)."""
    import click

    from app.services import registrations

    with mail_context():
        count = registrations.send_reminders()
    click.echo(f"Reminders sent: {count}.")


@events_group.command("purge-registrations")
def purge_registrations_command():
    """Delete registrations' personal data 30 days after their event."""
    import click

    from app.services import registrations

    with mail_context():
        count = registrations.purge()
    click.echo(f"Registrations anonymised: {count}.")


def _organisation_option(function):
    import click

    return click.option(
        "--organisation",
        "organisation_id",
        type=int,
        default=None,
        help="Import only this organisation's feed (its id).",
    )(function)


@events_group.command("import-feeds")
@_organisation_option
def import_feeds_command(organisation_id: int | None):
    """Import the partners' iCalendar feeds (hourly): one line per organisation with the new,
    changed, cancelled and unchanged events, or why its feed could not be imported."""
    import click

    from app.extensions import db
    from app.models import Organisation
    from app.services import event_feeds

    with mail_context():
        if organisation_id is None:
            reports = event_feeds.import_all()
        else:
            organisation = db.session.get(Organisation, organisation_id)
            if organisation is None:
                raise click.ClickException(f"No organisation has the id {organisation_id}.")
            reports = [event_feeds.import_feed(organisation)]
    for report in reports:
        click.echo(report.line())
    if not reports:
        click.echo("No organisation has a calendar feed.")
