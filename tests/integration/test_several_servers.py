"""Several app servers share nothing but PostgreSQL and Redis (issue 17): two gunicorn
servers with production settings on loopback, on the test database and the project-local
Redis (``scripts/localredis.sh``, started by ``make test``), and a job worker (``flask jobs
worker``) beside them. Requests alternate between the servers: rate limits count both
together, a sign-in and a CSRF token from one hold on the other, a sign-out on one ends the
session on both, a publish through one is on the other's map at once, and the mails both
servers write are sent by the one worker to a real SMTP server on loopback.

The processes are started by :class:`tests.processes.Processes` with ``production_settings``.
"""

from __future__ import annotations

import os
import re
import secrets
import time

import pytest
import redis
import requests
from limits import RateLimitItemPerSecond
from sqlalchemy import select

from app.extensions import db
from app.models import CompanyStatus, OutboxMessage
from app.pacing import Pace
from app.services import alerts
from tests.conftest import STAFF_PASSWORD
from tests.fake_smtp import FakeSmtpServer
from tests.fixtures import RE
from tests.processes import (
    ROOT,
    VENV_BIN,
    Processes,
    free_port,
    project_environment,
    wait_until_ready,
)
from tests.staff_helpers import version_in

#: The project-local Redis's socket (scripts/localredis.sh).
REDIS_SOCKET = ROOT / "instance" / "redis" / "redis.sock"
#: The public API's limit on both servers: few enough to reach, enough for one test's reads.
API_LIMIT = 4
#: The sign-in form's limit (app/blueprints/staff.py).
SIGN_IN_LIMIT = 10
VIEW = "/api/employers?zoom=9&bbox=6.9,51.4,7.6,51.8"


@pytest.fixture(scope="module")
def redis_database() -> int:
    """This test worker's database of the project-local Redis (0 for a run without
    pytest-xdist, 1 + n for worker gw<n>), so that two workers never share counters."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    number = 1 + int(worker.removeprefix("gw")) if worker.startswith("gw") else 0
    try:
        redis.Redis(unix_socket_path=str(REDIS_SOCKET), db=number).ping()
    except redis.RedisError as error:
        pytest.fail(
            f"the project-local Redis does not answer on {REDIS_SOCKET} ({error}): start it "
            "with scripts/localredis.sh start (make test does)"
        )
    return number


def redis_url(database: int) -> str:
    """RATELIMIT_STORAGE_URI for the project-local Redis's ``database``."""
    return f"redis+unix://{REDIS_SOCKET}?db={database}"


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    """The processes this module starts; all stopped at its end."""
    started = Processes(tmp_path_factory.mktemp("processes"))
    yield started
    started.stop_all()


@pytest.fixture(scope="module")
def smtp():
    """The mail server of every process: a real SMTP server on loopback."""
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def production_settings(database_url, redis_database, smtp) -> dict[str, str]:
    """The environment every process of the site gets (servers, and a job worker alike):
    production settings on the test database and this worker's Redis database, one
    SECRET_KEY. (The ``flask`` command also needs ``FLASK_APP=app.wsgi:create_cli_app``.)"""
    return project_environment(
        APP_ENV="production",
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_hex(32),
        BASE_URL="http://127.0.0.1",
        RATELIMIT_STORAGE_URI=redis_url(redis_database),
        API_RATE_LIMIT=f"{API_LIMIT} per minute",
        TILE_URL="https://tiles.example.test/{z}/{x}/{y}.png",
        TILE_ATTRIBUTION="Test tiles",
        MAIL_SMTP_HOST="127.0.0.1",
        MAIL_SMTP_PORT=str(smtp.port),
        MAIL_SMTP_STARTTLS="false",
    )


@pytest.fixture(scope="module")
def servers(processes, production_settings) -> list[str]:
    """Two gunicorn servers (one worker each) with the same settings; their base URLs."""
    bases = []
    for name in ("server-a", "server-b"):
        port = free_port()
        command = [
            str(VENV_BIN / "gunicorn"),
            "--workers=1",
            f"--bind=127.0.0.1:{port}",
            "--access-logfile=-",
            "--graceful-timeout=5",
            "app.wsgi:create_wsgi_app()",
        ]
        process = processes.start(name, command, production_settings)
        bases.append((process, f"http://127.0.0.1:{port}"))
    for process, base in bases:
        # Ready: database and migrations checked, and the map's tag bitmaps loaded.
        wait_until_ready(
            process,
            f"{base}/healthz/ready",
            timeout=60,
            ready=lambda body: body.get("map_bitmaps") in ("loaded", "off"),
        )
    return [base for _, base in bases]


