"""The project's ``flask`` commands. Database trouble ends in one clear sentence, no traceback."""

from __future__ import annotations

import functools
import secrets
import threading
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from werkzeug.serving import run_simple

from app.extensions import db
from app.headers import QuietRequestHandler
from app.models import Organisation
from app.services import (
    accounts,
    boundaries,
    demo,
    demo_events,
    freshness,
    postal_codes,
    reference_data,
)
from geodata.points import PointFileError, postal_code_points, read_points


def database_problem(error: Exception) -> str:
    """One sentence on what is wrong with the database and what to do about it."""
    if isinstance(error, ProgrammingError) and "does not exist" in str(error.orig):
        return "The database has no tables yet: run `flask db upgrade` first."
    if current_app.config.get("LOCAL_DATABASE"):
        return (
            "The project-local database is not running: start it with `make db` "
            "(or set DATABASE_URL to use another PostgreSQL server)."
        )
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"
    return (
        f"Cannot reach the database {where} from DATABASE_URL: check that the server is "
        "running and that the URL, user and password are right."
    )


def needs_database(command):
    """Turn a failed database connection inside a command into a clean error message."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (OperationalError, ProgrammingError) as error:
            db.session.rollback()
            raise click.ClickException(database_problem(error)) from None

    return wrapper


@click.command("check-db")
@with_appcontext
@needs_database
def check_db_command():
    """Check that the database is reachable and has PostGIS."""
    version = db.session.scalar(text("SELECT postgis_lib_version()"))
    click.echo(f"Database reachable, PostGIS {version}.")


@click.command("sync-reference")
@with_appcontext
@needs_database
def sync_reference_command():
    """Load the shipped taxonomies and the configured region (idempotent)."""
    region = current_app.config["REGION"]
    click.echo(f"Taxonomies: {reference_data.sync_taxonomies()}.")
    click.echo(f"Region {region.name}: {reference_data.sync_region(region)}.")


@click.command("seed-demo")
@click.option(
    "--count",
    default=300,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="How many demo employers the region should have.",
)
@with_appcontext
@needs_database
def seed_demo_command(count: int):
    """Load the reference data and the fictional demo employers (idempotent)."""
    region = current_app.config["REGION"]
    reference_data.sync_taxonomies()
    reference_data.sync_region(region)
    added = demo.seed_demo(region, count)
    if added:
        click.echo(f"Added {added} demo employers to {region.name}.")
    else:
        click.echo(f"The {count} demo employers of {region.name} are already loaded.")
    layers_added = demo.seed_demo_layers(region)
    click.echo(
        f"Added {layers_added} demo layer features."
        if layers_added
        else "The demo layers are already loaded."
    )
    with current_app.test_request_context():
        events_added = demo_events.seed_demo_events(region)
    click.echo(
        f"Added {events_added} demo events." if events_added else "The demo events are loaded."
    )
    if current_app.config["APP_ENV"] == "development":
        email, password_file = demo_admin()
        click.echo(
            f"Agency workspace: /agentur/ — sign in as {email} with the password in "
            f"{password_file}."
        )
        email, password_file = demo_partner()
        click.echo(
            f"A partner organisation's account: sign in as {email} with the password in "
            f"{password_file}."
        )


def demo_admin() -> tuple[str, Path]:
    """A demo admin account for local runs (only in development)."""
    return _demo_account("demo-admin@kmu-atlas.invalid", "Demo-Admin", "admin", "demo-admin")


def demo_partner() -> tuple[str, Path]:
    """A demo partner account of the demo job centre for local runs (only in development)."""
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name == demo_events.ORGANISATIONS[1][0])
    )
    return _demo_account(
        "demo-partner@kmu-atlas.invalid", "Demo-Partner", "partner", "demo-partner",
        organisation.id,
    )  # fmt: skip


def _demo_account(
    email: str, name: str, role: str, file_stem: str, organisation_id: int | None = None
) -> tuple[str, Path]:
    """The demo account ``email`` and the instance file holding its random password. The
    password is kept while it still opens this database's account; otherwise (a new account, or
    another local database, e.g. another region's, wrote the file) a new one is set and written,
    so the file named on screen always works."""
    password_file = Path(current_app.instance_path) / f"{file_stem}-password.txt"
    known = password_file.read_text().strip() if password_file.exists() else ""
    user = accounts.by_email(email)
    if user is not None and known and accounts.password_matches(user, known):
        return email, password_file
    password = secrets.token_urlsafe(12)
    with current_app.test_request_context():
        if user is None:
            accounts.create_staff(email, name, password, role, organisation_id)
        else:
            accounts.set_password(user, password)
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    return email, password_file


@click.command("import-postal-codes")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--code-column", default="plz", show_default=True, help="Column with the code.")
@click.option("--crs", default=None, help="CRS of the coordinates if the file names none.")
@with_appcontext
@needs_database
def import_postal_codes_command(path: str, code_column: str, crs: str | None):
    """Import postal-code points (CSV, GeoJSON, GeoPackage, Shapefile) for the region."""
    try:
        points, problems = postal_code_points(read_points(path, crs), code_column)
    except PointFileError as exc:
        raise click.ClickException(str(exc)) from None
    if problems:
        for problem in problems[:20]:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException(
            f"{len(problems)} record(s) are not usable; nothing was imported. Fix the file and "
            "run the command again."
        )
    report = postal_codes.import_postal_codes(points)
    click.echo(
        f"Imported {report.imported} postal codes; {len(report.outside)} lie outside the region "
        "and were skipped."
    )


@click.group("boundaries")
def boundaries_group():
    """Official municipality boundaries (e.g. VG250)."""


@boundaries_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--ags-prefix", default=None, help="Keep the features whose AGS starts so.")
@click.option("--crs", default=None, help="CRS of the file if it names none (EPSG:25832).")
@click.option("--ags-column", default=None, help="Column with the AGS (found by name if not).")
@with_appcontext
@needs_database
def import_boundaries_command(
    path: str, ags_prefix: str | None, crs: str | None, ags_column: str | None
):
    """Import municipality boundaries (GeoJSON, GeoPackage, zipped Shapefile; any CRS)."""
    try:
        report = boundaries.import_file(path, ags_prefix=ags_prefix, crs=crs, ags_column=ags_column)
    except boundaries.BoundaryFileError as exc:
        raise click.ClickException(f"{exc} Nothing was imported.") from None
    click.echo(str(report))


@click.command("create-staff")
@click.option("--email", required=True, help="The account's e-mail address (its login).")
@click.option("--name", required=True, help="The person's name.")
@click.option(
    "--role",
    type=click.Choice(["curator", "admin", "partner"]),
    default="curator",
    show_default=True,
    help="Curators curate entries; admins also manage accounts; partners run their "
    "organisation's events.",
)
@click.option(
    "--organisation",
    default=None,
    help="A partner account's organisation (its exact name); required with --role partner.",
)
@click.password_option(
    envvar="STAFF_PASSWORD",
    help="At least 12 characters; asked for if not given (or set STAFF_PASSWORD).",
)
@with_appcontext
@needs_database
def create_staff_command(email: str, name: str, role: str, organisation: str | None, password: str):
    """Create a staff account for the agency workspace (or a partner organisation's)."""
    organisation_id = None
    if organisation is not None:
        organisation_id = db.session.scalar(
            select(Organisation.id).where(Organisation.name == organisation)
        )
        if organisation_id is None:
            raise click.ClickException(
                f"There is no organisation named {organisation!r}: create it in the workspace "
                "under Organisationen first."
            )
    try:
        user = accounts.create_staff(email, name, password, role, organisation_id)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.role} account {user.email}.")


