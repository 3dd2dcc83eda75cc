"""GET /healthz and /healthz/ready: 200 when the database is there and migrated, 503 with the
reason otherwise; /healthz/live: 200 while the process runs. Pages answer a friendly 503 while
the database is away and recover without a restart."""

import flask_migrate
import pytest
from sqlalchemy import create_engine, text

from app import create_app, jobs
from app.extensions import db
from app.services import mail
from app.services.reference_data import sync_region, sync_taxonomies
from tests.conftest import recreate_database, temporary_app, test_config, test_database_url


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["migrations"]["current"] == body["migrations"]["head"]


def test_the_answer_tells_how_the_task_queue_stands(app, client):
    assert client.get("/healthz").get_json()["jobs"] == {
        "workers": 0,
        "waiting": 0,
        "oldest_wait_seconds": None,
    }
    app.config["JOBS_RUN_INLINE"] = False
    with app.app_context():
        jobs.defer(db.session, mail.DELIVER_TASK, message_id=1)
        jobs.defer(db.session, mail.DELIVER_TASK, message_id=2)
        db.session.execute(
            text(
                "UPDATE procrastinate_events SET at = now() - interval '10 minutes'"
                " WHERE job_id = (SELECT min(id) FROM procrastinate_jobs)"
            )
        )
        # One worker beating, one gone (its last heartbeat five minutes ago).
        db.session.execute(text("INSERT INTO procrastinate_workers DEFAULT VALUES"))
        db.session.execute(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat)"
                " VALUES (now() - interval '5 minutes')"
            )
        )
        db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 200  # ready without a worker: the queue is for monitoring
    status = response.get_json()["jobs"]
    assert (status["workers"], status["waiting"]) == (1, 2)
    assert 595 < status["oldest_wait_seconds"] < 700


def test_unreachable_database_gives_503(tmp_path):
    unreachable = f"postgresql://nobody@/nothing?host={tmp_path}&port=1"
    app = create_app(test_config(unreachable))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "unreachable"
    assert str(tmp_path) not in response.get_data(as_text=True)


def test_unmigrated_database_gives_503_with_the_reason():
    url = test_database_url()
    url = url.set(database=f"{url.database}_empty")
    recreate_database(url)
    app = create_app(test_config(url.render_as_string(hide_password=False)))
    response = app.test_client().get("/healthz")
    with app.app_context():
        db.engine.dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "ok"
    assert body["migrations"]["current"] == []
    assert "flask db upgrade" in body["reason"]


def test_api_answers_503_not_500_without_a_database(tmp_path):
    app = create_app(test_config(f"postgresql://nobody@/nothing?host={tmp_path}&port=1"))
    response = app.test_client().get("/api/employers")
    assert response.status_code == 503
    assert response.get_json()["message"].startswith("Die Datenbank ist gerade nicht erreichbar")


def test_start_page_answers_a_friendly_503_without_a_database(tmp_path):
    app = create_app(test_config(f"postgresql://nobody@/nothing?host={tmp_path}&port=1"))
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert "Vorübergehend nicht verfügbar" in response.get_data(as_text=True)


def test_readiness_and_liveness(client):
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200
    assert ready.get_json()["database"] == "ok"
    live = client.get("/healthz/live")
    assert live.status_code == 200
    assert live.get_json() == {"status": "ok"}
    for response in (ready, live, client.get("/healthz")):
        assert response.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in response.headers
        assert "X-RateLimit-Limit" not in response.headers


def test_liveness_needs_no_database_but_readiness_does(tmp_path):
    app = create_app(test_config(f"postgresql://nobody@/nothing?host={tmp_path}&port=1"))
    client = app.test_client()
    assert client.get("/healthz/live").status_code == 200
    ready = client.get("/healthz/ready")
    assert ready.status_code == 503
    assert ready.headers["Cache-Control"] == "no-store"
    assert str(tmp_path) not in ready.get_data(as_text=True)


def test_health_checks_are_never_rate_limited(database_url):
    app = create_app(
        test_config(database_url, RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute")
    )
    client = app.test_client()
    try:
        for _ in range(5):
            assert client.get("/healthz/live").status_code == 200
            assert client.get("/healthz/ready").status_code == 200
        # (the limit itself is on: the API answers 429 after two requests)
        statuses = [client.get("/api/employers").status_code for _ in range(3)]
        assert statuses[-1] == 429
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def outage_database():
    """A migrated database of its own, with a switch that makes it unreachable: no new
    connections are allowed and the open ones are ended, as when the server goes away."""
    url = test_database_url()
    url = url.set(database=f"{url.database}_outage")
    recreate_database(url)
    rendered = url.render_as_string(hide_password=False)
    with temporary_app(rendered) as app, app.app_context():
        flask_migrate.upgrade()
        sync_taxonomies()
        sync_region(app.config["REGION"])
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def reachable(yes: bool) -> None:
        with admin.connect() as connection:
            connection.execute(
                text(f'ALTER DATABASE "{url.database}" WITH ALLOW_CONNECTIONS {str(yes).lower()}')
            )
            if not yes:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": url.database},
                )

    yield rendered, reachable
    reachable(True)
    admin.dispose()


def test_public_pages_answer_503_while_the_database_is_down_and_recover(outage_database):
    database_url, reachable = outage_database
    with temporary_app(database_url, MAP_CACHE=True, SERVICE_WORKER=True) as app:
        client = app.test_client()
        pages = ("/", "/api/employers", "/veranstaltungen", "/healthz/ready")
        assert [client.get(page).status_code for page in pages] == [200, 200, 200, 200]

        reachable(False)
        for page in pages:
            response = client.get(page)
            assert response.status_code == 503, page
            assert response.headers["Cache-Control"] == "no-store"
        page = client.get("/").get_data(as_text=True)
        assert "Vorübergehend nicht verfügbar" in page
        assert "Traceback" not in page
        assert database_url.split("?")[0] not in page
        assert client.get("/healthz/live").status_code == 200

        # Back without a restart: the next requests are answered again (not from a cache).
        reachable(True)
        assert [client.get(page).status_code for page in pages] == [200, 200, 200, 200]
        assert "Vorübergehend nicht verfügbar" not in client.get("/").get_data(as_text=True)