@pytest.fixture
def worker(processes, production_settings, app):
    """A job worker (``flask jobs worker``, as its systemd unit runs it) beside the servers,
    stopped before the test's tables are emptied (``app``)."""
    process = processes.start(
        "worker",
        [str(VENV_BIN / "flask"), "jobs", "worker"],
        {**production_settings, "FLASK_APP": "app.wsgi:create_cli_app"},
    )
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def fresh_counters(redis_database, processes, app):
    """Each test starts with no rate-limit counts and ends with the tables emptied (``app``:
    failed sign-ins too, which would throttle later tests' client); the servers' output
    during a failed test is shown with it."""
    redis.Redis(unix_socket_path=str(REDIS_SOCKET), db=redis_database).flushdb()
    processes.new_output()
    yield
    print(processes.new_output())


class Browser:
    """One visitor's cookies, used with either server. Redirects are not followed; the
    production session cookie (Secure) is kept over loopback http, as browsers do."""

    def __init__(self, session: requests.Session | None = None):
        self.session = session or requests.Session()

    def request(self, method: str, base: str, path: str, **kwargs) -> requests.Response:
        response = self.session.request(
            method, base + path, allow_redirects=False, timeout=30, **kwargs
        )
        for cookie in self.session.cookies:
            cookie.secure = False
        return response

    def get(self, base: str, path: str) -> requests.Response:
        return self.request("GET", base, path)

    def post(self, base: str, path: str, data: dict) -> requests.Response:
        return self.request("POST", base, path, data=data)

    def csrf_token(self, base: str, path: str) -> str:
        """The CSRF token of the form on the page ``path``."""
        page = self.get(base, path)
        assert page.status_code == 200, (path, page.status_code)
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text)[1]

    def copy(self) -> Browser:
        """Another browser with a copy of these cookies (a stolen session cookie)."""
        other = requests.Session()
        other.cookies.update(self.session.cookies.copy())
        return Browser(other)

    def sign_in(self, base: str, email: str) -> None:
        token = self.csrf_token(base, "/agentur/anmelden")
        response = self.post(
            base,
            "/agentur/anmelden",
            {"email": email, "password": STAFF_PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302, response.text[:500]


def names(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text[:500]
    return sorted(feature["properties"]["name"] for feature in response.json()["features"])


def test_the_api_limit_is_counted_by_both_servers_together(servers):
    a, b = servers
    browser = Browser()
    for number in range(API_LIMIT):
        response = browser.get((a, b)[number % 2], VIEW)
        assert response.status_code == 200, response.text[:500]
        assert response.headers["X-RateLimit-Remaining"] == str(API_LIMIT - number - 1)
    # Each server has answered only half of the limit, yet both refuse now.
    for base in (a, b):
        response = browser.get(base, VIEW)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0


def test_the_sign_in_limit_is_counted_by_both_servers_together(servers):
    a, b = servers
    browser = Browser()
    token = browser.csrf_token(a, "/agentur/anmelden")
    # A different address each time: the per-account throttle (5 wrong passwords) stays out.
    for number in range(SIGN_IN_LIMIT):
        response = browser.post(
            (a, b)[number % 2],
            "/agentur/anmelden",
            {"email": f"niemand{number}@agentur.test", "password": "falsch", "csrf_token": token},
        )
        assert response.status_code == 401, response.text[:500]  # the token of A held on B
    response = browser.post(
        b, "/agentur/anmelden", {"email": "x@agentur.test", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_a_sign_in_holds_on_both_servers_and_a_sign_out_ends_it_on_both(servers, make_staff):
    a, b = servers
    email = make_staff("curator")
    browser = Browser()
    browser.sign_in(a, email)
    page = browser.get(b, "/agentur/pruefen")
    assert page.status_code == 200, page.text[:500]
    assert "Abmelden" in page.text
    stolen = browser.copy()
    assert stolen.get(a, "/agentur/pruefen").status_code == 200
    # The sign-out form's token from a page of A, sent to B.
    token = browser.csrf_token(a, "/agentur/pruefen")
    response = browser.post(b, "/agentur/abmelden", {"csrf_token": token})
    assert response.status_code == 302
    for base in (a, b):
        response = stolen.get(base, "/agentur/pruefen")
        assert response.status_code == 403  # the sign-in form, not the queue
        assert "Anmeldung für die Agentur" in response.text
        assert "Abmelden" not in response.text


def test_a_publish_through_one_server_is_on_the_others_map_at_once(
    servers, make_company, make_staff
):
    a, b = servers
    make_company("Erster Betrieb", lon=RE[0], lat=RE[1])
    pending = make_company(
        "Zweiter Betrieb",
        lon=RE[0] + 0.25,
        lat=RE[1],
        status=CompanyStatus.PENDING,
        slug="zweiter-betrieb",
    )
    visitor = Browser()
    # B computes both answers (the unfiltered one goes into the shared map cache; the filtered
    # one makes B load tag bitmaps of this state in the background).
    assert names(visitor.get(b, VIEW)) == ["Erster Betrieb"]
    assert names(visitor.get(b, VIEW + "&sector=F")) == ["Erster Betrieb"]
    assert visitor.get(b, "/arbeitgeber/zweiter-betrieb").status_code == 404
    time.sleep(0.5)

    curator = Browser()
    curator.sign_in(a, make_staff("curator"))
    token = curator.csrf_token(a, f"/agentur/eintraege/{pending}")
    page = curator.get(a, f"/agentur/eintraege/{pending}")
    response = curator.post(
        a,
        f"/agentur/eintraege/{pending}/freigeben",
        {"csrf_token": token, "version": version_in(page.text)},
    )
    assert response.status_code == 303, response.text[:500]

    unfiltered = visitor.get(b, VIEW)
    assert unfiltered.headers["X-Map-Cache"] == "miss"
    assert names(unfiltered) == ["Erster Betrieb", "Zweiter Betrieb"]
    assert names(visitor.get(b, VIEW + "&sector=F")) == ["Erster Betrieb", "Zweiter Betrieb"]
    assert visitor.get(b, "/arbeitgeber/zweiter-betrieb").status_code == 200


def test_the_mails_of_both_servers_are_sent_by_one_worker(servers, worker, smtp, app):
    addresses = {"alex@example.org": servers[0], "kim@example.org": servers[1]}
    for address, base in addresses.items():
        visitor = Browser()
        form = {
            "csrf_token": visitor.csrf_token(base, "/suchauftrag"),
            "email": address,
            "consent": "y",
            "consent_version": alerts.ALERT_CONSENT_VERSION,
            "sector": "F",
        }
        response = visitor.post(base, "/suchauftrag", form)
        assert response.status_code == 303, response.text[:500]
    # Each server wrote its mail and a job; the worker, a process of its own, sends both.
    deadline = time.monotonic() + 30
    while sorted(smtp.recipients()) != sorted(addresses) and time.monotonic() < deadline:
        assert worker.popen.poll() is None, worker.output()
        time.sleep(0.2)
    assert sorted(smtp.recipients()) == sorted(addresses)
    with app.app_context():
        sent = db.session.execute(select(OutboxMessage.recipient, OutboxMessage.sent_at)).all()
    assert sorted(recipient for recipient, _ in sent) == sorted(addresses)
    assert all(sent_at is not None for _, sent_at in sent)
    for _address, message in smtp.messages:  # the confirmation link, to the public site
        assert "http://127.0.0.1/suchauftrag/bestaetigen/" in message.get_content()


def test_a_pace_is_kept_by_every_process_together(redis_database):
    # Two processes' paces (each its own client; nothing shared but Redis), as the Nominatim
    # lookups of two servers: one turn a second between them.
    first, second = (
        Pace(redis_url(redis_database), "nominatim", RateLimitItemPerSecond(1)) for _ in range(2)
    )
    started = time.monotonic()
    assert first.wait(timeout=0)
    assert not second.wait(timeout=0)
    assert second.wait(timeout=5)
    assert time.monotonic() - started > 0.9  # a second after the first's turn
    assert not first.wait(timeout=0)