@click.command("send-reminders")
@with_appcontext
@needs_database
def send_reminders_command():
    """E-mail the owners of entries due for confirmation (the worker runs it daily).

    The links in the e-mails are absolute: set BASE_URL to the public address of the site
    (without it they point at http://localhost).
    """
    # notifications.absolute_url() puts BASE_URL before each path: the request only needs
    # its host.
    parts = urlsplit(current_app.config.get("BASE_URL") or "http://localhost")
    with current_app.test_request_context(base_url=f"{parts.scheme}://{parts.netloc}"):
        report = freshness.send_reminders()
    click.echo(f"Sent {len(report.sent)} reminder(s).")
    if report.no_address:
        click.echo(f"Due entries without a contact e-mail ({len(report.no_address)}):")
        for company in report.no_address:
            click.echo(f"  #{company.id} {company.name}")
    if report.skipped:
        click.echo(f"Changed meanwhile, reminded next time ({len(report.skipped)}).")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Also run the task queue's worker (flask jobs worker) in this process.",
)
@with_appcontext
def serve_command(host: str, port: int, worker: bool):
    """Serve the app with Werkzeug for a local run (a production server goes behind a proxy),
    with the task queue's worker in a thread beside it (mail, scheduled work).

    Unlike ``flask run``, the Server header names no software versions.
    """
    app = current_app._get_current_object()
    if worker and not app.config["JOBS_RUN_INLINE"]:
        from app import jobs

        threading.Thread(
            target=jobs.run_worker,
            args=(app,),
            kwargs={"install_signal_handlers": False},
            name="jobs-worker",
            daemon=True,
        ).start()
    run_simple(
        host,
        port,
        app,
        threaded=True,
        request_handler=QuietRequestHandler,
    )


def register(app: Flask) -> None:
    """Add the commands to the app's CLI."""
    from app.cli_alerts import alerts_group
    from app.cli_events import events_group
    from app.cli_jobs import jobs_group
    from app.cli_layers import layers_group
    from app.cli_region import region_group
    from app.cli_retention import retention_group

    for command in (
        check_db_command,
        sync_reference_command,
        seed_demo_command,
        import_postal_codes_command,
        boundaries_group,
        layers_group,
        events_group,
        alerts_group,
        region_group,
        retention_group,
        jobs_group,
        create_staff_command,
        send_reminders_command,
        serve_command,
    ):
        app.cli.add_command(command)
