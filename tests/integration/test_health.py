"""GET /healthz: 200 when the database is there and migrated; 503 with the reason otherwise."""

from app import create_app
from app.extensions import db
from tests.conftest import recreate_database, test_config, test_database_url


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["migrations"]["current"] == body["migrations"]["head"]


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
