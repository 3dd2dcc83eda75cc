"""Shared fixtures: a fresh PostGIS test database, the app, its client and CLI runner.

The database is the project-local cluster's ``kmu_atlas_test`` (``make test`` starts it), or the
server named by TEST_DATABASE_URL. It is dropped and created anew for each test session and
migrated with the project's own migrations; every test starts with no employers.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from time import sleep
from zoneinfo import ZoneInfo

import flask_migrate
import pytest
from psycopg.errors import DeadlockDetected
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from app import create_app
from app.config import PROJECT_ROOT, load_settings, local_database_url, parse_database_url
from app.extensions import db
from app.models import CompanyStatus, EventStatus, Organisation
from app.services import entries
from app.services.accounts import by_email, create_staff
from app.services.reference_data import sync_region, sync_taxonomies

TEST_DATABASE = "kmu_atlas_test"
TILE_URL = "https://tiles.example.test/{z}/{x}/{y}.png"


def test_database_url() -> URL:
    """The URL of the database the tests may drop and create: one per pytest-xdist worker
    (``kmu_atlas_test_gw0``, …), so workers never share rows."""
    if os.environ.get("TEST_DATABASE_URL"):
        url = parse_database_url(os.environ["TEST_DATABASE_URL"])
    else:
        url = local_database_url(PROJECT_ROOT / "instance", TEST_DATABASE)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return url.set(database=f"{url.database}_{worker}") if worker else url


def recreate_database(url: URL) -> None:
    """Drop and create the database ``url`` names, through the server's ``postgres`` database."""
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def test_config(database_url: str, **overrides) -> dict:
    """The configuration every test app gets, plus ``overrides``."""
    return {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "TILE_URL": TILE_URL,
        "TILE_ATTRIBUTION": "Test tiles",
        # Off for tests, unless a test asks for it; production refuses to switch it off.
        "RATELIMIT_ENABLED": overrides.get("APP_ENV") == "production",
        # (a production app requires it; one test process counts in its own memory)
        "RATELIMIT_STORAGE_URI": "memory://",
        **overrides,
    }


@contextmanager
def temporary_app(database_url: str, **overrides):
    """An app with extra settings for one test; its connections are closed afterwards."""
    app = create_app(test_config(database_url, **overrides))
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def without_nonce(response) -> str:
    """A page's HTML without its Content-Security-Policy nonces (new on every answer), for
    tests that compare two answers."""
    return re.sub(r' nonce="[^"]*"', "", response.get_data(as_text=True))


test_database_url.__test__ = False  # not tests, despite their names
test_config.__test__ = False


@pytest.fixture(scope="session")
def database_url() -> str:
    """A freshly created, migrated test database with the taxonomies and the region loaded."""
    url = test_database_url()
    recreate_database(url)
    rendered = url.render_as_string(hide_password=False)
    app = create_app(test_config(rendered))
    with app.app_context():
        flask_migrate.upgrade()
        sync_taxonomies()
        sync_region(app.config["REGION"])
        db.engine.dispose()
    return rendered


@pytest.fixture(scope="session")
def shared_engine(database_url):
    """One engine (made with the app's own engine options) for the apps of all tests, so that
    a test does not pay for new database sessions, whose first write compiles the map index's
    trigger functions (migration 0012) anew. (No test changes a session setting.)"""
    options = load_settings(test_config(database_url))["SQLALCHEMY_ENGINE_OPTIONS"]
    engine = create_engine(database_url, **options)
    yield engine
    engine.dispose()


@contextmanager
def app_on_shared_engine(database_url: str, shared_engine):
    """An app on the test database (on the shared engine); employers, accounts, mail,
    layers, organisations, events and queued jobs are removed when it is done with."""
    app = create_app(test_config(database_url))
    # Flask-SQLAlchemy keeps each app's engines in a dict (``db.engines``); the app's own
    # engine has not connected yet and is replaced by the shared one.
    app.extensions["sqlalchemy"]._app_engines[app][None] = shared_engine
    yield app
    with app.app_context():
        empty_the_tables()
        db.session.remove()


@pytest.fixture
def app(database_url, shared_engine):
    """The app on the test database; what a test stored is removed after it."""
    with app_on_shared_engine(database_url, shared_engine) as app:
        yield app


def empty_the_tables(attempts: int = 3) -> None:
    """Remove what a test stored. A browser test's page may still have a request running in
    the live server (a popup's details, fetched when it opened): taking the tables' locks in
    another order, it can deadlock with the TRUNCATE, which PostgreSQL then cancels. That is
    retried."""
    for attempt in range(1, attempts + 1):
        try:
            db.session.execute(
                text(
                    "TRUNCATE companies, staff_users, staff_login_failures, outbox_messages,"
                    " layer_features, organisations, events, job_alerts, procrastinate_jobs,"
                    " procrastinate_workers RESTART IDENTITY CASCADE"
                )
            )
            db.session.commit()
            return
        except OperationalError as error:
            db.session.rollback()
            if not isinstance(error.orig, DeadlockDetected) or attempt == attempts:
                raise
            sleep(0.2)


@pytest.fixture(autouse=True)
def _plain_logging():
    """A production app sends the log as JSON lines (app.logs); after the test the root logger
    is as it was, so that one test's production app does not change the others' logging."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if getattr(handler, "kmu_atlas_json", False):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_company(app) -> Callable[..., int]:
    """Create a company (see :func:`company_maker`) and return its id."""
    return company_maker(app)


def company_maker(app) -> Callable[..., int]:
    """A function that creates a company (published unless ``status`` says otherwise) and
    returns its id.

    ``lon``/``lat`` place it (default: Recklinghausen centre); ``sectors``, ``occupations`` and
    ``family`` take codes and keys; any other keyword sets an entry field or a bookkeeping
    column (slug, timestamps). It is built by the app's write model (:mod:`app.services.entries`).
    """
    counter = iter(range(1, 1_000_000))

    def make(
        name: str = "Testbetrieb",
        *,
        lon: float = 7.1975,
        lat: float = 51.6146,
        status: CompanyStatus = CompanyStatus.PUBLISHED,
        sectors: tuple[str, ...] = ("43",),
        occupations: tuple[str, ...] = ("26",),
        family: tuple[str, ...] = (),
        **columns,
    ) -> int:
        number = next(counter)
        columns.setdefault("slug", f"test-{number}")
        columns.setdefault("municipality_ags", "05562032")
        columns.setdefault("postal_code", "45657")
        columns.setdefault("town", "Recklinghausen")
        columns.setdefault("employees", 5)
        values = {
            "name": name,
            "location": (lon, lat),
            "sectors": sectors,
            "occupations": occupations,
            "family_criteria": family,
            **{key: value for key, value in columns.items() if key in entries.FIELD_NAMES},
        }
        record = {key: value for key, value in columns.items() if key not in entries.FIELD_NAMES}
        with app.app_context():
            company = entries.build(values, status=status, **record)
            db.session.add(company)
            db.session.commit()
            return company.id

    return make


STAFF_PASSWORD = "ein sicheres Passwort 2026"


def _organisation_id(name: str, **values) -> int:
    """The id of the organisation ``name`` (created, without review, if it is new)."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        organisation = Organisation(
            name=name,
            kind=values.pop("kind", "jobcenter"),
            review_required=values.pop("review_required", False),
            **values,
        )
        db.session.add(organisation)
        db.session.commit()
    return organisation.id


@pytest.fixture
def make_organisation(app) -> Callable[..., int]:
    """Create a partner organisation (see :func:`organisation_maker`); its id."""
    return organisation_maker(app)


def organisation_maker(app) -> Callable[..., int]:
    """A function that creates a partner organisation (no review unless
    ``review_required=True``) and returns its id."""

    def make(name: str = "Jobcenter Test", **values) -> int:
        with app.app_context():
            return _organisation_id(name, **values)

    return make


#: The default event's start: 10:00 Berlin time, 14 days from now.
def default_start(days: int = 14, hour: int = 10) -> datetime:
    """A local (Europe/Berlin) start ``days`` from today at ``hour``."""
    berlin = ZoneInfo("Europe/Berlin")
    day = datetime.now(berlin).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=berlin)


@pytest.fixture
def make_event(app) -> Callable[..., int]:
    """Create an event (see :func:`event_maker`) and return its id."""
    return event_maker(app)


def event_maker(app) -> Callable[..., int]:
    """A function that creates an event through the write model (:mod:`app.services.events`)
    and returns its id.

    Published by default (``status`` "pending" or "rejected" changes that); by default an
    info event in Recklinghausen 14 days from now, 10:00 to 12:00, of "Jobcenter Test".
    ``organisation`` names the organisation; other keywords are event values.
    """

    def make(
        title: str = "Infoabend Ausbildung",
        *,
        organisation: str = "Jobcenter Test",
        status: str = "published",
        **values,
    ) -> int:
        start = values.pop("starts_at", None) or default_start()
        values.setdefault("ends_at", start + timedelta(hours=2))
        values.setdefault("kind", "info_event")
        values.setdefault("location", (7.1975, 51.6146))
        values.setdefault("postal_code", "45657")
        values.setdefault("town", "Recklinghausen")
        values.setdefault("venue", "Rathaus")
        organisation_id = organisation_maker(app)(organisation)
        with app.test_request_context():
            from app.services import events

            event = events.build(
                db.session.get(Organisation, organisation_id),
                {"title": title, "starts_at": start, **values},
                actor=None,
            )
            event.status = EventStatus(status)
            db.session.commit()
            return event.id

    return make


@pytest.fixture
def make_staff(app) -> Callable[..., str]:
    """Create a staff account (role ``curator``, ``admin`` or ``partner``; a partner of
    ``organisation_id``, by default of "Jobcenter Test") and return its e-mail address; the
    password is :data:`STAFF_PASSWORD`."""

    def make(
        role: str = "curator",
        email: str | None = None,
        name: str = "Test Staff",
        organisation_id: int | None = None,
    ) -> str:
        email = email or f"{role}@agentur.test"
        with app.test_request_context():
            if role == "partner" and organisation_id is None:
                organisation_id = _organisation_id("Jobcenter Test")
            if by_email(email) is None:
                create_staff(email, name, STAFF_PASSWORD, role, organisation_id)
        return email

    return make


def csrf_token(client) -> str:
    """A valid CSRF token for ``client``'s session (read from a page with a form)."""
    page = client.get("/mitmachen/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


class AuthActions:
    """Sign a test client in and out of the workspace, and send its forms with CSRF tokens."""

    def __init__(self, client, make_staff):
        self._client = client
        self._make_staff = make_staff

    def login(
        self,
        role: str = "curator",
        email: str | None = None,
        password=STAFF_PASSWORD,
        organisation_id: int | None = None,
    ):
        email = self._make_staff(role, email=email, organisation_id=organisation_id)
        return self.post("/agentur/anmelden", {"email": email, "password": password})

    def logout(self):
        return self.post("/agentur/abmelden")

    def post(self, url: str, data: dict | None = None, **kwargs):
        """POST a form with a valid CSRF token."""
        return self._client.post(
            url, data={**(data or {}), "csrf_token": csrf_token(self._client)}, **kwargs
        )


@pytest.fixture
def auth(client, make_staff) -> AuthActions:
    """``auth.login("curator" | "admin")`` signs the client in as new staff of that role."""
    return AuthActions(client, make_staff)
